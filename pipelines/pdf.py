"""PDF reports: text and table grids from pypdfium2.

Every page is read once by pypdfium2: its characters with their boxes and its
path objects.  Thin paths (and the edges of shaded rectangles) are ruling lines;
the rules that cross each other make a table, whose cells are the rectangles
the rules enclose (a cell that spans several rows or columns of the table's
grid puts its text in its first position, ``None`` in the others).  Where a
statistics page has no rules, lines whose characters fall into the same
columns (x-gaps shared by every line of the block) make an unruled table.
The text outside tables stays lines in reading order.  Pages without a table
are read as pypdfium2's text.
"""
import ctypes
import re
from bisect import bisect_right
from unicodedata import east_asian_width

from . import limits
from .document import Document, Row, clean, text_rows

# what a page with a statistics table says (prose mentioning 行政复议 or 统计期限 does not count):
# unruled tables are looked for on these pages only
_TABLE_HINT = re.compile(r"第二十条|信息内容|申请人情况|本年新收|上年结转|办理结果|结转下年度|结果维持|尚未审结|统计表|附表|指标名称")

SNAP = 3.0  # rules this close are one line (points), as pdfplumber's snap and join tolerances
RULE_WIDTH = 3.0  # a path thinner than this is a rule
WHITE = 250  # a fill or stroke lighter than this in every channel is not seen (Word's cell backgrounds)


def pdf_document(body):
    """Text lines and table rows of every page, in reading order."""
    import pypdfium2

    pages, meta, any_text = [], {}, False
    try:
        pdf = pypdfium2.PdfDocument(body)
    except pypdfium2.PdfiumError as e:
        return Document(kind="unreadable", warnings=[f"the PDF could not be read: {e}"])
    fallback = []
    try:
        limits.check_pages(len(pdf))
        meta = {k: v for k, v in (pdf.get_metadata_dict() or {}).items() if v}
        for i in range(len(pdf)):
            page = pdf[i]
            tp = page.get_textpage()
            try:
                text = tp.get_text_range()
                any_text = any_text or bool(text.strip())
                page_rows, doubt = _page_rows(page, tp, text)
            finally:
                tp.close()
                page.close()
            if doubt:
                fallback.append(i)
            if page_rows is None:
                page_rows = list(text_rows(text.splitlines()))
            pages.append(page_rows)
    finally:
        pdf.close()
    if not any_text:
        return Document(kind="image", meta=meta, warnings=["the PDF has no text layer (scanned images): needs OCR"])
    if fallback:
        _plumber_fallback(body, pages, fallback)
    return Document(kind="pdf", rows=[r for rows in pages for r in rows], meta=meta, warnings=[])


# ---- characters and rules ----------------------------------------------------------------


class _Page:
    """Coordinates of one page, turned as it is shown: x to the right, y down from the top."""

    def __init__(self, page):
        x0, y0, x1, y1 = page.get_cropbox()
        self.box = (x0, y0, x1, y1)
        self.rotation = page.get_rotation() % 360

    def rect(self, left, bottom, right, top):
        """A PDF rectangle (y up) as (x0, top, x1, bottom) on the page as shown."""
        x0, y0, x1, y1 = self.box
        r = self.rotation
        if r == 90:
            return (bottom - y0, left - x0, top - y0, right - x0)
        if r == 180:
            return (x1 - right, bottom - y0, x1 - left, top - y0)
        if r == 270:
            return (y1 - top, x1 - right, y1 - bottom, x1 - left)
        return (left - x0, y1 - top, right - x0, y1 - bottom)

    def baseline(self, x, y):
        """How far down the page as shown a character's origin lies."""
        x0, y0, x1, y1 = self.box
        return {90: x - x0, 180: y - y0, 270: x1 - x}.get(self.rotation, y1 - y)


def _chars(tp, text, geo):
    """(x0, top, x1, bottom, char, baseline) of every printed character, spaces the PDF
    prints included (pdfium's own spaces and line breaks left out).

    Tight boxes: pdfium's loose boxes come from the font's bounding box, which some
    embedded CJK subsets give as 20 characters wide."""
    from pypdfium2 import raw

    n = tp.count_chars()
    if len(text) != n:  # characters outside the BMP: one index, two UTF-16 units
        text = "".join(chr(raw.FPDFText_GetUnicode(tp.raw, i)) for i in range(n))
    l, r, b, t = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    refs = (ctypes.byref(l), ctypes.byref(r), ctypes.byref(b), ctypes.byref(t))
    ox, oy = ctypes.c_double(), ctypes.c_double()
    origin = (ctypes.byref(ox), ctypes.byref(oy))
    get_box, get_origin = raw.FPDFText_GetCharBox, raw.FPDFText_GetCharOrigin
    to_page, baseline = geo.rect, geo.baseline
    handle = tp.raw
    out = []
    generated = raw.FPDFText_IsGenerated
    for i, ch in enumerate(text):
        if ch.isspace() and (ch != " " or generated(handle, i)):  # line breaks; the spaces pdfium puts between words
            continue
        if ch == "\x00" or not get_box(handle, i, *refs):
            continue
        get_origin(handle, i, *origin)
        x0, top, x1, bottom = to_page(l.value, b.value, r.value, t.value)
        base = baseline(ox.value, oy.value)
        if bottom - top < 0.5:  # a glyph pdfium has no outline for: as tall as the one before, on its baseline
            h = out[-1][3] - out[-1][1] if out else max(x1 - x0, 1.0)
            top, bottom = base - 0.85 * h, base + 0.15 * h
        out.append((x0, top, x1, bottom, ch, base))
    return out


def _matrix(obj):
    from pypdfium2 import raw

    m = raw.FS_MATRIX()
    raw.FPDFPageObj_GetMatrix(obj, ctypes.byref(m))
    return (m.a, m.b, m.c, m.d, m.e, m.f)


def _compose(m, parent):
    """The matrix ``m`` then ``parent`` (PDF row-vector convention)."""
    a, b, c, d, e, f = m
    A, B, C, D, E, F = parent
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


_IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _apply(m, x, y):
    return (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])


def _seen(obj, stroke):
    """The path's stroke (or fill) colour shows on white paper."""
    from pypdfium2 import raw

    r, g, b, a = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
    get = raw.FPDFPageObj_GetStrokeColor if stroke else raw.FPDFPageObj_GetFillColor
    if not get(obj, r, g, b, a):
        return True
    return a.value > 0 and min(r.value, g.value, b.value) < WHITE


def _rules(page, geo):
    """Horizontal rules (y, x0, x1) and vertical rules (x, y0, y1) on the page as shown,
    and whether the page draws inside form XObjects."""
    from pypdfium2 import raw

    hs, vs = [], []
    forms = False
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    l, b, r, t = ctypes.c_float(), ctypes.c_float(), ctypes.c_float(), ctypes.c_float()

    def add(x0, top, x1, bottom):
        w, h = x1 - x0, bottom - top
        if h <= RULE_WIDTH and w > h:
            hs.append(((top + bottom) / 2, x0, x1))
        elif w <= RULE_WIDTH and h > w:
            vs.append(((x0 + x1) / 2, top, bottom))

    def box(m, left, bottom, right, top):
        (ax, ay), (bx, by) = _apply(m, left, bottom), _apply(m, right, top)
        return geo.rect(min(ax, bx), min(ay, by), max(ax, bx), max(ay, by))

    def walk(container, count, get, m, depth):
        nonlocal forms
        for k in range(count(container)):
            obj = get(container, k)
            kind = raw.FPDFPageObj_GetType(obj)
            if kind == raw.FPDF_PAGEOBJ_FORM:
                forms = True
                if depth < 4:
                    walk(obj, raw.FPDFFormObj_CountObjects, raw.FPDFFormObj_GetObject,
                         _compose(_matrix(obj), m), depth + 1)
                continue
            if kind != raw.FPDF_PAGEOBJ_PATH:
                continue
            raw.FPDFPath_GetDrawMode(obj, ctypes.byref(fill), ctypes.byref(stroke))
            filled, stroked = fill.value != 0, bool(stroke.value)
            if not filled and not stroked:
                continue
            raw.FPDFPageObj_GetBounds(obj, l, b, r, t)
            x0, top, x1, bottom = box(m, l.value, b.value, r.value, t.value)
            thin = min(x1 - x0, bottom - top) <= RULE_WIDTH
            nseg = raw.FPDFPath_CountSegments(obj)
            if thin and nseg <= 5:  # a line, or a thin filled rectangle: one rule
                if (stroked and _seen(obj, True)) or (filled and _seen(obj, False)):
                    add(x0, top, x1, bottom)
                continue
            if nseg <= 5 and _rectangle(obj, nseg):  # a shaded or framed box: its four edges
                if (stroked and _seen(obj, True)) or (filled and _seen(obj, False)):
                    add(x0, top, x1, top)
                    add(x0, bottom, x1, bottom)
                    add(x0, top, x0, bottom)
                    add(x1, top, x1, bottom)
                continue
            if stroked and _seen(obj, True):  # many lines in one path: its straight segments
                for x0, y0, x1, y1 in _segments(obj, nseg, _compose(_matrix(obj), m)):
                    add(*geo.rect(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))

    walk(page.raw, raw.FPDFPage_CountObjects, raw.FPDFPage_GetObject, _IDENTITY, 0)
    return hs, vs, forms


def _rectangle(obj, nseg):
    """A path of four straight sides (or a rectangle operator): no curves."""
    from pypdfium2 import raw

    for s in range(nseg):
        if raw.FPDFPathSegment_GetType(raw.FPDFPath_GetPathSegment(obj, s)) == raw.FPDF_SEGMENT_BEZIERTO:
            return False
    return nseg >= 4


def _segments(obj, nseg, m):
    """The axis-parallel straight segments of a path, in PDF page space."""
    from pypdfium2 import raw

    x, y = ctypes.c_float(), ctypes.c_float()
    start = prev = None
    out = []
    for s in range(nseg):
        seg = raw.FPDFPath_GetPathSegment(obj, s)
        raw.FPDFPathSegment_GetPoint(seg, ctypes.byref(x), ctypes.byref(y))
        point = _apply(m, x.value, y.value)
        kind = raw.FPDFPathSegment_GetType(seg)
        if kind == raw.FPDF_SEGMENT_LINETO and prev is not None:
            out.append((*prev, *point))
        if kind == raw.FPDF_SEGMENT_MOVETO:
            start = point
        prev = point
        if raw.FPDFPathSegment_GetClose(seg) and start is not None and prev != start:
            out.append((*prev, *start))
            prev = start
    return [(x0, y0, x1, y1) for x0, y0, x1, y1 in out if abs(x0 - x1) < 0.5 or abs(y0 - y1) < 0.5]


# ---- rules to tables ---------------------------------------------------------------------


def _snap(values):
    """Each value to the mean of its cluster (values within SNAP of their neighbour)."""
    out = {}
    order = sorted(set(values))
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and order[j + 1] - order[j] <= SNAP:
            j += 1
        mean = sum(order[i:j + 1]) / (j + 1 - i)
        for v in order[i:j + 1]:
            out[v] = mean
        i = j + 1
    return out


def _join(segments):
    """Collinear segments (pos, a, b) that touch or overlap, joined."""
    snapped = _snap([s[0] for s in segments])
    by_pos = {}
    for pos, a, b in segments:
        by_pos.setdefault(snapped[pos], []).append((a, b))
    out = []
    for pos, spans in by_pos.items():
        spans.sort()
        a, b = spans[0]
        for c, d in spans[1:]:
            if c <= b + SNAP:
                b = max(b, d)
            else:
                out.append((pos, a, b))
                a, b = c, d
        out.append((pos, a, b))
    return out


def _tables(hs, vs):
    """Groups of rules that cross one another: (horizontal rules, vertical rules) of each table."""
    hs, vs = _join(hs), _join(vs)
    parent = list(range(len(hs) + len(vs)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, (y, x0, x1) in enumerate(hs):
        for j, (x, y0, y1) in enumerate(vs):
            if x0 - SNAP <= x <= x1 + SNAP and y0 - SNAP <= y <= y1 + SNAP:
                parent[find(i)] = find(len(hs) + j)
    groups = {}
    for i, h in enumerate(hs):
        groups.setdefault(find(i), ([], []))[0].append(h)
    for j, v in enumerate(vs):
        groups.setdefault(find(len(hs) + j), ([], []))[1].append(v)
    return [g for g in groups.values() if len(g[0]) >= 2 and len(g[1]) >= 2]


def _covers(rules, pos, at):
    """A rule at ``pos`` (within SNAP) runs through the point ``at`` along it."""
    return any(abs(p - pos) <= SNAP and a - SNAP <= at <= b + SNAP for p, a, b in rules)


class _Grid:
    """A ruled table: the x and y positions of its rules, and its cells (merged ones spanning several)."""

    def __init__(self, hs, vs):
        hs, vs = _closed(hs, vs), _closed(vs, hs)
        self.xs = sorted(_levels([v[0] for v in vs]))
        self.ys = sorted(_levels([h[0] for h in hs]))
        self.bbox = (self.xs[0], self.ys[0], self.xs[-1], self.ys[-1])
        nr, nc = len(self.ys) - 1, len(self.xs) - 1
        anchor = {}
        # a fine cell belongs to the cell on its left or above when no rule separates them
        for i in range(nr):
            mid_y = (self.ys[i] + self.ys[i + 1]) / 2
            for j in range(nc):
                mid_x = (self.xs[j] + self.xs[j + 1]) / 2
                if j > 0 and not _covers(vs, self.xs[j], mid_y):
                    anchor[i, j] = anchor[i, j - 1]
                elif i > 0 and not _covers(hs, self.ys[i], mid_x):
                    anchor[i, j] = anchor[i - 1, j]
                else:
                    anchor[i, j] = (i, j)
        self.anchor = anchor
        self.shape = (nr, nc)

    def cell_of(self, x, y):
        i, j = bisect_right(self.ys, y) - 1, bisect_right(self.xs, x) - 1
        if 0 <= i < self.shape[0] and 0 <= j < self.shape[1]:
            return self.anchor[i, j]
        return None

    def rows(self, chars):
        texts = {}
        for c in chars:
            texts.setdefault(self.cell_of((c[0] + c[2]) / 2, (c[1] + c[3]) / 2), []).append(c)
        nr, nc = self.shape
        out = []
        for i in range(nr):
            out.append([_text(texts.get((i, j), ())) if self.anchor[i, j] == (i, j) else None for j in range(nc)])
        return out


def _closed(rules, across):
    """``rules`` and, where two or more of the rules ``across`` them run on past the last
    (or first) of them, a rule where those end: the open edge of a table split over pages,
    or of a table drawn without its outer frame."""
    first, last = min(r[0] for r in rules), max(r[0] for r in rules)
    lo, hi = min(r[0] for r in across), max(r[0] for r in across)
    out = list(rules)
    ends = sorted(r[2] for r in across if r[2] > last + SNAP)
    if len(ends) >= 2:
        out.append((ends[-2], lo, hi))
    starts = sorted(r[1] for r in across if r[1] < first - SNAP)
    if len(starts) >= 2:
        out.append((starts[1], lo, hi))
    return out


def _levels(values):
    snapped = _snap(values)
    return set(snapped.values())


# ---- characters to text -----------------------------------------------------------------------


def _lines(chars):
    """Characters grouped into lines (top to bottom) by their baselines, each sorted left to right."""
    lines = []
    for c in sorted(chars, key=lambda c: c[5]):
        if lines:
            line = lines[-1]
            if c[5] - line[0] <= max(1.0, 0.25 * line[1]):
                line[2].append(c)
                line[1] = max(line[1], c[3] - c[1])
                continue
        lines.append([c[5], c[3] - c[1], [c]])
    return [sorted(line[2], key=lambda c: c[0]) for line in lines]


def _line_text(line):
    """A line's characters, with a space where the gap after a character is wider than half
    a character (a wide character's advance is a full em, whatever its ink)."""
    em = max(c[3] - c[1] for c in line)
    parts, end = [], None
    for c in line:
        if c[4] == " ":
            parts.append(" ")
            continue
        if end is not None and c[0] - end > 0.5 * em:
            parts.append(" ")
        parts.append(c[4])
        end = max(c[2], c[0] + em * 0.9) if east_asian_width(c[4]) in "WF" else c[2]
    return re.sub(" {2,}", " ", "".join(parts)).strip()


def _text(chars):
    """A cell's text: its lines joined by newlines."""
    return "\n".join(_line_text(line) for line in _lines(chars)) if chars else ""


# ---- a page -------------------------------------------------------------------------------------------


def _page_rows(page, tp, text):
    """The page's rows when it holds a table (text outside the tables as prose lines), else None;
    and whether pypdfium2 may have missed the table: text objects it gives no text for (a font
    it has no glyphs of), or, on a page that speaks of a table, rules inside form XObjects."""
    geo = _Page(page)
    hs, vs, forms = _rules(page, geo)
    grids = [_Grid(h, v) for h, v in _tables(hs, vs)] if hs and vs else []
    hinted = bool(_TABLE_HINT.search(text) and re.search(r"\d", text))
    if not grids and not hinted:
        return None, False
    if _lost_text(page, tp):
        return None, True
    if not grids and forms:
        return None, True
    chars = _chars(tp, text, geo)
    tables, rest = [], chars
    for grid in grids:
        x0, y0, x1, y1 = grid.bbox
        inside, outside = [], []
        for c in rest:
            x, y = (c[0] + c[2]) / 2, (c[1] + c[3]) / 2
            (inside if x0 <= x <= x1 and y0 <= y <= y1 else outside).append(c)
        rest = outside
        tables.append((y0, grid.rows(inside)))
    lines = _lines(rest)
    if hinted:
        lines, unruled = _unruled(lines)
        tables += unruled
    lines = [(min(c[1] for c in line), _line_text(line)) for line in lines]
    if not any(_is_table(t) for _, t in tables):
        return None, False
    return _assemble(lines, tables), False


COLUMN_GAP = 1.5  # in an unruled table, columns are further apart than this many characters


def _segments_of(line):
    """A line's runs of characters, split where the gap is wider than COLUMN_GAP characters."""
    line = [c for c in line if c[4] != " "]
    if not line:
        return []
    em = max(c[3] - c[1] for c in line)
    runs = [[line[0]]]
    for c in line[1:]:
        if c[0] - runs[-1][-1][2] > COLUMN_GAP * em:
            runs.append([])
        runs[-1].append(c)
    return runs


def _unruled(lines):
    """Tables drawn without rules: runs of two or more consecutive lines that break into
    columns of characters, some with a number; the columns are the x-gaps no line of the
    run crosses.  Returns the lines left and each row as a table of its own, (top, [cells]),
    so that a line between two rows (a wrapped label) keeps its place."""
    split = [len(_segments_of(line)) > 1 for line in lines]
    rest, tables, i = [], [], 0
    bounds, end = None, -2  # the columns of the last block, and the index of its last line
    while i < len(lines):
        if not split[i]:
            rest.append(lines[i])
            i += 1
            continue
        j = i
        while j < len(lines) and split[j]:
            j += 1
        block = lines[i:j]
        # a row after a wrapped label line continues the rows above it
        found = (_columns(block, bounds) if bounds and i - end <= 2 else None) \
            or (_columns(block) if len(block) >= 2 else None)
        if found is None:
            rest.extend(block)
        else:
            grid, bounds, end = *found, j - 1
            tables += [(min(c[1] for c in line), [cells]) for line, cells in zip(block, grid)]
        i = j
    return rest, tables


def _columns(block, given=None):
    """(rows of cells, column bounds) of an unruled block, or None when its lines share no
    column gap or hold no number.  ``given``: the columns of the rows above, which the
    block's characters must not cross."""
    spans = sorted((c[0], c[2]) for line in block for c in line if c[4] != " ")
    em = max(c[3] - c[1] for line in block for c in line)
    if given:
        if any(a < x < b for a, b in spans for x in given):
            return None
        bounds = given
    else:
        bounds, end = [], spans[0][1]
        for a, b in spans[1:]:
            if a - end > em:
                bounds.append((a + end) / 2)
            end = max(end, b)
    if not bounds or not any(c[4].isdigit() for line in block for c in line):
        return None
    rows = []
    for line in block:
        cells = [[] for _ in range(len(bounds) + 1)]
        for c in line:
            cells[bisect_right(bounds, (c[0] + c[2]) / 2)].append(c)
        rows.append([_line_text(cell) if cell else "" for cell in cells])
    return rows, bounds


def _lost_text(page, tp):
    """pdfium leaves out of the text page some text objects of fonts it has no outlines for
    (a non-embedded CID font such as STSong-Light: a character after a line break in a
    cell, all text on a rotated page); such an object has no text there."""
    from pypdfium2 import raw

    get, kind, text = raw.FPDFPage_GetObject, raw.FPDFPageObj_GetType, raw.FPDFTextObj_GetText
    handle, tph = page.raw, tp.raw
    for k in range(raw.FPDFPage_CountObjects(handle)):
        obj = get(handle, k)
        if kind(obj) == raw.FPDF_PAGEOBJ_TEXT and text(obj, tph, None, 0) <= 2:
            return True
    return False


def _is_table(grid):
    """More than prose in a box: some row has two cells with text."""
    return any(sum(1 for c in r if c) > 1 for r in grid)


def _assemble(lines, tables):
    """Text outside the tables as lines, and the tables' rows, in reading order."""
    out = []
    items = [(top, 0, text) for top, text in lines] + [(top, 1, grid) for top, grid in tables]
    for _, what, content in sorted(items, key=lambda x: (x[0], x[1])):
        if what == 0:
            for row in text_rows([content]):
                row.prose = True
                out.append(row)
        else:
            grid = [[clean(c) if c is not None else None for c in r] for r in content]
            framed_text = not _is_table(grid)  # prose in a box, not a table
            for cells in grid:
                if framed_text or sum(1 for c in cells if c) <= 1:
                    out.extend(text_rows([c for c in cells if c]))
                elif any(cells):
                    out.append(Row(cells, grid=True, via="pdf"))
    return out


# ---- pdfplumber, for rules pypdfium2 cannot place ---------------------------------------------


def _plumber_fallback(body, pages, numbers):
    """The pages pypdfium2 may have misread, read by pdfplumber: its table finder, and its text."""
    import io

    import pdfplumber

    with pdfplumber.open(io.BytesIO(body)) as plumber:
        for i in numbers:
            page = plumber.pages[i]
            found = [(t.bbox, t.extract()) for t in page.find_tables()]
            pages[i] = _plumber_rows(page, found) if found else list(text_rows((page.extract_text() or "").splitlines()))
            page.close()


def _plumber_rows(page, tables):
    words = page.extract_words(keep_blank_chars=True, use_text_flow=True)

    def outside(w):
        x, y = (w["x0"] + w["x1"]) / 2, (w["top"] + w["bottom"]) / 2
        return not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b, _ in tables)

    lines = {}
    for w in words:
        if outside(w):
            lines.setdefault(round(w["top"] / 3), []).append(w)
    text_lines = [(min(x["top"] for x in ws), "".join(x["text"] for x in sorted(ws, key=lambda x: x["x0"])))
                  for ws in lines.values()]
    return _assemble(text_lines, [(b[1], grid) for b, grid in tables])
