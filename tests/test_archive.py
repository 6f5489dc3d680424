import hashlib

import pytest

from archive.db import migrations, open_archive
from archive.store import report_id, save_capture, save_report, start_run


@pytest.fixture
def db(tmp_path):
    return open_archive(tmp_path / "a.db")


def parsed(n=5):
    return {"title": "某市2020年政府信息公开工作年度报告", "report_year": 2020, "script": "simplified",
            "sections": [{"number": 1, "heading": "总体情况", "text": "…"}],
            "cells": [{"table": "requests", "row": "new_received", "column": "total", "value": n, "unit": None, "raw": str(n)}],
            "checks": [{"rule": "review_litigation.total", "subject": "review", "ok": False, "expected": 11, "actual": 0}],
            "warnings": ["w"]}


def test_migrations_apply_once_and_are_recorded(tmp_path):
    db = open_archive(tmp_path / "a.db")
    names = [m.name for m in migrations.applied(db)]
    db.close()
    db = open_archive(tmp_path / "a.db")  # a second open changes nothing
    assert [m.name for m in migrations.applied(db)] == names and names
    assert {"sites", "crawl_runs", "captures", "payloads", "reports", "sections", "cells", "checks"} <= set(db.table_names())


def test_same_content_at_two_urls_is_stored_once(db):
    run = start_run(db, ["s"])
    a, sha_a = save_capture(db, {"run_id": run, "site_id": "s", "url": "http://a/1", "body": b"same", "role": "report"})
    b, sha_b = save_capture(db, {"run_id": run, "site_id": "s", "url": "http://a/2", "body": b"same", "role": "report"})
    assert a != b and sha_a == sha_b == hashlib.sha256(b"same").hexdigest()
    assert db.table("payloads").count == 1 and db.table("captures").count == 2


def test_report_new_unchanged_changed(db):
    cap, sha = save_capture(db, {"site_id": "s", "url": "http://a/r", "body": b"v1", "role": "report"})
    assert save_report(db, "s", "http://a/r", cap, sha, parsed(5)) == "new"
    assert save_report(db, "s", "http://a/r", cap, sha, parsed(5)) == "unchanged"
    cap2, sha2 = save_capture(db, {"site_id": "s", "url": "http://a/r", "body": b"v2", "role": "report"})
    assert save_report(db, "s", "http://a/r", cap2, sha2, parsed(7)) == "changed"
    rid = report_id("s", "http://a/r")
    assert db.table("cells").get((rid, "requests", "new_received", "total"))["value"] == 7
    # the first version's capture and body are still there
    assert db.table("captures").count == 2 and db.table("payloads").count == 2
    row = db.table("reports").get(rid)
    assert row["n_checks_failed"] == 1 and row["capture_id"] == cap2


def test_report_identity_ignores_host_and_scheme():
    assert report_id("s", "http://127.0.0.1:8001/a/b.html") == report_id("s", "https://www.x.gov.cn/a/b.html")
    assert report_id("s", "http://x/a/b.html") != report_id("t", "http://x/a/b.html")
    assert report_id("s", "http://x/a?id=1") != report_id("s", "http://x/a?id=2")


def test_big5_gateway_copy_is_kept_but_does_not_replace_the_original(db):
    orig = "https://www.mee.gov.cn/zfxxgknb/202101/t20210125_1.html"
    big5 = "https://big5.mee.gov.cn/gate/big5/www.mee.gov.cn/zfxxgknb/202101/t20210125_1.html"
    cap, sha = save_capture(db, {"site_id": "s", "url": orig, "body": "简体".encode(), "role": "report"})
    assert save_report(db, "s", orig, cap, sha, parsed(5)) == "new"
    cap2, sha2 = save_capture(db, {"site_id": "s", "url": big5, "body": "簡體".encode(), "role": "report"})
    assert save_report(db, "s", big5, cap2, sha2, parsed(5)) == "copy"
    (row,) = list(db.table("reports").rows)
    assert row["url"] == orig and row["capture_id"] == cap
    assert [r["capture_id"] for r in db.table("report_copies").rows] == [cap2]
    assert db.table("captures").count == 2


def test_agency_rows_collect_the_names_seen(db):
    for i, name in enumerate(["市财政局", "怀化市财政局"]):
        cap, sha = save_capture(db, {"site_id": "s", "url": f"http://a/{i}", "body": name.encode(), "role": "report"})
        save_report(db, "s", f"http://a/{i}", cap, sha, {**parsed(), "agency": name, "agency_id": "a1",
                                                         "region_code": "431200", "province": "湖南省"})
    (a,) = list(db.table("agencies").rows)
    assert a["id"] == "a1" and a["name"] == "怀化市财政局" and "市财政局" in a["names_seen"]


def test_known_documents_are_kept_as_captures_are_written_and_back_filled(db):
    """known_documents reads one row a URL (``documents``), kept by note_document and made
    by the migration from the captures an older archive holds: the same answer either way,
    a page pending until the report it announces is archived."""
    from archive.db import m009_known_documents
    from archive.store import known_documents, note_document

    def capture(url, role, etag=None):
        row = {"site_id": "s", "url": url, "body": url.encode() + b"!", "role": role, "etag": etag}
        note_document(db, row, save_capture(db, row)[0])

    capture("http://a/list.html", "list")
    capture("http://a/r.html", "report", etag='"1"')
    capture("http://b/r.html", "report", etag='"2"')  # the same report on another host: its latest fetch
    capture("http://a/p.html?x=1", "page")  # its attachment is not archived: pending
    capture("http://a/q.html", "page")
    assert set(known_documents(db, "s")) == {"/r.html"}
    capture("http://a/q.pdf", "report")
    (cap, sha), = db.execute("select id, sha256 from captures where url = 'http://a/q.pdf'").fetchall()
    save_report(db, "s", "http://a/q.html", cap, sha, parsed(), list_title="2020年报")
    got = known_documents(db, "s")
    assert set(got) == {"/r.html", "/q.html", "/q.pdf"} and got["/r.html"]["etag"] == '"2"'
    assert got["/q.html"]["list_title"] == "2020年报" and got["/r.html"]["list_title"] is None
    db.execute("drop table documents")
    m009_known_documents(db)
    assert known_documents(db, "s") == got


def test_whole_figures_are_written_as_integers(db):
    """A count is 4, not 4.0, from the writer on (and so in Datasette, the CSV, a re-parse's
    comparison); a fraction stays one."""
    from archive.store import rows_json

    cells = [{"table": "active", "row": "fees", "column": "amount", "value": v, "unit": "万元", "raw": str(v)}
             for v in (4.0, 5.19, 51900.0, -3.0)]
    assert rows_json(cells, ("value", "raw")) == '[[4, "4.0"], [5.19, "5.19"], [51900, "51900.0"], [-3, "-3.0"]]'
    checks = [{"rule": "r", "subject": "s", "ok": True, "expected": 11.0, "actual": 10.5}]
    assert rows_json(checks, ("rule", "expected", "actual")) == '[["r", 11, 10.5]]'
