"""One report's figures printed in the layouts real sites print them in.

A :class:`Figures` holds what a case of an expected.json says a report prints (its cells,
title, agency, year, format); each ``render_*`` function prints those figures the way a
kind of real page, export or text extraction does, with the national template's wording
(``pipelines/formats.py``) and returns ``(bytes, content_type)``.  The metamorphic tests
parse every rendering and require the case's cells back, unchanged.

The shapes are those of real pages (tests/fixtures/real, tests/fixtures/labels): CMS
pages with breadcrumbs and a 信息公开目录 table, body fragments from a CMS API, Word pasted
into a CMS (nested tables of ``<p><span>``), text extractors' pipe rows with and without
edge pipes, Markdown, TSV, one cell per line, ``pdftotext -layout`` columns with wrapped
labels, the review table as one line of fifteen numbers, traditional script, DOCX and XLSX
with merged cells.  The figures and the prose are the case's and ours.
"""
import io
import re
import unicodedata
from dataclasses import dataclass, field

from pipelines import formats as F

# ---- the figures ---------------------------------------------------------------------------


@dataclass
class Figures:
    name: str
    fmt: str  # 2019 or 2021
    year: int
    agency: str
    cells: dict = field(default_factory=dict)  # (table, row, column) → value
    style: object = None  # (kind, text) → text as printed: "value" or "label"; None prints them plain

    def printed(self, kind, text):
        return self.style(kind, text) if self.style and text else text

    @property
    def title(self):
        return f"{self.agency}{self.year}年政府信息公开工作年度报告"

    def tables(self):
        return {t for t, _, _ in self.cells}

    def value(self, table, row, column):
        v = self.cells.get((table, row, column))
        if v is None:
            return ""
        return self.printed("value", str(int(v)) if float(v).is_integer() else repr(float(v)))


def figures(case):
    """The Figures of an expected.json case with national tables, or None."""
    if case.get("format_version") not in F.FORMATS or not case.get("cells") or not case.get("report_year"):
        return None  # (a capture that prints no year gives no title to print its figures under)
    agency = case.get("agency")
    agency = agency[0] if isinstance(agency, list) else agency
    return Figures(case["file"], case["format_version"], case["report_year"], agency or "某某县人民政府",
                   {(c["table"], c["row"], c["column"]): c["value"] for c in case["cells"]})


# ---- the national template's printed rows ---------------------------------------------------

ACTIVE_HEADERS = {("2019", k.key): k.printed for k, f in F.ACTIVE_COLUMNS if f in ("2019", None)}
ACTIVE_HEADERS.update({("2021", k.key): k.printed for k, f in F.ACTIVE_COLUMNS if f in ("2021",)})
ACTIVE_HEADERS[("2021", "decisions")] = "本年处理决定数量"
ROW_LABELS = {k.key: k.printed for k in (*F.REQUEST_ROWS, *F.ACTIVE_ROWS, *F.REVIEW_ROWS)}
ROW_LABELS["normative_documents"] = "行政规范性文件"
# the requests table's row groups: (group label, first row, last row)
GROUPS = [("三、本年度办理结果", "granted", "carried_forward"), ("（三）不予公开", "denied_state_secret", "denied_query"),
          ("（四）无法提供", "unable_not_held", "unable_unclear"), ("（五）不予处理", "ignored_complaint", "ignored_confirm"),
          ("（六）其他处理", "other_no_correction", "other_other")]
REQUEST_HEAD = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
ORGS = ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
REVIEW_HEAD = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
SECTIONS = ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
            "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项"]


def request_order(fig):
    """The requests rows the report prints: its format's, or the 2019 single （六） row where a
    2021 report kept it (洪泽区 2023, 2024)."""
    if any(r == "other" for t, r, _ in fig.cells if t == "requests"):
        return list(F.FORMATS["2019"].request_rows)
    return list(F.FORMATS[fig.fmt].request_rows)


def request_rows(fig):
    """(group label or None, row label, row key) of the requests table, as printed."""
    out = []
    for key in request_order(fig):
        group = next((g for g, first, _ in GROUPS if first == key), None)
        if key == "other":
            group = None
        out.append((group, fig.printed("label", ROW_LABELS[key]), key))
    return out


def active_rows(fig):
    """(sub-table item, [column headers], [(row label, [values])]) of table 2."""
    fmt = F.FORMATS[fig.fmt]
    out = []
    for sub in fmt.active:
        heads = [ACTIVE_HEADERS[(fig.fmt, c)] for c in sub.columns]
        rows = [(fig.printed("label", ROW_LABELS[r]), [fig.value("active", r, c) for c in sub.columns])
                for r in sub.rows]
        out.append((sub.item, heads, rows))
    return out


def request_values(fig, key):
    return [fig.value("requests", key, c) for c in fmt_columns()]


def fmt_columns():
    return [k.key for k in F.REQUEST_COLUMNS]


def review_values(fig):
    return [fig.value("review_litigation", r, c) for r in F.FORMATS[fig.fmt].review_rows
            for c in F.FORMATS[fig.fmt].review_columns]


OPENING = ("本报告根据《中华人民共和国政府信息公开条例》要求编制，由总体情况、主动公开政府信息情况、收到和处理政府信息"
           "公开申请情况、政府信息公开行政复议和行政诉讼情况、存在的主要问题及改进情况、其他需要报告的事项六部分组成。")


# ---- HTML ------------------------------------------------------------------------------------


def _td(text, rowspan=1, colspan=1, wrap=None):
    attrs = (f' rowspan="{rowspan}"' if rowspan > 1 else "") + (f' colspan="{colspan}"' if colspan > 1 else "")
    body = wrap(text) if wrap else (text or "&nbsp;")
    return f"<td{attrs}>{body}</td>"


def html_tables(fig, wrap=None):
    """Tables 2–4 as the national template prints them: merged header cells, row groups
    spanning their rows, the review table as one row of fifteen under three header rows."""
    out = []
    if "active" in fig.tables():
        out.append(f"<p>{SECTIONS[1]}</p>")
        for item, heads, rows in active_rows(fig):
            n = len(heads) + 1
            html = [f"<tr>{_td(item, colspan=n, wrap=wrap)}</tr>",
                    "<tr>" + _td("信息内容", wrap=wrap) + "".join(_td(h, wrap=wrap) for h in heads) + "</tr>"]
            html += ["<tr>" + _td(label, wrap=wrap) + "".join(_td(v, wrap=wrap) for v in vals) + "</tr>"
                     for label, vals in rows]
            out.append('<table border="1" cellspacing="0">' + "".join(html) + "</table>")
    if "requests" in fig.tables():
        out.append(f"<p>{SECTIONS[2]}</p>")
        html = ["<tr>" + _td(REQUEST_HEAD, rowspan=3, colspan=3, wrap=wrap) + _td("申请人情况", colspan=7, wrap=wrap)
                + "</tr>",
                "<tr>" + _td("自然人", rowspan=2, wrap=wrap) + _td("法人或其他组织", colspan=5, wrap=wrap)
                + _td("总计", rowspan=2, wrap=wrap) + "</tr>",
                "<tr>" + "".join(_td(o, wrap=wrap) for o in ORGS) + "</tr>"]
        order = request_order(fig)
        outcome = order[order.index("granted"): order.index("total_processed") + 1]
        members = subgroups(fig)
        for group, label, key in request_rows(fig):
            if key not in outcome:
                cells = _td(label, colspan=3, wrap=wrap)
            else:
                cells = _td("三、本年度办理结果", rowspan=len(outcome), wrap=wrap) if key == "granted" else ""
                sub = members.get(key)
                if sub is None:
                    cells += _td(label, colspan=2, wrap=wrap)
                else:
                    if sub[1] == key:
                        cells += _td(sub[0], rowspan=sub[2], wrap=wrap)
                    cells += _td(label, wrap=wrap)
            html.append("<tr>" + cells + "".join(_td(v, wrap=wrap) for v in request_values(fig, key)) + "</tr>")
        out.append('<table border="1" cellspacing="0">' + "".join(html) + "</table>")
    if "review_litigation" in fig.tables():
        out.append(f"<p>{SECTIONS[3]}</p>")
        html = ["<tr>" + _td("行政复议", colspan=5, wrap=wrap) + _td("行政诉讼", colspan=10, wrap=wrap) + "</tr>",
                "<tr>" + "".join(_td(h, rowspan=2, wrap=wrap) for h in REVIEW_HEAD)
                + _td("未经复议直接起诉", colspan=5, wrap=wrap) + _td("复议后起诉", colspan=5, wrap=wrap) + "</tr>",
                "<tr>" + "".join(_td(h, wrap=wrap) for h in REVIEW_HEAD * 2) + "</tr>",
                "<tr>" + "".join(_td(v, wrap=wrap) for v in review_values(fig)) + "</tr>"]
        out.append('<table border="1" cellspacing="0">' + "".join(html) + "</table>")
    return out


def subgroups(fig):
    """row key → (its group's label, the group's first row, the group's row count) for the
    rows of the （三）…（六） groups."""
    order = request_order(fig)
    out = {}
    for g, first, last in GROUPS[1:]:
        if first not in order:
            continue
        keys = order[order.index(first): order.index(last) + 1]
        for k in keys:
            out[k] = (g, first, len(keys))
    return out


def _body_paragraphs(fig):
    return [f"<p>{OPENING}</p>", f"<p>{SECTIONS[0]}</p>", f"<p>{fig.year}年，{fig.agency}认真贯彻落实《条例》。</p>"]


def _closing(fig):
    return [f"<p>{SECTIONS[4]}</p>", "<p>公开的深度和广度还需加强。</p>", f"<p>{SECTIONS[5]}</p>", "<p>无。</p>",
            f'<p style="text-align:right">{fig.agency}</p>']


def render_html_page(fig):
    """A whole CMS page: header, breadcrumb, 信息公开目录 table, the article, a footer."""
    body = "".join(_body_paragraphs(fig) + html_tables(fig) + _closing(fig))
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{fig.title}_{fig.agency}</title>
<script>var a = "<td>1</td>";</script><style>td{{border:1px solid}}</style></head><body>
<div class="header"><a href="/">首页</a> | <a href="/zwgk/">政务公开</a></div>
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政府信息公开</a> &gt; 政府信息公开年报</div>
<table class="xxgk"><tr><td>索引号：</td><td>000000000/{fig.year + 1}-00001</td><td>发布机构：</td><td>{fig.agency}</td></tr>
<tr><td>名　　称：</td><td colspan="3">{fig.title}</td></tr></table>
<h1>{fig.title}</h1><div class="TRS_Editor">{body}</div>
<div class="footer">主办：{fig.agency}　网站标识码：0000000000</div></body></html>"""
    return page.encode("utf-8"), "text/html"


def render_html_fragment(fig):
    """The article body as a CMS API returns it: no <html> or <body>, paragraphs with styles."""
    parts = [f'<p style="text-align:center"><strong>{fig.title}</strong></p>'] + _body_paragraphs(fig) \
        + html_tables(fig) + _closing(fig)
    text = "\n".join(p.replace("<p>", '<p style="text-indent:2em;font-family:仿宋_GB2312">') for p in parts)
    return text.encode("utf-8"), "application/json"


def _word_cell(text):
    if not text:
        return '<p class="MsoNormal"><span lang="EN-US">&nbsp;<o:p></o:p></span></p>'
    return f'<p class="MsoNormal" align="center"><span style="font-size:10.5pt;font-family:宋体">{text}</span></p>'


def render_html_word(fig):
    """Word pasted into a CMS: the tables nested in a layout table, every cell a <p><span>."""
    tables = "".join(f'<div align="center"><table class="MsoNormalTable" border="1">{t[t.index(">") + 1:]}</div>'
                     if t.startswith("<table") else t for t in html_tables(fig, wrap=_word_cell))
    body = "".join(_body_paragraphs(fig)) + tables + "".join(_closing(fig))
    page = (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><title>{fig.title}'
            f'</title></head><body><table width="100%"><tr><td><h2>{fig.title}</h2></td></tr><tr><td>'
            f'<div id="zoom">{body}</div></td></tr></table></body></html>')
    return page.encode("utf-8"), "text/html"


# ---- text --------------------------------------------------------------------------------------


def grid_rows(fig):
    """Every line of the report as a list of cells (one cell: a line of text), tables as
    rows of cells with their row labels in the first cell (the group label before it)."""
    rows = [[fig.title], [OPENING], [SECTIONS[0]], [f"{fig.year}年，{fig.agency}认真贯彻落实《条例》。"]]
    if "active" in fig.tables():
        rows.append([SECTIONS[1]])
        for item, heads, body in active_rows(fig):
            rows.append([item])
            rows.append(["信息内容", *heads])
            rows += [[label, *vals] for label, vals in body]
    if "requests" in fig.tables():
        rows.append([SECTIONS[2]])
        rows.append([REQUEST_HEAD, "申请人情况"])
        rows.append(["", "自然人", "法人或其他组织", "", "", "", "", "总计"])
        rows.append(["", "", *ORGS, ""])
        for group, label, key in request_rows(fig):
            if group:
                rows.append([group])
            rows.append([label, *request_values(fig, key)])
    if "review_litigation" in fig.tables():
        rows.append([SECTIONS[3]])
        rows.append(["", "行政复议", "", "", "", "", "行政诉讼"])
        rows.append(["", *REVIEW_HEAD, "未经复议直接起诉", "", "", "", "", "复议后起诉"])
        rows.append(["", "", "", "", "", "", *REVIEW_HEAD * 2])
        rows.append(["", *review_values(fig)])
    rows += [[SECTIONS[4]], ["公开的深度和广度还需加强。"], [SECTIONS[5]], ["无。"], [fig.agency]]
    return rows


def _text(lines):
    return "\n".join(lines).encode("utf-8"), "text/plain"


def render_pipe_trailing(fig):
    """Rows as text extractors write them: ``label | v | v |``, no leading pipe."""
    return _text(" | ".join(r) + " |" if len(r) > 1 else r[0] for r in grid_rows(fig))


def render_markdown(fig):
    """Markdown pipe tables: ``| label | v |`` rows, a ``|---|`` line under each table's first row."""
    lines, in_table = [], False
    for r in grid_rows(fig):
        if len(r) > 1:
            lines.append("| " + " | ".join(r) + " |")
            if not in_table:
                lines.append("|" + "---|" * len(r))
            in_table = True
        else:
            lines += ["", ("## " if r[0] in SECTIONS else "") + r[0], ""]
            in_table = False
    return "\n".join(lines).encode("utf-8"), "text/markdown"


def render_tsv(fig):
    """Tab-separated rows (a sheet or a table copied as text)."""
    return _text("\t".join(r) for r in grid_rows(fig))


def render_one_cell_per_line(fig):
    """The page text of an HTML table: every cell on a line of its own, a blank cell an
    empty line between them (a table's rows keep their places)."""
    lines = []
    for r in grid_rows(fig):
        if len(r) > 1 and any(re.match(r"^[\d.]+$", v) for v in r[1:]):
            lines += r
        else:
            lines += [c for c in r if c]
    return _text(lines)


def _wrap(label, width):
    return [label[i:i + width] for i in range(0, len(label), width)] or [""]


def render_pdftotext_layout(fig):
    """``pdftotext -layout``: columns aligned with spaces, each number and header word centred
    over its column, a blank cell only spaces; a long label wrapped, its numbers on its
    first line; a group label on its own line; the review table's fifteen numbers on one
    line under its header lines."""
    lines = []
    label_w, col_w = 30, 10

    def centred(words):  # {column: word} → a header line
        line = " " * (label_w + col_w * (max(words) + 1))
        for k, w in words.items():
            at = label_w + col_w * k + (col_w - len(w)) // 2
            line = line[:at] + w + line[at + len(w):]
        return line.rstrip()

    for r in grid_rows(fig):
        if len(r) == 1:
            lines.append(r[0])
            continue
        label, values = r[0], r[1:]
        numeric = all(re.match(r"^[\d.]*$", v) for v in values) and any(values)
        if numeric:
            parts = _wrap(label, 12)
            lines.append((f"{parts[0]:<{label_w}}" + "".join(f"{v:^{col_w}}" for v in values)).rstrip())
            lines.extend(parts[1:])
        elif label and label != REQUEST_HEAD and not any(values[1:]):
            lines.append(label + "   " + "   ".join(v for v in values if v))
        else:  # a header row: its words over their columns (the label cell's text on the left)
            words = {k: v for k, v in enumerate(values) if v}
            line = centred(words) if words else ""
            if label:
                line = label[:label_w - 2] + line[len(label[:label_w - 2]):]
            lines.append(line)
    return _text(lines)


def render_text_lines(fig):
    """``label n n n`` lines (a PDF's text layer read plainly), the review table's fifteen
    numbers on one line under its two header lines."""
    lines = []
    for r in grid_rows(fig):
        if len(r) > 1 and any(re.match(r"^[\d.]+$", v) for v in r[1:]):  # a blank printed as -
            lines.append(r[0] + " " + " ".join(v if v else "-" for v in r[1:]))
        else:
            lines.append(" ".join(c for c in r if c))
    return _text(lines)


def _numberish(text):
    """A value cell as printed (full-width digits and separators too), or a blank one."""
    return bool(re.match(r"^[+\-]?[\d.,，]*$", unicodedata.normalize("NFKC", text)))


def render_run_on(fig):
    """A page's text copied out whole (a capture's page.txt): the title on its line, then the
    body with no line breaks, cells apart by one space (a blank cell printed as -), labels
    run into the numbers before and after them."""
    rows = grid_rows(fig)
    parts = []
    for r in rows[1:]:
        if len(r) > 1 and all(_numberish(v) for v in r[1:]):  # a table row, blank or not
            parts.append(r[0] + " ".join(v or "-" for v in r[1:]))
        else:
            parts.append("".join(c for c in r if c))
    return (rows[0][0] + "\n" + "".join(parts)).encode("utf-8"), "text/plain"


def render_traditional(fig):
    """The whole CMS page in traditional script (a mirror site's converter)."""
    import opencc

    body, ctype = render_html_page(fig)
    return opencc.OpenCC("s2t").convert(body.decode("utf-8")).encode("utf-8"), ctype


# ---- office files ------------------------------------------------------------------------------

OFFICE_TYPES = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def office_bytes(document, kind):
    """A python-docx document or an openpyxl workbook as (bytes, content type)."""
    out = io.BytesIO()
    document.save(out)
    return out.getvalue(), OFFICE_TYPES[kind]



def render_docx(fig):
    """A Word file: paragraphs, and tables whose header cells are merged across and down."""
    import docx

    d = docx.Document()
    for r in grid_rows(fig):
        if len(r) == 1:
            d.add_paragraph(r[0])
            continue
        if not hasattr(d, "_current") or d._current is None or len(d._current.columns) != len(r):
            d._current = d.add_table(rows=0, cols=len(r))
        cells = d._current.add_row().cells
        for c, text in zip(cells, r):
            c.text = text
    for t in d.tables:  # merge the blank cells into their left neighbour in header rows
        for tr in t.rows:
            texts = [c.text for c in tr.cells]
            if texts[0] and not any(re.match(r"^[\d.]+$", x) for x in texts) and all(not x for x in texts[1:]):
                tr.cells[0].merge(tr.cells[-1])
    return office_bytes(d, "docx")


def render_xlsx(fig):
    """A spreadsheet: one row a line, numbers as numbers, header cells merged across."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for i, r in enumerate(grid_rows(fig), 1):
        for j, text in enumerate(r, 1):
            value = text
            if re.match(r"^\d+$", text or ""):
                value = int(text)
            elif re.match(r"^\d+\.\d+$", text or ""):
                value = float(text)
            ws.cell(row=i, column=j, value=value if value != "" else None)
    return office_bytes(wb, "xlsx")


LAYOUTS = {
    "html-page": render_html_page,
    "html-fragment": render_html_fragment,
    "html-word": render_html_word,
    "pipe-trailing": render_pipe_trailing,
    "markdown": render_markdown,
    "tsv": render_tsv,
    "cell-per-line": render_one_cell_per_line,
    "pdftotext-layout": render_pdftotext_layout,
    "text-lines": render_text_lines,
    "traditional": render_traditional,
    "run-on": render_run_on,
    "docx": render_docx,
    "xlsx": render_xlsx,
}
