"""ogi-archive reparse: the archived captures parsed again with no network.  On the demo
archive it changes nothing; with a parser rule changed (a monkeypatched label) it reports
exactly the reports whose cells change (the same parser run here, report by report, is the
oracle), keeps their previous cells queryable until prune-parses, and is a new parse version."""
import shutil
import sqlite3
import subprocess

import pytest

from archive import reparse as rp
from archive.warc import open_reader, warc_dir
from conftest import BIN, rows


@pytest.fixture
def archive(demo_db, tmp_path):
    """A copy of the demo archive and its WARC folder (the shared one stays as it is)."""
    db, _ = demo_db
    copy = tmp_path / "archive.db"
    src = sqlite3.connect(db)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.close()
    shutil.copytree(warc_dir(db), warc_dir(copy))
    return copy


def snapshot(db):
    return {
        "cells": rows(db, "select report_id, table_key, row_key, column_key, value, unit, raw, label, header, via, "
                          "uncertain from cells order by 1, 2, 3, 4"),
        "checks": rows(db, "select * from checks order by 1, 2, 3"),
        "sections": rows(db, "select * from sections order by 1, 2"),
        "reports": rows(db, "select id, title, report_year, agency, published_at, parse_status, n_cells, "
                            "n_checks_failed, warnings from reports order by id"),
    }


def test_a_reparse_of_the_demo_archive_changes_nothing(archive):
    before = snapshot(archive)
    run = rp.reparse(archive, workers=2)
    assert run["status"] == "ok" and run["reports"] == len(before["reports"]) >= 5
    assert run["changed"] == 0 and run["errors"] == 0
    assert snapshot(archive) == before
    assert rows(archive, "select count(*) n from cells_previous")[0]["n"] == 0
    assert rows(archive, "select count(*) n from parses where current = 1")[0]["n"] == len(before["reports"])


def cell_set(cells):
    return {(c["table"], c["row"], c["column"], float(c["value"]) if c["value"] is not None else None, c["unit"],
             bool(c.get("uncertain"))) for c in cells}


def archived_cell_set(db, rid):
    return {(c["table_key"], c["row_key"], c["column_key"], c["value"], c["unit"], bool(c["uncertain"]))
            for c in rows(db, "select * from cells where report_id = ?", rid)}


def test_a_changed_rule_is_reported_for_exactly_the_reports_it_changes(archive, monkeypatch):
    import re

    from pipelines import tables
    from pipelines.report import parse_capture

    # the rule changed: 2021's "逾期未按收费通知要求缴纳费用" row is no longer recognised
    at = next(i for i, (key, _) in enumerate(tables.REQUEST_ROWS) if key == "other_no_fee")
    patched = list(tables.REQUEST_ROWS)
    patched[at] = ("other_no_fee", re.compile(r"(?!)"))
    monkeypatch.setattr(tables, "REQUEST_ROWS", patched)
    monkeypatch.setitem(tables.ROW_PATTERNS, "requests", patched)
    # the oracle: each report parsed here, with the changed rule, from its archived capture
    read = open_reader(archive)
    conn = sqlite3.connect(archive)
    conn.row_factory = sqlite3.Row
    expected = set()
    reports = rp._select(conn, "", rp._filters(None, None, "all"), 1000)
    for report in reports:
        _, _, (ctype, url), kw = rp._job(report)
        parsed = parse_capture(read(report["capture_id"]).body, content_type=ctype, url=url, **kw)
        if cell_set(parsed["cells"]) != archived_cell_set(archive, report["id"]):
            expected.add(report["id"])
    conn.close()
    assert 0 < len(expected) < len(reports), "the changed rule must change some reports and not others"
    before = {rid: archived_cell_set(archive, rid) for rid in expected}

    run = rp.reparse(archive, workers=2)
    changed = {r["report_id"] for r in rows(archive, "select * from reparse_changes where reparse_id = ? and "
                                                     "cells_added + cells_removed + cells_changed > 0", run["id"])}
    assert changed == expected and run["cells_changed"] == len(expected)
    for rid in expected:  # a new parse version; the one it replaced stays queryable
        parses = rows(archive, "select * from parses where report_id = ? order by id", rid)
        assert [p["current"] for p in parses] == [0, 1] and parses[1]["reparse_id"] == run["id"]
        previous = {(c["table_key"], c["row_key"], c["column_key"], c["value"], c["unit"], bool(c["uncertain"]))
                    for c in rows(archive, "select * from cells_previous where parse_id = ?", parses[0]["id"])}
        assert previous == before[rid] != archived_cell_set(archive, rid)
    assert rows(archive, "select count(*) n from parses where current = 1")[0]["n"] == len(reports)

    # the command-line summary names them
    out = subprocess.run([str(BIN / "ogi-archive"), "prune-parses", "--db", str(archive)], capture_output=True,
                         text=True)
    assert out.returncode == 0 and f"of {len(expected)} replaced parses" in out.stdout
    assert rows(archive, "select count(*) n from cells_previous")[0]["n"] == 0
    assert all(p["pruned_at"] for p in rows(archive, "select * from parses where current = 0"))


def test_reparse_chooses_by_status_and_site_and_says_so(archive):
    run = rp.reparse(archive, workers=1, status="error")
    assert run["reports"] == 0
    site = rows(archive, "select site_id from reports limit 1")[0]["site_id"]
    n = rows(archive, "select count(*) n from reports where site_id = ?", site)[0]["n"]
    assert rp.reparse(archive, workers=1, site=site)["reports"] == n
    with pytest.raises(rp.ReparseError, match="no report of site"):
        rp.reparse(archive, site="no_such_site")


@pytest.mark.parametrize("args, message", [
    (["--since", "last week"], "--since takes a date"),
    (["--workers", "0"], "--workers takes"),
    (["--site", "nowhere"], "no report of site 'nowhere'"),
])
def test_bad_reparse_options_get_one_line_and_exit_2(archive, args, message):
    out = subprocess.run([str(BIN / "ogi-archive"), "reparse", "--db", str(archive), *args], capture_output=True,
                         text=True)
    assert out.returncode == 2 and message in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr


def test_reparse_on_the_command_line_prints_its_summary(archive):
    out = subprocess.run([str(BIN / "ogi-archive"), "reparse", "--db", str(archive), "--workers", "2"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "0 reports got a new parse" in out.stdout and "reports/s" in out.stdout


def test_reparse_waits_for_no_crawl_and_refuses_a_file_that_is_no_archive(archive, tmp_path):
    from crawler.runner import ArchiveLock

    with ArchiveLock(archive):  # a crawl holds the archive
        out = subprocess.run([str(BIN / "ogi-archive"), "reparse", "--db", str(archive)], capture_output=True,
                             text=True)
    assert out.returncode == 4 and "another crawl is running" in out.stderr and "Traceback" not in out.stderr
    junk = tmp_path / "notes.db"
    junk.write_text("not a database " * 100)
    for command in (["reparse"], ["prune-parses"], ["export", "csv", "--out", str(tmp_path / "c")]):
        out = subprocess.run([str(BIN / "ogi-archive"), *command, "--db", str(junk)], capture_output=True, text=True)
        assert out.returncode == 2 and "is not an archive" in out.stderr, out.stderr
        assert len(out.stderr.strip().splitlines()) == 1
