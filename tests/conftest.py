import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED = pathlib.Path(os.environ.get("OGI_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
FIXTURES = pathlib.Path(__file__).parent / "fixtures"
MIRROR = ROOT / "crawler" / "demo" / "mirror"
BIN = pathlib.Path(sys.executable).parent


def needs_corpus():
    return pytest.mark.skipif(not (CORPUS / "expected.json").exists(),
                              reason=f"the shared development corpus is not at {CORPUS} (it is beside the repo in CI, not on a user's clone)")


@pytest.fixture(scope="session")
def manifest():
    return json.loads((MIRROR / "MANIFEST.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    """An archive made by the real `ogi-archive demo` (mirror served on 127.0.0.1, real spiders)."""
    db = tmp_path_factory.mktemp("demo") / "archive.db"
    proc = subprocess.run([str(BIN / "ogi-archive"), "demo", "--db", str(db)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return db, proc


def rows(db, sql, *args):
    """The rows of a query on the archive at ``db``, as dicts."""
    import sqlite3

    from archive.search import register

    conn = sqlite3.connect(db)
    register(conn)  # the search index's tokenizer: reports_fts reads with it only
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


def ogi(*args, **kw):
    return subprocess.run([str(BIN / "ogi-archive"), *map(str, args)], capture_output=True, text=True, timeout=300, **kw)
