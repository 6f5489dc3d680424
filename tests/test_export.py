"""ogi-archive export warc|csv: a WARC file that checks and indexes on its own (a revisit whose
first response is not exported is written out whole), and CSV files a spreadsheet reads
(UTF-8 with a BOM) whose figures are the archive's."""
import csv

import subprocess

from archive.db import open_archive
from archive.warc import digest
from archive.store import save_capture
from conftest import BIN, rows
from test_warc import cdxj, check


def run(*args):
    return subprocess.run([str(BIN / "ogi-archive"), "export", *map(str, args)], capture_output=True, text=True)


def test_the_demo_exports_as_one_warc_file_that_checks_and_indexes(demo_db, tmp_path):
    db, _ = demo_db
    out = tmp_path / "all.warc.gz"
    r = run("warc", "--db", db, "--out", out)
    assert r.returncode == 0, r.stderr
    code, text = check([out])
    assert code == 0, text
    captures = rows(db, "select url, final_url, sha256 from captures")
    index = [e for e in cdxj([out]) if e.get("mime") != "warc/request"]
    assert sorted((e["url"], e["digest"]) for e in index if "digest" in e) == sorted(
        ((c["final_url"] or c["url"]), digest(c["sha256"]))
        for c in captures)
    site = rows(db, "select site_id from captures limit 1")[0]["site_id"]
    one = tmp_path / "one.warc.gz"
    assert run("warc", "--db", db, "--out", one, "--site", site).returncode == 0
    n = rows(db, "select count(*) n from captures where site_id = ?", site)[0]["n"]
    assert len([e for e in cdxj([one]) if e.get("mime") != "warc/request"]) == n
    # never overwrites; a site it does not hold is one line, exit 2
    again = run("warc", "--db", db, "--out", one)
    assert again.returncode == 2 and "never overwrites" in again.stderr
    none = run("warc", "--db", db, "--out", tmp_path / "x.warc.gz", "--site", "nowhere")
    assert none.returncode == 2 and len(none.stderr.strip().splitlines()) == 1 and "Traceback" not in none.stderr
    assert not (tmp_path / "x.warc.gz").exists()


def test_a_revisit_whose_response_is_left_out_is_exported_as_a_response(tmp_path):
    path = tmp_path / "a.db"
    db = open_archive(path)
    body = "同一份报告".encode()
    save_capture(db, {"site_id": "a", "url": "http://a/r.pdf", "body": body, "status": 200, "role": "report",
                      "content_type": "application/pdf", "request_headers": [("User-Agent", "ogi")]})
    save_capture(db, {"site_id": "b", "url": "http://b/r.pdf", "body": body, "status": 200, "role": "report",
                      "content_type": "application/pdf"})
    db.conn.commit()
    db._ogi_warcs.close()
    out = tmp_path / "b.warc.gz"
    r = run("warc", "--db", path, "--out", out, "--site", "b")
    assert r.returncode == 0, r.stderr
    code, text = check([out])
    assert code == 0, text
    (entry,) = [e for e in cdxj([out]) if e.get("mime") not in ("warc/request",)]
    assert entry["url"] == "http://b/r.pdf" and entry["mime"] == "application/pdf"
    from warcio.archiveiterator import ArchiveIterator

    with open(out, "rb") as fh:
        payloads = [rec.content_stream().read() for rec in ArchiveIterator(fh) if rec.rec_type == "response"]
    assert payloads == [body]


def test_csv_export_is_the_archives_figures_with_a_bom(demo_db, tmp_path):
    db, _ = demo_db
    r = run("csv", "--db", db, "--out", tmp_path / "csv")
    assert r.returncode == 0, r.stderr
    raw = (tmp_path / "csv" / "cells.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with open(tmp_path / "csv" / "cells.csv", encoding="utf-8-sig", newline="") as fh:
        cells = list(csv.DictReader(fh))
    assert len(cells) == rows(db, "select count(*) n from cells")[0]["n"]
    assert any("局" in (c["agency"] or "") for c in cells)
    with open(tmp_path / "csv" / "reports.csv", encoding="utf-8-sig", newline="") as fh:
        reports = {r["id"]: r for r in csv.DictReader(fh)}
    assert len(reports) == rows(db, "select count(*) n from reports")[0]["n"]
    for rid, report in reports.items():  # each headline figure is the archive's own cell (or the sum of its rows)
        new = rows(db, "select value from cells where report_id = ? and table_key = 'requests' and "
                       "row_key = 'new_received' and column_key = 'total'", rid)
        assert report["requests_new"] == (str(int(new[0]["value"])) if new else "")
        denied = rows(db, "select sum(value) s from cells where report_id = ? and table_key = 'requests' and "
                          "row_key like 'denied_%' and column_key = 'total'", rid)[0]["s"]
        assert report["denied"] == ("" if denied is None else str(int(denied)))
