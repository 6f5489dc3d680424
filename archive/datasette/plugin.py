"""Datasette plugin: the search index's tokenizer (``ogi_cjk``, :mod:`archive.search`) and the
script converters as SQL functions, so a query in either script finds a report; search
results shown with their matches marked and their reports linked; and each raw capture
served from the WARC files at /-/capture/<database>/<id>.

    select title from reports where to_simplified(title) like '%' || to_simplified(:q) || '%'

Each converts at most CONVERT_LIMIT characters of its argument (the rest is returned as
it is): a query over a hostile capture's text must end within Datasette's time limit.
"""
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

_REPORT_ID = re.compile(r"[0-9a-f]{16}")


@hookimpl
def render_cell(value, column, table, database, datasette):
    """In a query's results (not a table's): a ``snippet`` column shown with its matches
    marked (the rest of its text escaped), a ``report_id`` column as a link to its report."""
    if table is not None or not isinstance(value, str):
        return None
    from markupsafe import Markup, escape

    if column == "snippet":
        return Markup(str(escape(value)).replace(str(escape(MARK)), MARK).replace(str(escape(UNMARK)), UNMARK))
    if column == "report_id" and _REPORT_ID.fullmatch(value):
        return Markup(f'<a href="{escape(datasette.urls.row(database, "reports", value))}">{value}</a>')
    return None


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


@hookimpl
def register_routes():
    return [(r"^/-/capture/(?P<database>[^/]+)/(?P<id>\d+)$", capture)]
