"""Datasette on a demo archive, through its own client, with the project's metadata and plugin."""
import asyncio
import pathlib

import pytest
from datasette.app import Datasette


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


def test_facets_work(ds):
    """(That the metadata describes every table and column: tests/test_schema_doc.py.)"""
    r = get(ds, "/archive/reports.json?_facet=report_year")
    assert r.status_code == 200 and r.json()["facet_results"]["report_year"]["results"]


def test_ogi_archive_serve_runs_datasette_over_http(demo_db, tmp_path):
    """The real `ogi-archive serve` process, fetched over HTTP on 127.0.0.1."""
    import json
    import shutil
    import socket
    import subprocess
    import time
    import urllib.parse
    import urllib.request

    from conftest import BIN

    db = tmp_path / "nightly.db"  # a name other than archive.db: the metadata must follow it
    shutil.copy(demo_db[0], db)
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
    finally:
        proc.terminate()
        proc.wait(10)


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
