"""Datasette on a demo archive, through its own client, with the project's metadata and plugin."""
import asyncio
import pathlib

import pytest
import yaml
from datasette.app import Datasette

from conftest import ROOT

METADATA = ROOT / "archive/datasette/metadata.yaml"


@pytest.fixture(scope="module")
def ds(demo_db):
    from archive.cli import datasette_metadata

    db, _ = demo_db
    return Datasette([str(db)], metadata=datasette_metadata(pathlib.Path(db).stem))


def get(ds, path):
    async def go():
        return await ds.client.get(path)
    return asyncio.run(go())


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


def test_metadata_describes_every_table_and_facets_work(ds):
    meta = yaml.safe_load(METADATA.read_text(encoding="utf-8"))["databases"]["archive"]["tables"]
    names = get(ds, "/archive.json").json()["tables"]
    assert {t["name"] for t in names if not t["name"].startswith("_")} <= set(meta)
    r = get(ds, "/archive/reports.json?_facet=report_year")
    assert r.status_code == 200 and r.json()["facet_results"]["report_year"]["results"]


def test_ogi_archive_serve_runs_datasette_over_http(demo_db, tmp_path):
    """The real `ogi-archive serve` process, fetched over HTTP on 127.0.0.1."""
    import html
    import json
    import re
    import shutil
    import socket
    import subprocess
    import time
    import urllib.parse
    import urllib.request

    from conftest import BIN
    from conftest import rows as rows_of

    from archive.warc import warc_dir

    db = tmp_path / "nightly.db"  # a name other than archive.db: the metadata must follow it
    shutil.copy(demo_db[0], db)
    shutil.copytree(warc_dir(demo_db[0]), warc_dir(db))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(BIN / "ogi-archive"), "serve", str(db), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        q = urllib.parse.quote("懷化")
        rows = json.load(urllib.request.urlopen(f"{base}/nightly/search_titles.json?q={q}&_shape=array", timeout=5))
        assert [r["agency"] for r in rows] == ["怀化市财政局"]
        meta = json.load(urllib.request.urlopen(base + "/-/metadata.json", timeout=5))
        assert "reports" in meta["databases"]["nightly"]["tables"]
        # the demo has ended, its mirror is served no more: its reports are still there, by their URLs
        table = urllib.request.urlopen(base + "/nightly/reports", timeout=5).read().decode("utf-8")
        links = re.findall(r'href="(/-/original/nightly\?url=[^"]+)"', table)
        assert len(links) == len(rows_of(db, "select id from reports"))
        for link in links:
            with urllib.request.urlopen(base + html.unescape(link), timeout=5) as r:
                assert r.status == 200 and r.headers["Content-Type"].startswith("text/html")
    finally:
        proc.terminate()
        proc.wait(10)


def test_facet_by_province(ds):
    r = get(ds, "/archive/reports.json?_facet=province")
    counts = {f["value"]: f["count"] for f in r.json()["facet_results"]["province"]["results"]}
    assert counts == {"江苏省": 4, "湖南省": 1}


def test_every_column_of_every_table_is_described(demo_db):
    """The metadata is the archive's documentation: a new column must come with its description."""
    import sqlite3

    meta = yaml.safe_load(METADATA.read_text(encoding="utf-8"))["databases"]["archive"]["tables"]
    conn = sqlite3.connect(demo_db[0])
    missing = {}
    for (table,) in conn.execute("select name from sqlite_master where type = 'table' and name not like '\\_%' escape '\\'"):
        if table.endswith(("_fts", "_fts_data", "_fts_idx", "_fts_docsize", "_fts_config")):
            continue
        cols = [r[1] for r in conn.execute(f"pragma table_info([{table}])")]
        described = (meta.get(table) or {}).get("columns", {})
        missing.update({f"{table}.{c}": True for c in cols if c not in described})
    assert not missing, sorted(missing)


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
