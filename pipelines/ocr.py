"""Reports published as page images, read by OCR: the optional extra ``ogi-archive[ocr]``.

The engine is rapidocr 3 on onnxruntime, with the detection and recognition models its
wheel ships (the defaults: other models would be downloaded, and a crawl has no business
downloading models).  Without the extra, nothing here is imported by a parse and image
reports stay ``needs_ocr``.

OCR gives boxes of text with a confidence each.  The tables are rebuilt from them as a
scanned page shows them, and handed to the same table parser as every other input:

- the page's skew is measured from the boxes' top edges and taken out of their centres;
- boxes that hold a number are numeric; full-width digits are folded, and in a number
  column ``o``/``O``/``。``/``〇`` read for 0; a box holding a label and numbers (a line the
  detector did not split) is split;
- numbers whose (deskewed) y centres agree make a row; consecutive rows with no header
  line between them make a table, whose columns are where its numbers stand (so a blank
  cell keeps its place); the label boxes left of the first column go to the row whose y
  centre is nearest; the header boxes above a table go to the column under them (a header
  wrapped over lines is read top to bottom);
- what is left (titles, headings, prose) are lines of text in reading order.

Every value keeps its box's confidence (``Row.scores``); the parsed report's cells carry
it as ``confidence``, and those under :data:`CONFIDENCE_FLOOR` are marked uncertain.
"""
import functools
import io
import math
import re
import statistics
import unicodedata
from dataclasses import dataclass

from .document import Row, clean, text_rows
from .numbers import parse_number

# a cell read with less confidence than this is marked uncertain (and named in a warning);
# measured on rendered clean and scanned pages (tests/test_ocr.py): right digits score
# 0.95 and more, nearly all over 0.99
CONFIDENCE_FLOOR = 0.95
MAX_PAGES = 40  # pages of one report read by OCR (a report longer than this: the rest not read, said)
# seconds of a parse's budget kept for what comes after OCR (the tables, the checks): a page
# is not begun unless this and half as long again as the slowest page so far remain
RESERVE_SECONDS = 3.0
RENDER_DPI = 150  # PDF pages are rendered at this resolution (a scan's usual)
# the engine's settings: the models its wheel ships; pages upright (no angle classifier);
# detection on the page scaled to at most 1280 px a side (recognition reads the full page);
# recognition's narrowest input 96 px wide, not the default 320: a batch is as wide as its
# widest box, and the default padded every two-digit cell of a table to 320 px.  Measured on
# the 8 scanned pages of benchmarks/bench_ocr.py (796 cells): the engine's time a page 2.55 s
# -> 1.4 s, every cell still read right, 1 cell under the confidence floor (none at 320; at
# 48 px, 1.34 s but 170 right cells fell under the floor, so narrower is not better)
ENGINE_PARAMS = {"Global.log_level": "critical", "Global.use_cls": False,
                 "Det.limit_type": "max", "Det.limit_side_len": 1280,
                 "Rec.rec_img_shape": [3, 48, 96]}


def available():
    """Whether the OCR extra is installed (rapidocr and onnxruntime importable)."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("rapidocr", "onnxruntime"))


MISSING = "the OCR extra is not installed (pip install 'ogi-archive[ocr]')"


@functools.lru_cache(maxsize=1)
def engine():
    import logging

    from rapidocr import RapidOCR

    logging.getLogger("RapidOCR").setLevel(logging.CRITICAL)
    return RapidOCR(params=ENGINE_PARAMS)


@dataclass
class Box:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    score: float

    @property
    def cx(self):
        return (self.x0 + self.x1) / 2

    @property
    def cy(self):
        return (self.y0 + self.y1) / 2

    @property
    def h(self):
        return self.y1 - self.y0


# ---- images --------------------------------------------------------------------------------


def open_image(data):
    """Image bytes (JPG, PNG, GIF, BMP, TIFF, WebP…) to an RGB array; None when they are none."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    if image.mode in ("RGBA", "LA", "P"):
        ground = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        ground.paste(rgba, mask=rgba.getchannel("A"))
        image = ground
    return np.asarray(image.convert("RGB"))


def pdf_pages(body, dpi=RENDER_DPI, limit=MAX_PAGES):
    """The pages of a PDF rendered as RGB arrays (pypdfium2), at most ``limit``; and the page count."""
    import numpy as np
    import pypdfium2

    pdf = pypdfium2.PdfDocument(body)
    try:
        n = len(pdf)
        out = []
        for i in range(min(n, limit)):
            page = pdf[i]
            try:
                bitmap = page.render(scale=dpi / 72, grayscale=True)
                out.append(np.asarray(bitmap.to_pil().convert("RGB")))
            finally:
                page.close()
        return out, n
    finally:
        pdf.close()


def docx_images(body):
    """The images of a DOCX in the order its paragraphs show them (word/media/… by relation)."""
    import zipfile

    with zipfile.ZipFile(io.BytesIO(body)) as z:
        names = set(z.namelist())
        xml = z.read("word/document.xml").decode("utf-8", "replace") if "word/document.xml" in names else ""
        rels = z.read("word/_rels/document.xml.rels").decode("utf-8", "replace") \
            if "word/_rels/document.xml.rels" in names else ""
        targets = dict(re.findall(r'Id="([^"]+)"[^>]*?Target="([^"]+)"', rels))
        targets.update({a: b for b, a in re.findall(r'Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)})
        out = []
        for rid in re.findall(r'r:(?:embed|id)="([^"]+)"', xml):
            target = targets.get(rid, "")
            path = "word/" + target.lstrip("/") if not target.startswith("/") else target.lstrip("/")
            path = re.sub(r"word/\.\./", "", path)
            if path in names and re.search(r"\.(png|jpe?g|gif|bmp|tiff?|webp)$", path, re.I):
                out.append(z.read(path))
        return out


# ---- one page --------------------------------------------------------------------------------


def read_page(image):
    """The boxes OCR finds on a page (an RGB array), deskewed; and the skew in degrees."""
    result = engine()(image)
    if result.boxes is None or not len(result.boxes):
        return [], 0.0
    quads = [[(float(x), float(y)) for x, y in q] for q in result.boxes]
    angles = []
    for q in quads:
        (x0, y0), (x1, y1) = q[0], q[1]
        w, h = x1 - x0, abs(q[3][1] - q[0][1])
        if w > 2 * h > 0:
            angles.append(math.atan2(y1 - y0, x1 - x0))
    skew = statistics.median(angles) if angles else 0.0
    cos, sin = math.cos(-skew), math.sin(-skew)
    boxes = []
    for q, text, score in zip(quads, result.txts, result.scores):
        pts = [(x * cos - y * sin, x * sin + y * cos) for x, y in q]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        boxes.append(Box(min(xs), min(ys), max(xs), max(ys), text, float(score)))
    return boxes, math.degrees(skew)


# what OCR reads for 0 in a column of numbers
_ZERO_LOOKALIKES = str.maketrans({"o": "0", "O": "0", "。": "0", "〇": "0", "○": "0", "D": "0", "Q": "0"})
_LOOKALIKE = re.compile(r"^[\doO。〇○DQ]{1,4}$")
_NUMERIC = re.compile(r"^[+\-]?\d[\d,]*(?:\.\d+)?(?:亿元|万元|元|件|条)?$|^[-—/]$")
_MIXED = re.compile(r"^(?P<label>.*?[^\d\s.,+\-—/])\s*(?P<nums>(?:[+\-]?\d[\d,]*(?:\.\d+)?\s*)+)$")


def _numeric(text):
    t = text.replace(" ", "")
    return bool(_NUMERIC.match(t)) and parse_number(t) is not None


def _split_mixed(box):
    """A box holding a label and then numbers (one detected line over several cells): the
    label and each number as boxes of their own, placed in proportion to their characters."""
    m = _MIXED.match(box.text)
    if not m or not re.search(r"[\u4e00-\u9fff]", m.group("label")):
        return [box]
    return _parts(box, [m.group("label").strip()] + m.group("nums").split())


def _split_numbers(box):
    """``0 0 12`` in one box (numbers of neighbouring cells read as one line): each apart."""
    parts = box.text.split()
    if len(parts) < 2 or not all(_numeric(p) for p in parts):
        return [box]
    return _parts(box, parts)


def _parts(box, parts):
    """The parts of a box's text as boxes, each where its characters stand in it."""
    total, width, out, at = len(box.text), box.x1 - box.x0, [], 0
    for part in parts:
        start = box.text.index(part, at)
        end = start + len(part)
        out.append(Box(box.x0 + width * start / total, box.y0, box.x0 + width * end / total, box.y1, part, box.score))
        at = end
    return out


def _lines(boxes, tolerance):
    """Boxes grouped by their y centres (a group's members within ``tolerance`` of its mean)."""
    out = []
    for b in sorted(boxes, key=lambda b: b.cy):
        if out and abs(b.cy - out[-1]["y"]) <= tolerance:
            line = out[-1]
            line["boxes"].append(b)
            line["y"] = sum(x.cy for x in line["boxes"]) / len(line["boxes"])
        else:
            out.append({"y": b.cy, "boxes": [b]})
    return out


def _columns(centres, gap):
    """Column centres: x centres closer than ``gap`` are one column."""
    cols = []
    for x in sorted(centres):
        if cols and x - cols[-1][-1] <= gap:
            cols[-1].append(x)
        else:
            cols.append([x])
    return [sum(c) / len(c) for c in cols]


def page_rows(boxes):
    """A page's boxes as document rows: table rows (label, then a cell a column, blanks kept)
    with the confidence of each value, header rows, and lines of text, top to bottom.
    Also returns the warnings of the page."""
    warnings = []
    split = []
    for b in boxes:
        b.text = unicodedata.normalize("NFKC", b.text).strip()  # full-width digits and brackets
        for part in _split_mixed(b):
            split.extend(_split_numbers(part))
    boxes = [b for b in split if b.text]
    if not boxes:
        return [], warnings
    height = statistics.median(b.h for b in boxes)
    sure = [b for b in boxes if _numeric(b.text)]
    for b in boxes:  # o, O, 。 read for 0 where a column of numbers stands
        if b not in sure and _LOOKALIKE.match(b.text) and any(abs(n.cx - b.cx) < 0.7 * height for n in sure):
            b.text = b.text.translate(_ZERO_LOOKALIKES)
    numeric = [b for b in boxes if _numeric(b.text)]
    rows = [ln for ln in _lines(numeric, 0.45 * height)]
    others = [b for b in boxes if not _numeric(b.text)]
    # a row of one number must have a label beside it (a page number or a date alone is no row)
    kept = []
    for row in rows:
        xs = min(b.x0 for b in row["boxes"])
        if len(row["boxes"]) >= 2 or any(abs(o.cy - row["y"]) <= 0.6 * height and o.x1 <= xs for o in others):
            kept.append(row)
        else:
            others.extend(row["boxes"])
    rows = kept
    used = set()
    blocks = _blocks(rows, others, height)
    items = []  # (y, order, Row)
    for block in blocks:
        items.extend(_block_rows(block, others, used, height, warnings))
    rest = [b for b in others if id(b) not in used]
    for line in _lines(rest, 0.45 * height):
        text = " ".join(b.text for b in sorted(line["boxes"], key=lambda b: b.x0))
        for row in text_rows([text]):
            items.append((line["y"], 1, row))
    items.sort(key=lambda it: (it[0], it[1]))
    return [row for _, _, row in items], warnings


def _blocks(rows, others, height):
    """Consecutive number rows with no header line between them: one table each."""
    blocks = []
    for row in rows:
        if blocks:
            prev = blocks[-1][-1]
            left = min(min(b.x0 for b in prev["boxes"]), min(b.x0 for b in row["boxes"])) - 0.5 * height
            between = [o for o in others if prev["y"] + 0.6 * height < o.cy < row["y"] - 0.6 * height and o.cx > left]
            if not between:
                blocks[-1].append(row)
                continue
        blocks.append([row])
    return blocks


def _block_rows(block, others, used, height, warnings):
    numbers = [b for row in block for b in row["boxes"]]
    columns = _columns([b.cx for b in numbers], 1.5 * height)
    spacing = min((b - a for a, b in zip(columns, columns[1:])), default=4 * height)
    left = min(b.x0 for b in numbers) - 0.3 * height  # the label area ends here
    ys = [row["y"] for row in block]
    pitch = statistics.median([b - a for a, b in zip(ys, ys[1:])]) if len(ys) > 1 else 1.2 * height
    top, bottom = ys[0] - 0.75 * pitch, ys[-1] + 0.75 * pitch
    labels = {i: [] for i in range(len(block))}
    for o in others:
        if id(o) in used or o.cx >= left or not top <= o.cy <= bottom:
            continue
        i = min(range(len(block)), key=lambda k: abs(block[k]["y"] - o.cy))
        labels[i].append(o)
        used.add(id(o))
    out = []
    for i, row in enumerate(block):
        cells, scores = [""] * len(columns), [None] * len(columns)
        placed = True
        for b in sorted(row["boxes"], key=lambda b: b.cx):
            k = min(range(len(columns)), key=lambda j: abs(columns[j] - b.cx))
            if cells[k] or abs(columns[k] - b.cx) > max(spacing / 2, height):
                placed = False
                break
            cells[k], scores[k] = _zero_fixed(b.text), b.score
        if not placed:  # two numbers under one column: the row's numbers in their order, no blanks
            ordered = sorted(row["boxes"], key=lambda b: b.cx)
            cells, scores = [_zero_fixed(b.text) for b in ordered], [b.score for b in ordered]
            warnings.append(f"OCR: a row's numbers ({' '.join(cells)}) do not stand under the table's columns: "
                            "read in their order, blank cells not told")
        label = "".join(b.text for b in sorted(labels[i], key=lambda b: (round(b.x0 / (2 * height)), b.cy)))
        out.append((row["y"], 0, Row([clean(label)] + cells, grid=True, via="ocr", scores=[None] + scores)))
    out.extend(_header(block, columns, spacing, left, others, used, height))
    return out


def _header(block, columns, spacing, left, others, used, height):
    """The header boxes above a table (below whatever stands higher), each column's read top
    to bottom: one grid row of labels, wide headers (a group's) as a line of text above it."""
    first = block[0]["y"]
    above = [o for o in others if id(o) not in used and first - 6 * height < o.cy < first - 0.5 * height]
    if not above:
        return []
    # only the header's own lines: the run of lines right above the table, gaps of under 2 lines
    lines = _lines(above, 0.45 * height)
    keep, last = [], first
    for line in reversed(lines):  # (a line all in the label area is a heading above the table)
        if last - line["y"] > 2.6 * height or all(b.cx < left for b in line["boxes"]):
            break
        keep.extend(line["boxes"])
        last = line["y"]
    if not keep:
        return []
    stacks = {k: [] for k in range(-1, len(columns))}
    wide = []
    for o in keep:
        if o.cx < left:
            stacks[-1].append(o)
        elif o.x1 - o.x0 > 1.6 * spacing and len(columns) > 1:
            wide.append(o)
        else:
            stacks[min(range(len(columns)), key=lambda j: abs(columns[j] - o.cx))].append(o)
    if not any(stacks[k] for k in range(len(columns))):
        return []
    for o in keep:
        used.add(id(o))
    y = min(o.cy for o in keep)
    cells = ["".join(b.text for b in sorted(stacks[k], key=lambda b: (b.cy, b.x0))) for k in range(-1, len(columns))]
    out = []
    if wide:
        out.append((y - 0.01, 0, Row([" ".join(b.text for b in sorted(wide, key=lambda b: (b.cy, b.x0)))])))
    out.append((y, 0, Row([clean(c) for c in cells], grid=True, via="ocr")))
    return out


def _zero_fixed(text):
    t = text.replace(" ", "")
    fixed = t.translate(_ZERO_LOOKALIKES)
    return fixed if fixed != t and parse_number(fixed) is not None else t


def ocr_rows(images):
    """Rows of the pages (RGB arrays), each page after the one before; warnings; seconds a page;
    and how many pages were read.  The parse's time budget (:func:`pipelines.limits.seconds_left`)
    stops the reading before a page that would not end in time, so a long report keeps the
    pages read rather than losing all to a killed parse."""
    import time

    from .limits import seconds_left

    rows, warnings = [], []
    started = time.monotonic()
    slowest, read = 0.0, 0
    for n, image in enumerate(images, 1):
        left = seconds_left()
        if read and left is not None and left < RESERVE_SECONDS + 1.5 * slowest:
            warnings.append(f"OCR: pages {n}-{len(images)} of {len(images)} not read: the parse's time budget "
                            f"would not hold them ({slowest:.1f} s a page read; "
                            f"ogi-archive reparse --ocr --seconds N reads them with more time)")
            break
        t = time.monotonic()
        boxes, _ = read_page(image)
        page, said = page_rows(boxes)
        slowest = max(slowest, time.monotonic() - t)
        read += 1
        rows.extend(page)
        warnings.extend(f"page {n}: {w}" for w in said)
        if not boxes:
            warnings.append(f"OCR: page {n} holds no text it could read")
    return rows, warnings, (time.monotonic() - started) / max(1, read), read


def mark_low_confidence(cells, floor=CONFIDENCE_FLOOR):
    """Cells read with a confidence under ``floor`` are marked uncertain; one warning names them."""
    low = [c for c in cells if c.get("confidence") is not None and c["confidence"] < floor]
    for c in low:
        c["uncertain"] = True
    if not low:
        return []
    names = ", ".join(f"{c['table']}.{c['row']}.{c['column']} ({c['raw']}, {c['confidence']:.2f})" for c in low[:20])
    more = f" and {len(low) - 20} more" if len(low) > 20 else ""
    return [f"OCR: {len(low)} cells read with a confidence under {floor:g}, marked uncertain: {names}{more}"]
