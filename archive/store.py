"""The one writer to the archive.  Nothing here deletes or overwrites a capture.

A capture's records (its response and request) go to the archive's WARC files, a
body already archived as a revisit (:mod:`archive.warc`); each fetch is a row in
``captures`` saying where its record is, each distinct body a row in ``payloads``.  A report is identified by its site and URL; its parsed
fields, sections, cells and checks describe the capture it points to.
"""
import hashlib
import json
import re
from urllib.parse import urlsplit
from datetime import datetime, timezone

from .search import index_report


def now():
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


_GATEWAY = re.compile(r"^/gate/big5/[^/]+(/.*)$")


def canonical_url(url):
    """The original of a big5 gateway copy: ``https://big5.x.gov.cn/gate/big5/www.x.gov.cn/a.html`` → ``…/a.html``."""
    parts = urlsplit(url)
    m = _GATEWAY.match(parts.path)
    if not m:
        return url
    host = parts.path.split("/")[3]
    return f"{parts.scheme}://{host}{m.group(1)}" + ("?" + parts.query if parts.query else "")


def is_gateway_copy(url):
    return bool(_GATEWAY.match(urlsplit(url).path))


def report_id(site_id, url):
    """A report's identity: its site and the URL's path and query.

    The host and scheme are left out, so a site that moves to https or a new
    domain (or the demo mirror on a new port) keeps its reports' ids; a big5
    gateway copy has the id of its simplified original.
    """
    return hashlib.sha256(f"{site_id}\n{url_key(url)}".encode()).hexdigest()[:16]


def url_key(url):
    """A URL within its site: path and query of the canonical URL (host and scheme left out)."""
    parts = urlsplit(canonical_url(url))
    return parts.path + ("?" + parts.query if parts.query else "")


def _insert(db, table, row, verb="insert"):
    """One row, by plain SQL: the hot path of a crawl skips sqlite-utils' per-call introspection."""
    cols = list(row)
    db.execute(f"{verb} into [{table}] ({', '.join(f'[{c}]' for c in cols)}) values ({', '.join('?' * len(cols))})",
               [row[c] for c in cols])


def _get(db, table, key, value):
    cur = db.execute(f"select * from [{table}] where [{key}] = ?", [value])
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row)) if row else None


def upsert_site(db, site):
    """The registry entry as crawled now (first_crawled_at kept from the first time)."""
    stamp = now()
    db.execute("insert or ignore into sites (id, first_crawled_at) values (?, ?)", [site["id"], stamp])
    db.execute("update sites set name = ?, region_code = ?, cms = ?, start_urls = ?, home = ?, last_crawled_at = ? "
               "where id = ?", [site.get("name"), site.get("region_code"), site.get("cms"),
                                json.dumps(site.get("start_urls", []), ensure_ascii=False), site.get("home"), stamp,
                                site["id"]])


def start_run(db, site_ids):
    """A new run (called under the archive's lock); runs still 'running' were killed: they
    are marked 'interrupted'."""
    with db.atomic():
        db.execute("update crawl_runs set status = 'interrupted', error_text = coalesce(error_text, "
                   "'the run ended without finishing (killed, or its machine stopped)') where status = 'running'")
        return db.table("crawl_runs").insert(
            {"started_at": now(), "status": "running", "sites": json.dumps(site_ids)}).last_pk


def finish_run(db, run_id, status, stats, site_stats, error_text=None):
    db.table("crawl_runs").update(run_id, {
        "failures": stats.get("failures", 0),
        "finished_at": now(), "status": status, "pages": stats.get("pages", 0),
        "captures": stats.get("captures", 0), "reports_new": stats.get("reports_new", 0),
        "reports_changed": stats.get("reports_changed", 0), "reports_unchanged": stats.get("reports_unchanged", 0),
        "errors": stats.get("errors", 0), "site_stats": json.dumps(site_stats, ensure_ascii=False),
        "error_text": error_text,
    })


def save_capture(db, capture, warcs=None):
    """Store one fetched document (dict with url, body, …): its records go to the archive's
    WARC files (``warcs``, a :class:`~archive.warc.WarcStore`; by default the archive's own),
    its row to ``captures``.  Returns (the capture id, the body's sha256)."""
    body = capture["body"]
    sha = capture.get("sha256") or hashlib.sha256(body).hexdigest()
    return record_capture(db, warcs or warc_store(db), capture, sha), sha


def record_capture(db, warcs, capture, sha, capture_id=None):
    """Write a capture's records (a revisit when its payload is archived already) and its
    row; ``capture_id``: the row exists (an older archive's capture moving to WARC)."""
    first = db.execute("select record_id, url, fetched_at from payloads where sha256 = ?", [sha]).fetchone()
    first = dict(zip(("record_id", "url", "fetched_at"), first)) if first else None
    capture.setdefault("fetched_at", now())
    where = warcs.write(capture, sha, first)
    if first is None:
        _insert(db, "payloads", {"sha256": sha, "size": len(capture["body"]), "warc_file": where.file,
                                 "warc_offset": where.offset, "warc_length": where.length,
                                 "record_id": where.record_id, "url": capture.get("final_url") or capture["url"],
                                 "fetched_at": capture["fetched_at"]})
    row = {"warc_file": where.file, "warc_offset": where.offset, "warc_length": where.length,
           "warc_request_length": where.request_length, "warc_type": where.record_type}
    if capture_id is not None:
        db.execute("update captures set " + ", ".join(f"[{k}] = ?" for k in row) + " where id = ?",
                   [*row.values(), capture_id])
        return capture_id
    row.update({k: capture.get(k) for k in ("run_id", "site_id", "url", "final_url", "status", "content_type",
                                             "etag", "last_modified", "role", "list_date", "list_title")})
    row.update(sha256=sha, size=len(capture["body"]), fetched_at=capture["fetched_at"],
               page_url=capture.get("page_url"))
    _insert(db, "captures", row)
    return db.execute("select last_insert_rowid()").fetchone()[0]


def warc_store(db):
    """The WARC writer of the archive ``db`` (one a Database object, made on first use)."""
    store = getattr(db, "_ogi_warcs", None)
    if store is None:
        from .warc import WarcError, WarcStore, db_file, warc_dir

        path = db_file(db)
        if path is None:
            raise WarcError("an archive in memory has no WARC folder for its captures")
        store = db._ogi_warcs = WarcStore(warc_dir(path))
    return store


# the rows of a parse's sections, cells and checks as the writer takes them: a JSON array of
# arrays, the values in this order (made by the parse workers, see rows_json) …
ARCHIVE_ROWS = {
    "sections": ("number", "heading", "text"),
    "cells": ("table", "row", "column", "value", "unit", "raw", "label", "header", "via", "uncertain", "confidence"),
    "checks": ("rule", "subject", "ok", "expected", "actual"),
}
# … into the columns of the same names, but for the cells' keys (``table`` is an SQL keyword)
_COLUMN = {"table": "table_key", "row": "row_key", "column": "column_key"}

# the parsed report's fields that are stored as they are on the report row
REPORT_FIELDS = (
    "title", "title_original", "title_script", "report_year", "agency", "agency_id", "agency_from", "published_at",
    "published_from", "source", "script", "format_version", "kind", "region_code", "province", "prefecture",
    "county", "level", "agency_kind", "index_no", "doc_no", "category", "text_original", "text", "extracted_by",
)


_AGENCIES_WRITTEN = {}  # id(db) → {agency id: what was last written}


def save_agency(db, parsed):
    """One row per agency id; every way its name was written is kept in names_seen."""
    aid = parsed["agency_id"]
    cache = _AGENCIES_WRITTEN.setdefault(id(db), {})
    signature = (parsed.get("agency"), parsed.get("region_code"), parsed.get("level"))
    if cache.get(aid) == signature:  # written already, as it is, by this process
        return
    cache[aid] = signature
    old = _get(db, "agencies", "id", aid)
    seen = set(json.loads(old["names_seen"] or "[]")) if old else set()
    seen |= {parsed["agency"]} if parsed.get("agency") else set()
    _insert(db, "agencies", {
        "id": aid, "agency_key": parsed.get("agency_key"), "name": parsed.get("agency"),
        "region_code": parsed.get("region_code"), "province": parsed.get("province"),
        "prefecture": parsed.get("prefecture"), "county": parsed.get("county"), "level": parsed.get("level"),
        "kind": parsed.get("agency_kind"), "names_seen": json.dumps(sorted(seen), ensure_ascii=False),
    }, verb="insert or replace")


def save_report(db, site_id, url, capture_id, sha, parsed, list_title=None, run_id=None, parse_anew=False):
    """Archive the report found at ``url``: 'new', 'changed' (a new version, or with
    ``parse_anew`` a new parse of the same bytes), 'unchanged' or 'copy' (a big5-gateway
    copy, or the same bytes as a report of the site at another URL).

    Nothing is overwritten: each distinct content is a row of ``report_versions``
    holding its capture and its whole parse; ``reports`` and its sections, cells
    and checks show the latest version.  ``parse_anew``: the page was fetched again for
    what goes with it (its page images, some of which failed before), so an unchanged
    page whose parse now differs gets that parse, as a re-parse would write it (the
    previous cells and checks kept in ``cells_previous`` and ``checks_previous``).
    """
    rid = report_id(site_id, url)
    existing = _get(db, "reports", "id", rid)
    stamp = now()
    if existing and is_gateway_copy(url) and not is_gateway_copy(existing["url"]):
        # the traditional-script copy of a report already archived from its original:
        # the capture is kept and linked, the report stays the original's
        _insert(db, "report_copies", {"report_id": rid, "capture_id": capture_id, "url": url, "seen": stamp},
                verb="insert or replace")
        return "copy"
    if existing and existing["sha256"] == sha:
        mark_seen(db, [rid], url=url, run_id=run_id)
        if parse_anew and _parse_again(db, existing, capture_id, parsed):
            return "changed"
        return "unchanged"
    if not existing:
        same = db.execute("select id from reports where site_id = ? and sha256 = ? limit 1", [site_id, sha]).fetchone()
        if same:  # the very document of a report already archived, at another URL of its site: a copy
            _insert(db, "report_copies", {"report_id": same[0], "capture_id": capture_id, "url": url, "seen": stamp},
                    verb="insert or replace")
            mark_seen(db, [same[0]], run_id=run_id)
            return "copy"
    version = (existing["version"] or 1) + 1 if existing else 1
    row = {
        "id": rid, "site_id": site_id, "url": url, "capture_id": capture_id, "sha256": sha, "version": version,
        "run_id": run_id, "list_title": list_title, "first_seen": existing["first_seen"] if existing else stamp,
        "last_seen": stamp, "removed_at": None, **parse_row(parsed),
    }
    if existing:
        _freeze_version(db, existing)
        # the row replaced, its search-index row with it (a trigger: an INSERT OR REPLACE fires none)
        db.execute("delete from reports where id = ?", [rid])
    _insert(db, "reports", row)
    # the latest version's parse lives in reports, sections, cells and checks; it is written
    # into report_versions.parsed when a newer version replaces it (see _freeze_version)
    _insert(db, "report_versions", {
        "report_id": rid, "version": version, "capture_id": capture_id, "sha256": sha, "seen_first": stamp,
        "seen_last": stamp, "parse_status": row["parse_status"], "n_cells": row["n_cells"],
        "n_checks_failed": row["n_checks_failed"], "parsed": None,
    })
    db.execute("update parses set current = 0 where report_id = ? and current = 1", [rid])
    write_parse(db, rid, parsed, version=version, capture_id=capture_id)
    return "changed" if existing else "new"


def _parse_again(db, report, capture_id, parsed):
    """A new parse of a report whose page is unchanged, written where it differs from the
    current one; the report then names this run's capture of the page (its images are
    this run's).  Whether it was written."""
    from .reparse import compare, keep_previous

    _, differs = compare(db, report, parsed)
    if not differs:
        return False
    keep_previous(db, report["id"])
    db.execute("update reports set capture_id = ? where id = ?", [capture_id, report["id"]])
    write_parse(db, report["id"], parsed, version=report["version"] or 1, capture_id=capture_id, update_report=True)
    return True


def parse_row(parsed):
    """The report row's columns that a parse gives (the rest say where and when it was found)."""
    checks = parsed.get("checks", [])
    row = {
        "n_cells": parsed.get("n_cells", len(parsed.get("cells", []))),
        "n_checks_failed": parsed.get("n_checks_failed", sum(1 for c in checks if c["ok"] is False)),
        "parse_status": parsed.get("parse_status", "ok"), "parse_error": parsed.get("parse_error"),
        "warnings": json.dumps(parsed.get("warnings", []), ensure_ascii=False),
        "published_candidates": json.dumps(parsed.get("published_candidates", []), ensure_ascii=False),
    }
    for key in REPORT_FIELDS:
        row[key] = parsed.get(key)
    return row


def write_parse(db, rid, parsed, version, capture_id, reparse_id=None, update_report=False):
    """Write a parse as the report's current one: with ``update_report`` its fields on the
    report row (a re-parse, a report read again; a crawl's new version has just written the
    row), its sections, cells and checks, and a row of ``parses`` naming the parser that
    made it (and the re-parse, ``reparse_id``).  Returns the parse's id."""
    from pipelines import parser_version

    row = parse_row(parsed)
    if update_report:
        db.execute("update reports set " + ", ".join(f"[{k}] = ?" for k in row) + " where id = ?",
                   [*row.values(), rid])
        db.execute("update report_versions set parse_status = ?, n_cells = ?, n_checks_failed = ? "
                   "where report_id = ? and version = ?",
                   [row["parse_status"], row["n_cells"], row["n_checks_failed"], rid, version])
    if parsed.get("agency_id"):
        save_agency(db, parsed)
    for table in ("sections", "cells", "checks"):
        db.execute(f"delete from {table} where report_id = ?", [rid])
    # one statement per table, the rows handed over as JSON arrays for SQLite to unpack
    # (json_each): far cheaper than binding 200 cells a report one parameter at a time
    for table, fields in ARCHIVE_ROWS.items():
        rows = parsed.get(f"{table}_json")
        if rows is None:
            rows = rows_json(parsed.get(table, []), fields)
        columns = ", ".join(_COLUMN.get(f, f) for f in fields)
        picks = ", ".join(f"value ->> {i}" for i in range(len(fields)))
        db.execute(f"insert or replace into {table} (report_id, {columns}) select ?, {picks} from json_each(?)",
                   [rid, rows])
    index_report(db, rid)
    _insert(db, "parses", {"report_id": rid, "version": version, "capture_id": capture_id, "reparse_id": reparse_id,
                           "parsed_at": now(), "parser": parser_version(), "parse_status": row["parse_status"],
                           "n_cells": row["n_cells"], "n_checks_failed": row["n_checks_failed"], "current": 1})
    return db.execute("select last_insert_rowid()").fetchone()[0]


# the fields that hold a figure: a whole one is written as an integer (4, not 4.0)
NUMBER_FIELDS = ("value", "expected", "actual")


def whole_number(value):
    """4.0 → 4: a count is written as the whole number it is (5.19 stays 5.19)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def rows_json(rows, fields):
    """Dicts to the JSON array of arrays that :func:`save_report` unpacks; figures that are
    whole numbers as integers."""
    from operator import itemgetter

    pick = itemgetter(*fields)
    try:
        picked = [pick(r) for r in rows]
    except KeyError:  # rows made elsewhere (an older parse) may lack the newer fields
        picked = [[r.get(f) for f in fields] for r in rows]
    numbers = [i for i, f in enumerate(fields) if f in NUMBER_FIELDS]
    if numbers:
        picked = [list(r) for r in picked]
        for r in picked:
            for i in numbers:
                r[i] = whole_number(r[i])
    return json.dumps(picked, ensure_ascii=False)  # tuples and lists: JSON arrays


def _freeze_version(db, report):
    """Keep the whole parse of the version about to be replaced in report_versions.parsed."""
    rid = report["id"]

    def rows(sql):
        cur = db.execute(sql, [rid])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    frozen = {k: report.get(k) for k in REPORT_FIELDS if k not in ("text", "text_original")}
    frozen.update(
        warnings=json.loads(report.get("warnings") or "[]"),
        published_candidates=json.loads(report.get("published_candidates") or "[]"),
        sections=rows("select number, heading, text from sections where report_id = ? order by number"),
        cells=[{"table": c["table_key"], "row": c["row_key"], "column": c["column_key"], "value": c["value"],
                "unit": c["unit"], "raw": c["raw"]} for c in rows("select * from cells where report_id = ?")],
        checks=[{**c, "ok": bool(c["ok"])} for c in rows("select rule, subject, ok, expected, actual from checks "
                                                          "where report_id = ?")],
    )
    db.execute("update report_versions set parsed = ? where report_id = ? and version = ? and parsed is null",
               [json.dumps(frozen, ensure_ascii=False, default=str), rid, report.get("version") or 1])


def mark_seen(db, rids, url=None, run_id=None):
    """Reports (a list of ids) still on their site: last_seen now, and no longer removed.
    Returns how many of them the archive holds."""
    stamp = now()
    ids = json.dumps(list(rids))
    cur = db.execute("update reports set last_seen = ?, removed_at = null, run_id = ?, url = coalesce(?, url) "
                     "where id in (select value from json_each(?))", [stamp, run_id, url, ids])
    db.execute("update report_versions set seen_last = ? where (report_id, version) in "
               "(select id, version from reports where id in (select value from json_each(?)))", [stamp, ids])
    return cur.rowcount


def mark_removed(db, site_id, run_id):
    """Reports of a site that this run did not see on it get removed_at (kept, never deleted)."""
    stamp = now()
    cur = db.execute("update reports set removed_at = ? where site_id = ? and removed_at is null "
                     "and (run_id is null or run_id != ?)", [stamp, site_id, run_id])
    return cur.rowcount


def note_document(db, capture, capture_id):
    """Keep ``documents`` (what :func:`known_documents` reads) up to date with a capture
    just written: a report page or file, by its URL within its site."""
    if capture.get("role") not in ("report", "page"):
        return
    site_id, url = capture["site_id"], capture["url"]
    db.execute("insert or replace into documents (site_id, url_key, report_id, role, etag, last_modified, fetched_at, "
               "capture_id) values (?, ?, ?, ?, ?, ?, ?, ?)",
               [site_id, url_key(url), report_id(site_id, url), capture["role"], capture.get("etag"),
                capture.get("last_modified"), capture.get("fetched_at") or now(), capture_id])


def known_documents(db, site_id):
    """url_key → validators and time of fetch of the site's archived report pages and files (latest fetch).

    A page that announces a report in an attachment is known only once that report is
    archived: until then it is pending, and fetched again (with no validators, so never
    answered 304) until its attachment is archived.  Read from ``documents`` (one row a
    URL, see :func:`note_document`): the query grows with the site's reports, not its captures."""
    out = {}
    for key, etag, lm, fetched, role, title, archived in db.execute(
            "select d.url_key, d.etag, d.last_modified, d.fetched_at, d.role, r.list_title, r.id is not null "
            "from documents d left join reports r on r.id = d.report_id where d.site_id = ?", [site_id]):
        if role == "page" and not archived:
            continue
        out[key] = {"etag": etag, "last_modified": lm, "fetched_at": fetched, "list_title": title}
    return out


# ---- failed fetches ------------------------------------------------------------------------

FAILURE_FIELDS = ("fetch_role", "kind", "status", "exception", "reason", "request")
NOT_RETRIED = ("refused",)  # see crawler/failures.py


def record_failure(db, failure, run_id=None):
    """A failed or refused fetch: a new open row, or one more attempt on the open row of its URL."""
    stamp = now()
    row = {k: failure.get(k) for k in FAILURE_FIELDS}
    row["request"] = json.dumps(row["request"] or {}, ensure_ascii=False)
    db.execute(
        "insert into fetch_failures (site_id, url, fetch_role, kind, status, exception, reason, request, attempts, "
        "first_run_id, last_run_id, first_failed_at, last_failed_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "on conflict (site_id, url) where resolved_at is null do update set fetch_role = excluded.fetch_role, "
        "kind = excluded.kind, status = excluded.status, exception = excluded.exception, reason = excluded.reason, "
        "request = excluded.request, attempts = attempts + excluded.attempts, last_run_id = excluded.last_run_id, "
        "last_failed_at = excluded.last_failed_at",
        [failure["site_id"], failure["url"], row["fetch_role"], row["kind"], row["status"], row["exception"],
         row["reason"], row["request"], int(failure.get("attempts") or 1), run_id, run_id, stamp, stamp])


def resolve_failures(db, site_id, urls, run_id=None):
    """The open failures of these URLs are over: each was fetched (or found unchanged) now."""
    db.execute("update fetch_failures set resolved_at = ?, resolved_run_id = ? where resolved_at is null "
               "and site_id = ? and url in (select value from json_each(?))",
               [now(), run_id, site_id, json.dumps(list(urls))])


def open_failures(db, site_id):
    """The site's open failures that a run asks for again, oldest first."""
    cur = db.execute("select url, fetch_role, kind, request from fetch_failures where site_id = ? and resolved_at "
                     "is null and kind not in (%s) order by id" % ", ".join("?" * len(NOT_RETRIED)),
                     [site_id, *NOT_RETRIED])
    return [{"url": u, "fetch_role": role, "kind": kind, "request": json.loads(req or "{}")}
            for u, role, kind, req in cur]
