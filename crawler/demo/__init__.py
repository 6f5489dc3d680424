"""The bundled demo: an offline mirror of government sites, served on 127.0.0.1."""
import functools
import pathlib
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

MIRROR = pathlib.Path(__file__).parent / "mirror"
REGISTRY = pathlib.Path(__file__).parent / "sites.toml"


class _QuietHandler(SimpleHTTPRequestHandler):
    # not left to /etc/mime.types, which a fresh machine may lack
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8", ".shtml": "text/html; charset=utf-8",
        ".jsp": "text/xml; charset=utf-8", ".pdf": "application/pdf", ".txt": "text/plain; charset=utf-8",
    }

    def log_message(self, format, *args):
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # socketserver's 5 drops connections when several crawls share a server


def serve_site(root, host="127.0.0.1", port=0):
    """Serve one folder as a site's document root on a free port; returns (server, base_url)."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = _Server((host, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True, name=f"mirror-{root.name}").start()
    return server, f"http://{host}:{server.server_address[1]}"


def serve_mirror(mirror=MIRROR):
    """Serve every site folder of the mirror, each on its own port: ({site_id: base_url}, [servers])."""
    bases, servers = {}, []
    for root in sorted(p for p in pathlib.Path(mirror).iterdir() if p.is_dir()):
        server, base = serve_site(root)
        bases[root.name] = base
        servers.append(server)
    return bases, servers
