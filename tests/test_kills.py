"""Kills at random moments — of the crawl, its process group, the archiver, one parse worker;
SIGKILL and SIGTERM — each followed by a clean run: the archive stays whole, every report of
a clean crawl is there once with its cells, no process is left behind, no run stays 'running'
(tests/killing.py; benchmarks/bench_kills.py runs many more)."""
import os
import random
import signal
import time
import uuid

import pytest

import killing

TRIALS = int(os.environ.get("OGI_KILL_TRIALS", 20))
SEED = int(os.environ.get("OGI_KILL_SEED", time.time()))


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kills")
    text, servers = killing.serve_sites()
    registry = folder / "sites.toml"
    registry.write_text(text, encoding="utf-8")
    want, seconds = killing.reference(registry, folder)
    yield folder, registry, want, seconds
    for s in servers:
        s.shutdown()
        s.server_close()


def test_kills_at_random_moments_lose_nothing_and_leave_nothing(sites):
    folder, registry, want, seconds = sites
    assert len(want) >= 12
    rng = random.Random(SEED)
    results = []
    for i in range(TRIALS):
        db = folder / (f"fresh-{i}.db" if i % 2 == 0 else "shared.db")
        results.append(killing.trial(registry, db, want, rng, refetch=i % 2 == 1, max_delay=seconds))
    bad = [(i, r) for i, r in enumerate(results) if r["problems"]]
    assert not bad, f"seed {SEED}: {bad}"
    assert sum(1 for r in results if r["killed"]) >= TRIALS * 3 // 4, results  # the kills did land


def test_a_killed_archiver_leaves_no_process_and_the_crawl_says_so(sites):
    """SIGKILL of the archiver while its parse workers are alive: the fork server, the workers
    and the resource tracker go with it, so whoever reads the crawl's output is not left
    waiting, and the crawl fails its sites with the reason."""
    folder, registry, want, _ = sites
    tag = uuid.uuid4().hex
    proc = killing.crawl(registry, folder / "archiver.db", tag, killing.SLOW)
    deadline = time.monotonic() + 60
    while killing._victim("worker", proc.pid, tag) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    archiver = killing._victim("archiver", proc.pid, tag)
    assert archiver is not None, "no parse worker was ever started"
    os.kill(archiver, signal.SIGKILL)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, out.decode() + err.decode()
    assert "the archiver ended before it had archived" in err.decode() and "Traceback" not in err.decode()
    assert not killing.wait_gone(tag, 10)


def test_a_killed_crawl_leaves_the_archiver_to_finish_then_nothing(sites):
    """SIGKILL of the crawl alone: the archiver archives what it was sent, and ends, with its workers."""
    folder, registry, want, _ = sites
    tag = uuid.uuid4().hex
    db = folder / "crawl.db"
    proc = killing.crawl(registry, db, tag, killing.SLOW)
    deadline = time.monotonic() + 60
    while killing._victim("worker", proc.pid, tag) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.kill()
    proc.communicate(timeout=60)
    assert not killing.wait_gone(tag, 20)
    assert killing.rows_count(db, "pragma integrity_check") == "ok"
    assert killing.rows_count(db, "select count(*) from crawl_runs where status = 'running'") == 1  # until the next run
    clean = killing.crawl(registry, db, uuid.uuid4().hex)
    clean.communicate(timeout=120)
    assert clean.returncode == 0 and killing.check(db, want) == []
