"""Captures in WARC files: every response and its request, as it came, beside the archive.

The SQLite archive is the index; the bodies live in rolling WARC 1.1 files, one gzip
member a record, in the folder beside the archive (``archive.db`` → ``archive-warc/``):

- a file is written by one writer, append-only, and never rewritten.  While it is being
  written its name ends in ``.open``; it loses that suffix when its writer closes it (at
  ``max_bytes``, or the end of a run).  A writer killed mid-record leaves a torn last
  record in an ``.open`` file: the next writer cuts it off (no row points at it: the
  transaction that would have named it never committed) and closes the file;
- a capture is a ``response`` record, followed by its ``request`` record
  (``WARC-Concurrent-To`` the response).  A payload already archived is not written
  again: the repeat is a ``revisit`` record (profile identical-payload-digest) that
  refers to the first response by its record id, URI and date;
- ``WARC-Payload-Digest`` is the payload's sha256 (base32, as WARC tools expect), the
  sha256 the archive keeps (hex) in ``captures.sha256``; ``WARC-Block-Digest`` is sha256 too;
- a body is stored as the crawl received it after transfer and content decoding (Scrapy
  decodes gzip): the response's ``Content-Encoding`` and ``Transfer-Encoding`` headers are
  left out and ``Content-Length`` is the stored body's, so the record replays as it reads.

:func:`read_capture` is the one way back from a capture's row to its headers and body.
"""
import base64
import datetime
import hashlib
import io
import os
import pathlib
import re
import secrets
import time
from dataclasses import dataclass

MAX_BYTES = 1 << 30  # a file is closed, and the next one started, past this size
SUFFIX = ".warc.gz"
OPEN = ".open"
DROPPED_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
SOFTWARE = "ogi-archive (warcio)"


class WarcError(RuntimeError):
    """A capture's record cannot be read back: its file is missing, or the bytes at its
    offset are not the record the archive names (the message says which)."""


def warc_dir(db_path):
    """The WARC folder of the archive at ``db_path``: ``x/archive.db`` → ``x/archive-warc``."""
    path = pathlib.Path(db_path)
    return path.with_name(path.stem + "-warc")


def db_file(db):
    """The file of a sqlite-utils Database (or sqlite3 connection); None in memory."""
    conn = getattr(db, "conn", db)
    for _, name, file in conn.execute("PRAGMA database_list"):
        if name == "main":
            return file or None
    return None


def digest(sha256_hex):
    """The WARC form of a sha256 given in hex: ``sha256:`` and base32."""
    return "sha256:" + base64.b32encode(bytes.fromhex(sha256_hex)).decode()


def hex_of(warc_digest):
    """The hex sha256 of a WARC ``sha256:BASE32`` (or ``sha256:hex``) digest."""
    algo, _, value = (warc_digest or "").partition(":")
    if algo.lower() != "sha256":
        raise WarcError(f"not a sha256 digest: {warc_digest!r}")
    return value.lower() if len(value) == 64 else base64.b32decode(value.upper()).hex()


def warc_date(iso=None):
    """A WARC-Date (UTC, seconds) from an ISO time with its offset, or now."""
    try:
        moment = datetime.datetime.fromisoformat(iso) if iso else None
    except ValueError:
        moment = None
    moment = moment or datetime.datetime.now(datetime.timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _status_line(status):
    from http import HTTPStatus

    try:
        return f"{status} {HTTPStatus(int(status)).phrase}"
    except (ValueError, TypeError):
        return f"{status or 200} Unknown"


_PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))


def _one_line(text):
    """A header value as a record holds it: one line, ASCII (anything else percent-encoded)."""
    text = " ".join(str(text).splitlines())
    if not text.isascii():
        from urllib.parse import quote

        text = quote(text, safe=_PRINTABLE)
    return text


_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def _header_lines(pairs):
    """Header (name, value) pairs fit for a record: each on one line, names HTTP tokens
    (a name that is not one cannot be written as it came, so it is left out)."""
    return [(k, _one_line(v)) for k, v in pairs or [] if _TOKEN.match(str(k))]


def response_headers(capture):
    """The response's header lines as stored: its own (without the decoding ones), or,
    for a capture that has none (older archives), rebuilt from the row's fields."""
    headers = [(k, v) for k, v in _header_lines(capture.get("http_headers")) if k.lower() not in DROPPED_HEADERS]
    if not capture.get("http_headers"):
        for name, key in (("Content-Type", "content_type"), ("ETag", "etag"), ("Last-Modified", "last_modified")):
            if capture.get(key):
                headers.append((name, capture[key]))
    headers.append(("Content-Length", str(len(capture["body"]))))
    return headers


def _writer(fh):
    from warcio.utils import Digester
    from warcio.warcwriter import WARCWriter

    class Writer(WARCWriter):
        @staticmethod
        def _create_digester():
            return Digester("sha256")

    return Writer(fh, gzip=True, warc_version="WARC/1.1")


@dataclass
class Location:
    """Where a capture's records are: its response or revisit record (file, offset,
    length), and the request record right after it (its length)."""

    file: str
    offset: int
    length: int
    request_length: int
    record_id: str
    record_type: str


class WarcStore:
    """The writer of one archive's WARC folder (one writer per archive: the archiver)."""

    def __init__(self, directory, max_bytes=MAX_BYTES, prefix="ogi"):
        self.dir = pathlib.Path(directory)
        self.max_bytes = max_bytes
        self.prefix = prefix
        self.fh = None
        self.name = None
        self.writer = None
        self.serial = 0
        self._repaired = False

    # ---- files -----------------------------------------------------------------------

    def _current(self):
        if self.fh is not None and self.fh.tell() < self.max_bytes:
            return self.fh
        self.close()
        self.dir.mkdir(parents=True, exist_ok=True)
        if not self._repaired:
            repair(self.dir)
            self._repaired = True
        self.serial += 1
        # time, process and a random part: two writers never pick one name, even in one second
        self.name = (f"{self.prefix}-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{os.getpid()}-"
                     f"{secrets.token_hex(3)}-{self.serial:05d}{SUFFIX}")
        self.fh = open(self.dir / (self.name + OPEN), "xb")
        self.writer = _writer(self.fh)
        self._warcinfo()
        return self.fh

    def _warcinfo(self):
        record = self.writer.create_warcinfo_record(self.name, {"software": SOFTWARE, "format": "WARC File Format 1.1"})
        self.writer.write_record(record)

    def sync(self):
        """Everything written is on disk (called before the archive's transaction commits)."""
        if self.fh is not None:
            self.fh.flush()
            os.fsync(self.fh.fileno())

    def close(self):
        """The current file closed and named as finished."""
        if self.fh is None:
            return
        self.sync()
        self.fh.close()
        os.replace(self.dir / (self.name + OPEN), self.dir / self.name)
        self.fh = self.writer = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- records ---------------------------------------------------------------------

    def _append(self, record):
        fh = self.fh  # the file write() chose: a capture's records never straddle two files
        start = fh.tell()
        try:
            self.writer.write_record(record)
            fh.flush()
        except BaseException:
            # a record cut short (a full disk): cut it off, so the file stays a valid WARC;
            # nothing points at it (the transaction naming it rolls back)
            try:
                fh.seek(start)
                fh.truncate()
            except OSError:
                pass
            raise
        return start, fh.tell() - start

    def write(self, capture, sha256, first=None):
        """Write a capture (a dict: url, body, status, http_headers or content_type…,
        fetched_at, request_headers, method) as a response record, or as a revisit of
        ``first`` (a payloads row: record_id, url, fetched_at) when its payload is archived
        already; then its request record.  Returns the :class:`Location`."""
        self._current()
        record, request = records(self.writer, capture, sha256, first)
        offset, length = self._append(record)
        _, request_length = self._append(request)
        return Location(self.name, offset, length, request_length, record.rec_headers.get_header("WARC-Record-ID"),
                        "revisit" if first else "response")


def target_uri(url):
    """A URL as a WARC-Target-URI: ASCII, anything else percent-encoded (as a browser sends it)."""
    from urllib.parse import quote

    return quote(url, safe=":/?#[]@!$&'()*+,;=%~") if not url.isascii() or " " in url else url


def records(writer, capture, sha256, first=None):
    """A capture's response record (or revisit of ``first``) and its request record, made
    by the warcio ``writer`` (not written)."""
    from warcio.statusandheaders import StatusAndHeaders

    url = target_uri(capture.get("final_url") or capture["url"])
    date = warc_date(capture.get("fetched_at"))
    http = StatusAndHeaders(_status_line(capture.get("status")), response_headers(capture),
                            protocol=capture.get("protocol") or "HTTP/1.1")
    if first is None:
        record = writer.create_warc_record(
            url, "response", payload=io.BytesIO(capture["body"]), length=len(capture["body"]),
            http_headers=http, warc_headers_dict={"WARC-Date": date, "WARC-Payload-Digest": digest(sha256)})
    else:
        record = writer.create_revisit_record(url, digest(sha256), target_uri(first["url"]),
                                              warc_date(first["fetched_at"]),
                                              http_headers=http, warc_headers_dict={"WARC-Date": date})
        record.rec_headers.replace_header("WARC-Profile", REVISIT_PROFILE)
        record.rec_headers.add_header("WARC-Refers-To", first["record_id"])
    return record, _request(writer, capture, url, date, record.rec_headers.get_header("WARC-Record-ID"))


def _request(writer, capture, url, date, concurrent_to):
    from urllib.parse import urlsplit

    from warcio.statusandheaders import StatusAndHeaders

    parts = urlsplit(url)
    target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    headers = _header_lines(capture.get("request_headers"))
    if not any(k.lower() == "host" for k, _ in headers):
        headers.insert(0, ("Host", parts.netloc))
    http = StatusAndHeaders(f"{capture.get('method') or 'GET'} {target} HTTP/1.1", headers, protocol="",
                            is_http_request=True)
    return writer.create_warc_record(url, "request", payload=io.BytesIO(b""), length=0, http_headers=http,
                                     warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": concurrent_to})


def repair(directory):
    """Close the ``.open`` files a killed writer left: each is cut after its last whole
    record and renamed as finished.  Returns the files repaired."""
    fixed = []
    for path in sorted(pathlib.Path(directory).glob(f"*{SUFFIX}{OPEN}")):
        good = _whole_records_end(path)
        with open(path, "r+b") as fh:
            if fh.seek(0, 2) != good:
                fh.truncate(good)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(path, path.with_name(path.name[:-len(OPEN)]))
        fixed.append(path)
    return fixed


def _whole_records_end(path):
    """The offset just past the last whole gzip member of a file (each record is one
    member, closed only when the record is whole): where a torn record begins."""
    import zlib

    end, fed = 0, 0  # the end of the last whole member; bytes of the current one read so far
    inflate, data = zlib.decompressobj(31), b""
    with open(path, "rb") as fh:
        while True:
            if not data:
                data = fh.read(1 << 20)
                if not data:
                    return end
            try:
                inflate.decompress(data, 1 << 16)  # the output is bounded, and dropped
            except zlib.error:
                return end
            if inflate.eof:
                end += fed + len(data) - len(inflate.unused_data)
                fed, data, inflate = 0, inflate.unused_data, zlib.decompressobj(31)
            else:
                fed += len(data) - len(inflate.unconsumed_tail)
                data = inflate.unconsumed_tail


# ---- reading back --------------------------------------------------------------------


@dataclass
class Capture:
    """A capture as archived: what was asked and answered, and the body."""

    id: int
    url: str
    status: int
    content_type: str
    headers: list
    body: bytes
    sha256: str
    fetched_at: str
    record_type: str
    file_name: str


def record_bytes(directory, file, offset, length):
    """The stored bytes (gzip members) from ``offset`` in a WARC file of ``directory``."""
    path = pathlib.Path(directory) / file
    if not path.exists() and path.with_name(path.name + OPEN).exists():
        path = path.with_name(path.name + OPEN)  # still being written
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read(length)
    except OSError as e:
        raise WarcError(f"{path}: {e.strerror or e}") from None
    if len(data) != length:
        raise WarcError(f"{path}: the record at {offset} is cut short ({len(data)} of {length} bytes)")
    return data


def read_record(directory, file, offset, length):
    """(WARC headers, HTTP status and headers, payload bytes) of the record at ``offset``."""
    from warcio.archiveiterator import ArchiveIterator

    path = pathlib.Path(directory) / file
    data = record_bytes(directory, file, offset, length)
    try:
        record = next(iter(ArchiveIterator(io.BytesIO(data))))
        payload = record.raw_stream.read()
    except Exception as e:
        raise WarcError(f"{path}: no WARC record at {offset} ({type(e).__name__}: {e})") from None
    return record.rec_headers, record.http_headers, payload


def open_reader(db):
    """A function ``capture id → Capture`` reading the WARC folder of the archive ``db``
    (a connection, a sqlite-utils Database, or the archive's path)."""
    if isinstance(db, (str, os.PathLike)):
        from .db import read_only

        db = read_only(db)
    path = db_file(db)
    if path is None:
        raise WarcError("an archive in memory has no WARC folder")
    directory = warc_dir(path)

    def read(capture_id, verify=True):
        row = db.execute(
            "select c.id, c.url, c.final_url, c.status, c.content_type, c.sha256, c.fetched_at, c.warc_file, "
            "c.warc_offset, c.warc_length, c.warc_type, p.warc_file, p.warc_offset, p.warc_length from captures c "
            "left join payloads p on p.sha256 = c.sha256 where c.id = ?", [capture_id]).fetchone()
        if row is None:
            raise WarcError(f"no capture {capture_id}")
        (cid, url, final_url, status, ctype, sha, fetched, file, offset, length, kind,
         pfile, poffset, plength) = row
        if file is None:
            raise WarcError(f"capture {cid} has no WARC record")
        warc, http, payload = read_record(directory, file, offset, length)
        if warc.get_header("WARC-Target-URI") not in (target_uri(final_url or url), target_uri(url)):
            raise WarcError(f"capture {cid}: the record at {file}:{offset} is of "
                            f"{warc.get_header('WARC-Target-URI')}, not {final_url or url}")
        if kind == "revisit":
            if pfile is None:
                raise WarcError(f"capture {cid}: its payload {sha} is in no response record")
            _, _, payload = read_record(directory, pfile, poffset, plength)
        if verify and hashlib.sha256(payload).hexdigest() != sha:
            raise WarcError(f"capture {cid}: the payload read back from {file} does not match its sha256 {sha}")
        headers = list(http.headers) if http is not None else []
        return Capture(cid, url, status, ctype, headers, payload, sha, fetched, kind, file_name(url, ctype, sha))

    return read


_EXTENSION = {"text/html": ".html", "application/pdf": ".pdf", "application/msword": ".doc",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
              "application/vnd.ms-excel": ".xls",
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
              "text/plain": ".txt", "application/zip": ".zip", "text/xml": ".xml", "application/xml": ".xml"}


def file_name(url, content_type, sha256):
    """A sensible download name: the URL's last path part (with an extension its type
    gives when it has none), or the sha256's head."""
    from urllib.parse import unquote, urlsplit

    name = unquote(urlsplit(url or "").path.rstrip("/").rsplit("/", 1)[-1])
    name = "".join(c for c in name if c not in '\\/:*?"<>|\r\n\t') or sha256[:16]
    ext = _EXTENSION.get((content_type or "").split(";")[0].strip().lower())
    if "." not in name and ext:
        name += ext
    return name
