"""Re-run normalisation and parsing over the archived captures, with no network.

What a researcher runs after upgrading the parser: each report's capture is read back
from the WARC files and parsed again, in worker processes (one a core by default, each
under the crawl's budget of time and memory, so a hostile file costs only itself), with
the same inputs the crawl gave (the capture, its URL, the list's title and date, the
Last-Modified header, the site's region).

A report whose parse comes out different gets a new parse version (a row of ``parses``):
its sections, cells and checks are replaced, and the parse they came from stays
queryable in ``cells_previous`` and ``checks_previous`` until ``ogi-archive prune-parses``.
A report whose parse is the same is left as it is.  The run is a row of
``reparse_runs``; each report it changed a row of ``reparse_changes`` (cells added,
removed and changed; checks newly failing).  Memory stays flat: the reports are read a
chunk at a time, and nothing is kept per report.
"""
import json
import os
import pathlib
import queue
import sys
import threading
import time

from .store import ARCHIVE_ROWS, NUMBER_FIELDS, REPORT_FIELDS, now, whole_number, write_parse

CHUNK = 200  # reports read from the archive at a time
BATCH = 50  # parses written a transaction
STATUSES = ("all", "ok", "error", "needs_ocr", "too_large")
# what makes a cell the same cell: its key, value, unit and doubt (its provenance aside)
_CELL_KEY = ("table", "row", "column")


class ReparseError(RuntimeError):
    """The re-parse cannot run (no such site, a bad date); the message says why, in a line."""


_READERS = {}  # archive path → a read-only connection, one per worker process


def page_images(db, warc_folder, report):
    """The page images archived with a report page (captures of role ``image`` made in the
    run of its capture), their bytes in order; None when it has none."""
    from archive.warc import read_record

    rows = db.execute(
        "select p.warc_file, p.warc_offset, p.warc_length from captures c join payloads p on p.sha256 = c.sha256 "
        "where c.role = 'image' and c.page_url = ? and c.run_id is (select run_id from captures where id = ?) "
        "order by c.id", [report["url"], report["capture_id"]]).fetchall()
    return [read_record(warc_folder, *where)[2] for where in rows] or None


def parse_stored(db_path, warc_folder, report, where, sha256, args, kw):
    """In a worker: read the capture's payload back from its record, parse it, and compare
    the parse with the report's current one (a read-only look at the archive: the writer
    only ever writes reports already compared).  Returns (None, None) when nothing differs,
    else (the parse, what changed): an unchanged report costs the writer nothing."""
    import hashlib

    from archive.db import read_only
    from archive.warc import read_record
    from pipelines.report import parse_for_archive, unparsed

    _, _, body = read_record(warc_folder, *where)
    db = _READERS.get(db_path)
    if db is None:
        db = _READERS[db_path] = read_only(db_path)
    if hashlib.sha256(body).hexdigest() != sha256:
        parsed = unparsed("error", f"the capture read back from {where[0]} does not match its sha256")
    else:
        images = page_images(db, warc_folder, report) if "url" in report else None
        parsed = parse_for_archive(body, *args, images=images, **kw)
    return _compared(db, report, parsed)


def _filters(since, site, status, ocr=False):
    """The SQL condition (on reports r and their captures c) choosing the reports to re-parse:
    with ``ocr``, those that need OCR; without the OCR extra, none read by OCR before (they
    would lose their cells)."""
    where, params = [], []
    if ocr:
        where.append("r.parse_status = 'needs_ocr'")
    elif not _ocr_available():
        where.append("coalesce(r.extracted_by, '') != 'ocr'")
    if site:
        where.append("r.site_id = ?")
        params.append(site)
    if since:
        where.append("c.fetched_at >= ?")
        params.append(since)
    if status and status != "all":
        where.append("r.parse_status = ?")
        params.append(status)
    return " and ".join(where) or "1", params


def _ocr_available():
    from pipelines.ocr import available

    return available()


def _select(db, after, filters, limit):
    where, params = filters
    cur = db.execute(
        "select r.id, r.url, r.version, r.capture_id, r.list_title, r.published_candidates, c.sha256, "
        "c.content_type, c.last_modified, c.list_date, p.warc_file, p.warc_offset, p.warc_length, s.region_code "
        "from reports r join captures c on c.id = r.capture_id left join payloads p on p.sha256 = c.sha256 "
        f"left join sites s on s.id = r.site_id where r.id > ? and {where} order by r.id limit ?",
        [after, *params, limit])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _list_date(report):
    """The list's date the crawl gave: kept on the capture, or (an older archive) among the
    report's date candidates."""
    if report["list_date"]:
        return report["list_date"]
    for candidate in json.loads(report["published_candidates"] or "[]"):
        if candidate.get("from") == "list":
            return candidate.get("raw")
    return None


def _job(report):
    args = (report["content_type"], report["url"])
    kw = {"list_date": _list_date(report), "last_modified": report["last_modified"],
          "list_title": report["list_title"], "site_region": report["region_code"]}
    return (report["warc_file"], report["warc_offset"], report["warc_length"]), report["sha256"], args, kw


def _cells(rows):
    """Cells as a dict key → (value, unit, uncertain), from the archive's rows or a parse's."""
    out = {}
    for table, row, column, value, unit, uncertain in rows:
        out[(table, row, column)] = (None if value is None else float(value), unit, bool(uncertain))
    return out


def _current(db, rid):
    cells = _cells(db.execute("select table_key, row_key, column_key, value, unit, uncertain from cells "
                              "where report_id = ?", [rid]))
    checks = {(r, s): ok for r, s, ok in db.execute("select rule, subject, ok from checks where report_id = ?", [rid])}
    rest = {
        "cells": db.execute("select json_group_array(json_array(table_key, row_key, column_key, value, unit, raw, "
                            "label, header, via, uncertain, confidence)) from (select * from cells where report_id = ? "
                            "order by 2, 3, 4)", [rid]).fetchone()[0],
        "sections": db.execute("select json_group_array(json_array(number, heading, text)) from (select * from "
                               "sections where report_id = ? order by number)", [rid]).fetchone()[0],
        "checks": db.execute("select json_group_array(json_array(rule, subject, ok, expected, actual)) from (select * "
                             "from checks where report_id = ? order by rule, subject)", [rid]).fetchone()[0],
    }
    return cells, checks, rest


def _new_rows(parsed, table):
    return json.loads(parsed.get(f"{table}_json") or "[]")


def _canonical(rows, table):
    """A parse's rows of ``table`` as the archive would give them back: the same JSON text
    as :func:`_current` makes (sorted, SQLite's number forms)."""
    fields = ARCHIVE_ROWS[table]
    if table == "cells":
        rows = sorted(rows, key=lambda r: (r[0], r[1], r[2]))
    elif table == "sections":
        rows = sorted(rows, key=lambda r: r[0])
    else:
        rows = sorted(rows, key=lambda r: (r[0], r[1]))
    out = []
    for r in rows:
        r = list(r) + [None] * (len(fields) - len(r))
        out.append([_sql_value(table, fields[i], v) for i, v in enumerate(r)])
    return out


def _sql_value(table, field, value):
    """A value as the column it goes to gives it back (figures in NUMERIC columns: whole
    numbers as integers; ok and uncertain: 0/1; other numbers as they are)."""
    if value is None:
        return None
    if field in NUMBER_FIELDS and isinstance(value, (int, float)) and not isinstance(value, bool):
        return whole_number(value)
    if field in ("ok", "uncertain"):
        return int(bool(value))
    return value


def compare(db, report, parsed):
    """What a new parse changes of the report's current one: a dict of counts, and
    whether anything at all differs."""
    rid = report["id"]
    old_cells, old_checks, old_rest = _current(db, rid)
    new_cells = _cells((r[0], r[1], r[2], r[3], r[4], r[9] if len(r) > 9 else None) for r in _new_rows(parsed, "cells"))
    new_checks = {(r[0], r[1]): r[2] for r in _new_rows(parsed, "checks")}
    added = len(new_cells.keys() - old_cells.keys())
    removed = len(old_cells.keys() - new_cells.keys())
    changed = sum(1 for k in new_cells.keys() & old_cells.keys() if new_cells[k] != old_cells[k])
    failing = sum(1 for k, ok in new_checks.items() if ok is False and old_checks.get(k) not in (0, False))
    passing = sum(1 for k, ok in new_checks.items() if ok is True and old_checks.get(k) in (0, False))
    current = db.execute("select " + ", ".join(f"[{k}]" for k in REPORT_FIELDS + ("parse_status", "parse_error",
                                                                                 "warnings"))
                         + " from reports where id = ?", [rid]).fetchone()
    fields = dict(zip(REPORT_FIELDS + ("parse_status", "parse_error", "warnings"), current))
    fields_changed = [k for k in REPORT_FIELDS + ("parse_status", "parse_error") if parsed.get(k) != fields[k]]
    if json.dumps(parsed.get("warnings", []), ensure_ascii=False) != fields["warnings"]:
        fields_changed.append("warnings")
    rows_differ = any(json.loads(old_rest[t]) != _canonical(_new_rows(parsed, t), t)
                      for t in ("cells", "sections", "checks"))
    return {"cells_added": added, "cells_removed": removed, "cells_changed": changed,
            "checks_newly_failing": failing, "checks_newly_passing": passing,
            "fields_changed": fields_changed, "status_before": fields["parse_status"],
            "status_after": parsed.get("parse_status", "ok")}, bool(rows_differ or fields_changed)


def keep_previous(db, rid):
    """The current parse's cells and checks copied, under its parse id, into the
    ``_previous`` tables; returns that parse id (None if it has none)."""
    row = db.execute("select id from parses where report_id = ? and current = 1", [rid]).fetchone()
    if row is None:
        return None
    pid = row[0]
    db.execute("insert or replace into cells_previous select ?, report_id, table_key, row_key, column_key, value, "
               "unit, raw, label, header, via, uncertain, confidence from cells where report_id = ?", [pid, rid])
    db.execute("insert or replace into checks_previous select ?, report_id, rule, subject, ok, expected, actual "
               "from checks where report_id = ?", [pid, rid])
    db.execute("update parses set current = 0 where id = ?", [pid])
    return pid


def _write(db, reparse_id, done, totals):
    """Write a batch of (report, (parse, change)) in one transaction: the parses that differ."""
    with db.atomic():
        for report, (parsed, change) in done:
            totals["reports"] += 1
            if change["status_after"] == "error":
                totals["errors"] += 1
            if parsed is None:
                continue
            previous = keep_previous(db, report["id"])
            pid = write_parse(db, report["id"], parsed, version=report["version"] or 1,
                              capture_id=report["capture_id"], reparse_id=reparse_id, update_report=True)
            cells_changed = change["cells_added"] + change["cells_removed"] + change["cells_changed"]
            totals["changed"] += 1
            totals["cells_changed"] += bool(cells_changed)
            totals["checks_newly_failing"] += change["checks_newly_failing"]
            db.table("reparse_changes").insert({
                "reparse_id": reparse_id, "report_id": report["id"], "parse_id": pid, "previous_parse_id": previous,
                **change, "fields_changed": json.dumps(change["fields_changed"]),
            })


def reparse(db_path, workers=None, since=None, site=None, status="all", progress=None, budget=None, ocr=False):
    """Re-parse the archived reports (all, or those of ``site``, captured ``since`` an ISO
    date, or whose parse status is ``status``; with ``ocr``, those that need OCR, read by
    it).  Returns the reparse_runs row."""
    from crawler.pool import Budget, ParsePool
    from crawler.runner import ArchiveLock

    from .db import open_archive
    from .warc import warc_dir

    if status not in STATUSES:
        raise ReparseError(f"--status takes {', '.join(STATUSES)}, not {status!r}")
    workers = max(1, int(workers or os.cpu_count() or 1))
    with ArchiveLock(db_path):
        db = open_archive(db_path)
        if site and not db.execute("select 1 from reports where site_id = ? limit 1", [site]).fetchone():
            raise ReparseError(f"the archive holds no report of site {site!r}")
        from pipelines import parser_version

        with db.atomic():
            db.execute("update reparse_runs set status = 'interrupted' where status = 'running'")
            reparse_id = db.table("reparse_runs").insert({
                "started_at": now(), "status": "running", "parser": parser_version(), "workers": workers,
                "options": json.dumps({"since": since, "site": site, "status": status, "ocr": ocr})}).last_pk
        filters = _filters(since, site, status, ocr)
        total = db.execute(f"select count(*) from reports r join captures c on c.id = r.capture_id where {filters[0]}",
                           filters[1]).fetchone()[0]
        folder = str(warc_dir(db_path))
        path = pathlib.Path(db_path).resolve()
        db_compare = _ThreadConnection(path)  # for the few parses that end badly (a pool thread compares them)
        totals = {"reports": 0, "changed": 0, "cells_changed": 0, "checks_newly_failing": 0, "errors": 0}
        started = time.monotonic()
        # forked from this process before any thread of its own: a patched parser (a test's)
        # is the one the workers run
        import pipelines.report  # noqa: F401  (imported once, here: every worker starts with it)

        pool = ParsePool(workers, budget or Budget(niceness=0), context="fork")
        results = queue.Queue()
        room = threading.Semaphore(workers * 8)  # parses in flight: memory flat however many reports
        from crawler.archiver import outcome_parse

        def done(report, outcome):
            if outcome.status == "ok":
                results.put((report, outcome.value))
            else:  # the parse did not end well: the report's status says so (compared in this process)
                parsed = outcome_parse(outcome)
                results.put((report, _compared(db_compare, report, parsed)))

        feed_error = []

        def feed():  # in its own thread, with its own connection
            sent = 0
            try:
                sent = _feed()
            except BaseException as e:  # the main thread raises it
                feed_error.append(e)
            finally:
                results.put(("end", sent))  # the jobs given: the main thread waits for as many results

        def _feed():
            db_feed = open_archive(db_path)
            after, sent = "", 0
            while True:
                chunk = _select(db_feed, after, filters, CHUNK)
                if not chunk:
                    break
                for report in chunk:
                    room.acquire()
                    sent += 1
                    where, sha, args, kw = _job(report)
                    if where[0] is None:  # a capture of an archive older than WARC files, not moved
                        from pipelines.report import unparsed

                        results.put((report, _compared(db_feed, report, unparsed(
                            "error", "its capture is in no WARC record"))))
                        continue
                    if ocr:
                        kw = {**kw, "ocr": True}
                    pool.submit(parse_stored, (str(path), folder, {"id": report["id"], "url": report["url"],
                                                                   "capture_id": report["capture_id"]},
                                               where, sha, args, kw), None,
                                lambda outcome, report=report: done(report, outcome))
                after = chunk[-1]["id"]
            db_feed.close()
            return sent

        feeder = threading.Thread(target=feed, name="reparse-feed", daemon=True)
        feeder.start()
        batch, error, received, expected = [], None, 0, None
        try:
            while expected is None or received < expected:
                item = results.get()
                if item[0] == "end":
                    expected = item[1]
                    continue
                received += 1
                room.release()
                batch.append(item)
                if len(batch) >= BATCH:
                    _write(db, reparse_id, batch, totals)
                    batch = []
                    if progress:
                        progress(totals, total, time.monotonic() - started)
            _write(db, reparse_id, batch, totals)
            if feed_error:
                raise feed_error[0]
        except BaseException as e:
            error = e
            raise
        finally:
            pool.kill() if error is not None else pool.close()
            seconds = time.monotonic() - started
            db.table("reparse_runs").update(reparse_id, {
                "finished_at": now(), "status": "failed" if error is not None else "ok", "seconds": round(seconds, 3),
                "error_text": None if error is None else f"{type(error).__name__}: {error}", **totals})
        run = db.table("reparse_runs").get(reparse_id)
        db.close()
    return run


def _compared(db, report, parsed):
    """(the parse, what changed) when it differs from the report's current one, else
    (None, its status): what the writer is given."""
    change, differs = compare(db, report, parsed)
    return (parsed, change) if differs else (None, {"status_after": change["status_after"]})


class _ThreadConnection:
    """A read-only connection to the archive for whichever thread asks (one each)."""

    def __init__(self, path):
        self.path = path
        self.local = threading.local()

    def execute(self, *args):
        from .db import read_only

        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = read_only(self.path)
        return conn.execute(*args)


def terminal_progress(totals, total, seconds):
    """A status line on an interactive terminal."""
    rate = totals["reports"] / seconds if seconds else 0
    sys.stderr.write(f"\r\033[Kreparsing: {totals['reports']}/{total} reports, {totals['changed']} changed, "
                     f"{rate:.0f} reports/s")
    sys.stderr.flush()


def prune(db_path, before=None):
    """Drop the cells and checks of parses no longer current (made before ``before``, an
    ISO date, if given); their rows in ``parses`` stay, marked pruned.  Returns how many
    parses were pruned."""
    from crawler.runner import ArchiveLock

    from .db import open_archive

    with ArchiveLock(db_path):
        db = open_archive(db_path)
        with db.atomic():
            ids = [r[0] for r in db.execute(
                "select id from parses where current = 0 and pruned_at is null"
                + (" and parsed_at < ?" if before else ""), [before] if before else [])]
            marked = json.dumps(ids)
            for table in ("cells_previous", "checks_previous"):
                db.execute(f"delete from {table} where parse_id in (select value from json_each(?))", [marked])
            db.execute("update parses set pruned_at = ? where id in (select value from json_each(?))", [now(), marked])
        db.close()
    return len(ids)
