"""The crawl against a site that fails in every way real ones do (tests/fault_server.py):
one crawl finishes, every failure is a row with its reason, a second run asks again for
exactly the failures, first, and nothing archived before is touched."""
import os
import signal
import sqlite3
import subprocess
import time
from urllib.parse import urlsplit

import pytest

from conftest import BIN, ogi, rows
from fault_server import (COLUMN, FIRST_RUN_REPORTS, HEALED_REPORTS, PERMANENT, REFUSED, TRANSIENT, FaultSite,
                          crawl_twice)
from sites_server import SITES, fixture_entry, serve

FAST = ("-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0",
        "-s", "DOWNLOAD_TIMEOUT=2", "-s", "DOWNLOAD_MAXSIZE=2000000", "-s", "OGI_MAX_LIST_PAGES=40")


def path_of(url, base=None):
    """A URL of the fault site as its path (other URLs as they are)."""
    base = base or BASE[0]
    return urlsplit(url).path if url.startswith(base + "/") else url


BASE = [""]  # the fault site's http://127.0.0.1:PORT, once it is serving


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two crawls of the fault site: one while it fails, one after it has healed."""
    out = crawl_twice(tmp_path_factory.mktemp("faults"), FAST)
    BASE[0] = out["base"]
    return out


def test_one_crawl_of_a_failing_site_finishes_and_says_the_site_failed(runs):
    proc, *_ = runs["first"]
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "site failed: fault_pingtan" in proc.stderr and "Traceback" not in proc.stderr
    assert "still to fetch (table fetch_failures)" in proc.stdout
    assert rows(runs["db"], "select status from crawl_runs") == [{"status": "failed"}, {"status": "failed"}]


def test_every_failure_is_a_row_with_its_kind_and_reason(runs):
    _, _, failures, _, _ = runs["first"]
    by_path = {path_of(f["url"]): f for f in failures}
    for path, kind in {**TRANSIENT, **PERMANENT}.items():
        assert path in by_path, path
        assert by_path[path]["kind"] == kind, (path, by_path[path])
    for f in failures:
        assert f["reason"] and f["reason"].strip() and f["attempts"] >= 1 and f["last_run_id"] == 1, f
        assert f["fetch_role"] in ("list", "report", "attachment"), f
    assert by_path[f"{COLUMN}202503/t20250310_97791.htm"]["status"] == 500
    assert by_path[f"{COLUMN}202302/P020230220385573516789.pdf"]["fetch_role"] == "attachment"
    assert by_path[f"{COLUMN}index_1.htm"]["fetch_role"] == "list"
    assert "loop" in by_path[f"{COLUMN}201801/t20180123_80506.htm"]["reason"]
    assert "challenge" in by_path[f"{COLUMN}202001/t20200120_80576.htm"]["reason"]


def test_links_to_the_disk_to_ftp_and_to_other_hosts_are_refused_and_recorded(runs):
    _, requests, failures, _, captures = runs["first"]
    refused = {path_of(f["url"]) for f in failures if f["kind"] == "refused"}
    assert refused == REFUSED
    assert all(urlsplit(c["url"]).scheme in ("http", "https") for c in captures)
    assert all(urlsplit(c["final_url"]).scheme in ("http", "https") for c in captures)
    from archive.warc import warc_dir

    # nothing of this machine's disk went into the archive (its WARC files, decompressed)
    import gzip

    for path in warc_dir(runs["db"]).glob("*.warc.gz"):
        assert b"root:x:0:0" not in gzip.decompress(path.read_bytes())


def test_every_error_in_the_log_says_why(runs):
    (log,) = runs["db"].parent.glob("logs/*run1.log")
    errors = [line for line in log.read_text(encoding="utf-8").splitlines() if "] ERROR: " in line]
    assert len(errors) >= len(TRANSIENT) + len(PERMANENT)
    for line in errors:
        assert not line.rstrip().endswith(":") and line.split("] ERROR: ", 1)[1].strip(), line


def test_column_traps_stop_at_the_list_page_budget(runs):
    _, requests, _, _, _ = runs["first"]
    trap = [p for _, p, _ in requests if p.startswith("/zwgk/nb/")]
    assert 0 < len(trap) <= 40  # OGI_MAX_LIST_PAGES=40; the trap holds 781 pages
    (run,) = rows(runs["db"], "select site_stats from crawl_runs where id = 1")
    assert __import__("json").loads(run["site_stats"])["fault_pingtan"]["budget_spent"] == 1


def test_what_could_be_archived_was_and_right(runs):
    _, _, _, reports, _ = runs["first"]
    got = {path_of(r["url"]): r for r in reports}
    assert set(got) == set(FIRST_RUN_REPORTS)
    county = got[f"{COLUMN}201401/t20140122_80754.htm"]  # GBK under a header and a <meta> that say UTF-8
    assert county["title"] == "平潭县人民政府2013年政府信息公开工作年度报告" and county["n_cells"] > 0
    pdf = got[f"{COLUMN}201301/P020130125000000000001.pdf"]  # a truncated file: kept, with the reason
    assert pdf["parse_status"] == "error" and "could not be read" in pdf["parse_error"]
    # 100,000 unclosed "<a " after a report: read, in no time (a quadratic regex took minutes)
    assert got[f"{COLUMN}201903/t20190329_1.htm"]["n_cells"] > 0


def test_one_report_under_many_query_strings_is_one_report_and_its_copies(runs):
    _, _, _, reports, _ = runs["first"]
    assert len(reports) == len(FIRST_RUN_REPORTS)
    # whichever of its URLs arrived first (two requests are in flight) is the report's; the rest are its copies
    (report,) = [r for r in reports if path_of(r["url"]).endswith("t20260313_105587.htm")]
    copies = rows(runs["db"], "select url from report_copies where report_id = ?", report["id"])
    urls = [report["url"]] + [c["url"] for c in copies]
    assert len(copies) == FaultSite.COPIES and len(set(urls)) == FaultSite.COPIES + 1
    assert sum("?from=" not in u for u in urls) == 1 and {path_of(u) for u in urls} == {path_of(report["url"])}


def test_a_304_never_asked_for_and_a_gzip_bomb_are_failures(runs):
    _, _, failures, _, _ = runs["first"]
    by_path = {path_of(f["url"]): f for f in failures}
    not_modified = by_path[f"{COLUMN}2015/t20160120_1.htm"]  # linked from a UTF-16 year column
    assert not_modified["status"] == 304 and "no validators" in not_modified["reason"]
    bomb = by_path[f"{COLUMN}2016/t20170120_1.htm"]  # linked from a year column served as JSON
    assert bomb["kind"] == "too_large" and "DOWNLOAD_MAXSIZE" in bomb["reason"]


def test_the_next_run_asks_for_the_failures_first(runs):
    _, requests, _, _, _ = runs["second"]
    _, _, first_failures, _, _ = runs["first"]
    paths = [p for m, p, _ in requests if p != "/robots.txt"]
    retried = {path_of(f["url"]) for f in first_failures if f["kind"] != "refused"}
    # first: two requests are in flight at once, so the column page may arrive beside the last retry
    assert set(paths[:len(retried) + 1]) >= retried, paths[:len(retried) + 1]


def test_the_healed_failures_are_archived_and_resolved(runs):
    proc, _, failures, reports, _ = runs["second"]
    got = {path_of(r["url"]): r for r in reports}
    for path, year in HEALED_REPORTS.items():
        assert path in got, path
        assert got[path]["report_year"] == year and got[path]["parse_status"] == "ok" and got[path]["n_cells"] > 0
    by_path = {path_of(f["url"]): f for f in failures if f["resolved_at"] is None}
    assert not set(TRANSIENT) & set(by_path)  # every transient failure resolved …
    resolved = [f for f in failures if f["resolved_at"]]
    assert {path_of(f["url"]) for f in resolved} == set(TRANSIENT) and {f["resolved_run_id"] for f in resolved} == {2}
    for path in PERMANENT:  # … the permanent ones still open, their attempts added up
        assert by_path[path]["attempts"] == 2 and by_path[path]["first_run_id"] == 1
        assert by_path[path]["last_run_id"] == 2
    gone = by_path[f"{COLUMN}201901/t20190122_80540.htm"]  # found on the healed list page: a broken link
    assert gone["status"] == 404 and gone["kind"] == "http"
    assert proc.returncode == 3  # the permanent failures still fail the site


def test_nothing_archived_before_is_touched(runs):
    _, _, _, before, captures_before = runs["first"]
    _, requests, _, after, captures_after = runs["second"]
    asked = {p for _, p, _ in requests}
    now = {r["id"]: r for r in after}
    for r in before:
        if r["parse_status"] != "ok":
            continue
        assert path_of(r["url"]) not in asked  # archived and still listed: not fetched again
        kept = now[r["id"]]
        assert (kept["capture_id"], kept["sha256"], kept["version"], kept["n_cells"]) == \
            (r["capture_id"], r["sha256"], r["version"], r["n_cells"])
    assert captures_after[:len(captures_before)] == captures_before


# ---- a report announced but not archived stays pending until it is --------------------------

PAGE = "/zfxxgknb/202401/t20240125_2086143.html"
PDF = "/zfxxgknb/202401/P020240125396812745031.pdf"


def _registry(tmp, base):
    path = tmp / "sites.toml"
    path.write_text(fixture_entry("attachments", base), encoding="utf-8")
    return path


def _report(db, path):
    return [r for r in rows(db, "select url, title, parse_status from reports") if r["url"].endswith(path)]


def test_an_attachment_that_fails_twice_is_archived_when_it_comes_back(tmp_path):
    server, base = serve(SITES / "attachments", {"fail": {PDF: 500}})
    try:
        registry, db = _registry(tmp_path, base), tmp_path / "a.db"
        for attempt in (1, 2):  # 500 on two runs: each asks for it again, each fails the site
            server.clear_log()
            proc = ogi("crawl", "--sites", registry, "--db", db, "-s", "RETRY_TIMES=0", "-s", "DOWNLOAD_DELAY=0")
            assert proc.returncode == 3, proc.stdout + proc.stderr
            assert [s for _, p, s in server.requests if p == PDF] == [500], attempt
            assert not _report(db, PAGE)
        (failure,) = rows(db, "select * from fetch_failures where url like ?", "%" + PDF)
        assert failure["attempts"] == 2 and failure["status"] == 500 and failure["resolved_at"] is None
        del server.behaviours["fail"][PDF]
        proc = ogi("crawl", "--sites", registry, "--db", db, "-s", "RETRY_TIMES=0", "-s", "DOWNLOAD_DELAY=0")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        (report,) = _report(db, PAGE)
        assert report["parse_status"] == "ok" and report["title"] == "邯郸市丛台区人民政府2023年政府信息公开工作年度报告"
        assert rows(db, "select resolved_run_id from fetch_failures") == [{"resolved_run_id": 3}]
    finally:
        server.shutdown()
        server.server_close()


DOCX = "/uploadfiles/2023/01/20230119093022118.docx"


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_run_stopped_between_a_page_and_its_attachment_leaves_the_report_pending(tmp_path, sig):
    """SIGKILL of the process group while the attachment is downloading; SIGTERM (a graceful
    stop: what is downloading finishes, what is queued is dropped) while the attachment waits
    in the queue behind a slow download.  Either way the page is archived and its report is
    not; the next run must fetch the attachment (before, the page counted as known)."""
    held = PDF if sig == signal.SIGKILL else DOCX
    server, base = serve(SITES / "attachments", {"delay": {held: 6}})
    try:
        registry, db = _registry(tmp_path, base), tmp_path / "a.db"
        proc = subprocess.Popen([str(BIN / "ogi-archive"), "crawl", "--sites", str(registry), "--db", str(db),
                                 "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS=1"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 30
        while not server.fetched(held) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.fetched(held), "the held file was never asked for"
        time.sleep(2.5)  # the page's capture is written (the archiver flushes every 2 s)
        page_captured = [c for c in rows(db, "select url, role from captures") if c["url"].endswith(PAGE)]
        pdf_asked = [s for _, p, s in server.requests if p == PDF and s != "held"]
        if sig == signal.SIGKILL:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        proc.wait(30)
        assert page_captured and not pdf_asked, "the stop did not come between the page and its attachment"
        assert not _report(db, PAGE)
        server.behaviours["delay"].clear()
        again = ogi("crawl", "--sites", registry, "--db", db, "-s", "DOWNLOAD_DELAY=0")
        assert again.returncode == 0, again.stdout + again.stderr
        (report,) = _report(db, PAGE)
        assert report["parse_status"] == "ok"
        statuses = [r["status"] for r in rows(db, "select status from crawl_runs order by id")]
        assert statuses == ["interrupted" if sig == signal.SIGKILL else "failed", "ok"]
    finally:
        server.shutdown()
        server.server_close()


def test_the_documents_a_site_may_ask_for_are_bounded(tmp_path):
    """OGI_MAX_DOCUMENTS: a list linking one report under endless query strings stops there,
    says so, and marks nothing removed (the crawl did not see everything)."""
    server, base = serve(SITES / "attachments")
    try:
        registry, db = _registry(tmp_path, base), tmp_path / "a.db"
        assert ogi("crawl", "--sites", registry, "--db", db, "-s", "DOWNLOAD_DELAY=0").returncode == 0
        before = rows(db, "select count(*) as n from reports")[0]["n"]
        server.clear_log()
        proc = ogi("crawl", "--sites", registry, "--db", db, "-s", "DOWNLOAD_DELAY=0", "-s", "OGI_REFETCH=True",
                   "-s", "OGI_MAX_DOCUMENTS=2")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        documents = [p for _, p, _ in server.requests if "/index" not in p and p != "/robots.txt"
                     and not p.endswith("/zfxxgknb/")]
        assert len(documents) == 2, documents
        assert "discovery stopped at the page budget on 1 sites" in proc.stdout
        assert rows(db, "select count(*) as n from reports where removed_at is null")[0]["n"] == before
    finally:
        server.shutdown()
        server.server_close()
