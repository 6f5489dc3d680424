"""One report's figures printed in the layouts government sites really use.

A :class:`Report` is what gets printed: title, agency, year, format, and the text of
each statistical cell keyed like report-schema.md ``(table, row, column)``.
:func:`grids` lays its tables out as the national template prints them (merged
header cells as rowspan/colspan, the 办理结果 groups as row spans).  Each layout
function below prints the whole report in one layout and returns
``(body bytes, content type)``; :data:`LAYOUTS` names them.

The shapes are copied from real pages (tests/fixtures/reports, ../shared/corpus, and
public report pages): the text is ours, the figures are the case's.
"""
import html
import io
import re
import unicodedata
from dataclasses import dataclass, field, replace

from layouts import office_bytes

# ---------------------------------------------------------------------------
# the national template's wording (formats.md §2, §3)

ACTIVE_2021 = [  # (sub-table, column headers, column keys, [(row label, row key)])
    ("第二十条第（一）项", ["本年制发件数", "本年废止件数", "现行有效件数"], ["made", "repealed", "valid"],
     [("规章", "regulations"), ("行政规范性文件", "normative_documents")]),
    ("第二十条第（五）项", ["本年处理决定数量"], ["decisions"], [("行政许可", "licensing")]),
    ("第二十条第（六）项", ["本年处理决定数量"], ["decisions"], [("行政处罚", "punishment"), ("行政强制", "coercion")]),
    ("第二十条第（八）项", ["本年收费金额（单位：万元）"], ["amount"], [("行政事业性收费", "fees")]),
]
_COUNTS_2019 = (["上一年项目数量", "本年增/减", "处理决定数量"], ["previous_count", "change", "decisions"])
ACTIVE_2019 = [
    ("第二十条第（一）项", ["本年新制作数量", "本年新公开数量", "对外公开总数量"], ["made", "published", "total_published"],
     [("规章", "regulations"), ("规范性文件", "normative_documents")]),
    ("第二十条第（五）项", *_COUNTS_2019, [("行政许可", "licensing"), ("其他对外管理服务事项", "other_services")]),
    ("第二十条第（六）项", *_COUNTS_2019, [("行政处罚", "punishment"), ("行政强制", "coercion")]),
    ("第二十条第（八）项", ["上一年项目数量", "本年增/减"], ["previous_count", "change"], [("行政事业性收费", "fees")]),
    ("第二十条第（九）项", ["采购项目数量", "采购总金额"], ["items", "amount"], [("政府集中采购", "procurement")]),
]

REQUEST_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
REQUEST_COLUMNS = [("自然人", "natural_person"), ("商业企业", "business"), ("科研机构", "research"),
                   ("社会公益组织", "public_interest"), ("法律服务机构", "legal_services"), ("其他", "other_org"),
                   ("总计", "total")]
_RESULTS = "三、本年度办理结果"
_DENIED, _UNABLE, _IGNORED, _OTHER = "（三）不予公开", "（四）无法提供", "（五）不予处理", "（六）其他处理"
# each printed row as the path of its labels, outermost first, and its row key
REQUEST_ROWS_HEAD = [
    (("一、本年新收政府信息公开申请数量",), "new_received"),
    (("二、上年结转政府信息公开申请数量",), "carried_over"),
    ((_RESULTS, "（一）予以公开"), "granted"),
    ((_RESULTS, "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"), "partial"),
    ((_RESULTS, _DENIED, "1.属于国家秘密"), "denied_state_secret"),
    ((_RESULTS, _DENIED, "2.其他法律行政法规禁止公开"), "denied_prohibited"),
    ((_RESULTS, _DENIED, "3.危及“三安全一稳定”"), "denied_security"),
    ((_RESULTS, _DENIED, "4.保护第三方合法权益"), "denied_third_party"),
    ((_RESULTS, _DENIED, "5.属于三类内部事务信息"), "denied_internal"),
    ((_RESULTS, _DENIED, "6.属于四类过程性信息"), "denied_process"),
    ((_RESULTS, _DENIED, "7.属于行政执法案卷"), "denied_enforcement"),
    ((_RESULTS, _DENIED, "8.属于行政查询事项"), "denied_query"),
    ((_RESULTS, _UNABLE, "1.本机关不掌握相关政府信息"), "unable_not_held"),
    ((_RESULTS, _UNABLE, "2.没有现成信息需要另行制作"), "unable_needs_creation"),
    ((_RESULTS, _UNABLE, "3.补正后申请内容仍不明确"), "unable_unclear"),
    ((_RESULTS, _IGNORED, "1.信访举报投诉类申请"), "ignored_complaint"),
    ((_RESULTS, _IGNORED, "2.重复申请"), "ignored_repeat"),
    ((_RESULTS, _IGNORED, "3.要求提供公开出版物"), "ignored_publication"),
    ((_RESULTS, _IGNORED, "4.无正当理由大量反复申请"), "ignored_mass"),
    ((_RESULTS, _IGNORED, "5.要求行政机关确认或重新出具已获取信息"), "ignored_confirm"),
]
OTHER_ROWS_2021 = [
    ((_RESULTS, _OTHER, "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"), "other_no_correction"),
    ((_RESULTS, _OTHER, "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"), "other_no_fee"),
    ((_RESULTS, _OTHER, "3.其他"), "other_other"),
]
OTHER_ROWS_2019 = [((_RESULTS, _OTHER), "other")]
REQUEST_ROWS_TAIL = [
    ((_RESULTS, "（七）总计"), "total_processed"),
    (("四、结转下年度继续办理",), "carried_forward"),
]

REVIEW_GROUPS = [("行政复议", None, "review"), ("行政诉讼", "未经复议直接起诉", "suit_direct"),
                 ("行政诉讼", "复议后起诉", "suit_after_review")]
REVIEW_COLUMNS = [("结果维持", "upheld"), ("结果纠正", "corrected"), ("其他结果", "other"), ("尚未审结", "pending"),
                  ("总计", "total")]

HEADINGS = ["总体情况", "主动公开政府信息情况", "收到和处理政府信息公开申请情况", "政府信息公开行政复议、行政诉讼情况",
            "存在的主要问题及改进情况", "其他需要报告的事项"]
HEADINGS_LEGACY = ["概述", "主动公开政府信息情况", "依申请公开政府信息情况", "因政府信息公开申请行政复议、提起行政诉讼的情况",
                   "存在的主要问题和改进措施", "政府信息公开情况统计表"]
NUMERALS = "一二三四五六"
AMOUNT_COLUMNS = {("active", "fees", "amount"), ("active", "procurement", "amount")}


# ---------------------------------------------------------------------------
# what is printed


@dataclass
class Report:
    """The figures of one case and how each piece of text is printed.

    ``texts`` holds each cell's printed text (a key absent is a blank cell);
    ``label`` prints a label or header (the identity unless a test varies it);
    ``blank`` is what a blank cell shows.
    """
    case_id: str
    title: str
    agency: str
    year: int
    fmt: str  # 2019, 2021, pre2019
    values: dict  # (table, row, column) -> expected value
    units: dict  # (table, row, column) -> expected unit
    texts: dict = field(default_factory=dict)
    label: object = staticmethod(lambda s: s)
    blank: str = ""

    def cell(self, key):
        return self.texts.get(key, self.blank)

    def has(self, table):
        return any(k[0] == table for k in self.values)

    def other_rows(self):
        """（六） as printed: one row where the case has the 2019-style row (洪泽 2023), else the format's."""
        if any(k[:2] == ("requests", "other") for k in self.values) or self.fmt == "2019":
            return OTHER_ROWS_2019
        return OTHER_ROWS_2021

    def request_rows(self):
        return REQUEST_ROWS_HEAD + self.other_rows() + REQUEST_ROWS_TAIL

    def intro(self):
        basis = {"2021": "《中华人民共和国政府信息公开工作年度报告格式》（国办公开办函〔2021〕30号）",
                 "2019": "《中华人民共和国政府信息公开工作年度报告格式（试行）》（国办公开办函〔2019〕60号）"}
        return (f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）{'和' + basis[self.fmt] if self.fmt in basis else ''}"
                f"要求编制。本报告中所列数据的统计期限自{self.year}年1月1日起至{self.year}年12月31日止。")

    def sections(self):
        """(number, heading, paragraphs before the table) of the six sections."""
        if self.fmt == "pre2019":
            texts = [f"{self.year}年，{self.agency}认真贯彻落实《条例》，政府信息公开工作平稳有序开展。",
                     "通过门户网站、政府公报和公开查阅点主动公开政府信息，数据见统计表。",
                     "依申请公开工作依法办理，均在法定期限内答复，数据见统计表。",
                     "因政府信息公开申请行政复议、提起行政诉讼的情况见统计表。",
                     "公开内容不够全面，公开形式较为单一。下一步将加强培训，完善制度。", ""]
            return [(NUMERALS[i], h, [t] if t else []) for i, (h, t) in enumerate(zip(HEADINGS_LEGACY, texts))]
        texts = [f"{self.year}年，{self.agency}认真贯彻落实《条例》，主动公开、依申请公开、政府信息管理、平台建设和监督保障等工作有序开展。",
                 "", "", "",
                 "政府信息公开工作仍存在公开内容不够全面、政策解读形式较为单一等问题。下一步将加强业务培训，完善工作机制。",
                 "本年度未收取信息处理费。无其他需要报告的事项。"]
        return [(NUMERALS[i], h, [t] if t else []) for i, (h, t) in enumerate(zip(HEADINGS, texts))]


def number_text(value, key):
    """A value as a report prints it: integers plain, decimals as they are, 2019 procurement money with its unit."""
    text = repr(value) if isinstance(value, float) else str(value)
    if key == ("active", "procurement", "amount"):
        text += "万元"  # the 2019 header 采购总金额 names no unit: the cell does (5.19亿元 in Huaihua)
    return text


def report_from_case(case_id, case):
    agency = case["agency"][0] if isinstance(case.get("agency"), list) else case.get("agency")
    fmt = case["format_version"]
    values, units = {}, {}
    for c in case["cells"]:
        key = (c["table"], c["row"], c["column"])
        values[key] = c["value"]
        units[key] = c.get("unit", "万元" if key in AMOUNT_COLUMNS else None)
    title = f"{agency}{case['report_year']}年政府信息公开工作年度报告"
    return Report(case_id, title, agency, case["report_year"], fmt, values, units,
                  texts={k: number_text(v, k) for k, v in values.items()})


# ---------------------------------------------------------------------------
# tables as the template prints them


@dataclass
class Cell:
    text: str
    rowspan: int = 1
    colspan: int = 1
    key: tuple = None  # (table, row, column) of a value cell
    header: bool = False


@dataclass
class Grid:
    section: str  # the numeral of the section it stands in
    caption: str  # the table's own title line, printed above it by some layouts
    rows: list
    width: int

    def expanded(self):
        """Rows of ``width`` cells, each merged cell at its top-left position and None where it spans."""
        out = [[None] * self.width for _ in self.rows]
        taken = [[False] * self.width for _ in self.rows]
        for r, row in enumerate(self.rows):
            c = 0
            for cell in row:
                while taken[r][c]:
                    c += 1
                out[r][c] = cell
                for dr in range(cell.rowspan):
                    for dc in range(cell.colspan):
                        taken[r + dr][c + dc] = True
                c += cell.colspan
        return out


def value_cell(r, key, colspan=1):
    return Cell(r.cell(key), colspan=colspan, key=key)


def active_grid(r):
    rows, width = [], 4
    for sub, headers, cols, lines in (ACTIVE_2021 if r.fmt == "2021" else ACTIVE_2019):
        last = width - len(headers)  # the last column spans what is left (本年处理决定数量 over three)
        rows.append([Cell(r.label(sub), colspan=width, header=True)])
        rows.append([Cell(r.label("信息内容"), header=True)] +
                    [Cell(r.label(h), colspan=last if i == len(headers) - 1 else 1, header=True)
                     for i, h in enumerate(headers)])
        for label, row in lines:
            rows.append([Cell(r.label(label))] + [value_cell(r, ("active", row, col), last if i == len(cols) - 1 else 1)
                                                  for i, col in enumerate(cols)])
    return Grid("二", "", rows, width)


def request_grid(r):
    """Three label columns with row spans for the groups, then the seven applicant columns."""
    paths = r.request_rows()
    header = [
        [Cell(r.label(REQUEST_NOTE), rowspan=3, colspan=3, header=True), Cell(r.label("申请人情况"), colspan=7, header=True)],
        [Cell(r.label("自然人"), rowspan=2, header=True), Cell(r.label("法人或其他组织"), colspan=5, header=True),
         Cell(r.label("总计"), rowspan=2, header=True)],
        [Cell(r.label(h), header=True) for h, _ in REQUEST_COLUMNS[1:6]],
    ]
    body = []
    for i, (path, row) in enumerate(paths):
        cells = []
        for depth, label in enumerate(path):
            if i and paths[i - 1][0][:depth + 1] == path[:depth + 1]:
                continue  # spanned from a row above
            span = sum(1 for p, _ in paths[i:] if p[:depth + 1] == path[:depth + 1])
            colspan = 3 - depth if depth == len(path) - 1 else 1
            cells.append(Cell(r.label(label), rowspan=span, colspan=colspan))
        body.append(cells + [value_cell(r, ("requests", row, col)) for _, col in REQUEST_COLUMNS])
    return Grid("三", "", header + body, 10)


def review_grid(r):
    leaves = [Cell(r.label(h), header=True) for h, _ in REVIEW_COLUMNS]
    rows = [
        [Cell(r.label("行政复议"), colspan=5, header=True), Cell(r.label("行政诉讼"), colspan=10, header=True)],
        [replace(c, rowspan=2) for c in leaves] +
        [Cell(r.label("未经复议直接起诉"), colspan=5, header=True), Cell(r.label("复议后起诉"), colspan=5, header=True)],
        leaves + leaves,
        [value_cell(r, ("review_litigation", row, col)) for _, _, row in REVIEW_GROUPS for _, col in REVIEW_COLUMNS],
    ]
    return Grid("四", "", rows, 15)


def legacy_grid(r):
    """The pre-2019 统计表: 指标名称 | 计量单位 | one column per period (2013年度, 历年累计)."""
    periods = list(dict.fromkeys(k[2] for k in r.values))
    indicators = list(dict.fromkeys(k[1] for k in r.values))
    rows = [[Cell(r.label(h), header=True) for h in ["指标名称", "计量单位", *periods]]]
    for ind in indicators:
        unit = next(r.units[k] for k in r.values if k[1] == ind)
        rows.append([Cell(r.label(ind)), Cell(r.label(unit or ""))] + [value_cell(r, ("legacy", ind, p)) for p in periods])
    return Grid("六", f"{r.agency}{r.year}年政府信息公开情况统计表", rows, 2 + len(periods))


def grids(r):
    """The report's tables, each tagged with the section it stands in."""
    if r.fmt == "pre2019":
        return [legacy_grid(r)]
    made = [(active_grid, "active"), (request_grid, "requests"), (review_grid, "review_litigation")]
    return [build(r) for build, table in made if r.has(table)]


def blocks(r):
    """The report in reading order: ("title", text), ("p", text), ("h", "一、总体情况"), ("table", Grid)."""
    out = [("title", r.label(r.title)), ("p", r.intro())]
    tables = grids(r)
    for numeral, heading, paragraphs in r.sections():
        out.append(("h", f"{numeral}、{heading}"))
        out.extend(("p", t) for t in paragraphs)
        out.extend(("table", g) for g in tables if g.section == numeral)
        if r.fmt != "pre2019" and numeral in "二三四" and not any(g.section == numeral for g in tables):
            out.append(("p", "本部分统计表从略。"))
    return out


# ---------------------------------------------------------------------------
# HTML layouts


def _h(text):
    """Text into HTML; a line break inside a label is a <br/> (Word and CMS editors write one)."""
    return html.escape(text, quote=False).replace("\n", "<br/>\n")


def html_table(g, cell_html=None, attrs='border="1" cellspacing="0" cellpadding="0" width="600"'):
    cell_html = cell_html or (lambda c: _h(c.text) if c.text.strip() else "&nbsp;")
    out = [f"<table {attrs}><tbody>"]
    for row in g.rows:
        tds = []
        for c in row:
            span = (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "") + (f' colspan="{c.colspan}"' if c.colspan > 1 else "")
            tds.append(f"<td{span}>{cell_html(c)}</td>")
        out.append("<tr>" + "".join(tds) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _article_html(r, p_style='style="text-indent:2em;"'):
    out = []
    for kind, x in blocks(r):
        if kind == "title":
            out.append(f'<p style="text-align:center;"><strong>{_h(x)}</strong></p>')
        elif kind == "h":
            out.append(f"<p {p_style}><strong>{_h(x)}</strong></p>")
        elif kind == "p":
            out.append(f"<p {p_style}>{_h(x)}</p>")
        else:
            if x.caption:
                out.append(f'<p style="text-align:center;">{_h(x.caption)}</p>')
            out.append(html_table(x))
    return "\n".join(out)


def cms_page(r):
    """1. A full CMS article page: breadcrumbs, the 信息公开目录 table, the article with merged-cell tables."""
    date = f"{r.year + 1}-01-20"
    page = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{_h(r.title)}_政府信息公开年报_{_h(r.agency)}</title>
</head>
<body>
<div class="header"><a href="/">首页</a> | <a href="/zwgk/">政务公开</a> | <a href="/hdjl/">互动交流</a></div>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/zfxxgk/">政府信息公开</a> &gt; <a href="/zfxxgk/ndbg/">年报</a></div>
<table class="xxgk-ml" width="100%" border="1" cellspacing="0">
<tr><td>索引号</td><td>11000000MB0000000X/{r.year + 1}-00012</td><td>分类</td><td>政府信息公开年报</td></tr>
<tr><td>发布机构</td><td>{_h(r.agency)}</td><td>发文日期</td><td>{date}</td></tr>
<tr><td>名称</td><td colspan="3">{_h(r.title)}</td></tr>
<tr><td>文号</td><td></td><td>有效性</td><td>有效</td></tr>
</table>
<div class="article">
<h1 class="article-title">{_h(r.title)}</h1>
<div class="article-info">发布日期：{date}　　来源：{_h(r.agency)}</div>
<div class="article-content" id="zoom">
{_article_html(r).split(chr(10), 1)[1]}
</div>
</div>
<div class="footer">主办单位：{_h(r.agency)}　网站标识码：1100000001　<a href="#">网站地图</a></div>
</body>
</html>
"""
    return page.encode("utf-8"), "text/html; charset=utf-8"


def fragment(r):
    """2. The article body alone, as a CMS JSON API returns it: no <html>/<body>, starting with <p style=…>."""
    return _article_html(r).encode("utf-8"), "text/html"


def _word_runs(text, style):
    """Word's HTML: digits in their own lang=EN-US run, and a long text split into two runs."""
    if not text.strip():
        return f'<span style="{style}">&nbsp;</span>'
    parts = [p for p in re.split(r"([0-9０-９][0-9０-９.,，]*)", text) if p]
    runs = []
    for p in parts:
        if re.match(r"[0-9０-９]", p):
            runs.append(f'<span lang="EN-US" style="{style}">{_h(p)}</span>')
        elif len(p) > 12:  # Word splits a run where the editor's cursor stopped
            runs.append(f'<span style="{style}">{_h(p[:7])}</span><span style="{style}">{_h(p[7:])}</span>')
        else:
            runs.append(f'<span style="{style}">{_h(p)}</span>')
    return "".join(runs)


def word_nested(r):
    """3. Word pasted into the CMS inside the site's layout tables: every cell a <p class=MsoNormal><span style=…>."""
    font = "font-family:仿宋_GB2312;font-size:12.0pt"
    td = ('<td width="{w}" valign="center" style="border:solid windowtext 1.0pt;padding:0cm 5.4pt 0cm 5.4pt">'
          '<p class="MsoNormal" align="center" style="text-align:center;line-height:20.0pt">{runs}</p></td>')
    body = []
    for kind, x in blocks(r):
        if kind == "title":
            body.append('<p class="MsoNormal" align="center" style="text-align:center">'
                        f'<b>{_word_runs(x, "font-size:22.0pt;font-family:方正小标宋简体")}</b></p>')
        elif kind in ("h", "p"):
            runs = _word_runs(x, "font-size:16.0pt;font-family:" + ("黑体" if kind == "h" else "仿宋_GB2312"))
            body.append(f'<p class="MsoNormal" style="text-indent:32.0pt;line-height:28.0pt">{runs}</p>')
        else:
            rows = []
            for row in x.rows:
                tds = []
                for c in row:
                    span = (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "") + (f' colspan="{c.colspan}"' if c.colspan > 1 else "")
                    tds.append(td.format(w=60 * c.colspan, runs=_word_runs(c.text, font)).replace("<td ", f"<td{span} ", 1))
                rows.append('<tr style="height:20.0pt">' + "".join(tds) + "</tr>")
            body.append('<table class="MsoNormalTable" border="1" cellspacing="0" cellpadding="0" '
                        'style="border-collapse:collapse;border:none">' + "\n".join(rows) + "</table>")
            body.append('<p class="MsoNormal"><span lang="EN-US">&nbsp;</span></p>')
    page = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"><title>{_h(r.title)}</title></head>
<body>
<table width="1000" align="center" cellpadding="0" cellspacing="0" class="layout"><tr><td>
<table width="100%" cellpadding="0" cellspacing="0"><tr><td class="nav">您现在的位置：首页 &gt; 政府信息公开 &gt; 年度报告</td></tr></table>
<table width="100%" cellpadding="0" cellspacing="0"><tr><td class="content">
<div class="WordSection1">
{chr(10).join(body)}
</div>
</td></tr></table>
</td></tr></table>
</body></html>
"""
    return page.encode("gb18030"), "text/html; charset=gb2312"


# ---------------------------------------------------------------------------
# text layouts (prose lines, then each table row as a line)


def _text(r, table_lines):
    out = []
    for kind, x in blocks(r):
        if kind == "table":
            if x.caption:
                out.append(x.caption)
            out.extend(table_lines(x))
        else:
            out.append(x)
    return ("\n".join(out) + "\n").encode("utf-8")


def pipe_trailing(r):
    """4. What text extractors write for an HTML table: the cells a row starts, `label | v | v |`."""
    return _text(r, lambda g: [" | ".join(c.text for c in row) + " |" for row in g.rows]), "text/plain; charset=utf-8"


def markdown(r):
    """5. Markdown from a converter: one pipe table per table, |---| under its first row, merged cells left empty."""
    def lines(g):
        rows = ["| " + " | ".join(c.text if c else "" for c in row) + " |" for row in g.expanded()]
        return ["", rows[0], "|" + "---|" * g.width, *rows[1:], ""]
    body = _text(r, lines).decode("utf-8")
    body = re.sub(r"^(?=[一二三四五六]、)", "## ", body, flags=re.MULTILINE)
    return ("# " + body).encode("utf-8"), "text/markdown; charset=utf-8"


def tsv(r):
    """6. A table copied from the browser: the cells a row starts, tab-separated."""
    return _text(r, lambda g: ["\t".join(c.text for c in row) for row in g.rows]), "text/plain; charset=utf-8"


def one_per_line(r):
    """7. Page text of an HTML table: every cell on its own line (a blank cell as —, else it would vanish)."""
    def lines(g):
        return [c.text if c.text.strip() else (r.blank.strip() or "—") for row in g.rows for c in row]
    return _text(r, lines), "text/plain; charset=utf-8"


def width(text):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text, n, right=False):
    gap = " " * max(n - width(text), 1)
    return gap + text if right else text + gap


def wrap(text, n):
    """Lines of at most n display columns, cut as a PDF cell cuts them (anywhere)."""
    lines, cur = [], ""
    for ch in text:
        if width(cur + ch) > n:
            lines.append(cur)
            cur = ""
        cur += ch
    return lines + [cur] if cur else lines


def at(line, col, text):
    """``line`` padded with spaces to display column ``col``, then ``text``."""
    return line + " " * max(col - width(line), 1 if line else 0) + text


def pdf_layout(r):
    """8. `pdftotext -layout` of a PDF report: columns aligned with spaces, long labels wrapped onto
    following lines, a group label on the line of its first sub-row, a page number inside a table."""
    num_w, offsets, area = 9, [2, 22, 38], 64  # label columns of the requests table; numbers from `area` on

    def nums(texts, w=num_w):
        return "".join(pad(t if t.strip() else r.blank, w, right=True) for t in texts)

    def requests():
        out = [at("", 58, r.label("申请人情况"))]
        note = wrap(r.label(REQUEST_NOTE), 44)
        out.append(at(at("", 2, note[0]), area + num_w, r.label("法人或其他组织")))
        heads = [wrap(r.label(h), 6) for h, _ in REQUEST_COLUMNS]  # 商业企 / 业, as a narrow PDF column prints it
        out.append(at(at("", 2, "".join(note[1:])), area, "") + nums(h[0] for h in heads))
        out.append(at("", area, "") + nums(h[1] if len(h) > 1 else "" for h in heads))
        paths = r.request_rows()
        for i, (path, row) in enumerate(paths):
            prev = paths[i - 1][0] if i else ()
            line = ""
            for depth in range(len(path) - 1):
                if path[:depth + 1] != prev[:depth + 1]:
                    line = at(line, offsets[depth], r.label(path[depth]))
            last = len(path) - 1
            label = wrap(r.label(path[last]), area - offsets[last] - 2)
            line = at(line, offsets[last], label[0])
            out.append(at(line, area, nums(r.cell(("requests", row, col)) for _, col in REQUEST_COLUMNS)))
            out.extend(at("", offsets[last], rest) for rest in label[1:])
            if row == "unable_not_held":
                out.append(at("", 44, "- 2 -"))
        return out

    def review():
        return [at(at("", 2, r.label("行政复议")), 2 + num_w * 5, r.label("行政诉讼")),
                at(at("", 2 + num_w * 5, r.label("未经复议直接起诉")), 2 + num_w * 10, r.label("复议后起诉")),
                "  " + "".join(pad(r.label(h), num_w, right=True) for h, _ in REVIEW_COLUMNS * 3),
                "  " + nums(c.text for c in review_grid(r).rows[3])]

    def lines(g):
        if g.section == "三":
            return requests()
        if g.section == "四":
            return review()
        out = []  # 二 and the 统计表: label, then headers or numbers in columns
        for head, *rest in g.rows:
            if not rest:
                out.append("  " + head.text)
            else:  # headers and numbers right-aligned in the same columns
                out.append("  " + pad(head.text, 24) + nums((c.text for c in rest), 16))
        return out
    return _text(r, lines), "text/plain; charset=utf-8"


def spaced(r):
    """9. Text from a PDF without layout: rows as `label 1 0 0 …`, header cells one per line, and the
    review/litigation table as one line of 15 numbers under its two-line header."""
    def value(c):
        return c.text if c.text.strip() else (r.blank.strip() or "—")

    def lines(g):
        if g.section == "四":
            return [f"{r.label('行政复议')} {r.label('行政诉讼')}",
                    " ".join(r.label(h) for h, _ in REVIEW_COLUMNS) + f" {r.label('未经复议直接起诉')} {r.label('复议后起诉')}",
                    " ".join(r.label(h) for h, _ in REVIEW_COLUMNS * 3),
                    " ".join(value(c) for c in g.rows[3])]
        out = []
        for row in g.rows:
            labels = [c.text for c in row if c.key is None]
            if row[0].header and g.section == "三":
                out.extend(labels)  # the requests header: one cell per line
                continue
            values = [value(c) for c in row if c.key]
            out.extend(labels[:-1])  # a group label on its own line
            out.append(" ".join([labels[-1], *values]) if labels else " ".join(values))
        return out
    return _text(r, lines), "text/plain; charset=utf-8"


# ---------------------------------------------------------------------------
# traditional script


def _s2t(text):
    import opencc

    return opencc.OpenCC("s2t").convert(text)


def traditional_html(r):
    """10a. The CMS page in traditional script (OpenCC s2t), as Big5 mirrors of mainland sites serve it."""
    body, ctype = cms_page(r)
    return _s2t(body.decode("utf-8")).encode("utf-8"), ctype


def traditional_lines(r):
    """10b. One cell per line in traditional script (the 怀化 capture's shape)."""
    body, ctype = one_per_line(r)
    return _s2t(body.decode("utf-8")).encode("utf-8"), ctype


# ---------------------------------------------------------------------------
# office files


def _typed(text):
    """A sheet cell: a number where the text is one, else the text."""
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    return text


def docx_file(r):
    """11. A DOCX with the template's merged cells (python-docx)."""
    import docx

    d = docx.Document()
    for kind, x in blocks(r):
        if kind != "table":
            d.add_paragraph(x)
            continue
        if x.caption:
            d.add_paragraph(x.caption)
        t = d.add_table(rows=len(x.rows), cols=x.width)
        t.style = "Table Grid"
        for i, row in enumerate(x.expanded()):
            for j, c in enumerate(row):
                if c is None:
                    continue
                target = t.cell(i, j)
                if c.rowspan > 1 or c.colspan > 1:
                    target = target.merge(t.cell(i + c.rowspan - 1, j + c.colspan - 1))
                target.text = c.text
    return office_bytes(d, "docx")


def xlsx_file(r):
    """12. An XLSX (a report's statistics sent as a spreadsheet): one sheet, merged header cells, numbers as numbers."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "年度报告"
    for kind, x in blocks(r):
        if kind != "table":
            ws.append([x])
            continue
        if x.caption:
            ws.append([x.caption])
        top = ws.max_row + 1
        for i, row in enumerate(x.expanded()):
            for j, c in enumerate(row):
                if c is None:
                    continue
                ws.cell(top + i, j + 1, _typed(c.text) if c.key else c.text)
                if c.rowspan > 1 or c.colspan > 1:
                    ws.merge_cells(start_row=top + i, start_column=j + 1,
                                   end_row=top + i + c.rowspan - 1, end_column=j + c.colspan)
    return office_bytes(wb, "xlsx")


def _col_widths(g, total=535):
    fixed = {10: [56, 60, 150], 4: [200]}.get(g.width, [])  # label columns; the rest share what is left
    rest = (total - sum(fixed)) / (g.width - len(fixed))
    return fixed + [rest] * (g.width - len(fixed))


def pdf_file(r):
    """13. A PDF with a text layer (reportlab, the STSong CID font): ruled tables with merged cells."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(595, 842))
    c.setTitle("")  # the PDF's own /Title is often empty or generic: the title is the first line
    left, top, bottom, size = 30, 810, 40, 7
    y = top

    def lines_in(text, w):
        return wrap(text, max(int(w / size * 2) - 2, 2)) or [""]

    for kind, x in blocks(r):
        if kind != "table":
            font = 14 if kind == "title" else 10
            for line in wrap(x, 100 if kind != "title" else 70):
                if y < bottom:
                    c.showPage()
                    y = top
                c.setFont("STSong-Light", font)
                c.drawString(left, y, line)
                y -= font + 6
            continue
        widths = _col_widths(x)
        cells = x.expanded()
        heights = [max([len(lines_in(cell.text, widths[j] * cell.colspan)) for j, cell in enumerate(row) if cell and
                        cell.rowspan == 1] or [1]) * (size + 2) + 6 for row in cells]
        if y - sum(heights) < bottom:
            c.showPage()
            y = top
        c.setFont("STSong-Light", size)
        for i, row in enumerate(cells):
            for j, cell in enumerate(row):
                if cell is None:
                    continue
                x0, w = left + sum(widths[:j]), sum(widths[j:j + cell.colspan])
                h = sum(heights[i:i + cell.rowspan])
                c.rect(x0, y - h, w, h)
                text = lines_in(cell.text, w)
                ty = y - h / 2 + (len(text) - 1) * (size + 2) / 2 - size / 2
                for line in text:
                    c.drawCentredString(x0 + w / 2, ty, line)
                    ty -= size + 2
            y -= heights[i]
        y -= 12
    c.save()
    return buf.getvalue(), "application/pdf"


# name -> (renderer, whether it suits a pre-2019 统计表 too)
LAYOUTS = {
    "cms-page": (cms_page, True),
    "fragment": (fragment, True),
    "word-nested": (word_nested, True),
    "pipe-trailing": (pipe_trailing, True),
    "markdown": (markdown, True),
    "tsv": (tsv, True),
    "lines": (one_per_line, True),
    "pdf-layout": (pdf_layout, True),
    "spaced-review-line": (spaced, False),  # its point is table 4 as 15 numbers; a 统计表 has no table 4
    "trad-html": (traditional_html, True),
    "trad-lines": (traditional_lines, True),
    "docx": (docx_file, True),
    "xlsx": (xlsx_file, True),
    "pdf": (pdf_file, True),
}
HTML_LAYOUTS = {"cms-page", "fragment", "word-nested", "trad-html"}
