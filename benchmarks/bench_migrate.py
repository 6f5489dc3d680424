"""Migration benchmark (issue 12): how long m011_readable_archive takes on a large archive made
before it, and what it costs the file.

An archive at m010 (its schema made by m001–m010 themselves) is filled with N reports shaped
like real ones: two texts of 15,000 characters each, six sections, 200 cells (REAL values as
m010 stored them: 4.0), 40 checks, a version, a parse, two captures and their payloads, an
agency a report in ten.  Then ``open_archive`` applies m011 (reports rebuilt in the new column
order with its foreign keys, cells, checks and their ``_previous`` tables rebuilt NUMERIC,
documents with its site link, cell_keys written), timed by wall clock, with the archive's
bytes on disk (its file and -wal) before, at their peak and after, and the peak resident
memory of this process.

    python benchmarks/bench_migrate.py [--reports 20000] [--json]

The archive is built in the temp folder and removed at the end.
"""
import argparse
import json
import pathlib
import random
import resource
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from sqlite_utils import Database  # noqa: E402

from archive.db import migrations, open_archive  # noqa: E402
from pipelines.formats import cell_keys  # noqa: E402

TEXT = ("本机关严格按照《中华人民共和国政府信息公开条例》要求，认真做好政府信息公开工作。" * 400)[:15000]


def build(path, n, chunk=500):
    db = Database(path)
    db.execute("PRAGMA journal_mode=WAL")
    migrations.apply(db, stop_before="m011_readable_archive")
    keys = [(k["table_key"], k["row_key"], k["column_key"]) for k in cell_keys() if k["format_version"] == "2021"]
    keys = keys[:200]  # of 225
    rnd = random.Random(12)
    db.execute("insert into crawl_runs (id, started_at, status) values (1, '2026-01-01', 'ok')")
    db.execute("insert into sites (id, name) values ('s', '某市')")
    for start in range(0, n, chunk):
        with db.atomic():
            for i in range(start, min(n, start + chunk)):
                rid, sha = f"r{i:08d}", f"{i:064x}"
                for c in (2 * i + 1, 2 * i + 2):
                    db.execute("insert into payloads (sha256, size, warc_file, warc_offset, warc_length) "
                               "values (?, 40000, 'a.warc.gz', ?, 9000)", [f"{c:064x}", c])
                    db.execute("insert into captures (id, run_id, site_id, url, status, sha256, size, role, fetched_at) "
                               "values (?, 1, 's', ?, 200, ?, 40000, 'report', '2026-01-01')",
                               [c, f"http://x/{c}.html", f"{c:064x}"])
                db.execute("insert into documents (site_id, url_key, report_id, role, capture_id) "
                           "values ('s', ?, ?, 'report', ?)", [f"/{i}.html", rid, 2 * i + 2])
                aid = f"a{i // 10}"
                if i % 10 == 0:
                    db.execute("insert into agencies (id, name) values (?, '某局')", [aid])
                db.execute(
                    "insert into reports (id, site_id, url, capture_id, sha256, title, title_original, report_year, "
                    "agency, agency_id, published_at, format_version, kind, parse_status, warnings, n_cells, "
                    "n_checks_failed, text, text_original, first_seen, last_seen, version, run_id) values "
                    "(?, 's', ?, ?, ?, ?, ?, 2024, '某局', ?, '2025-01-20', '2021', 'html', 'ok', '[]', 200, 0, ?, ?, "
                    "'2026-01-01', '2026-01-01', 1, 1)",
                    [rid, f"http://x/{i}.html", 2 * i + 2, sha, f"报告{i}", f"報告{i}", aid, TEXT, TEXT])
                db.execute("insert into report_versions (report_id, version, capture_id, sha256, parse_status, n_cells) "
                           "values (?, 1, ?, ?, 'ok', 200)", [rid, 2 * i + 2, sha])
                db.execute("insert into parses (report_id, version, capture_id, parser, parse_status, n_cells, "
                           "current) values (?, 1, ?, 'bench', 'ok', 200, 1)", [rid, 2 * i + 2])
                db.execute("insert into sections (report_id, number, heading, text) select ?, value, '总体情况', ? "
                           "from json_each('[1,2,3,4,5,6]')", [rid, TEXT[:2000]])
                db.execute("insert into cells (report_id, table_key, row_key, column_key, value, unit, raw, label, "
                           "header, via, uncertain) select ?, value ->> 0, value ->> 1, value ->> 2, value ->> 3, "
                           "null, value ->> 3, '规章', '本年制发件数', 'html', 0 from json_each(?)",
                           [rid, json.dumps([[t, r, c, float(rnd.randrange(100))] for t, r, c in keys])])
                db.execute("insert into checks (report_id, rule, subject, ok, expected, actual) select ?, "
                           "'requests.row_total', value, 1, 5.0, 5.0 from json_each(?)",
                           [rid, json.dumps([f"s{k}" for k in range(40)])])
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def size(path):
    """The archive's bytes on disk: its file, its -wal and -shm."""
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def free_share(path):
    import sqlite3

    conn = sqlite3.connect(path)
    free, pages = (conn.execute(f"pragma {p}").fetchone()[0] for p in ("freelist_count", "page_count"))
    conn.close()
    return round(free / pages, 2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=20000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    folder = pathlib.Path(tempfile.mkdtemp(prefix="bench-migrate-"))
    try:
        path = folder / "archive.db"
        t = time.monotonic()
        build(path, args.reports)
        built = time.monotonic() - t
        before = size(path)
        print(f"built {args.reports} reports in {built:.0f} s ({before / 1e6:.0f} MB)", file=sys.stderr)
        peak, done = [before], threading.Event()

        def watch():  # the archive's bytes on disk (with its -wal) while it migrates
            while not done.wait(0.2):
                peak[0] = max(peak[0], size(path))

        watcher = threading.Thread(target=watch)
        watcher.start()
        t = time.monotonic()
        open_archive(path).close()
        seconds = time.monotonic() - t
        done.set()
        watcher.join()
        figures = {"reports": args.reports, "cells": args.reports * 200, "seconds": round(seconds, 1),
                   "mb_before": round(before / 1e6), "mb_peak": round(peak[0] / 1e6),
                   "mb_after": round(size(path) / 1e6),
                   "free_pages_after": free_share(path),
                   "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(figures))
    else:
        for k, v in figures.items():
            print(f"{k:12} {v}")


if __name__ == "__main__":
    main()
