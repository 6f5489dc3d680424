"""A report's tables laid out as its template prints them, from its cells, for the report
page (``/-/report/<database>/<report id>``, :mod:`archive.datasette.plugin`).

The national tables (第二十条 items, 收到和处理政府信息公开申请情况, 行政复议/行政诉讼) take
their rows, columns, wording and the headings they stand under from
:func:`pipelines.formats.cell_keys` for the report's format; a cell the format does not
declare is shown where its key is printed in another format (a 2021 report that prints
（六）其他处理 as one row), or else listed after its table.  Other tables (pre-2019
appendices: ``legacy``) are shown as read: a row a label, in the order the text prints them.

Each table is a grid: rows of entries ``{"th": bool, "text", "colspan", "rowspan", "title",
"doubted", "key"}``, ready for the template.
"""
import collections
import functools
import re

from pipelines import formats as F
from pipelines.checks import ROW_ORDER, cells_through

NATIONAL = tuple(F.TABLE_HEADINGS)
_ACTIVE_ORDER = [k.key for k in F.ACTIVE_ROWS]
_REQUEST_COLUMNS = [k.key for k in F.REQUEST_COLUMNS_PRINTED]
_OTHER_2021 = F.FORMATS["2021"].outcome_rows[-3:]


@functools.lru_cache(maxsize=1)
def _wording():
    """{(format, table, row): (headings, label)} and {(format, table, column): (headings, label)},
    format None for the first format that prints the key."""
    rows, columns = {}, {}
    for k in F.cell_keys():
        for fmt in (k["format_version"], None):
            rows.setdefault((fmt, k["table_key"], k["row_key"]), (_path(k["row_group"]), k["row_label"]))
            columns.setdefault((fmt, k["table_key"], k["column_key"]), (_path(k["column_group"]), k["column_label"]))
    return rows, columns


def _path(group):
    return tuple(group.split(" / ")) if group else ()


def _row(fmt, table, row):
    """(the headings a row stands under, its label) as the report's format prints it."""
    rows, _ = _wording()
    return rows.get((fmt, table, row)) or rows.get((None, table, row)) or ((), row)


def _column(fmt, table, column):
    _, columns = _wording()
    return columns.get((fmt, table, column)) or columns.get((None, table, column)) or ((), column)


def number(value, unit=None):
    """4.0 → '4'; 51900 万元 → '51900 万元'."""
    if value is None:
        return ""
    text = str(int(value)) if float(value).is_integer() else f"{value:.12g}"
    return f"{text} {unit}" if unit else text


def doubts(cells, checks, warnings):
    """Why the parser doubts each uncertain cell: {(table, row, column): [reasons]} — the failed
    identities through it, the warnings naming its row, else those naming its table."""
    keyed = [{"table": c["table_key"], "row": c["row_key"], "column": c["column_key"]} for c in cells]
    reasons = collections.defaultdict(list)
    for check in checks:
        if not check["ok"]:
            for c in cells_through({"rule": check["rule"], "subject": check["subject"]}, keyed):
                reasons[c["table"], c["row"], c["column"]].append(
                    f"{check['rule']} fails for {check['subject']}: expected {number(check['expected'])}, "
                    f"printed {number(check['actual'])}")
    by_table = collections.defaultdict(list)
    for w in warnings:
        head = re.match(r"^(\w+)(?:\.(\w+))?(?:\.(\w+))?[: ]", w)
        if head:
            by_table[head.group(1)].append((head.group(2), head.group(3), w))
    out = {}
    for c in cells:
        if not c["uncertain"]:
            continue
        key = (c["table_key"], c["row_key"], c["column_key"])
        said = reasons.get(key, [])
        named = [w for row, column, w in by_table.get(key[0], []) if row == key[1] and column in (None, key[2])]
        table = [w for row, column, w in by_table.get(key[0], []) if row is None]
        out[key] = said + named or table or ["the parser doubts this reading (no reason was recorded)"]
    return out


def _value(cell, why):
    if cell is None:
        return {"th": False, "text": "", "title": "not read", "doubted": False, "key": None}
    title = [f"printed: {cell['raw']}"] if cell.get("raw") not in (None, "", number(cell["value"])) else []
    key = (cell["table_key"], cell["row_key"], cell["column_key"])
    if cell["uncertain"]:
        title = ["uncertain: " + "; ".join(why.get(key, []))] + title
    return {"th": False, "text": number(cell["value"], cell.get("unit")), "title": "\n".join(title),
            "doubted": bool(cell["uncertain"]), "key": "/".join(key)}


def _th(text, colspan=1, rowspan=1):
    return {"th": True, "text": text, "colspan": colspan, "rowspan": rowspan}


def header_rows(columns):
    """The header of columns given as (path of headings, label): a row a level, a heading over
    the columns that share it, a label reaching down to the last row."""
    depth = max(len(path) for path, _ in columns) + 1
    rows = [[] for _ in range(depth)]
    for level in range(depth):
        i = 0
        while i < len(columns):
            path, label = columns[i]
            if level < len(path):
                j = i
                while j < len(columns) and columns[j][0][:level + 1] == path[:level + 1]:
                    j += 1
                rows[level].append(_th(path[level], colspan=j - i))
                i = j
                continue
            if level == len(path):
                rows[level].append(_th(label, rowspan=depth - level))
            i += 1
    return rows


def _row_heads(rows):
    """The heading entries before each body row, for rows given as (path of headings, label):
    a heading spans the rows that share it, a label the levels its row has no heading for."""
    depth = max(len(path) for path, _ in rows) + 1
    out = []
    for i, (path, label) in enumerate(rows):
        heads = []
        for level in range(len(path)):
            if i and rows[i - 1][0][:level + 1] == path[:level + 1]:
                continue  # spanned from an earlier row
            j = i
            while j < len(rows) and rows[j][0][:level + 1] == path[:level + 1]:
                j += 1
            heads.append(_th(path[level], rowspan=j - i))
        heads.append(_th(label, colspan=depth - len(path)))
        out.append(heads)
    return depth, out


def _requests(fmt, got, why):
    present_rows = {r for _, r, _ in got}
    present_columns = {c for _, _, c in got}
    declared = F.FORMATS[fmt].request_rows if fmt in F.FORMATS else ()
    rows = sorted(set(declared) | present_rows, key=lambda r: (ROW_ORDER.index(r) if r in ROW_ORDER else len(ROW_ORDER), r))
    if "other" in present_rows:  # the 2019 template's one （六） row where the 2021 template has three
        rows = [r for r in rows if r not in _OTHER_2021 or r in present_rows]
    elif present_rows & set(_OTHER_2021):
        rows = [r for r in rows if r != "other" or r in present_rows]
    columns = [c for c in _REQUEST_COLUMNS if c != "org_subtotal" or c in present_columns]
    return _grid(fmt, "requests", rows, columns, got, why)


def _grid(fmt, table, rows, columns, got, why):
    """A table of rows × columns, with the headings its template prints them under."""
    heads = header_rows([_column(fmt, table, c) for c in columns])
    depth, row_heads = _row_heads([_row(fmt, table, r) for r in rows])
    heads[0].insert(0, _th("", colspan=depth, rowspan=len(heads)))
    body = [head + [_value(got.get((table, r, c)), why) for c in columns] for r, head in zip(rows, row_heads)]
    return {"header": heads, "body": body, "placed": {(table, r, c) for r in rows for c in columns}}


def _review(fmt, got, why):
    declared = F.FORMATS.get(fmt, F.FORMATS["2021"])
    # the printed template: one row of 15, 行政复议 then 行政诉讼's two kinds, five outcomes each
    spread = [(row, column) for row in declared.review_rows for column in declared.review_columns]
    columns = []
    for row, column in spread:
        path, label = _row(fmt, "review_litigation", row)
        columns.append(((*path, label), _column(fmt, "review_litigation", column)[1]))
    body = [[_value(got.get(("review_litigation", row, column)), why) for row, column in spread]]
    return {"header": header_rows(columns), "body": body, "placed": {("review_litigation", *rc) for rc in spread}}


def _active(fmt, got, why):
    """The 第二十条 items, a small table each as the template prints them."""
    items = {sub.item: (list(sub.rows), list(sub.columns)) for sub in (F.FORMATS[fmt].active if fmt in F.FORMATS
                                                                        else ())}
    placed = {(row, column) for rows, columns in items.values() for row in rows for column in columns}
    for _, row, column in sorted(got, key=lambda k: _ACTIVE_ORDER.index(k[1]) if k[1] in _ACTIVE_ORDER else 99):
        if (row, column) not in placed:  # a key of another format's item: shown in that item
            path, _ = _row(fmt, "active", row)
            rows, columns = items.setdefault(path[0] if path else "第二十条", ([], []))
            rows.extend([row] if row not in rows else [])
            columns.extend([column] if column not in columns else [])
            placed |= {(r, c) for r in rows for c in columns}
    grids = []
    for item, (rows, columns) in items.items():
        columns = [c for c in columns if any(("active", r, c) in got for r in rows)]  # a column not printed: none
        if not columns:
            continue  # an item the report does not print
        heads = [[_th(item, colspan=len(columns) + 1)],
                 [_th("信息内容")] + [_th(_column(fmt, "active", c)[1]) for c in columns]]
        body = [[_th(_row(fmt, "active", r)[1])] + [_value(got.get(("active", r, c)), why) for c in columns]
                for r in rows]
        grids.append({"header": heads, "body": body, "placed": {("active", r, c) for r in rows for c in columns}})
    return grids


def _as_read(table, cells, why, text):
    """Cells no template lays out (a pre-2019 appendix): a row a label, in the order the text
    prints the labels, a column a header."""
    flat = re.sub(r"\s+", "", text or "")
    rows, columns = {}, {}
    for c in cells:
        rows.setdefault(c["row_key"], c.get("label") or c["row_key"])
        columns.setdefault(c["column_key"], c.get("header") or ("" if c["column_key"] == "value" else c["column_key"]))

    def position(row):
        at = flat.find(re.sub(r"\s+", "", rows[row]))
        return (at < 0, at, row)

    order = sorted(rows, key=position)
    got = {(c["row_key"], c["column_key"]): c for c in cells}
    heads = [[_th("")] + [_th(label) for label in columns.values()]]
    body = [[_th(rows[r])] + [_value(got.get((r, col)), why) for col in columns] for r in order]
    return {"header": heads, "body": body, "placed": {(table, r, c) for r in rows for c in columns}}


def printed_tables(fmt, cells, checks=(), warnings=(), text=None):
    """The report's tables: ``[{"key", "heading", "grids": [grid, …]}]``, the national ones in
    printed order, then any other table of its cells."""
    why = doubts(cells, checks, warnings)
    by_table = collections.defaultdict(list)
    for c in cells:
        by_table[c["table_key"]].append(c)
    out = []
    for table in NATIONAL:
        if not by_table.get(table):
            continue
        got = {(c["table_key"], c["row_key"], c["column_key"]): c for c in by_table[table]}
        grids = {"active": lambda: _active(fmt, got, why), "requests": lambda: [_requests(fmt, got, why)],
                 "review_litigation": lambda: [_review(fmt, got, why)]}[table]()
        placed = set().union(*(g["placed"] for g in grids))
        left = [c for c in by_table[table] if (c["table_key"], c["row_key"], c["column_key"]) not in placed]
        if left:  # keys no template prints: shown as read
            grids.append(_as_read(table, left, why, text))
        out.append({"key": table, "heading": F.TABLE_HEADINGS[table], "grids": grids})
    for table in sorted(set(by_table) - set(NATIONAL)):
        out.append({"key": table, "heading": table, "grids": [_as_read(table, by_table[table], why, text)]})
    return out
