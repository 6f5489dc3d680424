"""Datasette on a demo archive, through its own client, with the project's metadata and plugin,
configured as `ogi-archive serve` configures it (immutable, the SQL time limit); and the real
`ogi-archive serve` process over HTTP."""
import asyncio
import html
import json
import pathlib
import re
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request

import pytest
from datasette.app import Datasette

from archive.warc import warc_dir
from conftest import rows, served


@pytest.fixture(scope="module")
def ds(demo_db):
    from archive.cli import DATASETTE_SETTINGS, datasette_metadata

    db, _ = demo_db
    return Datasette([], immutables=[str(db)], metadata=datasette_metadata(pathlib.Path(db).stem),
                     settings=DATASETTE_SETTINGS)


def get(ds, path):
    return request(ds, "GET", path)


def request(ds, method, path, **kw):
    async def go():
        return await ds.client.request(method, path, **kw)
    return asyncio.run(go())


def fetch(url, data=None):
    """(status, body) of a request over HTTP; an error status is an answer too."""
    try:
        with urllib.request.urlopen(url, data=data, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_reports_table_is_served(ds, manifest):
    r = get(ds, "/archive/reports.json?_shape=array&_col=title")
    assert r.status_code == 200 and len(r.json()) == len(manifest["reports"])


def test_plugin_functions_are_there(ds):
    r = get(ds, "/archive.json?sql=select+to_simplified('懷化市財政局')+as+s,+to_traditional('怀化')+as+t&_shape=array")
    assert r.json() == [{"s": "怀化市财政局", "t": "懷化"}]


@pytest.mark.parametrize("q", ["懷化市財政局", "怀化市财政局"])
def test_search_finds_a_report_in_either_script(ds, q):
    r = get(ds, f"/archive/search_titles.json?q={q}&_shape=array")
    assert r.status_code == 200
    assert [row["title"] for row in r.json()] == ["怀化市财政局2020年政府信息公开工作年度报告"]


def test_failing_checks_query_lists_the_source_error(ds):
    rows = get(ds, "/archive/failing_checks.json?_shape=array").json()
    assert {(r["rule"], r["subject"]) for r in rows} == {("review_litigation.total", "review"),
                                                          ("review_litigation.total", "suit_after_review")}


def test_facets_work(ds):
    """(That the metadata describes every table and column: tests/test_schema_doc.py.)"""
    r = get(ds, "/archive/reports.json?_facet=report_year")
    assert r.status_code == 200 and r.json()["facet_results"]["report_year"]["results"]


def test_ogi_archive_serve_runs_datasette_over_http(demo_db, tmp_path):
    """The real `ogi-archive serve` process, fetched over HTTP on 127.0.0.1: immutable, with
    the SQL time limit, and a POST to a canned query or a table refused (405), not a 500."""
    db = tmp_path / "nightly.db"  # a name other than archive.db: the metadata must follow it
    shutil.copy(demo_db[0], db)
    shutil.copytree(warc_dir(demo_db[0]), warc_dir(db))
    with served(db) as base:
        q = urllib.parse.quote("懷化")
        rows_ = json.loads(fetch(f"{base}/nightly/search_titles.json?q={q}&_shape=array")[1])
        assert [r["agency"] for r in rows_] == ["怀化市财政局"]
        meta = json.loads(fetch(base + "/-/metadata.json")[1])
        assert "reports" in meta["databases"]["nightly"]["tables"]
        (database,) = json.loads(fetch(base + "/-/databases.json")[1])
        assert database["name"] == "nightly" and database["is_mutable"] is False
        settings = json.loads(fetch(base + "/-/settings.json")[1])
        assert (settings["sql_time_limit_ms"], settings["truncate_cells_html"]) == (3000, 400)
        form = urllib.parse.urlencode({"agency": "怀化"}).encode()
        for path in ("/nightly/agency_by_year", "/nightly/agency_by_year.json", "/nightly/reports",
                     "/nightly/cells.json", "/nightly", "/", "/-/capture/nightly/1"):
            status, body = fetch(base + path, data=form)
            assert 400 <= status < 500, (path, status, body[:200])
        # the demo has ended, its mirror is served no more: its reports are still there, by their URLs
        table = fetch(base + "/nightly/reports")[1].decode("utf-8")
        links = re.findall(r'href="(/-/original/nightly\?url=[^"]+)"', table)
        assert len(links) == rows(db, "select count(*) n from reports")[0]["n"]
        for link in links:
            status, body = fetch(base + html.unescape(link))
            assert status == 200 and b"<html" in body.lower()[:2000]


def test_facet_by_province(ds):
    r = get(ds, "/archive/reports.json?_facet=province")
    counts = {f["value"]: f["count"] for f in r.json()["facet_results"]["province"]["results"]}
    assert counts == {"江苏省": 4, "湖南省": 1}


def test_the_converters_end_within_the_time_limit_on_a_hostile_text(ds):
    """40 million characters (what a hostile capture's text may hold): the SQL functions convert
    the first CONVERT_LIMIT and return the rest as it is, inside Datasette's time limit."""
    from archive.datasette.plugin import CONVERT_LIMIT

    sql = ("with t as (select replace(hex(zeroblob(20000000)), '0', '國') as s) "
           "select length(to_simplified(s)) as n, substr(to_simplified(s), 1, 1) as first, "
           f"substr(to_simplified(s), {CONVERT_LIMIT + 1}, 1) as beyond from t")
    r = get(ds, "/archive.json?_shape=array&sql=" + __import__("urllib.parse").parse.quote(sql))
    assert r.status_code == 200, r.text[:300]
    assert r.json() == [{"n": 40_000_000, "first": "国", "beyond": "國"}]


def test_a_capture_is_served_from_its_warc_record_with_its_original_type(ds, demo_db):
    import hashlib

    from conftest import rows

    db, _ = demo_db
    name = pathlib.Path(db).stem
    for cap in rows(db, "select id, content_type, sha256, url from captures"):
        r = get(ds, f"/-/capture/{name}/{cap['id']}")
        assert r.status_code == 200 and r.headers["content-type"] == cap["content_type"]
        assert hashlib.sha256(r.content).hexdigest() == cap["sha256"]
        assert r.headers["content-security-policy"] == "sandbox"  # an archived page's scripts never run here
        last = cap["url"].rstrip("/").rsplit("/", 1)[-1]
        assert last in r.headers["content-disposition"]
    pdf = rows(db, "select id from captures where content_type like 'application/pdf%' limit 1")
    assert pdf and get(ds, f"/-/capture/{name}/{pdf[0]['id']}").content.startswith(b"%PDF")
    assert get(ds, f"/-/capture/{name}/999999").status_code == 404
    assert get(ds, f"/-/capture/nodb/1").status_code == 404


def _pages(db):
    """Every table and canned query of the archive, and the pages around them."""
    from archive.cli import datasette_metadata

    name = pathlib.Path(db).stem
    tables = [r["name"] for r in rows(db, "select name from sqlite_master where type in ('table', 'view')")]
    queries = list(datasette_metadata(name)["databases"][name]["queries"])
    report = rows(db, "select id from reports limit 1")[0]["id"]
    return [f"/{name}/{t}{fmt}" for t in tables + queries for fmt in ("", ".json", ".csv")] + [
        "/", "/.json", f"/{name}", f"/{name}.json", f"/{name}.db", f"/{name}/reports/{report}",
        f"/{name}/reports/{report}.json", "/-/capture/archive/1", "/-/metadata", "/-/dashboards/figures"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_no_request_of_any_method_gives_a_server_error(ds, demo_db, method):
    """Datasette 0.65 answered a POST to a table, or to a canned query that writes nothing, with
    a 500 (its table view asserts, or returns a tuple for a response); the plugin refuses it."""
    for path in _pages(demo_db[0]):
        r = request(ds, method, path, data={"agency": "怀化"})
        assert r.status_code < 500, (method, path, r.status_code, r.text[:300])
        if method == "POST" and path.startswith("/archive/") and path.count("/") == 2:
            assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD", path


def test_every_page_reads(ds, demo_db):
    for path in _pages(demo_db[0]):
        r = get(ds, path)
        assert r.status_code == 200 or path.endswith(".db"), (path, r.status_code, r.text[:300])


def test_a_writable_canned_query_still_takes_its_post(demo_db, tmp_path):
    """The refusal is only of what Datasette cannot answer: a canned query declared writable
    (on a database served mutable) still runs on a POST."""
    from archive.cli import datasette_metadata

    db = tmp_path / "archive.db"
    shutil.copy(demo_db[0], db)
    meta = datasette_metadata("archive")
    meta["databases"]["archive"]["queries"]["note"] = {"sql": "insert into sites (id) values (:id)", "write": True}
    ds = Datasette([str(db)], metadata=meta)
    page = get(ds, "/archive/note")
    token = page.cookies.get("ds_csrftoken") or ""
    r = request(ds, "POST", "/archive/note", data={"id": "xx_new", "csrftoken": token},
                cookies={"ds_csrftoken": token})
    assert r.status_code in (200, 302), r.text[:300]
    assert rows(db, "select id from sites where id = 'xx_new'") == [{"id": "xx_new"}]


def test_links_show_their_rows_labels(ds, demo_db):
    """Every column that names another table's row links it, labelled: an agency by its name,
    a site by its name, a report by its title."""
    report = get(ds, "/archive/reports.json?_shape=array&_labels=on&_size=1").json()[0]
    agency = rows(demo_db[0], "select name from agencies where id = ?", report["agency_id"]["value"])[0]["name"]
    assert report["agency_id"]["label"] == agency
    assert report["site_id"]["label"] == rows(demo_db[0], "select name from sites where id = ?",
                                              report["site_id"]["value"])[0]["name"]
    assert report["run_id"]["value"] == 1 and report["run_id"]["label"]  # the run's start
    cell = get(ds, "/archive/cells.json?_shape=array&_labels=on&_size=1").json()[0]
    assert cell["report_id"]["label"] == rows(demo_db[0], "select title from reports where id = ?",
                                              cell["report_id"]["value"])[0]["title"]
    html = get(ds, "/archive/reports").text
    assert f'<a href="/archive/agencies/{report["agency_id"]["value"]}">{agency}</a>' in html


def test_a_report_reads_from_its_title_and_counts_to_its_texts(ds):
    from archive.db import REPORT_COLUMN_ORDER

    r = get(ds, "/archive/reports.json?_size=1").json()
    # columns added by later migrations (m014's extracted_by) come after m011's order
    assert r["columns"][:len(REPORT_COLUMN_ORDER)] == list(REPORT_COLUMN_ORDER) and r["columns"][:3] == ["title", "agency", "report_year"]
    assert r["human_description_en"] == "sorted by published_at descending"
    assert set(r["facet_results"]) == {"province", "level", "report_year", "format_version", "parse_status"}


def test_whole_figures_show_as_integers(ds):
    values = [c["value"] for c in get(ds, "/archive/cells.json?_shape=array&_size=max").json()]
    assert any(isinstance(v, float) for v in values)  # 96171.6 万元
    assert [v for v in values if isinstance(v, float) and v.is_integer()] == []
    html = get(ds, "/archive/cells?table_key=requests&row_key=new_received&column_key=total").text
    assert '<td class="col-value type-int">' in html and ".0</td>" not in html


def test_the_migrations_table_is_hidden(ds):
    tables = {t["name"]: t for t in get(ds, "/archive.json").json()["tables"]}
    assert tables["_sqlite_migrations"]["hidden"] is True and tables["cell_keys"]["hidden"] is False


def test_serve_shows_what_a_killed_writer_left_in_the_wal_and_stops_a_long_query(demo_db, tmp_path):
    """Immutable reading ignores the -wal: `serve` first writes what a writer killed after its
    commit left there into the file (no crawl holding the archive), so it is served; a query
    over the time limit is stopped with a 400."""
    import sys

    db = tmp_path / "archive.db"
    shutil.copy(demo_db[0], db)
    killed = ("import os, sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('pragma wal_autocheckpoint = 0'); "
              "c.execute(\"insert into sites (id, name) values ('xx_wal', '只在WAL里')\"); c.commit(); os._exit(0)")
    subprocess.run([sys.executable, "-c", killed, str(db)], check=True)
    assert (tmp_path / "archive.db-wal").stat().st_size > 0
    with served(db, "--sql-time-limit-ms", "200") as base:
        status, body = fetch(f"{base}/archive/sites/xx_wal.json?_shape=array")
        assert status == 200 and json.loads(body)[0]["name"] == "只在WAL里"
        slow = "with recursive n(i) as (select 1 union all select i + 1 from n) select count(*) from n"
        status, body = fetch(f"{base}/archive.json?sql={urllib.parse.quote(slow)}")
        assert status == 400 and b"too long" in body, (status, body[:300])
    wal = tmp_path / "archive.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0


def test_serve_live_serves_an_archive_a_crawl_holds(demo_db, tmp_path):
    """--live: read-only, not immutable, so a crawl may write the archive while it is served."""
    from crawler.runner import ArchiveLock

    db = tmp_path / "archive.db"
    shutil.copy(demo_db[0], db)
    with ArchiveLock(db), served(db, "--live") as base:
        (database,) = json.loads(fetch(base + "/-/databases.json")[1])
        assert database["is_mutable"] is True
        status, body = fetch(base + "/archive/reports.json?_shape=array&_col=title")
        assert status == 200 and len(json.loads(body)) == rows(db, "select count(*) n from reports")[0]["n"]
        assert fetch(base + "/archive/agency_by_year", data=b"agency=x")[0] == 405
def _cell_links(page, column):
    """The hrefs in the cells of ``column`` of a Datasette table or row page."""
    import html
    import re

    cells = re.findall(rf'<td class="col-{column} [^"]*"[^>]*>(.*?)</td>', page, re.S)
    return [[html.unescape(h) for h in re.findall(r'href="([^"]+)"', c)] for c in cells]


def test_each_report_links_to_its_page_and_its_capture_as_archived(ds, demo_db, manifest):
    """On each report's row page, its URL leads to the page as archived and its capture to the
    raw capture: each answered from the archive with its own type (the PDF as a PDF) and a
    file name like its URL's, whether or not the URL still answers (the demo's never do)."""
    import re
    from urllib.parse import quote, unquote, urlsplit

    from conftest import rows

    db, _ = demo_db
    name = pathlib.Path(db).stem
    reports = rows(db, "select r.id, r.url, r.capture_id, c.url capture_url, c.content_type capture_type "
                       "from reports r join captures c on c.id = r.capture_id")
    assert len(reports) == len(manifest["reports"])
    table = get(ds, f"/{name}/reports?_size=max").text
    row_pages = set(re.findall(rf'href="(/{name}/reports/[^"?]+)"', table))
    assert len(row_pages) == len(reports)
    kinds = set()
    for row_page in row_pages:
        page = get(ds, row_page).text
        (url_links,), (capture_links,) = _cell_links(page, "url"), _cell_links(page, "capture_id")
        (original,) = [h for h in url_links if h.startswith("/-/original/")]  # a demo URL has no live link
        url = unquote(original.split("?url=", 1)[1])
        (report,) = [r for r in reports if r["url"] == url]
        assert f"/{name}/captures/{report['capture_id']}" in capture_links
        (raw,) = [h for h in capture_links if h.startswith("/-/capture/")]
        for link, fetched, ctype in ((original, report["url"], None), (raw, report["capture_url"], report["capture_type"])):
            r = get(ds, link)
            assert r.status_code == 200, link
            page_type = rows(db, "select content_type from captures where id = ?", int(r.headers["x-ogi-capture"]))
            assert r.headers["content-type"] == (ctype or page_type[0]["content_type"])
            last = urlsplit(fetched).path.rsplit("/", 1)[-1]
            assert r.headers["content-disposition"].endswith("''" + quote(last)), r.headers["content-disposition"]
            assert not r.headers["content-disposition"].endswith(".blob")
            kinds.add(r.headers["content-type"].split(";")[0])
        assert get(ds, original).headers["x-ogi-capture"] == str(rows(
            db, "select id from captures where url = ? order by fetched_at desc, id desc limit 1", url)[0]["id"])
    assert kinds == {"text/html", "application/pdf"}  # the demo has both, so each is checked


def test_an_original_url_not_in_the_archive_is_a_404(ds, demo_db):
    name = pathlib.Path(demo_db[0]).stem
    assert get(ds, f"/-/original/{name}?url=http%3A%2F%2Fnowhere.demo.ogi-archive.invalid%2F").status_code == 404
    assert get(ds, f"/-/original/{name}").status_code == 400
    assert get(ds, "/-/original/nodb?url=http%3A%2F%2Fx%2F").status_code == 404


def test_a_live_sites_report_links_to_its_live_page_too(ds):
    """Only a URL that resolves somewhere gets a link to the live page besides the archived one."""
    from archive.datasette.plugin import render_cell

    live = render_cell({}, "http://www.hongze.gov.cn/col/1167_462443/index.html", "url", "reports", "archive", ds)
    assert 'href="http://www.hongze.gov.cn/col/1167_462443/index.html"' in live and "/-/original/archive?url=" in live
    demo = render_cell({}, "http://js-hongze.demo.ogi-archive.invalid/index.html", "url", "reports", "archive", ds)
    assert "/-/original/archive?url=" in demo and 'href="http://js-hongze' not in demo
