"""The statistical tables: rows of cells to canonical (table, row, column) cells.

The parser does not trust positions alone: it reads the rows as a stream of
labels and values, groups each run of values with the label text before it,
and names the row by the most specific row label found nearest the values.
That one mechanism reads HTML grids (rowspans leave the label in one row
only), one-cell-per-line page text, pipe tables, PDF tables split over pages
and label-wrapped rows.  Blank cells in a grid keep their position.
"""
import re
from collections import Counter
from dataclasses import dataclass, field

from . import formats as F
from .numbers import is_blank, parse_number
from .script import HAN, to_simplified

# the declarations of formats.py as the readers use them: (key, compiled pattern), printed order
REQUEST_COLUMNS = [k.key for k in F.REQUEST_COLUMNS]
REVIEW_ROWS = [k.key for k in F.REVIEW_ROWS]
REVIEW_COLUMNS = [k.key for k in F.REVIEW_COLUMNS]
REQUEST_ROWS = [(k.key, k.pattern) for k in F.REQUEST_ROWS]
ACTIVE_ROWS = [(k.key, k.pattern) for k in F.ACTIVE_ROWS]
_ACTIVE_PATTERN = dict(ACTIVE_ROWS)  # row key → the pattern of its label
REVIEW_ROW_PATTERNS = [(k.key, k.pattern) for k in F.REVIEW_ROWS]
ACTIVE_HEADERS = [(k.pattern, k.key, fmt) for k, fmt in F.ACTIVE_COLUMNS]
REQUEST_HEADERS = [(k.key, k.pattern) for k in (*F.REQUEST_COLUMNS[:6], F.ORG_SUBTOTAL, F.REQUEST_COLUMNS[6])]
REVIEW_HEADERS = [(k.key, k.pattern) for k in F.REVIEW_COLUMNS]
# the printed wording of each key, for cells whose own label or header was not read
ACTIVE_HEADER_NAMES = {k.key: k.printed for k, _ in reversed(F.ACTIVE_COLUMNS)}  # (2019's where both print one)
REQUEST_HEADER_NAMES = {k.key: k.printed for k in (*F.REQUEST_COLUMNS, F.ORG_SUBTOTAL)}
REVIEW_ROW_NAMES = {k.key: k.printed for k in F.REVIEW_ROWS}
REVIEW_HEADER_NAMES = {k.key: k.printed for k in F.REVIEW_COLUMNS}

# What starts each table's region, tested on each label as it comes; the match
# nearest the end of the label wins.
CONTEXT_STARTS = [
    ("active", re.compile(r"第二十条|^[一二][、.．]主动公开政府信息情况")),
    # the rows that only the requests table has start it too: a page of a flipbook or a PDF
    # may begin with 结转下年度继续办理 (its header on the page before)
    ("requests", re.compile(r"本年新收|上年结转|结转下年度|申请人情况|^[二三][、.．]收到和处理政府信息公开申请")),
    ("review", re.compile(r"结果维持|^[三四][、.．].{0,16}行政复议")),
    (None, re.compile(r"^[四五六][、.．](?:政府信息公开工作)?(?:存在的?主要问题|存在问题|其他需要报告)")),
]
_ANY_CONTEXT = re.compile("|".join(f"(?:{pat.pattern})" for _, pat in CONTEXT_STARTS))  # most labels start none
_PROSE = re.compile(r"[，。；;]")
_SENTENCE_BREAK = re.compile(r"[，。；;,:：]")


@dataclass
class Value:
    raw: str
    number: object = None  # int/float, or None for a blank cell
    unit: str = None
    note: str = None
    via: str = None  # the kind of row it was read from (Row.via; "line" for a line of text)
    glued: bool = False  # digits run into the label (规章000): several cells' digits, maybe
    confidence: float = None  # OCR: how sure the recognition was of it (0–1)


@dataclass
class Group:
    label: str  # squashed label text since the previous values (simplified)
    values: list = field(default_factory=list)
    context: str = None
    parts: list = field(default_factory=list)  # the label tokens it was made of (squashed, simplified)

    def printed(self, pattern):
        """The printed row label: the label tokens from the one where ``pattern`` matches last."""
        start, at = 0, 0
        for part in self.parts:
            if pattern.search(part):
                start = at
            at += len(part)
        text = self.label[start:]
        return text[-60:]


_WHITESPACE = re.compile(r"\s+")


def squash(text):
    return _WHITESPACE.sub("", text or "")


def tokens(rows):
    """Yield ('label', text) and ('value', Value) from document rows (each Value knows the kind of row)."""
    for row in rows:
        if row.grid:
            via = row.via or "grid"
            for kind, tok in _grid_tokens(row.cells, row.scores):
                if kind == "value":
                    tok.via = via
                yield kind, tok
        elif row.prose:
            yield "label", row.cells[0]
        else:
            for kind, tok in _line_tokens(row.cells[0]):
                if kind == "value":
                    tok.via = tok.via or "line"
                yield kind, tok


def _grid_tokens(cells, scores=None):
    """A table row: its label cells, then the value cells after the last label.

    Blank cells before the label (under a rowspan) and blank cells in a row
    without any number (header rows) are not values; trailing blanks after
    the last number are kept, since a blank cell is a position.  ``scores``: the
    OCR confidence of each cell, kept on its value.
    """
    if scores is not None:
        scores = [s for c, s in zip(cells, scores) if c is not None]
    cells = [c for c in cells if c is not None]  # None: a merged cell's placeholder (PDF)
    kinds = ["value" if parse_number(c) is not None else "blank" if is_blank(c) else "label" for c in cells]
    if "value" not in kinds:
        for c, k in zip(cells, kinds):
            if k == "label":
                yield "label", c
        return
    last_label = max((i for i, k in enumerate(kinds) if k == "label"), default=-1)
    for i, (c, k) in enumerate(zip(cells, kinds)):
        if i <= last_label:
            if k == "label":
                yield "label", c
        else:
            for kind, tok in _cell_tokens(c, in_grid=True):
                if kind == "value" and scores is not None:
                    tok.confidence = scores[i]
                yield kind, tok


def _cell_tokens(cell, in_grid):
    n = parse_number(cell)
    if n is not None:
        yield "value", Value(cell, *n)
    elif is_blank(cell):
        if in_grid or cell.strip():
            yield "value", Value(cell)
    else:
        yield "label", cell


_NUM_TOKEN = r"(?:[+\-]?\d[\d.,]*(?:亿元|万元|元|件|条)?(?:[（(][^)）\s]*[)）])?|[-—/])"
_SPLIT_LINE = re.compile(r"^(?P<label>.*?[^\d\s.、．+\-—/])?\s*(?P<nums>%s(?:\s+%s)*)$" % (_NUM_TOKEN, _NUM_TOKEN))


_BRACKETED = re.compile(r"[（(][^)）]*[)）]")


# the words of the tables' headers: a long line holding several of them is a table run together
_TABLE_HEADER_WORDS = re.compile(r"申请人情况|自然人|商业企业|结果维持|结果纠正|尚未审结|直接起诉|复议后起诉|信息内容|"
                                 r"本年制发件数|本年新制作数量|本年新收|上年结转|处理决定数")
_GLUED_RUN = re.compile(r"(?<![\d.,])((?:(?<=[\s\u4e00-\u9fff)）”’」』\"])[+\-])?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|"
                        r"(?<=[\s\u4e00-\u9fff)）”’」』\"\d])[-—/](?=\s|$|[\u4e00-\u9fff（(]))"
                        r"(?=([.、．](?=\D))?)")


def _glued_tokens(line):
    """A whole table written on one line without cell boundaries (a page's text copied out:
    ``…数量7000007二、上年结转…0000000三、…1.属于国家秘密00000002.其他…``): the text between
    digit runs is label, each digit run one glued value; a run's last digit standing before
    ``.``/``、`` and a label is the next row's number, not a cell."""
    at = 0
    for m in _GLUED_RUN.finditer(line):
        digits, numbering = m.group(1), m.group(2)
        start, end = m.start(1), m.end(1)
        if numbering and re.fullmatch(r"[+\-]?\d+", digits):
            if len(digits) == 1:
                continue  # a row number alone (1.属于…): label text
            end -= 1  # the last digit numbers the next row (…0 0 42.其他…, … - -2.其他…)
            digits = digits[:-1]
        if line[at:start].strip():
            yield "label", line[at:start]
        if not digits.isdigit():  # a signed or decimal number, or a blank cell's - — /
            n = parse_number(digits)
            yield "value", Value(digits, *n) if n is not None else Value(digits)
        else:
            yield "value", Value(digits, int(digits), glued=len(digits) > 1)
        at = end
    if at < len(line):
        yield "label", line[at:]


def _table_run_together(line):
    """A long line holding a table: three of the tables' header words, or two printed one
    right after the other (a header row glued: 信息内容本年新制作数量…; prose names them apart)."""
    if len(line) <= 300:
        return False
    found = list(_TABLE_HEADER_WORDS.finditer(to_simplified(line)))
    if len({m.group(0) for m in found}) >= 3:
        return True
    return any(b.start() - a.end() <= 2 and a.group(0) != b.group(0) for a, b in zip(found, found[1:]))


def _unclosed_bracket(text):
    """Whether ``text`` ends inside a bracket: one opened and not closed after it."""
    return max(text.rfind("("), text.rfind("（")) > max(text.rfind(")"), text.rfind("）"))


def _line_tokens(line):
    """A text line: a label, a value, or ``label n n n`` (PDF text, flattened tables)."""
    if _table_run_together(line):
        yield from _glued_tokens(line)
        return
    if "(" in line or "（" in line:  # 22（其中修订 16 件）
        line = _BRACKETED.sub(lambda m: squash(m.group(0)), line)
    n = parse_number(line)
    if n is not None:
        yield "value", Value(line, *n)
        return
    if is_blank(line):
        yield "value", Value(line)
        return
    m = _SPLIT_LINE.match(line)
    if m and m.group("nums") and m.group("label") and m.start("nums") == len(m.group("label")) \
            and is_blank(m.group("nums")):
        yield "label", line  # 本年增/ (减 on the next line): a mark glued to a word is the word's
        return
    if m and m.group("nums"):
        parts = m.group("nums").split()
        label = m.group("label") or ""
        # one number after a sentence is wrapped prose (…其中结果维持 25), not a table row
        if len(parts) == 1 and label and (len(label) > 40 or re.search(r"[，。；;：:,]", label)):
            yield "label", line
            return
        if m.group("label"):
            yield "label", m.group("label")
        if m.start("nums") == len(label) and _unclosed_bracket(label):
            # 采购项目数量（指202…: digits glued inside a note whose bracket is still open are the
            # note's (a year, a date), not cells
            yield "label", line
            return
        if len(parts) == 1 and label and m.start("nums") == len(label) and parts[0].isdigit() and len(parts[0]) > 1:
            # 规章000: the cells of a row copied out of a table without their boundaries
            yield "value", Value(parts[0], int(parts[0]), glued=True)
            return
        for p in parts:
            yield from _cell_tokens(p, in_grid=True)
        return
    yield "label", line


def groups(rows):
    """Runs of values with the label text before them, each tagged with its table context."""
    out, label, context = [], "", None
    current, parts = None, []
    for kind, tok in tokens(rows):
        if kind == "label":
            if current is not None:
                out.append(current)
                current = None
                label, parts = "", []
            tok = squash(to_simplified(tok))
            label += tok
            parts.append(tok)
            context = _context(tok, context)
        else:
            if current is None:
                current = Group(label, context=context, parts=parts)
            current.values.append(tok)
    if current is not None:
        out.append(current)
    return out


def _context(label, context):
    if not _ANY_CONTEXT.search(label):
        return context
    if len(label) > 60 or _PROSE.search(label):
        # prose mentions tables; only headers start them: the words after the last sentence
        # (a table run into the text before it) may be a header
        label = _SENTENCE_BREAK.split(label)[-1]
        if len(label) > 120 or not _ANY_CONTEXT.search(label):
            return context
    best = None
    for name, pat in CONTEXT_STARTS:
        for m in pat.finditer(label):
            if best is None or m.end() > best[0]:
                best = (m.end(), name)
    return best[1] if best else context


# a note in brackets after a label (规章（设区的市…应提供相关数据）, 其他对外管理服务事项（指…行政处罚、
# 行政强制…）): it may name other rows, so rows are matched without it; numbering (（一）) is short
_NOTE = re.compile(r"[（(][^（()）]{6,}[)）]")


def pick_row(label, patterns, taken=()):
    """The row whose pattern matches nearest the end of ``label`` (its bracketed notes left
    out); None if none does."""
    if "（" in label or "(" in label:
        label = _NOTE.sub("", label)
    best = None
    for order, (key, pat) in enumerate(patterns):
        if key in taken:
            continue
        for m in pat.finditer(label):
            cand = (m.end(), -order, key)
            if best is None or cand > best:
                best = cand
    return best[2] if best else None


@dataclass
class Tables:
    cells: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    shapes: set = field(default_factory=set)  # hints for the format: '2019', '2021'

    def __post_init__(self):
        self._at = {}  # (table, row, column) → the cell

    def add(self, table, row, column, v, label=None, header=None, uncertain=False):
        """A cell, with the printed row label and column header it was matched by; a key read
        a second time keeps its first cell (the archive holds one cell a key), marked
        uncertain with a warning when the two readings differ."""
        if v.number is None:
            return
        key = (table, row, column)
        first = self._at.get(key)
        if first is not None:
            if first["value"] != v.number:
                first["uncertain"] = True
                self.warnings.append(f"{table}.{row}.{column} read twice ({first['raw']}, then {v.raw}): "
                                     f"the first kept, marked uncertain")
            return
        cell = {"table": table, "row": row, "column": column, "value": v.number, "unit": v.unit, "raw": v.raw,
                "label": label, "header": header, "via": v.via, "uncertain": bool(uncertain),
                "confidence": v.confidence}
        if v.note:
            self.warnings.append(f"{table}.{row}.{column}: annotation kept in raw only: {v.raw}")
        self._at[key] = cell
        self.cells.append(cell)


def read_tables(rows):
    """Parse the three statistical tables out of document rows (or, in a report that has
    none of them, its statistics appendix as ``legacy`` cells)."""
    out = Tables()
    gs = groups(rows)
    _read_active([g for g in gs if g.context == "active"], out)
    _read_requests([g for g in gs if g.context == "requests"], out)
    _read_review([g for g in gs if g.context == "review"], out)
    if not out.cells:
        read_legacy(rows, out)
    return out


_LEGACY_HEADER = re.compile(r"指标|项目|统计指标|名称")
_UNIT_HEADER = re.compile(r"单位")
_LEGACY_PREFIX = re.compile(r"^(?:其中[:：]?)?\s*(?:[(（]?\d{1,2}[)）.、．]|[一二三四五六七八九十]{1,2}[、.．]|[(（][一二三四五六七八九十]{1,2}[)）])?\s*")
LEGACY_UNITS = ("条", "件", "人次", "次", "个", "万元", "元", "项", "人", "期", "篇", "份")


def read_legacy(rows, out):
    """A pre-2019 statistics appendix (附表 / 统计表): indicator rows with their values.

    ``row`` is the indicator as printed (simplified, its 其中/1、 prefix taken off),
    ``column`` the value column's header (本年, 历年累计, 2013年度 …) or ``value``,
    ``unit`` the 计量单位 cell when the table has one.  A table printed as text (one
    cell per line, or a row a line) is read as the rows its header says it has.
    """
    _read_legacy_grid(rows, out)
    if not out.cells:
        _read_legacy_grid(legacy_text_rows(rows), out)


# the words of a 统计表's value column headers (2013年度, 历年累计, 本年, 上年…)
_LEGACY_VALUE_HEAD = re.compile(r"年度?$|累计|本年|上年|合计|数量|数值|统计")


def legacy_text_rows(rows):
    """A 统计表 printed as text, its rows as table rows: a header of 指标名称 (计量单位) and
    value column names, on one line or one a line; then each indicator on one line
    (``主动公开信息数 条 1853 5395``) or over as many lines as the header has columns."""
    from .document import Row

    out, i, width, unit = [], 0, 0, False
    while i < len(rows):
        row = rows[i]
        text = to_simplified(row.text) if not row.grid else ""
        words = text.split(" ")
        if text and _LEGACY_HEADER.match(words[0]):
            head, j = (words, i + 1) if len(words) >= 3 else ([text], i + 1)
            while len(words) < 3 and j < len(rows) and len(head) < 6 and not rows[j].grid \
                    and len(rows[j].text) <= 12 and (_UNIT_HEADER.search(to_simplified(rows[j].text))
                                                     or _LEGACY_VALUE_HEAD.search(to_simplified(rows[j].text))):
                head.append(to_simplified(rows[j].text))
                j += 1
            if len(head) >= 2:
                unit = any(_UNIT_HEADER.search(h) for h in head)
                width = len(head)
                out.append(Row(head, grid=True, via="line"))
                i = j
                continue
        if width and not row.grid:
            n_values = width - 1 - unit
            if len(words) == width and all(parse_number(w) is not None for w in words[-n_values:]):
                out.append(Row(words, grid=True, via="line"))
                i += 1
                continue
            cells = [r.text for r in rows[i:i + width]]
            if len(cells) == width and not any(r.grid for r in rows[i:i + width]) and parse_number(cells[0]) is None \
                    and all(parse_number(c) is not None for c in cells[-n_values:]) \
                    and (not unit or to_simplified(cells[1]) in LEGACY_UNITS):
                out.append(Row(cells, grid=True, via="line"))
                i += width
                continue
        out.append(row)
        i += 1
    return out


def _read_legacy_grid(rows, out):
    header, unit_at, value_columns = None, None, []
    for row in rows:
        if not row.grid:
            continue
        cells = [c or "" for c in row.cells]
        values = [i for i, c in enumerate(cells) if parse_number(c) is not None]
        if not values and _LEGACY_HEADER.search(to_simplified(cells[0]) if cells else ""):
            header = [to_simplified(c) for c in cells]  # 指標名稱 | 計量單位 | 本年: read in either script
            unit_at = next((i for i, c in enumerate(header) if _UNIT_HEADER.search(c)), None)
            # one value column is `value` (report-schema.md); several are named by their headers
            value_columns = [i for i, c in enumerate(header) if c and i and i != unit_at and not _LEGACY_HEADER.search(c)]
            continue
        labels = [i for i, c in enumerate(cells) if c and i not in values and not is_blank(c) and i != unit_at]
        if not values or not labels or labels[0] > values[0]:
            continue
        label = to_simplified(_LEGACY_PREFIX.sub("", squash(cells[labels[0]]))).rstrip(":：")
        if not label or len(label) > 40:
            continue
        unit = to_simplified(cells[unit_at]) if unit_at is not None and unit_at < len(cells) else None
        if len(values) > 1 and not header:
            out.warnings.append(f"legacy {label}: {len(values)} values and no column header: "
                                f"columns named by position (value, value_2, …)")
        for n, i in enumerate(values, 1):
            name = squash(header[i]) if header and i < len(header) and header[i] else None
            if name and header and len(value_columns) <= 1 and len(values) == 1:
                column = "value"
            else:
                column = to_simplified(name) if name and len(values) > 1 or name and not _LEGACY_HEADER.search(name) \
                    else "value" if n == 1 or header else f"value_{n}"
            v = Value(cells[i], *parse_number(cells[i]))
            if v.unit is None and unit in LEGACY_UNITS:
                v.unit = unit
            out.add("legacy", label, column, v, label=squash(to_simplified(cells[labels[0]])),
                    header=to_simplified(name) if name else None)
    if out.cells:
        out.shapes.add("pre2019")


def _read_active(gs, out):
    """The 第二十条 sub-tables: each row's columns are those its sub-table's header names;
    where the header is partial or belongs to the sub-table before (a page that cut it),
    the columns the format declares for the row, when the row has that many values."""
    columns, taken, named_formats = None, set(), set()
    for k, g in enumerate(gs):
        heads = _header_columns(g.label)
        if heads:
            columns = heads
            named_formats |= {f for _, _, f, _ in heads if f}
        row = pick_row(g.label, ACTIVE_ROWS, taken)
        fmt = F.format_of_headers(named_formats)
        declared = list(F.FORMATS[fmt].active_columns(row)) if fmt and row else []
        if row is None or (columns is None and not declared):
            out.warnings.append(f"active: values {[v.raw for v in g.values]} after {g.label[-30:]!r} not placed")
            continue
        if _SUBTABLE_START.search(_after_row_label(g.label, _ACTIVE_PATTERN[row])):
            # 行政事业性收费 | (blank) 第二十条第（九）项 信息内容 | 采购项目数量…: a sub-table's header
            # stands between the row and these values, which are not the row's
            out.warnings.append(f"active.{row}: values {[v.raw for v in g.values]} come after the next "
                                f"sub-table's header, not the row's: not placed")
            continue
        taken.add(row)
        named = {c: h for _, c, _, h in columns or ()}
        cols = [c for _, c, _, _ in columns or ()]
        if declared and cols != declared:
            # a partial header (本年新 | 本年新 | 对外公开总数量), or the sub-table before's: the
            # declared columns, when the row has as many values
            fitted, doubt = unglue(g.values, len(declared))
            if not doubt and len(_fit(fitted, len(declared))) == len(declared):
                out.warnings.append(f"active.{row}: header {'/'.join(named.values()) or 'missing'}: columns as "
                                    f"the {fmt} format declares them ({', '.join(declared)})")
                cols = declared
        for c in cols:
            for f in (f for _, col, f, _ in columns or () if col == c and f):
                out.shapes.add(f)
        if fmt:
            out.shapes.add(fmt)
        if row == "procurement" and "items" not in cols:
            cols = ["items", "amount"]
        values, doubt = unglue(g.values, len(cols))
        if doubt:
            out.warnings.append(f"active.{row}: {doubt}; the row is not read")
        values = _fit(values, len(cols))
        uncertain = False
        if len(values) > len(cols) and any(v.number is not None for v in values[len(cols):]):
            out.warnings.append(f"active.{row}: {len(values)} values for {len(cols)} columns; extra ignored, "
                                f"the row marked uncertain")
            uncertain = True
        elif len(values) < len(cols) and not doubt:
            out.warnings.append(f"active.{row}: {len(values)} values for {len(cols)} columns "
                                f"({', '.join(cols)}): the row marked uncertain")
            uncertain = True
        if _split_into_sub_rows(g, row, gs[k + 1] if k + 1 < len(gs) else None, taken):
            # 其他对外管理服务事项 | 行政检查 | 0 0 0, then 行政确认 | 0 0 0: the row printed as sub-rows
            # of its own, and these figures are one of them, not the row's
            out.warnings.append(f"active.{row}: printed as sub-rows ({squash(g.label)[-20:]}, then "
                                f"{squash(gs[k + 1].label)[-20:]}): the first sub-row's figures, marked uncertain")
            uncertain = True
        label = g.printed(_ACTIVE_PATTERN[row])
        for col, v in zip(cols, values):
            if col in F.MONEY_COLUMNS and v.number is not None and v.unit is None:
                v.unit = "万元"
            out.add("active", row, col, v, label=label, header=named.get(col, ACTIVE_HEADER_NAMES.get(col)),
                    uncertain=uncertain)
        if row in ("procurement", "other_services"):
            out.shapes.add("2019")


def _split_into_sub_rows(g, row, following, taken):
    """The row's label goes on with a name of its own (a sub-row: 其他对外管理服务事项 行政检查),
    and the values that follow stand under a label that is no row of the table (the next
    sub-row, 行政确认), with no header between."""
    rest = squash(_after_row_label(g.label, _ACTIVE_PATTERN[row]))
    if following is None or not following.values or len(HAN.findall(rest)) < 2:
        return False
    return pick_row(following.label, ACTIVE_ROWS, taken) is None and not _header_columns(following.label) \
        and not _SUBTABLE_START.search(following.label)


def _after_row_label(label, pattern):
    """The label text after the row's own label (its last match, bracketed notes left out)."""
    text = _NOTE.sub("", label)
    ends = [m.end() for m in pattern.finditer(text)]
    return text[ends[-1]:] if ends else ""


def unglue(values, n, total_last=False, rows=1):
    """A row's values, its glued digits (规章000, 0 0 0 0 0 00) split into cells where they can
    be read one way only: as many digits as cells; or one way to cut them into numbers
    without leading zeros (00126 → 0, 0, 126), and with ``total_last`` whose last cell of
    each ``n`` is the sum of the others.  Returns (values, doubt): doubt says why glued
    digits could not be read (values then empty)."""
    cells = n * rows
    if not any(v.glued for v in values) or len(values) >= cells:
        return values, None  # (digit runs apart from each other, as many as the cells: each its own)
    if sum(len(v.raw) if v.glued else 1 for v in values) == cells:
        return [x for v in values for x in ([Value(d, int(d), via=v.via, confidence=v.confidence) for d in v.raw]
                                            if v.glued else [v])], None
    if len(values) == 1:
        v = values[0]
        digits = v.raw
        if cells == 1:
            return [Value(digits, int(digits), via=v.via, confidence=v.confidence)], None
        if cells < len(digits) <= cells + (8 if cells <= 7 else 4):  # (bounded: the splits grow fast)
            found = []
            for split in _splits(digits, cells):
                if not total_last or all(sum(split[i:i + n - 1]) == split[i + n - 1] for i in range(0, cells, n)):
                    found.append(split)
                    if len(found) > 1:
                        break
            if len(found) == 1:
                return [Value(str(x), x, via=v.via, confidence=v.confidence) for x in found[0]], None
    raw = " ".join(v.raw for v in values)
    return [], f"digits run together ({raw}) read more than one way as {cells} cells"


def _splits(digits, n):
    """Every way to cut ``digits`` into ``n`` numbers written without leading zeros."""
    if n == 1:
        if len(digits) == 1 or digits[0] != "0":
            yield [int(digits)]
        return
    for i in range(1, len(digits) - n + 2):
        head = digits[:i]
        if len(head) > 1 and head[0] == "0":
            break
        for rest in _splits(digits[i:], n - 1):
            yield [int(head), *rest]


_SUBTABLE_START = re.compile(r"信息内容|第二十条")


def _header_columns(label):
    """The 第二十条 sub-table's columns its header names: [(position, column, format, header)],
    read from the last sub-table header in ``label`` (after its last 信息内容 or 第二十条)."""
    starts = [m.start() for m in _SUBTABLE_START.finditer(label)]
    if starts:
        label = label[starts[-1]:]
    found = []
    for pat, col, fmt in ACTIVE_HEADERS:
        for m in pat.finditer(label):
            found.append((m.start(), col, fmt, m.group(0)))
    if not found:
        return None
    found.sort()
    # keep the last header run only (the nearest sub-table's columns)
    cols, seen = [], set()
    for pos, col, fmt, head in reversed(found):
        if col in seen:
            break
        seen.add(col)
        cols.append((pos, col, fmt, head))
    return list(reversed(cols))


def _read_requests(gs, out):
    taken = set()
    header = "".join(g.label for g in gs[:1])
    columns = list(REQUEST_COLUMNS)
    placed = []
    patterns = dict(REQUEST_ROWS)
    for g in gs:
        row = pick_row(g.label, REQUEST_ROWS, taken)
        if row is None:
            if re.search(r"[（(][三四五六][)）]", g.label[-12:]):
                out.warnings.append(f"requests: subtotal row {g.label[-12:]!r} skipped")
            else:
                out.warnings.append(f"requests: values {[v.raw for v in g.values]} after {g.label[-30:]!r} not placed")
            continue
        taken.add(row)
        label = g.printed(patterns[row])
        others = sorted({k for k, pat in REQUEST_ROWS if k != row and k not in taken and pat.search(_NOTE.sub("", label))})
        if others:  # 其他法律行政法规禁止公开危及三安全: two rows' labels, one row's numbers
            out.warnings.append(f"requests.{row}: its label {label!r} also names {', '.join(others)}: "
                                f"the row marked uncertain")
        placed.append((row, g.values, label, bool(others)))
    widths = Counter(len(_fit(v, 0)) for _, v, _, _ in placed if len(_fit(v, 0)) >= 6)
    width = widths.most_common(1)[0][0] if widths else len(columns)
    printed = request_header(header)
    if printed and len(printed) == width and printed != columns:
        columns = printed
        out.warnings.append(f"requests: columns in the printed order of the header: {', '.join(columns)}")
    elif width == 8 or "小计" in header:
        columns = _subtotal_layout(placed)
        out.warnings.append(f"requests: 8-column table, subtotal column at position {columns.index('org_subtotal') + 1}")
    order = [k for k, _ in REQUEST_ROWS]
    last = -1
    for row, values, label, ambiguous in placed:
        values, doubt = unglue(values, len(columns), total_last=columns[-1] == "total")
        if doubt:
            out.warnings.append(f"requests.{row}: {doubt}; the row is not read")
            continue
        values = _fit(values, len(columns))
        # a row out of the printed order, or with more values than columns, means the
        # table came apart (a fragmented PDF conversion): what follows is not read
        if order.index(row) < last or len(values) > len(columns):
            out.warnings.append(f"requests: table fragmented at {row!r} ({len(values)} values); "
                                f"rows from there on are not read")
            break
        last = order.index(row)
        if row in ("other_no_correction", "other_no_fee", "other_other"):
            out.shapes.add("2021")
        uncertain = ambiguous or len(values) != len(columns)
        if len(values) != len(columns):
            out.warnings.append(f"requests.{row}: {len(values)} values for {len(columns)} columns: "
                                f"the row marked uncertain")
        elif columns[-1] == "total" and values[-1].number is None and any(v.number is not None for v in values):
            # figures that stop before the 总计 a row always prints (一、本年新收… | 0 | |||||||: one
            # figure in a merged cell, or a row cut short): which columns they stand in is not known
            uncertain = True
            out.warnings.append(f"requests.{row}: its 总计 is blank while other cells have figures: "
                                f"the row marked uncertain")
        for col, v in zip(columns, values):
            out.add("requests", row, col, v, label=label, header=REQUEST_HEADER_NAMES[col], uncertain=uncertain)


# the 法人或其他组织 group spans the five org columns (and 小计 where printed)
_ORG_GROUP = re.compile(r"法人")
_ORG_COLUMNS = ("business", "research", "public_interest", "legal_services", "other_org", "org_subtotal")


def request_header(label):
    """The requests table's columns in the order its header prints them, or None when the
    header is not there to read (too few of its words; the template's order is then assumed).

    Header rows stacked as in a grid (自然人 · 法人或其他组织 · 总计 above the five kinds of
    organisation) put the organisations where their group stands; headers on one line
    (text extraction) are in print order already."""
    text = label.rsplit("。", 1)[-1]
    at = text.rfind("申请人情况")
    if at >= 0:
        text = text[at:]
    first_row = re.search(r"本年新收|新收.{0,6}申请", text)
    if first_row:
        text = text[: first_row.start()]
    pos = {}
    for col, pat in REQUEST_HEADERS:
        m = pat.search(text)
        if m:
            pos[col] = m.start()
    orgs = [c for c in _ORG_COLUMNS if c in pos]
    if "natural_person" not in pos or "total" not in pos or len([c for c in orgs if c != "org_subtotal"]) < 4:
        return None
    orgs.sort(key=pos.get)
    group = _ORG_GROUP.search(text)
    top = [c for c in ("natural_person", "total") if c in pos]
    if group is not None and min(pos[c] for c in orgs) > max(pos[c] for c in top):  # stacked header rows
        order = sorted([*top, "orgs"], key=lambda c: group.start() if c == "orgs" else pos[c])
        i = order.index("orgs")
        return order[:i] + orgs + order[i + 1:]
    return sorted([*top, *orgs], key=pos.get)


def _fit(values, n):
    """Drop blank cells at the edges while a row has more cells than columns (the empty
    label column of a PDF grid, trailing pipes of a converted table)."""
    values = list(values)
    while len(values) > n and values and values[0].number is None:
        values.pop(0)
    while len(values) > n and values and values[-1].number is None:
        values.pop()
    return values


def _subtotal_layout(placed):
    """Where the 法人或其他组织 小计 column stands, judged by which layout adds up."""
    layouts = [
        ["natural_person", "business", "research", "public_interest", "legal_services", "other_org", "org_subtotal", "total"],
        ["natural_person", "org_subtotal", "business", "research", "public_interest", "legal_services", "other_org", "total"],
    ]

    def score(layout):
        ok = 0
        for _, values, *_ in placed:
            d = {c: v.number for c, v in zip(layout, values) if v.number is not None}
            orgs = [d.get(c) for c in layout[1:7] if c != "org_subtotal"]
            if None not in orgs and "org_subtotal" in d and sum(orgs) == d["org_subtotal"]:
                ok += 1
        return ok

    return max(layouts, key=score)


def _review_alignment(seq, rows):
    """The review table's values from where its first row starts: a run that opens with
    blank cells (an empty label column) is read from the offset whose rows add up best."""
    lead = next((i for i, v in enumerate(seq) if v.number is not None), 0)
    if not lead or not rows:
        return seq

    def adds_up(values):
        ok = 0
        for i in range(0, 5 * rows, 5):
            chunk = [v.number or 0 for v in values[i:i + 5]]
            ok += len(chunk) == 5 and any(chunk) and sum(chunk[:4]) == chunk[4]
        return ok

    return max((seq, seq[lead:]), key=adds_up)  # a tie keeps the blank cells as positions


def _read_review(gs, out):
    filled, labels = {}, {}
    seq = []
    patterns = dict(REVIEW_ROW_PATTERNS)
    headed = [i for i, g in enumerate(gs) if re.search(r"结果维持|尚未审结|结果纠正|复议后起诉|直接起诉", g.label)]
    for g in gs[headed[0]:] if headed else []:
        row = pick_row(g.label, REVIEW_ROW_PATTERNS, filled)
        free = [r for r in REVIEW_ROWS if r not in filled]
        whole = len(free) > 1 and any(v.glued for v in g.values) and sum(len(v.raw) for v in g.values) > 5
        values, doubt = unglue(g.values, 5, total_last=True, rows=len(free) if whole else 1)
        if whole and not doubt:
            seq.extend(values)  # the whole table's digits in one run
            continue
        if doubt:  # the row stays empty: its neighbours must not take its place
            out.warnings.append(f"review_litigation.{row or 'a row'}: {doubt}; the row is not read")
            if row:
                filled[row] = []
            continue
        if row and len(values) == 5 and row not in filled:
            filled[row] = values
            labels[row] = g.printed(patterns[row])
        else:  # (an empty label cell before the fifteen is no position)
            seq.extend(_fit(values, 5 * len(free)) if len(values) > 5 * len(free) else values)
    free = [r for r in REVIEW_ROWS if r not in filled]
    seq = _review_alignment(seq, len(free))
    for i, r in enumerate(free):
        chunk = seq[i * 5:(i + 1) * 5]
        if len(chunk) == 5:
            filled[r] = chunk
    if len(seq) > 5 * len(free):
        out.warnings.append(f"review_litigation: {len(seq) - 5 * len(free)} extra values ignored")
    for r in REVIEW_ROWS:
        for col, v in zip(REVIEW_COLUMNS, filled.get(r, [])):
            out.add("review_litigation", r, col, v, label=labels.get(r, REVIEW_ROW_NAMES[r]),
                    header=REVIEW_HEADER_NAMES[col])




# ---- what a printed label, header or heading names ------------------------------------------

ROW_PATTERNS = {"active": ACTIVE_ROWS, "requests": REQUEST_ROWS, "review_litigation": REVIEW_ROW_PATTERNS}


def label_text(text):
    """A printed label as the matchers read it: simplified, without spaces or line breaks."""
    from .document import clean

    return squash(to_simplified(clean(text)))


def row_key(table, label):
    """The canonical row a printed row label names in ``table``, or None."""
    return pick_row(label_text(label), ROW_PATTERNS[table])


def column_key(table, header):
    """The canonical column a printed column header names in ``table``, or None."""
    text = label_text(header)
    if table == "active":
        heads = _header_columns(_NOTE.sub("", text))
        return heads[-1][1] if heads and len({c for _, c, _, _ in heads}) == 1 else None
    found = {c for c, pat in (REQUEST_HEADERS if table == "requests" else REVIEW_HEADERS) if pat.search(text)}
    return found.pop() if len(found) == 1 else None


# the numbered sections of a report, by what their headings say; tested in this order
SECTION_KEYS = [
    ("review_litigation", re.compile(r"复议|诉讼")),
    ("other_matters", re.compile(r"其他需要报告|其他事项")),
    ("problems", re.compile(r"问题|改进|不足|下一步|下步|打算|努力方向")),
    ("requests", re.compile(r"依申请|申请公开|收到和处理|不予公开")),
    ("active", re.compile(r"主动公开")),
    ("overview", re.compile(r"总体|概述|概况|基本情况|工作情况|认识|落实情况|开展情况|基本工作")),
]
_SECTION_NUMBER = re.compile(r"^[一二三四五六七八九十—-]{1,2}\s*[、.．]\s*")


def section_key(heading):
    """What a numbered section heading (一、总体情况) is about: overview, active, requests,
    review_litigation, problems or other_matters; None when it says none of them."""
    text = _SECTION_NUMBER.sub("", label_text(heading))
    text = _NOTE.sub("", text)
    for key, pat in SECTION_KEYS:
        if pat.search(text):
            return key
    return None
