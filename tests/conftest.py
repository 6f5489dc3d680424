import contextlib
import json
import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.request

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


@contextlib.contextmanager
def served(db, *args):
    """``ogi-archive serve DB`` on a free port of 127.0.0.1, its base URL once it answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(BIN / "ogi-archive"), "serve", str(db), "--port", str(port), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=1)
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode()
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)
