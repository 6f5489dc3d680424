"""Open the archive, applying its migrations.  Every schema change is a migration here."""
import contextlib
import pathlib
import sqlite3

from sqlite_utils import Database, Migrations

from .search import register as register_tokenizer

migrations = Migrations("ogi_archive")


@migrations()
def m001_initial(db):
    db.table("sites").create(
        {"id": str, "name": str, "region_code": str, "cms": str, "start_urls": str, "home": str,
         "first_crawled_at": str, "last_crawled_at": str},
        pk="id",
    )
    db.table("crawl_runs").create(
        {"id": int, "started_at": str, "finished_at": str, "status": str, "sites": str, "pages": int,
         "captures": int, "reports_new": int, "reports_changed": int, "reports_unchanged": int,
         "errors": int, "site_stats": str, "error_text": str},
        pk="id",
    )
    db.table("blobs").create({"sha256": str, "size": int, "content": bytes}, pk="sha256")
    db.table("captures").create(
        {"id": int, "run_id": int, "site_id": str, "url": str, "final_url": str, "status": int,
         "content_type": str, "sha256": str, "size": int, "fetched_at": str, "etag": str,
         "last_modified": str, "role": str},
        pk="id",
        foreign_keys=[("run_id", "crawl_runs", "id"), ("site_id", "sites", "id"), ("sha256", "blobs", "sha256")],
    )
    db.table("captures").create_index(["url"])
    db.table("captures").create_index(["sha256"])
    db.table("reports").create(
        {"id": str, "site_id": str, "url": str, "capture_id": int, "sha256": str, "title": str,
         "title_original": str, "report_year": int, "agency": str, "published_at": str,
         "published_from": str, "published_candidates": str, "source": str, "script": str,
         "format_version": str, "kind": str, "parse_status": str, "parse_error": str, "warnings": str,
         "n_cells": int, "n_checks_failed": int, "list_title": str, "text_original": str, "text": str,
         "first_seen": str, "last_seen": str, "removed_at": str},
        pk="id",
        foreign_keys=[("site_id", "sites", "id"), ("capture_id", "captures", "id")],
    )
    db.table("reports").create_index(["site_id", "report_year"])
    db.table("sections").create(
        {"report_id": str, "number": int, "heading": str, "text": str},
        pk=("report_id", "number"), foreign_keys=[("report_id", "reports", "id")],
    )
    db.table("cells").create(
        {"report_id": str, "table_key": str, "row_key": str, "column_key": str, "value": float,
         "unit": str, "raw": str},
        pk=("report_id", "table_key", "row_key", "column_key"), foreign_keys=[("report_id", "reports", "id")],
    )
    db.table("checks").create(
        {"report_id": str, "rule": str, "subject": str, "ok": int, "expected": float, "actual": float},
        pk=("report_id", "rule", "subject"), foreign_keys=[("report_id", "reports", "id")],
    )


@migrations()
def m002_agencies_and_regions(db):
    """Normalisation (issue 4): every report's agency mapped to a region, one id per agency."""
    reports = db.table("reports")
    for col in ("title_script", "agency_id", "agency_from", "region_code", "province", "prefecture", "county",
                "level", "agency_kind", "index_no", "doc_no", "category"):
        reports.add_column(col, str)
    reports.create_index(["agency_id", "report_year"])
    reports.create_index(["province"])
    db.table("agencies").create(
        {"id": str, "agency_key": str, "name": str, "region_code": str, "province": str, "prefecture": str,
         "county": str, "level": str, "kind": str, "names_seen": str},
        pk="id",
    )
    db.table("report_copies").create(
        {"report_id": str, "url": str, "capture_id": int, "seen": str},
        pk=("report_id", "url"), foreign_keys=[("report_id", "reports", "id"), ("capture_id", "captures", "id")],
    )


@migrations()
def m003_report_versions(db):
    """Every version of a report is kept: the capture it came from and its whole parse."""
    db.table("report_versions").create(
        {"report_id": str, "version": int, "capture_id": int, "sha256": str, "seen_first": str, "seen_last": str,
         "parse_status": str, "n_cells": int, "n_checks_failed": int, "parsed": str},
        pk=("report_id", "version"),
        foreign_keys=[("report_id", "reports", "id"), ("capture_id", "captures", "id")],
    )
    db.table("reports").add_column("version", int)
    db.table("reports").add_column("run_id", int)
    db.table("reports").create_index(["site_id", "removed_at"])
    # reports archived before versions existed are their own version 1
    db.execute("""
        insert into report_versions (report_id, version, capture_id, sha256, seen_first, seen_last, parse_status,
                                     n_cells, n_checks_failed, parsed)
        select id, 1, capture_id, sha256, first_seen, last_seen, parse_status, n_cells, n_checks_failed, null
        from reports""")
    db.execute("update reports set version = 1")


@migrations()
def m004_clustered_cells(db):
    """cells and checks as WITHOUT ROWID tables: one B-tree keyed by their primary key
    instead of a table plus an index, which halves the work of writing 200 cells a report."""
    for table, create in (
        ("cells", "create table cells_new (report_id text references reports(id), table_key text, row_key text, "
                  "column_key text, value float, unit text, raw text, "
                  "primary key (report_id, table_key, row_key, column_key)) without rowid"),
        ("checks", "create table checks_new (report_id text references reports(id), rule text, subject text, "
                   "ok integer, expected float, actual float, primary key (report_id, rule, subject)) without rowid"),
    ):
        db.execute(create)
        db.execute(f"insert into {table}_new select * from {table}")
        db.execute(f"drop table {table}")
        db.execute(f"alter table {table}_new rename to {table}")


@migrations()
def m005_fetch_failures(db):
    """Every URL that failed or was refused, with its reason: one open row per site and URL
    (attempts add up across runs) until a later fetch of it succeeds (resolved_at)."""
    db.table("fetch_failures").create(
        {"id": int, "site_id": str, "url": str, "fetch_role": str, "kind": str, "status": int, "exception": str,
         "reason": str, "attempts": int, "request": str, "first_run_id": int, "last_run_id": int,
         "first_failed_at": str, "last_failed_at": str, "resolved_at": str, "resolved_run_id": int},
        pk="id",
        foreign_keys=[("site_id", "sites", "id"), ("first_run_id", "crawl_runs", "id"),
                      ("last_run_id", "crawl_runs", "id"), ("resolved_run_id", "crawl_runs", "id")],
    )
    db.execute("create unique index fetch_failures_open on fetch_failures (site_id, url) where resolved_at is null")
    db.execute("create index fetch_failures_run on fetch_failures (last_run_id)")
    db.table("crawl_runs").add_column("failures", int)


@migrations()
def m006_reports_by_content(db):
    """A report is found by its content too: the same document at a second URL of its site
    is a copy of the first, not another report."""
    db.table("reports").create_index(["site_id", "sha256"])


@migrations()
def m007_cell_provenance(db):
    """Where each cell came from and whether the parser doubts it: the printed row label and
    column header it was matched by, the kind of row it was read from, and ``uncertain``
    (1 when its row disagreed with the header, or an identity through it fails)."""
    for column, kind in (("label", str), ("header", str), ("via", str), ("uncertain", int)):
        db.table("cells").add_column(column, kind)


@migrations()
def m008_captures_in_warc(db):
    """Capture bodies leave the database for WARC files beside it (:mod:`archive.warc`):
    ``payloads`` says where each distinct body is, each capture where its own record is.
    An archive's ``blobs`` are written out (the first capture of a body as a response, its
    repeats as revisits), every record read back and its digest checked, and only then
    is ``blobs`` dropped.  Raises, leaving the archive as it was, if one does not check."""
    from . import warc

    db.table("payloads").create(
        {"sha256": str, "size": int, "warc_file": str, "warc_offset": int, "warc_length": int, "record_id": str,
         "url": str, "fetched_at": str},
        pk="sha256",
    )
    captures = db.table("captures")
    for column, kind in (("warc_file", str), ("warc_offset", int), ("warc_length", int),
                         ("warc_request_length", int), ("warc_type", str), ("list_date", str), ("list_title", str),
                         ("page_url", str)):
        captures.add_column(column, kind)
    has_blobs = "blobs" in db.table_names()
    if has_blobs and db.execute("select exists (select 1 from blobs)").fetchone()[0]:
        _blobs_to_warc(db, warc)
    captures.transform(drop_foreign_keys=["sha256"], add_foreign_keys=[("sha256", "payloads", "sha256")])
    if has_blobs:
        db.execute("drop table blobs")


@migrations()
def m010_parse_versions(db):
    """Every parse is a row of ``parses`` (the parser's version, when, from which capture);
    the current one's output is in reports, sections, cells and checks.  A re-parse that
    changes a report keeps the parse it replaces queryable in ``cells_previous`` and
    ``checks_previous`` (by its parse id) until ``ogi-archive prune-parses``.  Each re-parse
    is a row of ``reparse_runs``, and each report it changed a row of ``reparse_changes``."""
    db.table("reparse_runs").create(
        {"id": int, "started_at": str, "finished_at": str, "status": str, "parser": str, "options": str,
         "workers": int, "reports": int, "changed": int, "cells_changed": int, "checks_newly_failing": int,
         "errors": int, "seconds": float, "error_text": str},
        pk="id",
    )
    db.table("parses").create(
        {"id": int, "report_id": str, "version": int, "capture_id": int, "reparse_id": int, "parsed_at": str,
         "parser": str, "parse_status": str, "n_cells": int, "n_checks_failed": int, "current": int,
         "pruned_at": str},
        pk="id",
        foreign_keys=[("report_id", "reports", "id"), ("capture_id", "captures", "id"),
                      ("reparse_id", "reparse_runs", "id")],
    )
    db.execute("create unique index parses_current on parses (report_id) where current = 1")
    db.table("parses").create_index(["report_id", "id"])
    # the parses made before parse versions existed: one each, its parser unknown
    db.execute("insert into parses (report_id, version, capture_id, parsed_at, parser, parse_status, n_cells, "
               "n_checks_failed, current) select id, coalesce(version, 1), capture_id, last_seen, 'unknown', "
               "parse_status, n_cells, n_checks_failed, 1 from reports")
    for table, key in (("cells", "table_key text, row_key text, column_key text, value float, unit text, raw text, "
                                 "label text, header text, via text, uncertain integer, "
                                 "primary key (parse_id, table_key, row_key, column_key)"),
                       ("checks", "rule text, subject text, ok integer, expected float, actual float, "
                                  "primary key (parse_id, rule, subject)")):
        db.execute(f"create table {table}_previous (parse_id integer references parses(id), "
                   f"report_id text references reports(id), {key}) without rowid")
    db.table("reparse_changes").create(
        {"reparse_id": int, "report_id": str, "parse_id": int, "previous_parse_id": int, "cells_added": int,
         "cells_removed": int, "cells_changed": int, "checks_newly_failing": int, "checks_newly_passing": int,
         "fields_changed": str, "status_before": str, "status_after": str},
        pk=("reparse_id", "report_id"),
        foreign_keys=[("reparse_id", "reparse_runs", "id"), ("report_id", "reports", "id"),
                      ("parse_id", "parses", "id"), ("previous_parse_id", "parses", "id")],
    )


def _captures_in_order(db, chunk=1000):
    """The captures' rows (no bodies), by id, a chunk at a time: flat memory on any archive."""
    last = -1
    while True:
        cur = db.execute("select id, url, final_url, status, content_type, etag, last_modified, fetched_at, sha256 "
                         "from captures where id > ? order by id limit ?", [last, chunk])
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
        if not rows:
            return
        yield from rows
        last = rows[-1]["id"]


def _blobs_to_warc(db, warc):
    from .store import record_capture

    path = warc.db_file(db)
    if path is None:
        raise ArchiveError("an archive in memory cannot move its captures to WARC files")
    with warc.WarcStore(warc.warc_dir(path), prefix="ogi-migrated") as store:
        for capture in _captures_in_order(db):
            body = db.execute("select content from blobs where sha256 = ?", [capture["sha256"]]).fetchone()
            if body is None:
                raise ArchiveError(f"{path}: capture {capture['id']} names a body ({capture['sha256']}) that blobs "
                                   "does not hold; nothing was moved")
            capture["body"] = bytes(body[0])
            record_capture(db, store, capture, capture["sha256"], capture_id=capture["id"])
    read = warc.open_reader(db)
    for capture in _captures_in_order(db):
        try:
            read(capture["id"])  # reads the record back and checks the payload's sha256
        except warc.WarcError as e:
            raise ArchiveError(f"{path}: moving the captures to WARC files failed a check, nothing was dropped: "
                               f"{e}") from None


@migrations()
def m009_known_documents(db):
    """Each site's report pages and files by their URL within the site (``url_key``): the
    validators and time of their latest fetch, kept as each capture is written, so that a
    crawl asks what is known without scanning every capture of the site."""
    from .store import note_document

    db.execute("create table documents (site_id text, url_key text, report_id text, role text, etag text, "
               "last_modified text, fetched_at text, capture_id integer references captures(id), "
               "primary key (site_id, url_key)) without rowid")
    cur = db.execute("select id, site_id, url, role, etag, last_modified, fetched_at from captures "
                     "where role in ('report', 'page') order by id")
    names = [d[0] for d in cur.description]
    for row in cur.fetchall():
        row = dict(zip(names, row))
        note_document(db, row, row["id"])


# reports' columns as a reader meets them (Datasette, select *): what the report is, its parse's
# outcome, where it stands and where it came from; then its JSON lists, texts and hash
REPORT_COLUMN_ORDER = (
    "title", "agency", "report_year", "published_at", "format_version", "kind", "parse_status", "n_cells",
    "n_checks_failed", "id", "province", "prefecture", "county", "level", "agency_kind", "agency_id", "region_code",
    "site_id", "url", "list_title", "version", "first_seen", "last_seen", "removed_at", "run_id", "capture_id",
    "parse_error", "title_original", "title_script", "script", "agency_from", "published_from", "source", "index_no",
    "doc_no", "category", "published_candidates", "warnings", "text", "text_original", "sha256",
)
# the columns that hold a figure: NUMERIC, so a count is stored (and shown) as the integer it is
NUMBER_COLUMNS = {"cells": ("value",), "cells_previous": ("value",), "checks": ("expected", "actual"),
                  "checks_previous": ("expected", "actual")}


@migrations()
def m011_readable_archive(db):
    """The archive as a reader meets it: ``reports``' columns in the order of
    :data:`REPORT_COLUMN_ORDER`; figures (cells' values, checks' expected and actual) in
    NUMERIC columns, so that 4 is 4 and 5.19 stays 5.19; a foreign key on every column that
    names a row of another table (Datasette links it and shows its label); an index on
    reports.published_at (Datasette lists the latest first); and ``cell_keys``, the
    template's wording of every canonical key (pipelines/formats.py).  Every row is kept,
    in one transaction: each table is rebuilt by one INSERT … SELECT."""
    # the old copies' pages are freed, not zeroed (Debian's SQLite zeroes them: twice the writes)
    secure_delete = db.execute("pragma secure_delete").fetchone()[0]
    db.execute("pragma secure_delete = fast")
    try:
        db.table("reports").transform(
            column_order=[c for c in REPORT_COLUMN_ORDER if c in db.table("reports").columns_dict],
            add_foreign_keys=[("agency_id", "agencies", "id"), ("run_id", "crawl_runs", "id"),
                              ("sha256", "payloads", "sha256")],
        )
        db.table("reports").create_index(["published_at"])
        db.table("report_versions").transform(add_foreign_keys=[("sha256", "payloads", "sha256")])
        for table, columns in NUMBER_COLUMNS.items():
            _rebuild_without_rowid(db, table, types=dict.fromkeys(columns, "NUMERIC"))
        # documents.report_id is no link: it may name a report not archived yet, or none (an attachment's)
        _rebuild_without_rowid(db, "documents", foreign_keys={"site_id": ("sites", "id")})
        db.execute("create table cell_keys (id integer primary key, format_version text, table_key text, row_key text, "
                   "column_key text, table_label text, row_group text, row_label text, column_group text, "
                   "column_label text, row_order integer, column_order integer)")
        db.execute("create unique index cell_keys_key on cell_keys (format_version, table_key, row_key, column_key)")
        write_cell_keys(db)
    finally:
        db.execute(f"pragma secure_delete = {secure_delete}")


def _rebuild_without_rowid(db, table, types=None, foreign_keys=None):
    """Rebuild a WITHOUT ROWID table (which sqlite-utils' transform cannot) with some columns'
    types changed (``{column: type}``) or foreign keys added (``{column: (table, column)}``):
    the same columns (NOT NULL kept; a default refused), primary key, indexes and rows, copied
    by one INSERT … SELECT."""
    columns = db.execute(f"pragma table_info([{table}])").fetchall()  # cid, name, type, notnull, default, pk
    if any(c[4] is not None for c in columns):
        raise ValueError(f"{table}: a column's default would be lost; rebuild it by hand")
    links = {fk[3]: (fk[2], fk[4]) for fk in db.execute(f"pragma foreign_key_list([{table}])")}
    links.update(foreign_keys or {})
    types = types or {}
    defs = [f"[{name}] {types.get(name, kind)}" + (" not null" if notnull else "")
            + (f" references [{links[name][0]}]([{links[name][1]}])" if name in links else "")
            for _, name, kind, notnull, *_ in columns]
    pk = ", ".join(f"[{c[1]}]" for c in sorted((c for c in columns if c[5]), key=lambda c: c[5]))
    names = ", ".join(f"[{c[1]}]" for c in columns)
    indexes = [sql for (sql,) in db.execute("select sql from sqlite_master where type = 'index' and tbl_name = ? "
                                            "and sql is not null", [table])]
    db.execute(f"create table [{table}_m011] ({', '.join(defs)}, primary key ({pk})) without rowid")
    db.execute(f"insert into [{table}_m011] ({names}) select {names} from [{table}]")
    db.execute(f"drop table [{table}]")
    legacy = db.execute("pragma legacy_alter_table").fetchone()[0]
    db.execute("pragma legacy_alter_table = on")  # a view naming the table is left as it is (sqlite-utils does so)
    db.execute(f"alter table [{table}_m011] rename to [{table}]")
    db.execute(f"pragma legacy_alter_table = {int(legacy)}")
    for sql in indexes:
        db.execute(sql)


def write_cell_keys(db):
    """``cell_keys`` as pipelines/formats.py declares the keys now (rewritten when it differs)."""
    from pipelines.formats import cell_keys

    rows = [{"id": i, **k} for i, k in enumerate(cell_keys(), 1)]
    cur = db.execute("select * from cell_keys order by id")
    names = [d[0] for d in cur.description]
    if [dict(zip(names, r)) for r in cur.fetchall()] == rows:
        return False
    with db.atomic():
        db.execute("delete from cell_keys")
        for row in rows:
            db.execute(f"insert into cell_keys ({', '.join(row)}) values ({', '.join('?' * len(row))})",
                       list(row.values()))
    return True


@migrations()
def m012_search_index(db):
    """Full-text search of the reports' titles and section texts in either script
    (:mod:`archive.search`): the index ``reports_fts`` made, every report in it.  Its
    tokenizer is the project's: reading or writing the index needs a connection that has
    it (open_archive's, Datasette's through the plugin); the other tables need nothing."""
    from .search import create_index

    create_index(db)


@migrations()
def m013_report_views(db):
    """Views over reports and cells, declared in :func:`archive.export.views` (the CSV export's
    reports.csv is ``report_figures``): ``report_figures``, a row per report with its headline
    figures; ``figures_by_province_year`` and ``figures_by_level_year``, their sums; and
    ``cross_year_checks``, each report's 上年结转 beside its previous year's 结转下年度继续办理.
    :func:`refresh_views` keeps them as the code declares them."""
    refresh_views(db)


def refresh_views(db):
    """(Re)make the archive's views where one is missing or declared otherwise now (all of them,
    in order: one may read another).  Returns whether it did."""
    from .export import views

    wanted = {name: f"CREATE VIEW [{name}] AS\n{sql}" for name, sql in views().items()}
    have = dict(db.execute("select name, sql from sqlite_master where type = 'view' and name in (%s)"
                           % ", ".join("?" * len(wanted)), list(wanted)).fetchall())
    if have == wanted:
        return False
    with db.atomic():
        for name in reversed(list(wanted)):
            db.execute(f"drop view if exists [{name}]")
        for sql in wanted.values():
            db.execute(sql)
    return True


@migrations()
def m014_ocr(db):
    """Reports read by OCR (issue 13): ``reports.extracted_by`` says how a report's figures were
    read (``text``: from its markup, text layer or cells; ``ocr``: from its page images; NULL:
    not read), and ``cells.confidence`` the recognition confidence of an OCR'd cell (NULL for
    the others).  Parses made before are of text.  A report's page images are captures of
    role ``image`` whose ``page_url`` is the report's."""
    db.table("reports").add_column("extracted_by", str)
    db.execute("update reports set extracted_by = 'text' where parse_status = 'ok'")
    for table in ("cells", "cells_previous"):
        db.table(table).add_column("confidence", float)
    db.table("captures").create_index(["page_url"])  # a report page's images (role image), for a re-parse


class ArchiveError(RuntimeError):
    """The archive cannot be opened or written (a full disk, a read-only file or folder, a
    file that is not an archive); the message says which file and why, in a line."""


@contextlib.contextmanager
def archive_errors(path):
    """Turns the errors of writing an archive (SQLite's and the file system's) into an
    :class:`ArchiveError` naming ``path``."""
    try:
        yield
    except (sqlite3.DatabaseError, OSError) as e:
        raise ArchiveError(error_text(path, e)) from None


def error_text(path, e):
    """What went wrong writing the archive at ``path``, in a line."""
    if isinstance(e, OSError):
        return f"{e.filename or path}: {e.strerror or e}{_disk_note(path)}"
    return f"{path}: {e}{_disk_note(path)}"


def _disk_note(path):
    """' (the disk is full)' when the archive's folder has (almost) no room left: SQLite often
    says only 'disk I/O error' then."""
    import shutil

    try:
        free = shutil.disk_usage(pathlib.Path(path).resolve().parent).free
    except OSError:
        return ""
    return f" (the disk is full: {free:,} bytes free)" if free < 1 << 20 else ""


def read_only(path):
    """A read-only connection to the archive at ``path`` (it is never migrated or written)."""
    return sqlite3.connect(f"file:{pathlib.Path(path).resolve()}?mode=ro", uri=True)


SQLITE_HEADER = b"SQLite format 3\x00"


def archive_problem(path):
    """Why the file at ``path`` is no archive to read, in a line (missing, a folder, empty,
    no SQLite file, truncated, an SQLite file of something else), or None when it is one.
    Reads its header and asks it for two tables: as quick on a large archive as on a small one."""
    path = pathlib.Path(path)
    if not path.exists():
        return f"no archive at {path}"
    if path.is_dir():
        return f"{path} is not an archive: it is a folder"
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(100)
    except OSError as e:
        return f"cannot read {path}: {e.strerror or e}"
    if not size:
        return f"{path} is not an archive: it is empty"
    if not head.startswith(SQLITE_HEADER):
        return f"{path} is not an archive: it is no SQLite file (it starts {head[:16]!r})"
    page_size = int.from_bytes(head[16:18], "big") if len(head) == 100 else 0
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big") if head[24:28] == head[92:96] else 0  # the header's own count
    wal = pathlib.Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size:
        pages = 0  # a checkpoint cut short: the -wal still holds what the file lacks
    if not page_size or size < pages * page_size or size % page_size:
        return (f"{path} is not an archive: it is truncated (its header counts {pages * page_size:,} bytes, "
                f"the file holds {size:,})")
    try:
        conn = read_only(path)
        try:
            for table in ("reports", "captures"):
                conn.execute(f"select 1 from {table} limit 1").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        if "no such table" in str(e):
            return f"{path} is not an archive: an SQLite file without the archive's tables ({e})"
        return f"{path} is not an archive: {e}"
    return None


def open_archive(path):
    """The archive at ``path`` (created if missing), migrated to the current schema.
    Raises :class:`ArchiveError` when it cannot be."""
    path = pathlib.Path(path)
    with archive_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        db = Database(path)
        register_tokenizer(db)  # the search index's (m012): every write of a parse updates it
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA busy_timeout=30000")
        migrations.apply(db)
        write_cell_keys(db)  # pipelines/formats.py may declare more keys than when it was made
        refresh_views(db)
        _reclaim(db)
    return db


def _reclaim(db):
    """Give the disk back when most of the file is free pages (after the captures' bodies
    moved out to WARC files): VACUUM, once."""
    free, pages = db.execute("PRAGMA freelist_count").fetchone()[0], db.execute("PRAGMA page_count").fetchone()[0]
    if pages and free > pages // 2 and free > 4096:
        db.execute("VACUUM")
