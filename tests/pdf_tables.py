"""PDFs with tables, drawn by reportlab (built-in CID font STSong-Light), to attack the PDF reader.

A page is a list of blocks drawn top to bottom: a string is a line of text; a tuple of
(text, x) pairs a line with its words at those offsets (an unruled table); a :class:`Table`
is drawn ruled.

    pdf = make_pdf([["标题", Table([["a", "b"], ["1", "2"]])], [...next page...]],
                   landscape=False, rotate=0)

``Table.expected()`` is the rows of cells the reader must give back: the text of a merged
cell in its first position, ``None`` in the others.
"""
import io
from dataclasses import dataclass, field

FONT = "STSong-Light"
SIZE = 9
LEADING = 12


@dataclass
class Table:
    rows: list  # rows of cell texts, "\n" between the lines of a wrapped cell; None under a merged cell
    widths: list = None  # column widths (points); default 60 each
    spans: dict = field(default_factory=dict)  # (row, col) -> (rowspan, colspan) of merged cells
    open_top: bool = False  # no rule above the first row (a table continued from the page before)
    open_bottom: bool = False  # no rule under the last row (continued on the next page)

    def heights(self):
        out = []
        for r, row in enumerate(self.rows):
            lines = max((len(c.split("\n")) for k, c in enumerate(row) if c and self.spans.get((r, k), (1, 1))[0] == 1),
                        default=1)
            out.append(lines * LEADING + 8)
        return out

    def expected(self):
        covered = set()
        for (r, k), (rs, cs) in self.spans.items():
            covered |= {(r + i, k + j) for i in range(rs) for j in range(cs)} - {(r, k)}
        return [[None if (r, k) in covered else (c or "") for k, c in enumerate(row)] for r, row in enumerate(self.rows)]


def make_pdf(pages, landscape=False, rotate=0, font=FONT):
    """The PDF of ``pages``; ``landscape`` turns the paper, ``rotate`` sets the page's /Rotate
    and draws the content turned back, so that it shows upright.  ``font="Vera"`` embeds
    reportlab's Vera (Latin only): pdfium has the outlines of an embedded font's glyphs, not
    of the built-in CID font's."""
    import pathlib

    import reportlab
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if font == "Vera":
        pdfmetrics.registerFont(TTFont("Vera", str(pathlib.Path(reportlab.__file__).parent / "fonts" / "Vera.ttf")))
    else:
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    shown_w, shown_h = (A4[1], A4[0]) if landscape else A4  # the page as a viewer shows it
    # reportlab turns the media box itself for /Rotate 90 and 270
    w, h = (shown_h, shown_w) if rotate in (90, 270) else (shown_w, shown_h)
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(shown_w, shown_h))
    for blocks in pages:
        if rotate:
            c.setPageRotation(rotate)
            # content laid out on the page as shown, turned so that the viewer's rotation undoes it
            if rotate == 90:
                c.translate(w, 0)
                c.rotate(90)
            elif rotate == 180:
                c.translate(w, h)
                c.rotate(180)
            elif rotate == 270:
                c.translate(0, h)
                c.rotate(-90)
        c.setFont(font, SIZE)
        y = shown_h - 50
        for block in blocks:
            if isinstance(block, str):
                c.drawString(50, y - SIZE, block)
                y -= LEADING + 4
            elif isinstance(block, tuple):  # ((text, x), ...): a line of an unruled table, word by word
                for text, x in block:
                    c.drawString(50 + x, y - SIZE, text)
                y -= LEADING + 4
            else:
                y = _draw_table(c, block, 50, y) - 10
        c.showPage()
    c.save()
    return out.getvalue()


def _draw_table(c, t, x0, top):
    widths = t.widths or [60] * len(t.rows[0])
    heights = t.heights()
    xs = [x0]
    for wd in widths:
        xs.append(xs[-1] + wd)
    ys = [top]
    for ht in heights:
        ys.append(ys[-1] - ht)
    covered = set()
    for (r, k), (rs, cs) in t.spans.items():
        covered |= {(r + i, k + j) for i in range(rs) for j in range(cs)} - {(r, k)}
    c.setLineWidth(0.6)
    for r, row in enumerate(t.rows):
        for k, text in enumerate(row):
            if (r, k) in covered:
                continue
            rs, cs = t.spans.get((r, k), (1, 1))
            left, right, cell_top, cell_bottom = xs[k], xs[k + cs], ys[r], ys[r + rs]
            if not (t.open_top and r == 0):
                c.line(left, cell_top, right, cell_top)
            if not (t.open_bottom and r + rs == len(t.rows)):
                c.line(left, cell_bottom, right, cell_bottom)
            c.line(left, cell_top, left, cell_bottom)
            c.line(right, cell_top, right, cell_bottom)
            for n, line in enumerate((text or "").split("\n")):
                c.drawString(left + 3, cell_top - 4 - SIZE - n * LEADING, line)
    return ys[-1]
