"""Each CMS family and each crawl hazard, as an offline fixture site on 127.0.0.1
(tests/sites/, README.md there): the crawl must find exactly the site's reports."""
import json
import sqlite3

import pytest

from conftest import ogi
from sites_server import SITES, fixture_entry, manifest, serve

MANIFEST = manifest()
FAST = ("-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0")


@pytest.fixture(scope="module", params=sorted(MANIFEST))
def crawled(request, tmp_path_factory):
    name = request.param
    site = MANIFEST[name]
    server, base = serve(SITES / name)
    tmp = tmp_path_factory.mktemp(name)
    registry = tmp / "sites.toml"
    registry.write_text(fixture_entry(name, base), encoding="utf-8")
    db = tmp / "archive.db"
    proc = ogi("crawl", "--sites", registry, "--db", db, *FAST)
    yield name, site, server, db, proc
    server.shutdown()
    server.server_close()


def report_paths(db):
    conn = sqlite3.connect(db)
    try:
        return {"/" + u.split("/", 3)[3] for (u,) in conn.execute("select url from reports")}
    finally:
        conn.close()


def test_finds_exactly_the_sites_reports(crawled):
    name, site, server, db, proc = crawled
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report_paths(db) == {r["path"] for r in site["reports"]}


def test_takes_no_other_page_for_a_report(crawled):
    name, site, server, db, proc = crawled
    assert not report_paths(db) & set(site["non_reports"])


def test_every_attachment_is_captured(crawled):
    name, site, server, db, proc = crawled
    conn = sqlite3.connect(db)
    captured = {"/" + u.split("/", 3)[3] for (u,) in conn.execute("select url from captures")}
    for r in site["reports"]:
        if r["attachment"]:
            assert r["attachment"] in captured


def test_each_report_carries_the_title_and_date_its_list_gives(crawled):
    """Where the manifest says what a report's list row gives (``list_title``, ``list_date``),
    the crawl carries it to the report: the date is one of its publication dates, from the list."""
    name, site, server, db, proc = crawled
    want = {r["path"]: r for r in site["reports"] if "list_date" in r}
    if not want:
        pytest.skip("the manifest gives no list dates for this site")
    conn = sqlite3.connect(db)
    got = {"/" + u.split("/", 3)[3]: (t, json.loads(c or "[]"))
           for u, t, c in conn.execute("select url, list_title, published_candidates from reports")}
    for path, r in want.items():
        title, candidates = got[path]
        assert title == r["list_title"], path
        assert r["list_date"] in [c["value"] for c in candidates if c["from"] == "list"], (path, candidates)


def test_robots_and_offsite_redirects_are_obeyed(crawled):
    name, site, server, db, proc = crawled
    for path in site.get("disallowed", []):
        assert not server.fetched(path), path
    conn = sqlite3.connect(db)
    assert not [u for (u,) in conn.execute("select url from captures") if "example-offsite" in u]


def test_big5_copies_are_not_separate_reports(crawled):
    name, site, server, db, proc = crawled
    for copy in site.get("big5_copies", []):
        assert copy.get("path", copy) not in report_paths(db) if isinstance(copy, dict) else copy not in report_paths(db)


def test_pagination_traps_stay_bounded(crawled):
    name, site, server, db, proc = crawled
    assert len(server.requests) < 120


@pytest.mark.parametrize("name", ["trs_paged", "attachments", "list_files"])
def test_a_second_run_requests_no_report_page_or_file(name, tmp_path):
    site = MANIFEST[name]
    server, base = serve(SITES / name)
    try:
        registry = tmp_path / "sites.toml"
        registry.write_text(f'[[site]]\nid = "t_{name}"\nname = "x"\ncms = "{site["cms"]}"\n'
                            f'start_urls = {json.dumps([base + u for u in site["start_urls"]])}\n', encoding="utf-8")
        assert ogi("crawl", "--sites", registry, "--db", tmp_path / "a.db", *FAST).returncode == 0
        server.clear_log()
        assert ogi("crawl", "--sites", registry, "--db", tmp_path / "a.db", *FAST).returncode == 0
        documents = {r["path"] for r in site["reports"]} | {r["attachment"] for r in site["reports"] if r["attachment"]}
        assert server.requests and not [r for r in server.requests if r[1] in documents]
    finally:
        server.shutdown()
        server.server_close()


def test_an_ad_hoc_crawl_from_a_home_page_finds_the_reports(tmp_path):
    site = MANIFEST["discover_home"]
    server, base = serve(SITES / "discover_home")
    try:
        proc = ogi("crawl", "--start-url", base + site["home"], "--db", tmp_path / "a.db", *FAST)
        assert proc.returncode == 0, proc.stderr
        assert report_paths(tmp_path / "a.db") == {r["path"] for r in site["reports"]}
    finally:
        server.shutdown()
        server.server_close()


def test_a_bad_start_url_exits_2(tmp_path):
    proc = ogi("crawl", "--start-url", "ftp://x", "--db", tmp_path / "a.db")
    assert proc.returncode == 2 and "not an http(s) URL" in proc.stderr


def test_sites_check_tells_reachable_moved_and_unreachable(tmp_path):
    server, base = serve(SITES / "redirect_shells")
    try:
        reg = tmp_path / "r.toml"
        reg.write_text(f'[[site]]\nid = "ok_site"\nname = "x"\nstart_urls = ["{base}/col/col2/index.html"]\n\n'
                       f'[[site]]\nid = "moved_site"\nname = "x"\nstart_urls = ["{base}/zfxxgknb/202201/t20220120_3.html"]\n\n'
                       f'[[site]]\nid = "gone_site"\nname = "x"\nstart_urls = ["http://127.0.0.1:9/"]\n', encoding="utf-8")
        proc = ogi("sites", "check", "--sites", reg, "--timeout", "5")
        states = {line.split()[1]: line.split()[0] for line in proc.stdout.splitlines()[:-1]}
        assert states == {"ok_site": "reachable", "moved_site": "moved", "gone_site": "unreachable"}
        assert proc.returncode == 3
    finally:
        server.shutdown()
        server.server_close()


def test_scrapy_crawl_works_from_the_repo_root(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    site = MANIFEST["trs_paged"]
    server, base = serve(SITES / "trs_paged")
    try:
        registry = tmp_path / "sites.toml"
        registry.write_text(f'[[site]]\nid = "t_trs"\nname = "x"\ncms = "trs"\n'
                            f'start_urls = {json.dumps([base + u for u in site["start_urls"]])}\n', encoding="utf-8")
        proc = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "trs", "-a", "site=t_trs", "-a", f"sites={registry}",
                               "-s", f"OGI_ARCHIVE_DB={tmp_path / 'a.db'}", *FAST, "-s", "LOG_LEVEL=WARNING"],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert report_paths(tmp_path / "a.db") == {r["path"] for r in site["reports"]}
    finally:
        server.shutdown()
        server.server_close()
