"""A government site that fails in every way real ones do, on 127.0.0.1, for the reliability tests.

    site = FaultSite()                  # serving at once; site.base, site.registry(tmp_path)
    ... crawl ...
    site.heal()                         # the transient faults end (the next run should fetch them)
    site.requests                       # [(method, path, status or fault)], in arrival order
    site.stop()

It is 平潭综合实验区's 政府信息公开年报 column (the reports are the project's fixtures built from
the real pages, tests/fixtures/reports/fj_pingtan_*, at their real URL paths), served with a fault
on nearly every report until :meth:`heal` is called, and hostile links that never heal.
``ROUTES`` says what each path does; ``EXPECTED`` what a crawl must make of it.

Bounded: a hanging answer gives up after ``hang_seconds``; after ``max_requests`` every
request is answered 503 at once; no answer is bigger than ``big_bytes``.
"""
import html
import io
import pathlib
import re
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures" / "reports"
COLUMN = "/zwgk/zfxxgk/zfxxgknb/"
AGENCY = "平潭综合实验区"


def _title(year, agency=AGENCY):
    return f"{agency}{year}年度政府信息公开工作年度报告"


def _page(title, body_html, extra_head=""):
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>{extra_head}'
            f'</head><body><div class="header"><a href="/">首页</a> <a href="{COLUMN}index.htm">政府信息公开年报</a>'
            f'</div>\n{body_html}\n</body></html>\n').encode("utf-8")


class _Text(bytes):
    """A .txt/.md fixture, served as text/plain (its lines as they are) at its page's URL."""


def _text_report_page(name):
    return _Text((FIXTURES / name).read_bytes())


def report_pdf(name="fj_pingtan_2022.html"):
    """The report as a PDF with a real text layer (reportlab's built-in CID font), one line a row."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    from pipelines.document import load_document

    lines = [r.text for r in load_document((FIXTURES / name).read_bytes(), "text/html").rows]
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    c = canvas.Canvas(out)
    y = 800
    c.setFont("STSong-Light", 9)
    for line in lines:
        for part in [line[i:i + 60] for i in range(0, len(line), 60)] or [""]:
            if y < 40:
                c.showPage()
                c.setFont("STSong-Light", 9)
                y = 800
            c.drawString(30, y, part)
            y -= 13
    c.save()
    return out.getvalue()


def _challenge():
    # what 瑞数/加速乐-style walls answer with: HTTP 200, a script that sets a cookie and reloads
    return (b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">"
            b"<script>var _0x1=['cookie','reload'];document[_0x1[0]]='__jsl_clearance=1700000000.1|0|'"
            b"+Math.random()+';max-age=3600;path=/';setTimeout(function(){location[_0x1[1]]()},1000);"
            b"</script></head><body></body></html>")


def _gzip_bomb(mb):
    import gzip

    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as f:
        f.write(b"<html><body>")
        chunk = b" " * (1 << 20)
        for _ in range(mb):
            f.write(chunk)
    return out.getvalue()


class FaultSite:
    """The site; starts serving on construction."""

    def __init__(self, hang_seconds=8.0, max_requests=3000, big_bytes=3 * 1024 * 1024, trap_width=5, trap_depth=4):
        self.healed = False
        self.hang_seconds = hang_seconds
        self.max_requests = max_requests
        self.big_bytes = big_bytes
        self.trap_width, self.trap_depth = trap_width, trap_depth
        self.requests = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.pdf = report_pdf()
        self.bomb = _gzip_bomb(200)
        self.routes = self._routes()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.site = self
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True, name="fault-site").start()

    # ---- what each path does ----------------------------------------------------------

    def _routes(self):
        fx = lambda name: (FIXTURES / name).read_bytes()  # noqa: E731
        c = COLUMN
        # path: (fault until healed or None, fault after healing or None, the document)
        return {
            # the reports, each at its real URL, each with its fault until healed
            f"{c}202603/t20260313_105587.htm": (None, None, _text_report_page("fj_pingtan_2025.md")),
            f"{c}202503/t20250310_97791.htm": ("500", None, fx("fj_pingtan_2024.html")),
            f"{c}202403/t20240308_87885.htm": ("hang", None, _text_report_page("fj_pingtan_2023.txt")),
            f"{c}202302/t20230220_80629.htm": (None, None, _page(
                _title(2022), f'<div class="TRS_Editor"><p>{_title(2022)}，详见附件。</p>'
                              f'<p>附件：<a href="./P020230220385573516789.pdf">{_title(2022)}.pdf</a></p></div>')),
            f"{c}202302/P020230220385573516789.pdf": ("503", None, self.pdf),
            f"{c}202202/t20220208_80613.htm": ("reset", None, _text_report_page("fj_pingtan_2021.md")),
            f"{c}202103/t20210305_80595.htm": ("short", None, _text_report_page("fj_pingtan_2020.txt")),
            f"{c}202001/t20200120_80576.htm": ("challenge", None, fx("fj_pingtan_2019.html")),
            f"{c}201801/t20180123_80506.htm": ("loop", None, _text_report_page("fj_pingtan_2017.txt")),
            # served as GBK under a header (and a <meta>) that say UTF-8: archived, read right
            f"{c}201401/t20140122_80754.htm": ("lying_charset", "lying_charset", fx("fj_pingtan_county_2013.html")),
            # a list page that fails until healed, then lists a link that is gone
            f"{c}index_1.htm": ("502", "gbk_as_latin1", self._list(1)),
            f"{c}201901/t20190122_80540.htm": ("404", "404", b""),
            # faults that never heal
            f"{c}201301/P020130125000000000001.pdf": ("truncated", "truncated", self.pdf),
            f"{c}201201/t20120120_1.htm": ("big", "big", b""),
            f"{c}201201/t20120120_2.htm": ("big_stream", "big_stream", b""),
            f"{c}201101/t20110120_1.htm": ("empty", "empty", b""),
            f"{c}201001/t20100120_1.htm": ("meta_file", "meta_file", b""),
            f"{c}201001/t20100120_2.htm": ("js_file", "js_file", b""),
            f"{c}201001/t20100120_3.htm": ("302_file", "302_file", b""),
            f"{c}201001/t20100120_4.htm": ("302_offsite", "302_offsite", b""),
            f"{c}201001/t20100120_5.htm": ("302_javascript", "302_javascript", b""),
            # a report page whose markup ends in 100,000 unclosed "<a " (a quadratic regex's undoing)
            f"{c}201903/t20190329_1.htm": (None, None, fx("sh_gov_office_2019.html") + b"<a " * 100_000),
            # a year column served as JSON, linking a gzip bomb; one in UTF-16, linking a 304 never asked for
            f"{c}2016/index.htm": ("json", "json", self._year_column(2016, "t20170120_1.htm")),
            f"{c}2016/t20170120_1.htm": ("gzip_bomb", "gzip_bomb", b""),
            f"{c}2015/index.htm": ("utf16", "utf16", self._year_column(2015, "t20160120_1.htm")),
            f"{c}2015/t20160120_1.htm": ("304", "304", b""),
        }

    HOSTILE_LINKS = [  # (title year, href): links a crawler must refuse, each in its own way
        (2009, "file:///etc/passwd"),
        (2008, "file://127.0.0.1/etc/passwd"),
        (2007, "ftp://127.0.0.1/pub/nb2007.pdf"),
        (2006, "http://www.example-offsite.invalid/zwgk/nb2006.htm"),
        (2010, f"{COLUMN}201001/t20100120_1.htm"),  # meta refresh to file://
        (2010, f"{COLUMN}201001/t20100120_2.htm"),  # JS redirect to file://
        (2010, f"{COLUMN}201001/t20100120_3.htm"),  # 302 to file://
        (2010, f"{COLUMN}201001/t20100120_4.htm"),  # 302 to another host
        (2010, f"{COLUMN}201001/t20100120_5.htm"),  # 302 to javascript:
        (2005, "http://[2001:db8::1/x.html"),  # a malformed URL (an IPv6 host left open)
        (2004, "http://127.0.0.1:9/zwgk/nb2004.htm"),  # another port of the site's host
    ]
    COPIES = 30  # the 2025 report linked again under as many query strings: one report, 30 copies

    def _year_column(self, year, href):
        return _page(f"{year}年度", f'<div class="list"><ul><li><a href="./{href}">{_title(year)}</a></li></ul></div>')

    def _list(self, page):
        if page == 0:
            items = [(2025, "202603/t20260313_105587.htm"), (2024, "202503/t20250310_97791.htm"),
                     (2023, "202403/t20240308_87885.htm"), (2022, "202302/t20230220_80629.htm"),
                     (2021, "202202/t20220208_80613.htm"), (2020, "202103/t20210305_80595.htm"),
                     (2019, "202001/t20200120_80576.htm"), (2017, "201801/t20180123_80506.htm"),
                     (2012, "201201/t20120120_1.htm"), (2012, "201201/t20120120_2.htm"),
                     (2011, "201101/t20110120_1.htm"), (2012, "201301/P020130125000000000001.pdf")]
            links = [f'<li><a href="./{href}" title="{_title(y)}">{_title(y)}</a><span>{y + 1}-01-20</span></li>'
                     for y, href in items]
            links.append('<li><a href="./201401/t20140122_80754.htm">平潭县人民政府2013年政府信息公开工作年度报告</a>'
                         '<span>2014-01-22</span></li>')
            links += [f'<li><a href="{html.escape(href)}">{_title(y)}</a></li>' for y, href in self.HOSTILE_LINKS]
            links.append('<li><a href="./201903/t20190329_1.htm">2019年上海市人民政府办公厅政府信息公开工作年度报告</a></li>')
            links += [f'<li><a href="./202603/t20260313_105587.htm?from={i}">{_title(2025)}</a></li>'
                      for i in range(self.COPIES)]
            links += ['<li><a href="./2016/index.htm">2016年度</a></li>', '<li><a href="./2015/index.htm">2015年度</a></li>']
            pager = '<div class="page"><a href="index_1.htm">下一页</a></div>'
            # per-year sub-columns that nest without end (a trap), and an endless calendar
            sub = "".join(f'<a href="/zwgk/nb/y{y}/index.htm">{y}年度</a> ' for y in range(2019, 2019 + self.trap_width))
            body = f'<div class="list"><ul>{"".join(links)}</ul>{pager}</div><div class="side">{sub}</div>'
        else:  # nested past the HTML parser's depth limit, 20,000 links in one <div>, served as GBK
            # under a header that says ISO8859_1: the one report link is last
            notices = "".join(f'<a href="./tzgg/{i}.htm">通知公告{i}</a><br>' for i in range(20_000))
            body = (f'<div class="list">{"<font>" * 3000}{notices}<ul><li><a href="./201901/t20190122_80540.htm">'
                    f'{_title(2018)}</a></li></ul></div>')
        return _page("政府信息公开年报_平潭综合实验区党工委管委会", body)

    def _trap(self, path, query=""):
        """/zwgk/nb/y2019/y2020/…/index.htm: a sub-column page linking trap_width deeper ones
        (to depth trap_depth), and a 下一页 that never ends (?page=N+1)."""
        parts = [p for p in path.split("/") if p.startswith("y")]
        links = ""
        if len(parts) < self.trap_depth:
            base = path.rsplit("/", 1)[0]
            links = "".join(f'<a href="{base}/y{y}/index.htm">{y}年度</a> ' for y in range(2019, 2019 + self.trap_width))
        page = int(re.search(r"page=(\d+)", query)[1]) if re.search(r"page=(\d+)", query) else 1
        pager = f'<div class="page"><a href="index.htm?page={page + 1}">下一页</a></div>'
        return _page("年度报告", f'<div class="list"><ul><li>暂无信息</li></ul>{links}{pager}</div>')

    # ---- control ------------------------------------------------------------------------

    def heal(self):
        self.healed = True

    def clear_log(self):
        with self._lock:
            self.requests.clear()

    def log(self, method, path, what):
        with self._lock:
            self.requests.append((method, path, what))

    def stop(self):
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()

    def registry(self, folder, site_id="fault_pingtan"):
        path = pathlib.Path(folder) / "fault-sites.toml"
        from sites_server import site_entry

        path.write_text(site_entry(site_id, "平潭综合实验区党工委管委会", [f"{self.base}{COLUMN}index.htm"], "trs", "350128"),
                        encoding="utf-8")
        return path


def crawl_twice(folder, args, hang_seconds=6):
    """Two crawls of a fault site into one archive: one while it fails, one after it has
    healed.  Returns {"db", "first", "second"}, each run as (completed process, the site's
    request log, and the archive's fetch_failures, reports and captures after it)."""
    import sqlite3
    import subprocess
    import sys

    def rows(db, table):
        conn = sqlite3.connect(db)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(f"select * from {table}")]
        finally:
            conn.close()

    site = FaultSite(hang_seconds=hang_seconds)
    folder = pathlib.Path(folder)
    registry, db = site.registry(folder), folder / "archive.db"
    command = [str(pathlib.Path(sys.executable).parent / "ogi-archive"), "crawl", "--sites", str(registry),
               "--db", str(db), *args]
    out = {"db": db, "base": site.base}
    try:
        for name in ("first", "second"):
            proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
            out[name] = (proc, list(site.requests), rows(db, "fetch_failures"), rows(db, "reports"),
                         rows(db, "captures"))
            site.clear_log()
            site.heal()
    finally:
        site.stop()
    return out


# what a crawl must make of the site, before and after heal(): fetch_failures kinds by path
TRANSIENT = {  # fail until healed; the next run must fetch them
    f"{COLUMN}202503/t20250310_97791.htm": "http",
    f"{COLUMN}202403/t20240308_87885.htm": "timeout",
    f"{COLUMN}202302/P020230220385573516789.pdf": "http",
    f"{COLUMN}202202/t20220208_80613.htm": "network",
    f"{COLUMN}202103/t20210305_80595.htm": "network",
    f"{COLUMN}202001/t20200120_80576.htm": "challenge",
    f"{COLUMN}201801/t20180123_80506.htm": "redirect",
    f"{COLUMN}index_1.htm": "http",
}
PERMANENT = {  # fail on every run
    f"{COLUMN}2016/t20170120_1.htm": "too_large",
    f"{COLUMN}2015/t20160120_1.htm": "http",
    f"{COLUMN}201201/t20120120_1.htm": "too_large",
    f"{COLUMN}201201/t20120120_2.htm": "too_large",
    f"{COLUMN}201101/t20110120_1.htm": "empty",
}
REFUSED = {  # never fetched; recorded as refused (by the URL the site gave)
    "file:///etc/passwd", "file://127.0.0.1/etc/passwd", "ftp://127.0.0.1/pub/nb2007.pdf",
    "http://www.example-offsite.invalid/zwgk/nb2006.htm",
    f"{COLUMN}201001/t20100120_1.htm", f"{COLUMN}201001/t20100120_2.htm",
    f"{COLUMN}201001/t20100120_3.htm", f"{COLUMN}201001/t20100120_4.htm", f"{COLUMN}201001/t20100120_5.htm",
    "http://[2001:db8::1/x.html", "http://127.0.0.1:9/zwgk/nb2004.htm",
}
# reports archived by the first run, and by the second (healed) one: URL path → report year
FIRST_RUN_REPORTS = {f"{COLUMN}202603/t20260313_105587.htm": 2025, f"{COLUMN}201401/t20140122_80754.htm": 2013,
                     f"{COLUMN}201301/P020130125000000000001.pdf": None, f"{COLUMN}201903/t20190329_1.htm": 2019}
HEALED_REPORTS = {f"{COLUMN}202503/t20250310_97791.htm": 2024, f"{COLUMN}202403/t20240308_87885.htm": 2023,
                  f"{COLUMN}202302/t20230220_80629.htm": 2022, f"{COLUMN}202202/t20220208_80613.htm": 2021,
                  f"{COLUMN}202103/t20210305_80595.htm": 2020, f"{COLUMN}202001/t20200120_80576.htm": 2019,
                  f"{COLUMN}201801/t20180123_80506.htm": 2017}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass  # a client that gives up on a hanging answer is what the site is for


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault-gov/1.0"

    def log_message(self, *args):
        pass

    def _send(self, status, body, ctype="text/html; charset=utf-8", headers=(), what=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        """Logged as it arrives (with the fault it gets): a client may give up before the answer ends."""
        site = self.site = self.server.site
        path = urlsplit(self.path).path
        route = site.routes.get(path)
        fault = (route[1] if site.healed else route[0]) if route else None
        site.log(self.command, self.path, fault or (200 if route or not path.endswith((".htm", ".pdf")) else 404))
        if len(site.requests) > site.max_requests:
            self.close_connection = True
            return self._send(503, b"busy")
        if path == "/robots.txt":
            return self._send(200, b"User-agent: *\nDisallow:\n", "text/plain")
        if path in (COLUMN, COLUMN + "index.htm"):
            return self._send(200, site._list(0))
        if path.startswith("/zwgk/nb/"):
            return self._send(200, site._trap(path, urlsplit(self.path).query))
        if path == f"{COLUMN}201801/loop.htm":  # …and back: a redirect loop
            return self._send(302, b"", headers=[("Location", f"{COLUMN}201801/t20180123_80506.htm")])
        if route is None:
            return self._send(404, b"<html><body>404</body></html>")
        body = route[2]
        ctype = ("application/pdf" if path.endswith(".pdf") else "text/plain; charset=utf-8"
                 if isinstance(body, _Text) else "text/html; charset=utf-8")
        if fault is None:
            return self._send(200, body, ctype)
        getattr(self, "_fault_" + fault, lambda b, c: self._send(int(fault), b"<html>error</html>"))(body, ctype)

    # ---- the faults ---------------------------------------------------------------------

    def _fault_hang(self, body, ctype):
        """Accept, read the request, answer nothing (until the client gives up, or hang_seconds)."""
        self.site._stop.wait(self.site.hang_seconds)
        self.close_connection = True

    def _cut(self, body, ctype, reset):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[:len(body) // 3])
        self.wfile.flush()
        if reset:  # RST, not FIN: the connection is reset by the peer mid-body
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def _fault_reset(self, body, ctype):
        self._cut(body, ctype, reset=True)

    def _fault_short(self, body, ctype):
        self._cut(body, ctype, reset=False)

    def _fault_challenge(self, body, ctype):
        self._send(200, _challenge(), what="challenge")

    def _fault_loop(self, body, ctype):
        self._send(302, b"", headers=[("Location", f"{COLUMN}201801/loop.htm")], what="loop")

    def _fault_lying_charset(self, body, ctype):
        self._send(200, body.decode("utf-8").encode("gb18030"), "text/html; charset=utf-8", what="lying_charset")

    def _fault_truncated(self, body, ctype):
        self._send(200, body[:len(body) // 2], "application/pdf", what="truncated")

    def _fault_big(self, body, ctype):
        filler = ("<p>" + "政府信息公开" * 40 + "</p>\n").encode()
        page = _page(_title(2012), "") [:-16] + filler * (self.site.big_bytes // len(filler) + 1) + b"</body></html>"
        self._send(200, page, what="big")

    def _fault_big_stream(self, body, ctype):
        """A body over the size limit with no Content-Length: ended only by closing."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = ("<p>" + "政府信息公开" * 200 + "</p>\n").encode()
        sent = 0
        try:
            while sent < self.site.big_bytes and not self.site._stop.is_set():
                self.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass
        self.close_connection = True

    def _fault_empty(self, body, ctype):
        self._send(200, b"", what="empty")

    def _fault_meta_file(self, body, ctype):
        self._send(200, b'<html><head><meta http-equiv="refresh" content="0;url=file:///etc/passwd"></head>'
                        b"<body></body></html>", what="meta_file")

    def _fault_js_file(self, body, ctype):
        self._send(200, b"<html><head><script>window.location.href='file:///etc/shadow';</script></head>"
                        b"<body></body></html>", what="js_file")

    def _fault_302_file(self, body, ctype):
        self._send(302, b"", headers=[("Location", "file:///etc/passwd")], what="302_file")

    def _fault_302_offsite(self, body, ctype):
        self._send(302, b"", headers=[("Location", "http://www.example-offsite.invalid/nb.htm")],
                   what="302_offsite")

    def _fault_302_javascript(self, body, ctype):
        self._send(302, b"", headers=[("Location", "javascript:alert(1)")], what="302_javascript")

    def _fault_gbk_as_latin1(self, body, ctype):
        self._send(200, body.decode("utf-8").replace('charset="utf-8"', "").encode("gb18030"),
                   "text/html; charset=ISO8859_1", what="gbk_as_latin1")

    def _fault_json(self, body, ctype):
        self._send(200, body, "application/json", what="json")

    def _fault_utf16(self, body, ctype):
        self._send(200, b"\xff\xfe" + body.decode("utf-8").replace('charset="utf-8"', "").encode("utf-16-le"),
                   "text/html", what="utf16")

    def _fault_gzip_bomb(self, body, ctype):
        """200 KB of gzip that inflates to 200 MB of HTML: Content-Encoding does it for the server."""
        self._send(200, self.site.bomb, "text/html; charset=utf-8", headers=[("Content-Encoding", "gzip")],
                   what="gzip_bomb")

    def _fault_304(self, body, ctype):
        self._send(304, b"", what=304)

    def _fault_404(self, body, ctype):
        self._send(404, b"<html><body>not found</body></html>", what=404)


if __name__ == "__main__":  # python tests/fault_server.py: serve until Ctrl-C
    s = FaultSite()
    print(f"{s.base}{COLUMN}index.htm")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        s.stop()
