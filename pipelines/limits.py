"""What one document may cost to read, checked before and while it is read.

A government site may serve anything under a report's link: a zip bomb named
``.docx``, a spreadsheet with one cell at XFD1048576 (the reader would build a grid of
17 billion cells), a 3,000-page PDF, an HTML page of 100 MB.  Each is archived as it
came, and its parse stops at the first limit it passes, with ``parse_status =
too_large`` and the reason (:class:`TooLarge`).  The time and memory a parse may take
are enforced around the worker process that runs it (``crawler/pool.py``).

The limits are generous for real reports (the largest seen: 60 pages, 900 table
cells, 3 MB of HTML) and can be changed per process with :func:`configure`.
"""
import io
import re
import time
import zipfile
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Limits:
    markup_bytes: int = 20 * 1024 * 1024  # an HTML or text document
    unzipped_bytes: int = 300 * 1024 * 1024  # a DOCX/XLSX's parts, inflated
    xml_bytes: int = 60 * 1024 * 1024  # its XML parts (what the reader parses), inflated
    ratio: int = 200  # how many times its stored size a part over 1 MB may inflate to
    pages: int = 500  # a PDF's pages
    cells: int = 200_000  # table cells in a document; a spreadsheet's sheet area
    columns: int = 300  # cells in one table row


LIMITS = Limits()


class TooLarge(Exception):
    """A document over one of the limits; the message says which, in a line."""


def configure(**changes):
    """Change this process's limits (a parse worker sets them from the crawl's settings)."""
    global LIMITS
    LIMITS = replace(LIMITS, **{k: int(v) for k, v in changes.items() if v is not None})
    return LIMITS


# when the document being parsed must be done (time.monotonic()), set by the worker process
# that enforces the parse's time budget (crawler/pool.py); None: no budget in this process
_DEADLINE = None


def start_clock(seconds):
    """A new document's parse starts, with ``seconds`` to take (None or 0: no limit)."""
    global _DEADLINE
    _DEADLINE = time.monotonic() + seconds if seconds else None


def seconds_left():
    """Seconds the document being parsed has left before its worker is killed, or None."""
    return None if _DEADLINE is None else _DEADLINE - time.monotonic()


def _mb(n):
    return f"{n / 1048576:.0f} MB" if n >= 1048576 else f"{n:,} bytes"


def check_markup(body):
    if len(body) > LIMITS.markup_bytes:
        raise TooLarge(f"{_mb(len(body))} of markup or text, over the limit of {_mb(LIMITS.markup_bytes)}")


def check_zip(body):
    """An OOXML file's parts, from its central directory, before anything is inflated.

    The sizes a zip declares are what its reader inflates to (Python's zipfile stops at
    the declared size), so a part that lies about its size cannot go past these limits.
    """
    try:
        infos = zipfile.ZipFile(io.BytesIO(body)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return  # not a zip its reader can open: the reader says so
    total = xml = 0
    for info in infos:
        total += info.file_size
        if info.filename.endswith((".xml", ".rels")):
            xml += info.file_size
        if info.file_size > 1048576 and info.file_size > LIMITS.ratio * max(info.compress_size, 1):
            raise TooLarge(f"part {info.filename} inflates {info.file_size // max(info.compress_size, 1):,} times "
                           f"(to {_mb(info.file_size)}), over the limit of {LIMITS.ratio} (a zip bomb?)")
    if total > LIMITS.unzipped_bytes:
        raise TooLarge(f"its parts inflate to {_mb(total)}, over the limit of {_mb(LIMITS.unzipped_bytes)}")
    if xml > LIMITS.xml_bytes:
        raise TooLarge(f"its XML parts inflate to {_mb(xml)}, over the limit of {_mb(LIMITS.xml_bytes)}")


_CELL_REF = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]{1,3})([0-9]{1,7})\"")
_ROW_REF = re.compile(rb"<(?:\w+:)?row\b[^>]*?\br=\"([0-9]{1,7})\"")


def _column_number(letters):
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def check_sheet_area(body):
    """An XLSX's sheets are read into dense grids spanning their cells: the span of the
    cells each sheet holds, read from its XML before the reader builds the grid."""
    try:
        z = zipfile.ZipFile(io.BytesIO(body))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return
    with z:
        for info in z.infolist():
            if not re.match(r"xl/worksheets/[^/]+\.xml$", info.filename):
                continue
            try:
                data = z.read(info)
            except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
                return  # a damaged part: the reader says so
            rows = [int(m) for m in _ROW_REF.findall(data)]
            refs = _CELL_REF.findall(data)
            cols = [_column_number(c) for c, _ in refs]
            rows += [int(r) for _, r in refs]
            if not rows:
                continue
            width = (max(cols) - min(cols) + 1) if cols else 1
            height = max(rows) - min(rows) + 1
            if width * height > LIMITS.cells:
                raise TooLarge(f"sheet {info.filename.rsplit('/', 1)[1]} spans {height:,} rows × {width:,} columns, "
                               f"over the limit of {LIMITS.cells:,} cells")


def check_pages(n):
    if n > LIMITS.pages:
        raise TooLarge(f"{n:,} pages, over the limit of {LIMITS.pages:,}")


class CellCount:
    """Counts a document's table cells as its reader makes them; raises past the limits."""

    def __init__(self):
        self.total = 0

    def add(self, row):
        n = len(row)
        if n > LIMITS.columns:
            raise TooLarge(f"a table row of {n:,} cells, over the limit of {LIMITS.columns:,}")
        self.total += n
        if self.total > LIMITS.cells:
            raise TooLarge(f"over {LIMITS.cells:,} table cells")
        return row
