"""A long crawl made resumable with Scrapy's JOBDIR: stopped with SIGTERM, the same command
takes up what was left, fetches nothing twice, and marks no report removed."""
import signal
import sqlite3
import subprocess
import time

from conftest import BIN
from sites_server import serve_registry, stop

NAMES = ("attachments", "trs_paged")
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0"]


def reports(db):
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("select id, sha256 from reports where removed_at is null"))
    finally:
        conn.close()


def test_a_stopped_crawl_is_taken_up_where_it_stopped(tmp_path):
    registry = tmp_path / "sites.toml"
    servers = serve_registry(NAMES, registry, "j", {"pace": 0.5})  # slow enough that a stop lands midway on a loaded machine
    try:
        crawl = [str(BIN / "ogi-archive"), "crawl", "--sites", str(registry), *FAST]
        ref = subprocess.run(crawl + ["--db", str(tmp_path / "ref.db")], capture_output=True, text=True, timeout=300)
        assert ref.returncode == 0, ref.stdout + ref.stderr
        want = reports(tmp_path / "ref.db")
        for s in servers:
            s.clear_log()

        job = crawl + ["--db", str(tmp_path / "job.db"), "-s", f"JOBDIR={tmp_path / 'job'}",
                       "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
        first = subprocess.Popen(job, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while sum(len(s.requests) for s in servers) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        first.send_signal(signal.SIGTERM)  # a graceful stop: the pending requests stay in JOBDIR
        out, err = first.communicate(timeout=120)
        assert "Traceback" not in err, err
        asked_first = {p for s in servers for _, p, _ in s.requests if p != "/robots.txt"}
        assert len(reports(tmp_path / "job.db")) < len(want), "the crawl was not stopped midway"
        for s in servers:
            s.clear_log()

        second = subprocess.run(job, capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stdout + second.stderr
        asked_second = {p for s in servers for _, p, _ in s.requests if p != "/robots.txt"}
        assert reports(tmp_path / "job.db") == want  # every report, none marked removed
        assert not asked_first & asked_second, asked_first & asked_second  # nothing fetched twice
    finally:
        stop(servers)
