"""Datasette plugin: the script converters as SQL functions, so a query in either script finds a
report; each raw capture served from the WARC files at /-/capture/<database>/<id>; each
report's tables as printed at /-/report/<database>/<report id> (linked from a report's
title, and from a query's or a view's report ids).

    select title from reports where to_simplified(title) like '%' || to_simplified(:q) || '%'

Each converts at most CONVERT_LIMIT characters of its argument (the rest is returned as
it is): a query over a hostile capture's text must end within Datasette's time limit.
"""
import json
import pathlib
import re

from datasette import hookimpl

from pipelines.script import to_simplified, to_traditional

CONVERT_LIMIT = 2_000_000  # characters; the longest report text seen is under 200,000


def _capped(convert):
    def sql_function(text):
        if not isinstance(text, str) or len(text) <= CONVERT_LIMIT:
            return convert(text) if isinstance(text, str) or text is None else text
        return convert(text[:CONVERT_LIMIT]) + text[CONVERT_LIMIT:]

    sql_function.__name__ = convert.__name__
    return sql_function


@hookimpl
def prepare_connection(conn):
    conn.create_function("to_simplified", 1, _capped(to_simplified), deterministic=True)
    conn.create_function("to_traditional", 1, _capped(to_traditional), deterministic=True)


# ---- the raw captures ----------------------------------------------------------------------


async def capture(datasette, request):
    """``/-/capture/<database>/<capture id>``: a capture's body read back from its WARC record,
    served with its original content type and file name.  An archived page is served
    sandboxed (no script of it runs with the archive's origin)."""
    import asyncio

    from datasette.utils.asgi import Response

    from archive.warc import WarcError, open_reader

    name, cid = request.url_vars["database"], int(request.url_vars["id"])
    db = datasette.databases.get(name)
    if db is None or not db.path:
        return Response.text(f"no database {name!r}", status=404)

    def read():
        return open_reader(db.path)(cid)

    try:
        got = await asyncio.get_running_loop().run_in_executor(None, read)
    except WarcError as e:
        return Response.text(str(e), status=404)
    from urllib.parse import quote

    headers = {
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(got.file_name)}",
        "Content-Security-Policy": "sandbox",
        "X-Content-Type-Options": "nosniff",
        "X-Ogi-Sha256": got.sha256,
    }
    return Response(got.body, content_type=got.content_type or "application/octet-stream", headers=headers)


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
            (r"^/-/report/(?P<database>[^/]+)/(?P<id>[^/]+)$", report_page)]
