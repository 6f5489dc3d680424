"""Report pages rendered as images from known tables, for the OCR reader: the national
tables of either format (formats.py's printed wording), drawn with a CJK font into ruled
cells with PIL, and the same page made to look scanned (turned slightly, blurred, grey,
JPEG-compressed).

    values = known_values("2021", seed=3)        # {(table, row, column): number}, adding up
    pages = render_report("2021", values, SANS)  # [PIL images]: title + 第二十条 + table 4, table 3
    scan = scanned(pages[0], angle=0.6)          # what a scanner makes of it
"""
import io
import pathlib
import random

from pipelines import formats as F

NOTO = pathlib.Path("/usr/share/fonts/opentype/noto")
SANS = NOTO / "NotoSansCJK-Regular.ttc"
SERIF = NOTO / "NotoSerifCJK-Regular.ttc"
FONTS_MISSING = "the Noto CJK fonts (Debian fonts-noto-cjk, installed by .ci/run) are not at " + str(NOTO)


def fonts_present():
    return SANS.exists() and SERIF.exists()


# ---- known tables -----------------------------------------------------------------------

_PRINTED_ROWS = {k.key: k.printed for k in F.REQUEST_ROWS}
_PRINTED_ACTIVE = {k.key: k.printed for k in F.ACTIVE_ROWS}
_GROUPS = {  # the second label column's groups of the requests table (rowspans)
    "denied": "（三）不予公开", "unable": "（四）无法提供", "ignored": "（五）不予处理", "other": "（六）其他处理"}


def known_values(fmt, seed=0):
    """Every cell of the format's three tables, random but adding up as the identities say."""
    rnd = random.Random(seed)
    f = F.FORMATS[fmt]
    out = {}
    for sub in f.active:
        for row in sub.rows:
            for col in sub.columns:
                if col == "amount":
                    out["active", row, col] = round(rnd.uniform(1, 900), rnd.choice((1, 2)))
                elif col == "change":
                    out["active", row, col] = rnd.randint(0, 9)
                else:
                    out["active", row, col] = rnd.choice((0, rnd.randint(1, 99), rnd.randint(100, 3000)))
    orgs = F.APPLICANT_COLUMNS

    def row_of(big):
        cells = {c: (rnd.randint(0, big) if rnd.random() < 0.5 else 0) for c in orgs}
        return cells

    outcome = {r: row_of(rnd.choice((3, 12, 40))) for r in f.outcome_rows}
    total_processed = {c: sum(outcome[r][c] for r in f.outcome_rows) for c in orgs}
    carried_forward = row_of(6)
    carried_over = {c: min(rnd.randint(0, 5), total_processed[c] + carried_forward[c]) for c in orgs}
    new_received = {c: total_processed[c] + carried_forward[c] - carried_over[c] for c in orgs}
    rows = {"new_received": new_received, "carried_over": carried_over, **outcome,
            "total_processed": total_processed, "carried_forward": carried_forward}
    for row, cells in rows.items():
        for c in orgs:
            out["requests", row, c] = cells[c]
        out["requests", row, "total"] = sum(cells.values())
    for row in F.REVIEW_ROWS:
        parts = [rnd.choice((0, 0, rnd.randint(1, 30))) for _ in range(4)]
        for col, v in zip(("upheld", "corrected", "other", "pending"), parts):
            out["review_litigation", row.key, col] = v
        out["review_litigation", row.key, "total"] = sum(parts)
    return out


def printed(value):
    return f"{value:g}" if isinstance(value, float) else str(value)


# ---- drawing ------------------------------------------------------------------------------


class _Canvas:
    def __init__(self, font_path, width=1500, height=2100, size=24):
        from PIL import Image, ImageDraw, ImageFont

        self.image = Image.new("L", (width, height), 255)
        self.draw = ImageDraw.Draw(self.image)
        self.font = ImageFont.truetype(str(font_path), size)
        self.big = ImageFont.truetype(str(font_path), int(size * 1.3))
        self.size = size
        self.line = int(size * 1.5)
        self.y = 80

    def text(self, x, y, s, font=None):
        self.draw.text((x, y), s, font=font or self.font, fill=0)

    def width(self, s, font=None):
        return self.draw.textlength(s, font=font or self.font)

    def wrap(self, s, width):
        lines, line = [], ""
        for ch in s:
            if self.width(line + ch) > width - 16 and line:
                lines.append(line)
                line = ""
            line += ch
        return lines + [line]

    def cell(self, x0, y0, x1, y1, s, center=True):
        self.draw.rectangle((x0, y0, x1, y1), outline=0, width=2)
        lines = self.wrap(s, x1 - x0) if s else []
        top = (y0 + y1) / 2 - len(lines) * self.line / 2 + (self.line - self.size) / 2
        for i, line in enumerate(lines):
            w = self.width(line)
            x = (x0 + x1 - w) / 2 if center else x0 + 8
            self.text(x, top + i * self.line, line)

    def heading(self, s, font=None, x=80):
        self.text(x, self.y, s, font=font)
        self.y += int(self.line * 1.6)

    def table(self, widths, rows, x0=80):
        """``rows``: [(height in lines, [(text, columns spanned, rows spanned)])]; a cell goes
        to the first position of its row that no cell above spans."""
        xs = [x0]
        for w in widths:
            xs.append(xs[-1] + w)
        ys = [self.y]
        for h, _ in rows:
            ys.append(ys[-1] + h * self.line + 12)
        covered = set()
        for i, (_, cells) in enumerate(rows):
            j = 0
            for text, cspan, rspan in cells:
                while (i, j) in covered:
                    j += 1
                covered.update((i + di, j + dj) for di in range(rspan) for dj in range(cspan))
                self.cell(xs[j], ys[i], xs[j + cspan], ys[i + rspan], text, center=cspan < 3)
                j += cspan
        self.y = ys[-1] + self.line


def _active(c, fmt, values):
    c.heading("二、主动公开政府信息情况", font=c.big)
    for sub in F.FORMATS[fmt].active:
        headers = [next(k.printed for k, f in sorted(F.ACTIVE_COLUMNS, key=lambda kf: kf[1] is None)
                        if k.key == col and f in (fmt, None)) for col in sub.columns]
        n = len(sub.columns)
        widths = [400] + [int(900 / n)] * n
        rows = [(1, [(sub.item, n + 1, 1)]),
                (2 if max(len(h) for h in headers) * c.size > 900 / n - 16 else 1,
                 [("信息内容", 1, 1)] + [(h, 1, 1) for h in headers])]
        for row in sub.rows:
            rows.append((1, [(_PRINTED_ACTIVE[row], 1, 1)] +
                         [(printed(values["active", row, col]), 1, 1) for col in sub.columns]))
        c.table(widths, rows)


def _review(c, values):
    c.heading("四、政府信息公开行政复议、行政诉讼情况", font=c.big)
    heads = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")
    widths = [1340 // 15] * 15
    rows = [(1, [("行政复议", 5, 2), ("行政诉讼", 10, 1)]),
            (1, [("未经复议直接起诉", 5, 1), ("复议后起诉", 5, 1)]),
            (2, [(h, 1, 1) for h in heads * 3]),
            (1, [(printed(values["review_litigation", r, k]), 1, 1) for r in ("review", "suit_direct", "suit_after_review")
                 for k in ("upheld", "corrected", "other", "pending", "total")])]
    c.table(widths, rows)


def _request_label_cells(fmt):
    """The label columns of each row of table 3 (three columns, rowspans as printed)."""
    f = F.FORMATS[fmt]
    rows = list(f.request_rows)
    out = {}
    groups = {"denied": [r for r in rows if r.startswith("denied")], "unable": [r for r in rows if r.startswith("unable")],
              "ignored": [r for r in rows if r.startswith("ignored")],
              "other": [r for r in rows if r.startswith("other_")]}
    outcome_rows = [r for r in rows if r in f.outcome_rows or r == "total_processed"]
    for r in rows:
        text = _PRINTED_ROWS[r]
        if r in ("new_received", "carried_over", "carried_forward"):
            out[r] = [(text, 3, 1)]
            continue
        lead = [("三、本年度办理结果", 1, len(outcome_rows))] if r == outcome_rows[0] else []
        group = next((g for g, members in groups.items() if r in members), None)
        if group is None:
            out[r] = lead + [(text, 2, 1)]
        else:
            short = text.split("）", 1)[-1] if text.startswith("（") else text
            first = [(_GROUPS[group], 1, len(groups[group]))] if r == groups[group][0] else []
            out[r] = lead + first + [(short.split(" ")[-1], 1, 1)]
    return out


def _requests(c, fmt, values):
    c.heading("三、收到和处理政府信息公开申请情况", font=c.big)
    orgs = ("商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")
    widths = [130, 150, 390] + [90] * 7
    rows = [(1, [("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", 3, 3), ("申请人情况", 7, 1)]),
            (1, [("自然人", 1, 2), ("法人或其他组织", 5, 1), ("总计", 1, 2)]),
            (3, [(o, 1, 1) for o in orgs])]
    labels = _request_label_cells(fmt)
    for r in F.FORMATS[fmt].request_rows:
        text_cells = labels[r]
        lines = max(len(c.wrap(t, {1: 390, 2: 540, 3: 670}[span])) for t, span, rs in text_cells if rs == 1)
        rows.append((lines, text_cells + [(printed(values["requests", r, k.key]), 1, 1) for k in F.REQUEST_COLUMNS]))
    c.table(widths, rows)


def render_report(fmt, values, font, agency="某县人民政府办公室", year=None):
    """The report's statistics pages as images: [title + 第二十条 tables + table 4, table 3]."""
    year = year or (2020 if fmt == "2019" else 2023)
    first = _Canvas(font)
    first.heading(f"{agency}{year}年政府信息公开工作年度报告", font=first.big, x=200)
    _active(first, fmt, values)
    _review(first, values)
    second = _Canvas(font, height=2300)
    _requests(second, fmt, values)
    return [_crop(first.image), _crop(second.image)]


def _crop(image):
    """The page down to a margin under its last ink."""
    from PIL import ImageOps

    box = ImageOps.invert(image).getbbox()
    return image.crop((0, 0, image.width, min(image.height, box[3] + 80))) if box else image


def scanned(image, angle=0.6, blur=0.8, quality=55, seed=0):
    """What a scanner and a web CMS make of a page: turned a little, blurred, a grey ground
    with noise, saved as a JPEG of low quality (returned decoded)."""
    from PIL import Image, ImageFilter

    rnd = random.Random(seed)
    page = image.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=255)
    page = page.filter(ImageFilter.GaussianBlur(blur))
    noise = Image.effect_noise(page.size, 18).point(lambda v: v // 8)
    page = Image.eval(page, lambda v: int(v * 0.9 + 12))  # grey paper
    page = Image.fromarray(_subtract(page, noise, rnd))
    out = io.BytesIO()
    page.save(out, "JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue()))


def _subtract(page, noise, rnd):
    import numpy as np

    a = np.asarray(page, dtype=np.int16) - np.asarray(noise, dtype=np.int16) + rnd.randint(-3, 3)
    return a.clip(0, 255).astype(np.uint8)


def image_bytes(image, fmt="PNG", quality=85):
    out = io.BytesIO()
    image.convert("L" if fmt != "GIF" else "P").save(out, fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return out.getvalue()
