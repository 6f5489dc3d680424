"""Distributed crawling: a real redis-server on 127.0.0.1, real crawl processes, fixture sites.

Two processes (a coordinator with the archive and one that joins) crawl the sites into one
archive; it must equal the archive of a crawl by one process: the same reports, the same
cells, no URL fetched twice — and both processes must have fetched documents."""
import os
import pickle
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import BIN, ROOT
from sites_server import serve_registry, stop

REDIS_SERVER = shutil.which("redis-server") or ("/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server")
                                                else None)
pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed (.ci/run installs "
                                                             "Debian's redis-server)")
NAMES = ("attachments", "trs_paged", "hanweb_proxy", "catalog_years")
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    port = free_port()
    proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline and proc.poll() is None, "redis-server did not start"
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def sites(tmp_path):
    """The fixture sites, each answer taking a little while (so that two crawlers share the work)."""
    registry = tmp_path / "sites.toml"
    servers = serve_registry(NAMES, registry, "d", {"pace": 0.3})
    yield registry, servers
    stop(servers)


def q(db, sql):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def ogi(*args, env=None, cwd=None):
    return subprocess.Popen([str(BIN / "ogi-archive"), *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=cwd,
                            env={**os.environ, **(env or {})})


def test_two_crawl_processes_make_the_archive_one_process_makes(tmp_path, sites, redis_url):
    registry, servers = sites
    one = ogi("crawl", "--sites", registry, "--db", tmp_path / "one.db", *FAST)
    out, err = one.communicate(timeout=300)
    assert one.returncode == 0, out + err
    for s in servers:
        s.clear_log()

    (tmp_path / "joiner").mkdir()
    joiner = ogi("crawl", "--join", "--wait", "60", env={"OGI_REDIS_URL": redis_url}, cwd=tmp_path / "joiner")
    coordinator = ogi("crawl", "--sites", registry, "--db", tmp_path / "two.db", *FAST, "-s",
                      f"OGI_REDIS_URL={redis_url}", "-s", "OGI_JOINERS=1")
    out, err = coordinator.communicate(timeout=300)
    jout, jerr = joiner.communicate(timeout=60)
    assert coordinator.returncode == 0, out + err
    assert joiner.returncode == 0, jout + jerr
    assert "Traceback" not in err + jerr

    one, two = tmp_path / "one.db", tmp_path / "two.db"
    reports = "select id, sha256, n_cells, parse_status from reports order by id"
    assert q(one, reports) == q(two, reports) and len(q(two, reports)) >= 8
    cells = "select report_id, table_key, row_key, column_key, value from cells order by 1, 2, 3, 4"
    assert q(one, cells) == q(two, cells)
    twice = "select url, count(*) from captures group by url having count(*) > 1"
    assert q(one, twice) == [] and q(two, twice) == []
    assert q(two, "select status from crawl_runs") == [("ok",)]
    assert q(one, "select count(*) from captures") == q(two, "select count(*) from captures")
    # each process fetched documents of the run (the joiner says how many; the summary names both)
    joined = int(re.search(r"(\d+) documents downloaded", jout).group(1))
    mine = int(re.search(r"crawlers: +this process: (\d+) documents", out).group(1))
    print(f"documents: coordinator {mine}, joiner {joined}")
    assert joined > 0 and mine > 0, out + jout
    assert joined + mine == q(two, "select count(*) from captures")[0][0]
    # no URL was asked of the sites twice either (the shared duplicate filter)
    asked = [path for s in servers for method, path, status in s.requests if status != "held"
             and path != "/robots.txt"]
    assert len(asked) == len(set(asked)), asked


def test_a_joiner_with_no_redis_says_so_in_a_line(tmp_path):
    proc = ogi("crawl", "--join", "--wait", "1", env={"OGI_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"},
               cwd=tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 7 and "no Redis answers there" in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1


def test_a_coordinator_with_no_redis_says_so_in_a_line(tmp_path, sites):
    registry, _ = sites
    proc = ogi("crawl", "--sites", registry, "--db", tmp_path / "a.db", "-s",
               f"OGI_REDIS_URL=redis://127.0.0.1:{free_port()}/0")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 7 and "no Redis answers there" in err and "Traceback" not in err, err


def test_what_a_killed_archiver_took_and_did_not_archive_is_given_again(redis_url):
    """The Redis queue: a message taken (get) and not acknowledged by an archiver that is
    then killed goes back to the front of the queue when the next archiver starts."""
    from crawler.transport import RedisReceiver, RedisSender

    sender = RedisSender(redis_url, "crawl-1")
    sender.put(("item", 1, {"url": "http://x/a"}))
    sender.put(("item", 1, {"url": "http://x/b"}))
    taker = subprocess.run([sys.executable, "-c", f"""
import os, sys
from crawler.transport import RedisReceiver
r = RedisReceiver({redis_url!r})
tag, sender, message = r.get()
print(message[2]["url"], flush=True)
os.kill(os.getpid(), 9)
"""], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert taker.stdout.strip() == "http://x/a" and taker.returncode == -9, taker.stderr
    receiver = RedisReceiver(redis_url)
    assert receiver.requeued == 1
    tag, who, message = receiver.get()
    assert who == "crawl-1" and message[2]["url"] == "http://x/a"  # given again, and first
    receiver.ack(tag)
    tag2, _, message2 = receiver.get()
    assert message2[2]["url"] == "http://x/b"
    receiver.close()
    again = RedisReceiver(redis_url)  # b was not acknowledged: given again; a was
    assert again.requeued == 1 and pickle.loads(again.redis.lindex(again.keys.queue, -1))[1][2]["url"] == "http://x/b"
    again.close()


def test_a_joiner_that_dies_fails_the_run_and_marks_nothing_removed(tmp_path, sites, redis_url):
    """A joined crawler killed mid-run: the coordinator sees it stop saying it is alive,
    finishes without it, fails the run with the reason, and marks no report removed."""
    import signal

    registry, _ = sites
    (tmp_path / "joiner").mkdir()
    joiner = ogi("crawl", "--join", "--wait", "60", env={"OGI_REDIS_URL": redis_url}, cwd=tmp_path / "joiner")
    coordinator = ogi("crawl", "--sites", registry, "--db", tmp_path / "a.db", *FAST, "-s",
                      f"OGI_REDIS_URL={redis_url}", "-s", "OGI_JOINERS=1")
    deadline = time.monotonic() + 60
    while not list((tmp_path / "joiner").glob("logs/*.log")) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)  # crawling by now
    joiner.send_signal(signal.SIGKILL)
    joiner.communicate(timeout=30)
    out, err = coordinator.communicate(timeout=300)
    assert coordinator.returncode == 3, out + err
    assert "joined the run and ended without finishing" in err and "Traceback" not in err, err
    assert q(tmp_path / "a.db", "select status from crawl_runs") == [("failed",)]
    assert q(tmp_path / "a.db", "select count(*) from reports where removed_at is not null") == [(0,)]
