"""The bundled demo: an offline mirror of government sites, served on 127.0.0.1.

Each demo site has a fixed address of its own under ``DEMO_DOMAIN`` (a ``.invalid`` name,
which never resolves on the internet): ``http://js-hongze.demo.ogi-archive.invalid/…``.
Those are the URLs the archive keeps.  The crawl reaches them through one local server
that answers as an HTTP proxy would (``GET http://host/path``), serving each host's folder
of the mirror; Scrapy sends only the demo hosts' requests to it (``OGI_DEMO_PROXY``,
:class:`crawler.middlewares.DemoProxyMiddleware`).
"""
import functools
import pathlib
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, urlunsplit

MIRROR = pathlib.Path(__file__).parent / "mirror"
REGISTRY = pathlib.Path(__file__).parent / "sites.toml"
DEMO_DOMAIN = "demo.ogi-archive.invalid"


class _QuietHandler(SimpleHTTPRequestHandler):
    # not left to /etc/mime.types, which a fresh machine may lack
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8", ".shtml": "text/html; charset=utf-8",
        ".jsp": "text/xml; charset=utf-8", ".pdf": "application/pdf", ".txt": "text/plain; charset=utf-8",
    }

    def log_message(self, format, *args):
        pass


class _MirrorHandler(_QuietHandler):
    """Serves the folder of the host a request names: in its request line when it is sent
    as to a proxy (``GET http://host/path``), else in its Host header."""

    roots = {}  # host name → the folder served as its document root

    def parse_request(self):
        if not super().parse_request():
            return False
        url = urlsplit(self.path)
        if url.scheme and url.netloc:  # absolute-form: the request of a client using this as its proxy
            host = url.hostname
            self.path = urlunsplit(("", "", url.path or "/", url.query, ""))
        else:
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        root = self.roots.get((host or "").lower())
        if root is None:
            self.send_error(404, f"no demo site at {host or '(no host)'}")
            return False
        self.directory = str(root)
        return True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # socketserver's 5 drops connections when several crawls share a server


def _start(handler, host, port, name):
    server = _Server((host, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True, name=name).start()
    return server


def serve_site(root, host="127.0.0.1", port=0):
    """Serve one folder as a site's document root on a free port; returns (server, base_url)."""
    server = _start(functools.partial(_QuietHandler, directory=str(root)), host, port, f"mirror-{root.name}")
    return server, f"http://{host}:{server.server_address[1]}"


def demo_hosts(sites, mirror=MIRROR):
    """{host name: mirror folder} of the registry's ``sites``: each site's start URLs' host
    is served from the folder named by its id."""
    return {urlsplit(u).hostname: pathlib.Path(mirror) / s.id for s in sites for u in s.start_urls}


def serve_mirror(sites, mirror=MIRROR, host="127.0.0.1", port=0):
    """Serve every demo site of ``sites`` from one local server, as a proxy answers: returns
    (server, proxy URL ``http://127.0.0.1:PORT``)."""
    roots = demo_hosts(sites, mirror)
    missing = sorted(str(p) for p in roots.values() if not p.is_dir())
    if missing:
        raise FileNotFoundError(f"no mirror folder {', '.join(missing)}")
    handler = type("MirrorHandler", (_MirrorHandler,), {"roots": roots})
    server = _start(handler, host, port, "demo-mirror")
    return server, f"http://{host}:{server.server_address[1]}"
