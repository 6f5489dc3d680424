"""Datasette plugin: the script converters as SQL functions, so a query in either script finds a
report; each raw capture served from the WARC files at /-/capture/<database>/<id>; and a POST
to a table or a canned query that is no writable one refused (405) before Datasette 0.65's
table view fails on it (500).

    select title from reports where to_simplified(title) like '%' || to_simplified(:q) || '%'

Each converts at most CONVERT_LIMIT characters of its argument (the rest is returned as
it is): a query over a hostile capture's text must end within Datasette's time limit.
"""
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

    if request.method not in READS:
        return Response.text("a capture is only read (GET)", status=405, headers={"Allow": ", ".join(READS)})
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
