"""An archive that cannot be written — a full disk, a read-only file or folder, a lock that
cannot be written — ends a crawl with one line and exit 6, never a traceback; nothing
archived before is lost, and no run is left 'running'.

The full disk is a real one: a 2 MB tmpfs mounted for the test.  Mounting it and making
files immutable (chattr +i) take root, which CI has; elsewhere these tests skip, saying so."""
import contextlib
import os
import shutil
import subprocess

import pytest

from conftest import ogi, rows
from sites_server import SITES, fixture_entry, serve

SITE = "trs_paged"


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    server, base = serve(SITES / SITE)
    path = tmp_path_factory.mktemp("registry") / "sites.toml"
    path.write_text(fixture_entry(SITE, base), encoding="utf-8")
    yield path
    server.shutdown()
    server.server_close()


def crawl(registry, db, *extra):
    return ogi("crawl", "--sites", registry, "--db", db, "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
               *extra)


def one_line(proc, *words):
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr and "Logging error" not in proc.stderr, proc.stderr
    last = lines[-1]
    assert last.startswith("ogi-archive: the archive cannot be written: ") and all(w in last for w in words), last


@contextlib.contextmanager
def immutable(path):
    if os.geteuid() != 0 or not shutil.which("chattr"):
        pytest.skip("making a file immutable takes root and chattr (CI runs as root)")
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
        pytest.skip(f"this file system does not take chattr +i ({path})")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@contextlib.contextmanager
def small_disk(folder, size="2m"):
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                                           capture_output=True).returncode:
        pytest.skip("mounting a small tmpfs takes root (CI runs as root)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def test_a_read_only_archive_is_one_line_and_exit_6(registry, tmp_path):
    db = tmp_path / "a.db"
    assert crawl(registry, db).returncode == 0
    before = rows(db, "select id, status from crawl_runs")
    with immutable(db):
        proc = crawl(registry, db)
    assert proc.returncode == 6
    one_line(proc, str(db), "readonly")
    assert rows(db, "select id, status from crawl_runs") == before


def test_a_lock_that_cannot_be_written_is_one_line_and_exit_6(registry, tmp_path):
    db = tmp_path / "a.db"
    lock = tmp_path / "a.db.lock"
    lock.write_text("")
    with immutable(lock):
        proc = crawl(registry, db)
    assert proc.returncode == 6
    one_line(proc, "lock", str(lock))


def test_a_folder_that_cannot_be_written_is_one_line_and_exit_6(registry, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    with immutable(folder):
        proc = crawl(registry, folder / "a.db")
    assert proc.returncode == 6
    one_line(proc, str(folder))


def test_a_full_disk_is_one_line_and_exit_6_and_loses_nothing(registry, tmp_path):
    with small_disk(tmp_path / "disk") as disk:
        db = disk / "a.db"
        first = crawl(registry, db)
        assert first.returncode == 0, first.stdout + first.stderr
        reports = rows(db, "select id, sha256, n_cells from reports order by id")
        assert reports
        filler = disk / "filler"
        with open(filler, "wb", buffering=0) as f:  # to its last byte; unbuffered, so closing writes nothing
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
        proc = crawl(registry, db, "-s", "OGI_REFETCH=True")
        assert proc.returncode == 6, proc.stdout + proc.stderr
        one_line(proc, "disk is full")  # SQLite may say "database or disk is full" or "disk I/O error"
        filler.unlink()
        assert rows(db, "pragma integrity_check") == [{"integrity_check": "ok"}]
        assert rows(db, "select id, sha256, n_cells from reports order by id") == reports
        again = crawl(registry, db)
        assert again.returncode == 0, again.stdout + again.stderr
        assert not rows(db, "select id from crawl_runs where status = 'running'")
