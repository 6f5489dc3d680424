"""Datasette plugin: the search index's tokenizer (``ogi_cjk``, :mod:`archive.search`) and the
script converters as SQL functions, so a query in either script finds a report; search
results shown with their matches marked and their reports linked; each raw capture served
from the WARC files at /-/capture/<database>/<id>, and an archived document by its original
URL at /-/original/<database>?url=<URL>; report and capture URLs linked to those; each
report's tables as printed at /-/report/<database>/<report id> (linked from a report's
title, and from a query's or a view's report ids); and a POST
to a table or a canned query that is no writable one refused (405) before Datasette 0.65's
table view fails on it (500).

    select title from reports where to_simplified(title) like '%' || to_simplified(:q) || '%'

Each converts at most CONVERT_LIMIT characters of its argument (the rest is returned as
it is): a query over a hostile capture's text must end within Datasette's time limit.
"""
import json
import pathlib
import re

from datasette import hookimpl

from archive.search import MARK, UNMARK, escape_query, register, snippet
from pipelines.script import to_simplified, to_traditional

CONVERT_LIMIT = 2_000_000  # characters; the longest report text seen is under 200,000


def _capped(convert):
    def sql_function(text):
        if not isinstance(text, str) or len(text) <= CONVERT_LIMIT:
            return convert(text) if isinstance(text, str) or text is None else text
        return convert(text[:CONVERT_LIMIT]) + text[CONVERT_LIMIT:]

    sql_function.__name__ = convert.__name__
    return sql_function


@hookimpl(trylast=True)  # after Datasette's own: its escape_fts is replaced
def prepare_connection(conn):
    register(conn)  # reports_fts: the reports table's search box and the search query
    conn.create_function("escape_fts", 1, escape_query, deterministic=True)
    conn.create_function("search_snippet", 3, snippet, deterministic=True)
    conn.create_function("to_simplified", 1, _capped(to_simplified), deterministic=True)
    conn.create_function("to_traditional", 1, _capped(to_traditional), deterministic=True)


# ---- search results ------------------------------------------------------------------------


def _search_cell(value, column, table, database, datasette):
    """In a query's results (not a table's): a ``snippet`` column shown with its matches
    marked (the rest of its text escaped); its ``report_id`` links to the report's page
    (:func:`_report_link_cell`)."""
    if table is not None or not isinstance(value, str):
        return None
    from markupsafe import Markup, escape

    if column == "snippet":
        return Markup(str(escape(value)).replace(str(escape(MARK)), MARK).replace(str(escape(UNMARK)), UNMARK))
    return None


# ---- the raw captures ----------------------------------------------------------------------


async def _serve(datasette, request, find):
    """A capture's body read back from its WARC record, served with its original content
    type and file name; ``find(conn)`` (run in a thread, on a read-only connection to the
    archive) gives the capture's id, or None.  An archived page is served sandboxed (no
    script of it runs with the archive's origin)."""
    import asyncio
    from urllib.parse import quote

    from datasette.utils.asgi import Response

    from archive.warc import WarcError, open_reader

    if request.method not in READS:
        return Response.text("a capture is only read (GET)", status=405, headers={"Allow": ", ".join(READS)})
    name = request.url_vars["database"]
    db = datasette.databases.get(name)
    if db is None or not db.path:
        return Response.text(f"no database {name!r}", status=404)

    def read():
        from archive.db import read_only

        conn = read_only(db.path)
        try:
            cid = find(conn)
            return None if cid is None else open_reader(conn)(cid)
        finally:
            conn.close()

    try:
        got = await asyncio.get_running_loop().run_in_executor(None, read)
    except WarcError as e:
        return Response.text(str(e), status=404)
    if got is None:
        return Response.text("not in the archive", status=404)
    headers = {
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(got.file_name)}",
        "Content-Security-Policy": "sandbox",
        "X-Content-Type-Options": "nosniff",
        "X-Ogi-Sha256": got.sha256,
        "X-Ogi-Capture": str(got.id),
    }
    return Response(got.body, content_type=got.content_type or "application/octet-stream", headers=headers)


async def capture(datasette, request):
    """``/-/capture/<database>/<capture id>``: that capture, as it was fetched."""
    cid = int(request.url_vars["id"])
    return await _serve(datasette, request, lambda conn: cid)


def latest_capture(conn, url):
    """The id of the latest capture of ``url`` that answered with a document (2xx), else of
    any capture of it; None when the archive never fetched it."""
    row = conn.execute("select id from captures where url = ? order by status between 200 and 299 desc, "
                       "fetched_at desc, id desc limit 1", [url]).fetchone()
    return row[0] if row else None


async def original(datasette, request):
    """``/-/original/<database>?url=<URL>``: a document by the URL it was published at, served
    from the archive (its latest capture), whether or not that URL still answers: the demo's
    sites (*.demo.ogi-archive.invalid) exist only there."""
    from datasette.utils.asgi import Response

    url = request.args.get("url")
    if not url:
        return Response.text("?url= is required: the URL of an archived document", status=400)
    return await _serve(datasette, request, lambda conn: latest_capture(conn, url))


def original_path(datasette, database, url):
    """The archive's address of the document published at ``url``."""
    from urllib.parse import quote

    return datasette.urls.path(f"/-/original/{quote(database)}?url={quote(url, safe='')}")


def capture_path(datasette, database, capture_id):
    """The archive's address of a capture, as it was fetched."""
    from urllib.parse import quote

    return datasette.urls.path(f"/-/capture/{quote(database)}/{int(capture_id)}")


# top-level names reserved never to resolve (RFC 2606, 6761): the demo's sites are under .invalid
_NOWHERE = (".invalid", ".test", ".example", ".localhost")


def _on_the_internet(url):
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").rstrip(".")
    return bool(host) and not host.endswith(_NOWHERE)
# ---- a report's tables as printed ---------------------------------------------------------

TEMPLATES = pathlib.Path(__file__).parent / "templates"
_REPORT_ID = re.compile(r"^[0-9a-f]{16}$")
_REPORT_SQL = (  # the report, when it was due (export.DUE_DATE_SQL: no view needed), its capture
    "select r.id, r.title, r.agency, r.agency_id, r.report_year, r.format_version, r.published_at, r.parse_status, "
    "r.parse_error, r.url, r.capture_id, r.warnings, r.n_cells, r.n_checks_failed, r.province, r.prefecture, "
    "r.county, r.level, r.agency_kind, {due} as due_date, c.url as capture_url, c.content_type "
    "from reports r left join captures c on c.id = r.capture_id where r.id = ?")


@hookimpl
def prepare_jinja2_environment(env):
    from jinja2 import ChoiceLoader, FileSystemLoader

    env.loader = ChoiceLoader([env.loader, FileSystemLoader(str(TEMPLATES))])  # Datasette's own and --template-dir first


async def report_page(datasette, request):
    """``/-/report/<database>/<report id>``: the report's tables laid out as its template prints
    them (:mod:`archive.datasette.printed`), doubted cells marked with why, its failed checks,
    and links to its row, its raw capture and its original URL."""
    from datasette.utils.asgi import NotFound, Response

    from archive.export import DUE_DATE_SQL
    from pipelines.formats import IDENTITIES
    from pipelines.prose import RULES

    from .printed import NATIONAL, printed_tables

    name, rid = request.url_vars["database"], request.url_vars["id"]
    db = datasette.databases.get(name)
    if db is None:
        raise NotFound(f"no database {name!r}")
    await datasette.ensure_permissions(request.actor, [("view-table", (name, "reports")), ("view-database", name),
                                                       "view-instance"])
    found = (await db.execute(_REPORT_SQL.format(due=DUE_DATE_SQL), [rid])).rows
    if not found:
        raise NotFound(f"no report {rid!r} in {name}")
    report = dict(found[0])
    cells = [dict(r) for r in (await db.execute(
        "select table_key, row_key, column_key, value, unit, raw, label, header, uncertain from cells "
        "where report_id = ?", [rid])).rows]
    checks = [dict(r) for r in (await db.execute(
        "select rule, subject, ok, expected, actual from checks where report_id = ? order by rule, subject",
        [rid])).rows]
    text = None
    if any(c["table_key"] not in NATIONAL for c in cells):  # rows as read are shown in the order the text has them
        text = (await db.execute("select text from reports where id = ?", [rid])).rows[0][0]
    warnings = json.loads(report["warnings"] or "[]")
    published = (report["published_at"] or "")[:10]
    context = {
        "database": name, "report": report, "warnings": warnings,
        "tables": printed_tables(report["format_version"], cells, checks, warnings, text),
        "failed": [{**c, "identity": IDENTITIES.get(c["rule"]) or RULES.get(c["rule"])} for c in checks if not c["ok"]],
        "late": bool(published and report["due_date"] and published > report["due_date"]),
        "row_url": datasette.urls.row(name, "reports", rid),
        "capture_url": datasette.urls.path(f"/-/capture/{name}/{report['capture_id']}")
        if report["capture_id"] is not None else None,
    }
    return Response.html(await datasette.render_template("ogi_report.html", context, request=request))


def report_url(datasette, database, rid):
    return datasette.urls.path(f"/-/report/{database}/{rid}")


# the columns whose values are report ids, by table (None: a query's results)
_REPORT_COLUMNS = {None: ("report_id", "previous_report_id"), "report_figures": ("id",),
                   "cross_year_checks": ("report_id", "previous_report_id")}
# a query's column named after one of these holds a filter of its rows (report_year=2024&province=江苏省)
_FILTERED = ("report_figures", "fetch_failures")


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    """A search result's cells (:func:`_search_cell`), links to a report's printed tables
    (:func:`_report_link_cell`), and the links into the archive (:func:`_archive_cell`)."""
    for cell in (_search_cell(value, column, table, database, datasette),
                 _report_link_cell(row, value, column, table, database, datasette),
                 _archive_cell(row, value, column, table, database, datasette)):
        if cell is not None:
            return cell
    return None


def _archive_cell(row, value, column, table, database, datasette):
    """A report's URL links to the document as archived (and, for a site on the internet,
    to the live page too); its capture to the raw capture.  A capture's URL links to that
    very capture.  These links lead into the archive, so they keep working when the page
    is gone from its site, and for the demo's sites, which exist nowhere else."""
    from markupsafe import Markup, escape

    if isinstance(value, dict):  # an expanded foreign key: {"value", "label"}
        value = value.get("value")
    if table == "reports" and column == "url" and isinstance(value, str) and value:
        html = (f'<a href="{escape(original_path(datasette, database, value))}" '
                f'title="the page as archived">{escape(value)}</a>')
        if _on_the_internet(value):
            html += f' <a href="{escape(value)}" rel="nofollow noreferrer" title="the page on its site now">(live)</a>'
        return Markup(html)
    if table == "reports" and column == "capture_id" and isinstance(value, int):
        return Markup(f'<a href="{escape(datasette.urls.row(database, "captures", str(value)))}">{value}</a> '
                      f'<a href="{escape(capture_path(datasette, database, value))}" '
                      f'title="the captured file, as fetched">(raw capture)</a>')
    if table == "captures" and column == "url" and isinstance(value, str) and value and "id" in row.keys():
        return Markup(f'<a href="{escape(capture_path(datasette, database, row["id"]))}" '
                      f'title="this capture, as fetched">{escape(value)}</a>')
    return None


def _report_link_cell(row, value, column, table, database, datasette):
    """A report's title (reports, report_figures) links to its page of tables; so does a report
    id in a query's results or in a view (a table's report_id links to the report's row); a
    query's ``report_figures`` or ``fetch_failures`` column (a filter) links to those rows."""
    from markupsafe import Markup, escape

    if table is None and column in _FILTERED and isinstance(value, str) and value:
        return Markup(f'<a href="{escape(datasette.urls.table(database, column))}?{escape(value)}">{column}</a>')
    if column == "title" and table in ("reports", "report_figures") and value and "id" in row.keys():
        rid = row["id"]
    elif column in _REPORT_COLUMNS.get(table, ()) and isinstance(value, str) and _REPORT_ID.match(value):
        rid = value
    else:
        return None
    return Markup(f'<a href="{escape(report_url(datasette, database, rid))}" title="the report\'s tables as printed">'
                  f'{escape(value)}</a>')


@hookimpl
def register_routes():
    return [(r"^/-/capture/(?P<database>[^/]+)/(?P<id>\d+)$", capture),
            (r"^/-/original/(?P<database>[^/]+)$", original),
            (r"^/-/report/(?P<database>[^/]+)/(?P<id>[^/]+)$", report_page)]


# ---- what may be asked of a table ----------------------------------------------------------

READS = ("GET", "HEAD")
# Datasette 0.65's route to a table or canned query (datasette/app.py); its view answers a POST
# to a table with an AssertionError and a POST to a read-only canned query with a tuple where
# a response should be: both a 500.  Such a POST is refused here, as the method it is not.
_TABLE_ROUTE = re.compile(r"^/(?P<database>[^/.]+)/(?P<table>[^/.]+)(\.(?P<format>\w+))?$")


async def _table_view_fails(datasette, scope):
    """True for a request that Datasette's table view would answer with a 500: not a read, to
    a table or a canned query that is no writable one (the one thing there a POST may do)."""
    from datasette.utils import tilde_decode

    if scope["type"] != "http" or scope["method"] in READS:
        return False
    m = _TABLE_ROUTE.match(scope["path"])
    if not m:
        return False
    try:
        db = datasette.get_database(route=tilde_decode(m["database"]))
    except KeyError:
        return False  # Datasette says 404
    queries = await datasette.get_canned_queries(db.name, None)
    return not (queries.get(tilde_decode(m["table"])) or {}).get("write")


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def refuse_what_datasette_cannot_answer(scope, receive, send):
            if await _table_view_fails(datasette, scope):
                from datasette.utils.asgi import asgi_send

                await asgi_send(send, f"{scope['method']} is not allowed here: this archive is only read\n", 405,
                                headers={"Allow": ", ".join(READS)})
                return
            await app(scope, receive, send)

        return refuse_what_datasette_cannot_answer

    return wrap
