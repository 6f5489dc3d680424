"""Serve the offline fixture sites (tests/sites/<name>/) on 127.0.0.1, with the behaviours of real servers.

Standard library only.  Each site folder is the document root of its own server on a free port:

    server, base = serve(SITES / "hanweb_proxy")          # behaviours of that site by default
    bases, servers = serve_all()                           # {name: "http://127.0.0.1:PORT"}, [servers]
    ...
    server.requests        # [(method, path, status), ...] in arrival order (path with its query string)
    server.fetched("/private/")  # the logged requests whose path starts with that prefix
    server.clear_log()
    stop(servers)          # or server.shutdown(); server.server_close()

What every server does (static files cannot do these by themselves):
- Content-Type set explicitly by extension, never guessed from /etc/mime.types:
  .html/.htm/.shtml -> text/html (charset per site, see below), .pdf, .doc, .docx, .xls, .xlsx,
  .zip, .txt, .css, .js, .xml and .jsp -> text/xml.
- ETag (sha1 of the body) and Last-Modified (file mtime) on every file; a conditional GET/HEAD
  answers 304 (If-None-Match wins over If-Modified-Since, as RFC 9110 says).
- No directory listings: "/dir/" serves dir/index.html (or index.shtml/index.htm) or 404;
  "/dir" without the slash is a 301 to "/dir/".
- Files or folders whose name starts with "_" (server-side data, e.g. the Hanweb records) are 404.
- Query strings on static files are ignored (as on TRS/UCAP static sites) unless a behaviour claims them.
- Only GET and HEAD on files; POST is 405 except where a behaviour accepts it.

Behaviours (a dict; ``serve(dir)`` takes the defaults in SITE_BEHAVIOURS by folder name):
- ``charset``: the charset added to text/html headers ("utf-8" by default; None = bare "text/html").
- ``charset_by_path``: {path or prefix ending in "/": charset or None} overriding ``charset``.
- ``redirects``: {path: (status, location)} answered before any file (e.g. a 302 to another host).
- ``hanweb_dataproxy``: {"paths": [...], "columns": {columnid: "_records file"}, "perpage": 15}:
  POST <path>?startrecord=a&endrecord=b&perpage=n with form fields col, appid, webid, path,
  columnid, sourceContentType, unitid, webname, permissiontype answers Hanweb's <datastore> XML
  holding records a..b of the column; GET is 405, an unknown or missing columnid an empty recordset.
- ``endless_pages``: {"path": p, "param": "page"}: p?page=N (N >= 2) is a generated, empty list page
  that always links "下一页" to N+1 (page 1 and the bare path are the static file).
- ``calendar``: {"path": p, "param": "date"}: p?date=YYYY-MM-DD is a generated day page linking
  the previous day, endlessly.
- ``fail``: {path: status}: answered with that error status (tests add and remove paths as they go).
- ``delay``: {path: seconds}: answered after that long (what a slow attachment does); logged
  ``(method, path, "held")`` as it arrives, and again when answered.
- ``pace``: seconds every answer takes (a slow site, whose work several crawlers can share).
- ``downloads``: {path or path?query: (file, content type, download name or None)}: a download URL
  that names no file (``/attach/1/<id>``, ``download.jsp?fileId=…``, ``downfile.jsp?…``) answered
  with a (``_``-hidden) file of the site, that content type and, given a name, a
  ``Content-Disposition: attachment`` naming it; with validators, as any file.
"""
import copy
import datetime
import email.utils
import hashlib
import html
import json
import pathlib
import posixpath
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

SITES = pathlib.Path(__file__).resolve().parent / "sites"

CONTENT_TYPES = {
    ".html": "text/html", ".htm": "text/html", ".shtml": "text/html",
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".zip": "application/zip",
    ".jsp": "text/xml; charset=utf-8",
    ".xml": "text/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "application/javascript; charset=utf-8",
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
}
INDEX_FILES = ("index.html", "index.shtml", "index.htm")

HANWEB_PROXY_PATHS = ["/module/web/jpage/dataproxy.jsp"]

# The behaviours each fixture site needs; serve(dir) uses these unless told otherwise.
SITE_BEHAVIOURS = {
    "hanweb_proxy": {
        "hanweb_dataproxy": {"paths": HANWEB_PROXY_PATHS, "columns": {"12345": "_records/col12345.xml"},
                             "perpage": 15},
    },
    "gbk_site": {
        # GBK sites seldom say their charset in the header: the pages' <meta> must do it,
        # and one list page says it nowhere.  One report page has it in the header only.
        "charset": None,
        "charset_by_path": {"/zwgk/zfxxgknb/201903/t20190329_512.html": "GBK"},
    },
    "redirect_shells": {
        "redirects": {
            "/zfxxgknb/202201/t20220120_3.html": (302, "http://www.example-offsite.invalid/dcq/zfxxgknb/202201/t20220120_3.html"),
        },
    },
    "list_files": {
        "downloads": {
            "/attach/1/20240118093512_6604": ("_files/20240118093512_6604.pdf", "application/pdf", None),
            "/attachment/download.jsp?fileId=2023011600017": (
                "_files/2023011600017.docx", "application/octet-stream", "会昌县人民政府2022年政府信息公开工作年度报告.docx"),
            "/module/download/downfile.jsp?classid=0&filename=5d1e8b0c9a7f4e2db3c6a1f0e9d8c7b6.docx": (
                "_files/5d1e8b0c9a7f4e2db3c6a1f0e9d8c7b6.docx", "application/octet-stream",
                "5d1e8b0c9a7f4e2db3c6a1f0e9d8c7b6.docx"),
            "/attachment/download.jsp?fileId=2024030100021": (
                "_files/2024030100021.pdf", "application/pdf", "会昌县人民政府信息公开指南.pdf"),
        },
    },
    "traps": {
        "endless_pages": {"path": "/zfxxgk/zfxxgknb/index.html", "param": "page"},
        "calendar": {"path": "/zfxxgk/zfxxgknb/index.html", "param": "date"},
        "charset_by_path": {"/gate/big5/": "big5"},
    },
}


class FixtureServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, site_dir, behaviours, host="127.0.0.1", port=0):
        self.site_dir = pathlib.Path(site_dir).resolve()
        self.behaviours = behaviours
        self.requests = []  # (method, path, status)
        self._log_lock = threading.Lock()
        super().__init__((host, port), _Handler)
        self.base_url = f"http://{host}:{self.server_address[1]}"

    def log_request_line(self, method, path, status):
        with self._log_lock:
            self.requests.append((method, path, status))

    def fetched(self, prefix=""):
        """The logged (method, path, status) whose path starts with ``prefix``."""
        with self._log_lock:
            return [r for r in self.requests if r[1].startswith(prefix)]

    def clear_log(self):
        with self._log_lock:
            self.requests.clear()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fixture-gov/1.0"
    sys_version = ""

    # ---- plumbing ----------------------------------------------------------------

    def log_message(self, format, *args):  # quiet: the server keeps its own log
        pass

    def _send(self, status, body=b"", headers=(), head_only=False):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and not head_only:
            self.wfile.write(body)
        self.server.log_request_line(self.command, self.path, int(status))

    def _error(self, status, extra_headers=()):
        msg = f"<html><head><title>{int(status)}</title></head><body><h1>{int(status)} {status.phrase}</h1></body></html>"
        self._send(status, msg.encode("utf-8"), [("Content-Type", "text/html; charset=utf-8"), *extra_headers],
                   head_only=self.command == "HEAD")

    def _html_type(self, path):
        b = self.server.behaviours
        charset = b.get("charset", "utf-8")
        best = None
        for key, cs in (b.get("charset_by_path") or {}).items():
            if path == key or (key.endswith("/") and path.startswith(key)):
                if best is None or len(key) > len(best[0]):
                    best = (key, cs)
        if best:
            charset = best[1]
        return f"text/html; charset={charset}" if charset else "text/html"

    def _content_type(self, path):
        ext = posixpath.splitext(path)[1].lower()
        if ext in (".html", ".htm", ".shtml"):
            return self._html_type(path)
        return CONTENT_TYPES.get(ext, "application/octet-stream")

    # ---- methods -----------------------------------------------------------------

    def do_GET(self):
        self._dispatch(head_only=False)

    def do_HEAD(self):
        self._dispatch(head_only=True)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, query = self._split()
        proxy = self.server.behaviours.get("hanweb_dataproxy")
        if proxy and path in proxy["paths"]:
            return self._hanweb_dataproxy(proxy, query, body)
        self._error(HTTPStatus.METHOD_NOT_ALLOWED, [("Allow", "GET, HEAD")])

    def _split(self):
        parts = urlsplit(self.path)
        return unquote(parts.path), parts.query

    def _dispatch(self, head_only):
        path, query = self._split()
        b = self.server.behaviours
        if b.get("pace"):
            import time

            time.sleep(b["pace"])
        if path in (b.get("delay") or {}):
            import time

            self.server.log_request_line(self.command, self.path, "held")  # logged as it arrives
            time.sleep(b["delay"][path])
        if path in (b.get("fail") or {}):
            return self._error(HTTPStatus(b["fail"][path]))
        if path in (b.get("redirects") or {}):
            status, location = b["redirects"][path]
            body = f'<html><body><a href="{html.escape(location)}">moved</a></body></html>'.encode()
            return self._send(HTTPStatus(status), body, [("Location", location), ("Content-Type", "text/html")],
                              head_only=head_only)
        proxy = b.get("hanweb_dataproxy")
        if proxy and path in proxy["paths"]:
            return self._error(HTTPStatus.METHOD_NOT_ALLOWED, [("Allow", "POST")])
        downloads = b.get("downloads") or {}
        download = downloads.get(f"{path}?{query}" if query else path) or downloads.get(path)
        if download:
            return self._download(*download, head_only=head_only)
        q = parse_qs(query)
        for name, make in (("endless_pages", self._endless_page), ("calendar", self._calendar_page)):
            cfg = b.get(name)
            if cfg and path == cfg["path"] and q.get(cfg["param"]):
                page = make(cfg, q[cfg["param"]][0])
                if page is not None:
                    return self._dynamic(page.encode("utf-8"), self._html_type(path), head_only)
        self._static(path, head_only)

    # ---- static files, with validators ---------------------------------------------

    def _resolve(self, path):
        """The file for a URL path, a redirect target for a folder without "/", or None."""
        root = self.server.site_dir
        parts = [p for p in path.split("/") if p]
        if any(p.startswith((".", "_")) for p in parts):
            return None, None
        target = root.joinpath(*parts).resolve()
        if root not in target.parents and target != root:
            return None, None
        if target.is_dir():
            if not path.endswith("/"):
                return None, quote(path) + "/"
            for name in INDEX_FILES:
                if (target / name).is_file():
                    return target / name, None
            return None, None
        return (target, None) if target.is_file() else (None, None)

    def _static(self, path, head_only):
        target, moved = self._resolve(path)
        if moved:
            return self._send(HTTPStatus.MOVED_PERMANENTLY, b"", [("Location", moved)], head_only=head_only)
        if target is None:
            return self._error(HTTPStatus.NOT_FOUND)
        body = target.read_bytes()
        st = target.stat()
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        mtime = int(st.st_mtime)
        last_modified = email.utils.formatdate(mtime, usegmt=True)
        validators = [("ETag", etag), ("Last-Modified", last_modified)]
        if self._not_modified(etag, mtime):
            return self._send(HTTPStatus.NOT_MODIFIED, b"", validators, head_only=True)
        ctype = self._content_type(target.name)
        if ctype.startswith("text/html"):  # charset rules are by URL path (a folder's index file included)
            ctype = self._html_type(path)
        self._send(HTTPStatus.OK, body, [("Content-Type", ctype), *validators],
                   head_only=head_only)

    def _download(self, name, content_type, filename, head_only):
        target = self.server.site_dir / name
        body = target.read_bytes()
        mtime = int(target.stat().st_mtime)
        validators = [("ETag", '"' + hashlib.sha1(body).hexdigest()[:20] + '"'),
                      ("Last-Modified", email.utils.formatdate(mtime, usegmt=True))]
        if self._not_modified(validators[0][1], mtime):
            return self._send(HTTPStatus.NOT_MODIFIED, b"", validators, head_only=True)
        headers = [("Content-Type", content_type), *validators]
        if filename:
            headers.append(("Content-Disposition", f"attachment; filename*=UTF-8''{quote(filename)}"))
        self._send(HTTPStatus.OK, body, headers, head_only=head_only)

    def _not_modified(self, etag, mtime):
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            return "*" in tags or etag in tags or ("W/" + etag) in tags
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                since = email.utils.parsedate_to_datetime(ims)
            except (TypeError, ValueError, IndexError):
                return False
            if since is None:
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=datetime.timezone.utc)
            return mtime <= since.timestamp()
        return False

    def _dynamic(self, body, content_type, head_only):
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        if self._not_modified(etag, float("inf")):  # only If-None-Match can match a generated page
            return self._send(HTTPStatus.NOT_MODIFIED, b"", [("ETag", etag)], head_only=True)
        self._send(HTTPStatus.OK, body, [("Content-Type", content_type), ("ETag", etag)], head_only=head_only)

    # ---- Hanweb JCMS dataproxy -------------------------------------------------------

    def _hanweb_dataproxy(self, cfg, query, body):
        q = parse_qs(query)
        form = parse_qs(body.decode("utf-8", "replace"))
        arg = lambda k, d=None: (q.get(k) or form.get(k) or [d])[0]  # noqa: E731
        try:
            start = max(1, int(arg("startrecord", 1)))
            perpage = int(arg("perpage", cfg.get("perpage", 15)))
            end = int(arg("endrecord", start + perpage - 1))
        except ValueError:
            return self._error(HTTPStatus.BAD_REQUEST)
        columnid = arg("columnid")
        records = []
        if columnid in cfg["columns"]:
            records = _records(self.server.site_dir / cfg["columns"][columnid])
        chosen = records[start - 1:end] if end >= start else []
        total = len(records)
        out = ['<?xml version="1.0" encoding="utf-8"?>', "<datastore>",
               f"<totalrecord>{total}</totalrecord>",
               f"<totalpage>{-(-total // perpage) if perpage > 0 else 0}</totalpage>",
               "<recordset>"]
        out += [f"<record><![CDATA[\n{r}\n]]></record>" for r in chosen]
        out += ["</recordset>", "</datastore>"]
        self._dynamic("\n".join(out).encode("utf-8"), "text/xml; charset=utf-8", head_only=False)

    # ---- pagination traps -------------------------------------------------------------

    def _endless_page(self, cfg, value):
        try:
            n = int(value)
        except ValueError:
            return None
        if n < 2:
            return None  # page 1 is the static column page
        name = cfg["path"].rsplit("/", 1)[1]
        return _trap_page(f"第{n}页", "<li>暂无信息</li>",
                          f'<a href="{name}?{cfg["param"]}={n - 1}">上一页</a> <span>第{n}页</span> '
                          f'<a href="{name}?{cfg["param"]}={n + 1}">下一页</a>')

    def _calendar_page(self, cfg, value):
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            return None
        name = cfg["path"].rsplit("/", 1)[1]
        prev = day - datetime.timedelta(days=1)
        return _trap_page(f"{day:%Y年%m月%d日}", f"<li>{day:%Y年%m月%d日}无发布信息</li>",
                          f'<div class="calendar"><a href="{name}?{cfg["param"]}={prev.isoformat()}">前一天</a> '
                          f'<span>{day.isoformat()}</span></div>')


_records_cache = {}


def _records(path):
    """The <record> CDATA bodies of a Hanweb records file (one <record> per item)."""
    key = (str(path), path.stat().st_mtime if path.exists() else None)
    if key not in _records_cache:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        _records_cache[key] = [m.strip() for m in re.findall(r"<record><!\[CDATA\[(.*?)\]\]></record>", text, re.S)]
    return _records_cache[key]


def _trap_page(what, items, pager):
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>政府信息公开年报 " + what + "</title>"
            "<meta name=\"ColumnName\" content=\"政府信息公开年报\"><meta name=\"ColumnType\" content=\"信息公开年报\">"
            "</head><body><div class=\"list\"><h2>政府信息公开年报</h2><ul>" + items + "</ul></div>"
            "<div class=\"page\">" + pager + "</div></body></html>\n")


def serve(site_dir, behaviours=None, host="127.0.0.1", port=0):
    """Serve one fixture site folder on a free port; returns (server, base_url).

    ``behaviours`` defaults to SITE_BEHAVIOURS[<folder name>] (or none).  The server runs in a daemon
    thread; its request log is ``server.requests`` [(method, path, status)].
    """
    site_dir = pathlib.Path(site_dir)
    if behaviours is None:
        behaviours = copy.deepcopy(SITE_BEHAVIOURS.get(site_dir.name, {}))
    server = FixtureServer(site_dir, behaviours, host, port)
    threading.Thread(target=server.serve_forever, daemon=True, name=f"fixture-{site_dir.name}").start()
    return server, server.base_url


def serve_all(root=SITES, only=None):
    """Serve every site folder under ``root`` (or the names in ``only``): ({name: base_url}, [servers])."""
    bases, servers = {}, []
    for d in sorted(p for p in pathlib.Path(root).iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        if only is not None and d.name not in only:
            continue
        server, base = serve(d)
        bases[d.name] = base
        servers.append(server)
    return bases, servers


def stop(servers):
    for s in servers if isinstance(servers, (list, tuple)) else [servers]:
        s.shutdown()
        s.server_close()


def site_entry(site_id, name, start_urls, cms="generic", region_code=None):
    """A registry entry (TOML) for a site served here."""
    region = f'region_code = "{region_code}"\n' if region_code else ""
    urls = ", ".join(f'"{u}"' for u in start_urls)
    return f'[[site]]\nid = "{site_id}"\nname = "{name}"\n{region}cms = "{cms}"\nstart_urls = [{urls}]\n'


def fixture_entry(name, base, site_id=None):
    """The registry entry of the fixture site ``name`` (its MANIFEST.json record) served at ``base``."""
    site = manifest()[name]
    return site_entry(site_id or f"t_{name}", site["name"], [base + u for u in site["start_urls"]], site["cms"],
                      site["region_code"])


def serve_registry(names, registry, prefix="t", behaviours=None):
    """Serve the fixture sites ``names`` (each with ``behaviours`` added to its own) and write
    their registry entries (ids ``<prefix>_<name>``) to the file ``registry``; returns the servers."""
    entries, servers = [], []
    for name in names:
        server, base = serve(SITES / name, {**copy.deepcopy(SITE_BEHAVIOURS.get(name, {})), **(behaviours or {})})
        servers.append(server)
        entries.append(fixture_entry(name, base, f"{prefix}_{name}"))
    pathlib.Path(registry).write_text("\n".join(entries), encoding="utf-8")
    return servers


def manifest(root=SITES):
    return json.loads((pathlib.Path(root) / "MANIFEST.json").read_text(encoding="utf-8"))


if __name__ == "__main__":  # python tests/sites_server.py  -> serve all until Ctrl-C
    import time

    bases, servers = serve_all()
    for name, base in bases.items():
        print(f"{name:16} {base}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stop(servers)
