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


# ---- m011: an archive made before it, migrated -----------------------------------------------

def _m010_archive(demo, path):
    """An archive at m010, its schema made by m001–m010 themselves, holding the demo crawl's
    rows (figures as the REAL columns of then stored them: 4.0) and a row in each table the
    crawl leaves empty (a failure, a copy, a re-parse that kept a previous parse)."""
    from sqlite_utils import Database

    from archive.store import record_failure

    db = Database(path)
    migrations.apply(db, stop_before="m011_readable_archive")
    db.execute("attach database ? as demo", [str(demo)])
    for table in db.table_names():
        if table == "_sqlite_migrations":
            continue
        names = ", ".join(f"[{c}]" for c in db.table(table).columns_dict)
        db.execute(f"insert into main.[{table}] ({names}) select {names} from demo.[{table}]")
    db.conn.commit()
    db.execute("detach database demo")
    rid, pid, cap = db.execute("select r.id, p.id, r.capture_id from reports r join parses p on p.report_id = r.id "
                               "limit 1").fetchone()
    with db.atomic():
        record_failure(db, {"site_id": "js_hongze", "url": "http://x/a.pdf", "fetch_role": "attachment",
                            "kind": "http", "status": 503, "reason": "HTTP 503", "request": {"page_url": "http://x/"}})
        db.execute("insert into report_copies values (?, 'http://x/copy.html', ?, '2026-01-01T00:00:00+00:00')",
                   [rid, cap])
        db.execute("insert into reparse_runs (started_at, status, parser, reports, changed) "
                   "values ('2026-01-01', 'ok', 'test', 5, 1)")
        db.execute("insert into cells_previous select ?, report_id, table_key, row_key, column_key, value, unit, raw, "
                   "label, header, via, uncertain from cells where report_id = ?", [pid, rid])
        db.execute("insert into checks_previous select ?, report_id, rule, subject, ok, expected, actual from checks "
                   "where report_id = ?", [pid, rid])
        db.execute("insert into reparse_changes (reparse_id, report_id, parse_id, previous_parse_id, cells_changed) "
                   "values (1, ?, ?, ?, 2)", [rid, pid, pid])
        # figures no crawl of the demo gives: a huge one, a blank one, a negative fraction
        for column, value in (("huge", 1e20), ("blank", None), ("negative", -0.5)):
            db.execute("insert into cells (report_id, table_key, row_key, column_key, value, raw) "
                       "values (?, 'legacy', '测试', ?, ?, ?)", [rid, column, value, str(value)])
        # a researcher's own view over the tables m011 rebuilds
        db.execute("create view my_figures as select r.title, c.value from cells c "
                   "join reports r on r.id = c.report_id")
    db.close()


def _everything(path, columns=None):
    """Every table's rows (a multiset of rows, whatever their order), its columns, its indexes;
    ``columns``: only these of each table named (those a later migration adds left out)."""
    import collections
    import sqlite3

    from archive.search import register

    conn = sqlite3.connect(path)
    register(conn)  # the search index's tokenizer (m012), to read reports_fts
    out = {}
    for (table,) in conn.execute("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'"):
        wanted = (columns or {}).get(table)
        cur = conn.execute(f"select {', '.join(f'[{c}]' for c in wanted) if wanted else '*'} from [{table}]")
        names = [d[0] for d in cur.description]
        out[table] = {"rows": collections.Counter(tuple(sorted(zip(names, r))) for r in cur),
                      "columns": sorted(names)}
    out["_indexes"] = {name: sql for name, sql in conn.execute("select name, sql from sqlite_master "
                                                               "where type = 'index'")}
    conn.close()
    return out


def test_m011_migrates_an_older_archive_keeping_every_row(demo_db, tmp_path):
    import sqlite3

    from archive.db import NUMBER_COLUMNS, REPORT_COLUMN_ORDER

    old = tmp_path / "old.db"
    _m010_archive(demo_db[0], old)
    before = _everything(old)
    assert all(before[t]["rows"] for t in before if t not in ("_indexes", "cell_keys")), \
        [t for t in before if not before[t]["rows"]]
    conn = sqlite3.connect(old)
    assert conn.execute("select count(*) from cells where typeof(value) = 'real'").fetchone()[0] > 900  # as of m010
    conn.close()

    open_archive(old).close()
    after = _everything(old, {t: v["columns"] for t, v in before.items() if t != "_indexes"})
    assert set(after) - {t for t in after if t.startswith("reports_fts")} == set(before) | {"cell_keys"}  # m012: the index
    for table in before:
        if table != "_indexes" and table != "_sqlite_migrations":
            assert after[table] == before[table], table  # 4 == 4.0: the same figures, now integers
    assert set(before["_indexes"]) <= set(after["_indexes"])
    assert {n: s for n, s in after["_indexes"].items() if n in before["_indexes"] and s} == \
        {n: s for n, s in before["_indexes"].items() if s}

    conn = sqlite3.connect(old)
    names = [r[1] for r in conn.execute("pragma table_info(reports)")]
    assert names[:len(REPORT_COLUMN_ORDER)] == list(REPORT_COLUMN_ORDER)  # later migrations' columns after
    for table, columns in NUMBER_COLUMNS.items():
        for column in columns:
            kinds = dict(conn.execute(f"select typeof({column}), count(*) from {table} group by 1").fetchall())
            # real: only what is no whole number SQLite's integers hold (a fraction, 1e20)
            fractions = conn.execute(f"select count(*) from {table} where {column} != cast({column} as integer)"
                                     ).fetchone()[0]
            assert kinds.get("integer") and kinds.get("real", 0) == fractions, (table, kinds)
    assert conn.execute("select value, typeof(value) from cells where column_key = 'huge'").fetchone() == (1e20, "real")
    assert conn.execute("select value from cells where column_key = 'negative'").fetchone() == (-0.5,)
    assert conn.execute("select value from cells where row_key = 'new_received' and value = 5.0 limit 1").fetchone() \
        == (5,)
    links = {(t, fk[3]): (fk[2], fk[4]) for (t,) in conn.execute("select name from sqlite_master where type = 'table'")
             for fk in conn.execute(f"pragma foreign_key_list([{t}])")}
    assert {("reports", "agency_id"): ("agencies", "id"), ("reports", "run_id"): ("crawl_runs", "id"),
            ("reports", "sha256"): ("payloads", "sha256"), ("report_versions", "sha256"): ("payloads", "sha256"),
            ("documents", "site_id"): ("sites", "id"), ("cells", "report_id"): ("reports", "id"),
            ("checks_previous", "parse_id"): ("parses", "id")}.items() <= links.items()
    assert conn.execute("pragma foreign_key_check").fetchall() == []  # every link leads to its row
    assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
    assert conn.execute("select count(*) from cell_keys").fetchone()[0] > 400
    assert conn.execute("select count(*) from my_figures").fetchone() == conn.execute("select count(*) from cells"
                                                                                     ).fetchone()
    conn.close()


def test_m011_that_fails_leaves_the_archive_as_it_was(demo_db, tmp_path, monkeypatch):
    """One transaction: a migration that fails half-way (here: its last step) changes nothing."""
    from archive import db as archive_db

    old = tmp_path / "old.db"
    _m010_archive(demo_db[0], old)
    before = _everything(old)

    def fails(db):
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(archive_db, "write_cell_keys", fails)
    with pytest.raises(RuntimeError, match="the disk went away"):
        open_archive(old)
    assert _everything(old) == before


def test_whole_figures_are_written_as_integers(db):
    """A count is 4, not 4.0, from the writer on (and so in Datasette, the CSV, a re-parse's
    comparison); a fraction stays one."""
    from archive.store import rows_json

    cells = [{"table": "active", "row": "fees", "column": "amount", "value": v, "unit": "万元", "raw": str(v)}
             for v in (4.0, 5.19, 51900.0, -3.0)]
    assert rows_json(cells, ("value", "raw")) == '[[4, "4.0"], [5.19, "5.19"], [51900, "51900.0"], [-3, "-3.0"]]'
    checks = [{"rule": "r", "subject": "s", "ok": True, "expected": 11.0, "actual": 10.5}]
    assert rows_json(checks, ("rule", "expected", "actual")) == '[["r", 11, 10.5]]'
    cap, sha = save_capture(db, {"site_id": "s", "url": "http://a/r", "body": b"v1", "role": "report"})
    save_report(db, "s", "http://a/r", cap, sha, {**parsed(), "cells": [{**c, "row": str(i)} for i, c in
                                                                        enumerate(cells)]})
    assert db.execute("select value, typeof(value) from cells order by row_key").fetchall() == [
        (4, "integer"), (5.19, "real"), (51900, "integer"), (-3, "integer")]
