"""Datasette plugin: the script converters as SQL functions, so a query in either script finds a
report; each raw capture served from the WARC files at /-/capture/<database>/<id>, and an
archived document by its original URL at /-/original/<database>?url=<URL>; report and
capture URLs linked to those.

    select title from reports where to_simplified(title) like '%' || to_simplified(:q) || '%'

Each converts at most CONVERT_LIMIT characters of its argument (the rest is returned as
it is): a query over a hostile capture's text must end within Datasette's time limit.
"""
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


async def _serve(datasette, name, find):
    """A capture's body read back from its WARC record, served with its original content
    type and file name; ``find(conn)`` (run in a thread, on a read-only connection to the
    archive) gives the capture's id, or None.  An archived page is served sandboxed (no
    script of it runs with the archive's origin)."""
    import asyncio
    from urllib.parse import quote

    from datasette.utils.asgi import Response

    from archive.warc import WarcError, open_reader

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
    return await _serve(datasette, request.url_vars["database"], lambda conn: cid)


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
    return await _serve(datasette, request.url_vars["database"], lambda conn: latest_capture(conn, url))


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


@hookimpl
def render_cell(row, value, column, table, database, datasette):
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


@hookimpl
def register_routes():
    return [(r"^/-/capture/(?P<database>[^/]+)/(?P<id>\d+)$", capture),
            (r"^/-/original/(?P<database>[^/]+)$", original)]
