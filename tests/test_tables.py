"""The table reader on small inputs of every shape it must read."""
import os

import pytest

from pipelines.checks import run_checks
from pipelines.document import load_document
from pipelines.report import parse_bytes
from pipelines.tables import REQUEST_ROWS, read_tables

LABELS_2021 = [
    "一、本年新收政府信息公开申请数量", "二、上年结转政府信息公开申请数量", "（一）予以公开",
    "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "1.属于国家秘密", "2.其他法律行政法规禁止公开",
    "3.危及“三安全一稳定”", "4.保护第三方合法权益", "5.属于三类内部事务信息", "6.属于四类过程性信息",
    "7.属于行政执法案卷", "8.属于行政查询事项", "1.本机关不掌握相关政府信息", "2.没有现成信息需要另行制作",
    "3.补正后申请内容仍不明确", "1.信访举报投诉类申请", "2.重复申请", "3.要求提供公开出版物",
    "4.无正当理由大量反复申请", "5.要求行政机关确认或重新出具已获取信息",
    "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "3.其他", "（七）总计",
    "四、结转下年度继续办理",
]
KEYS_2021 = [k for k, _ in REQUEST_ROWS if k != "other"]
# natural_person for each row; every org column 0 but business (1 on granted rows); totals add up
NATURAL = [10, 2, 4, 1, 0, 0, 0, 1, 0, 0, 0, 0, 3, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 11, 1]
BUSINESS = [1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]


def request_rows():
    for label, n, b in zip(LABELS_2021, NATURAL, BUSINESS):
        yield label, [n, b, 0, 0, 0, 0, n + b]


def html_table():
    head = ('<tr><td rowspan="3" colspan="3">（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</td>'
            '<td colspan="7">申请人情况</td></tr><tr><td rowspan="2">自然人</td><td colspan="5">法人或其他组织</td>'
            '<td rowspan="2">总计</td></tr><tr><td>商业<br>企业</td><td>科研<font>机构</font></td><td>社会公益组织</td>'
            '<td>法律服务机构</td><td>其他</td></tr>')
    body = []
    for i, (label, values) in enumerate(request_rows()):
        left = f'<td colspan="3">{label}</td>' if i in (0, 1, 23, 24) else f"<td></td><td>{label}</td>"
        if i == 2:
            left = '<td rowspan="22">三、本年度办理结果</td><td colspan="2">（一）予以公开</td>'
        body.append("<tr>" + left + "".join(f"<td>&nbsp;{v}&nbsp;</td>" for v in values) + "</tr>")
    return f"<table border=1>{head}{''.join(body)}</table>"


def cells_of(rows_or_html, table="requests"):
    doc = load_document(rows_or_html.encode(), "text/html" if "<table" in rows_or_html else "text/plain")
    return {(c["row"], c["column"]): c["value"] for c in read_tables(doc.rows).cells if c["table"] == table}


def test_html_requests_table_with_three_row_header_and_rowspans():
    got = cells_of("<html><body><p>三、收到和处理政府信息公开申请情况</p>" + html_table() + "</body></html>")
    assert len(got) == 25 * 7
    for key, (_, values) in zip(KEYS_2021, request_rows()):
        assert [got[(key, c)] for c in ("natural_person", "business", "total")] == [values[0], values[1], values[6]]


def test_flattened_text_one_cell_per_line():
    lines = ["三、收到和处理政府信息公开申请情况", "申请人情况", "自然人", "法人或其他组织", "总计", "商业企业", "科研机构",
             "社会公益组织", "法律服务机构", "其他"]
    for label, values in request_rows():
        lines += [label] + [str(v) for v in values]
    got = cells_of("\n".join(lines))
    assert got[("new_received", "total")] == 11 and got[("other_other", "natural_person")] == 0
    assert got[("carried_forward", "natural_person")] == 1 and len(got) == 175


def test_pipe_rows_and_blank_cells_keep_positions():
    text = "三、收到和处理政府信息公开申请情况\n| 申请人情况 | 自然人 | 商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 | 总计 |\n|---|---|---|---|---|---|---|---|\n"
    text += "| 一、本年新收政府信息公开申请数量 | 5 |  | — | 0 | 0 | 0 | 5 |\n"
    got = cells_of(text)
    assert got[("new_received", "natural_person")] == 5
    assert ("new_received", "business") not in got and ("new_received", "research") not in got  # blank ≠ 0
    assert got[("new_received", "public_interest")] == 0 and got[("new_received", "total")] == 5


def test_fifteen_numbers_on_one_line():
    text = ("四、政府信息公开行政复议、行政诉讼情况\n行政复议 行政诉讼\n结果维持 结果纠正 其他结果 尚未审结 总计\n"
            "10 1 0 0 11 0 0 0 0 0 5 0 0 0 5\n五、存在的主要问题及改进情况\n今年共2件。")
    got = cells_of(text, "review_litigation")
    assert got[("review", "upheld")] == 10 and got[("review", "total")] == 11
    assert got[("suit_after_review", "upheld")] == 5 and len(got) == 15


def test_active_2019_money_and_signs():
    text = ("二、主动公开政府信息情况\n第二十条第（五）项\n信息内容\n上一年项目数量\n本年增/减\n处理决定数量\n行政许可\n12\n-3\n40\n"
            "第二十条第（九）项\n信息内容\n采购项目数量\n采购总金额\n政府集中采购\n361\n5.19亿元\n三、收到和处理政府信息公开申请情况")
    doc = load_document(text.encode(), "text/plain")
    cells = {(c["row"], c["column"]): c for c in read_tables(doc.rows).cells}
    assert cells[("licensing", "change")]["value"] == -3
    assert cells[("procurement", "amount")]["value"] == 51900 and cells[("procurement", "amount")]["unit"] == "万元"
    assert cells[("procurement", "amount")]["raw"] == "5.19亿元"


@pytest.mark.parametrize("layout", ["html", "pipe", "lines", "traditional"])
def test_a_row_printed_as_sub_rows_of_its_own_is_doubted(layout):
    """其他对外管理服务事项 with two sub-rows of its own (行政检查, 行政确认; real: bj_tongzhou_xinhua_2019):
    the first sub-row's figures are not the row's, whatever the layout; a row whose label runs on
    into a name but is followed by a real row is read as ever."""
    head = ["信息内容", "上一年项目数量", "本年增/减", "处理决定数量"]
    rows = [("行政许可", [3, 0, 5]), ("其他对外管理服务事项", None), ("行政检查", [2, 1, 4]), ("行政确认", [7, 0, 9]),
            ("第二十条第（六）项", None), *[(h, None) for h in head], ("行政处罚", [1, 1, 2])]
    if layout == "html":
        body = "".join(f"<tr><td>{h}</td>" + "".join(f"<td>{x}</td>" for x in head[1:]) + "</tr>" for h in head[:1])
        body += '<tr><td>行政许可</td><td>3</td><td>0</td><td>5</td></tr>'
        body += ('<tr><td rowspan="2">其他对外管理服务事项</td><td>行政检查</td><td>2</td><td>1</td><td>4</td></tr>'
                 '<tr><td>行政确认</td><td>7</td><td>0</td><td>9</td></tr>')
        body += '<tr><td colspan="4">第二十条第（六）项</td></tr>' + "<tr>" + "".join(f"<td>{h}</td>" for h in head) + "</tr>"
        body += '<tr><td>行政处罚</td><td>1</td><td>1</td><td>2</td></tr>'
        text = f"<html><body><p>二、主动公开政府信息情况</p><p>第二十条第（五）项</p><table>{body}</table></body></html>"
    else:
        lines = ["二、主动公开政府信息情况", "第二十条第（五）项", *head]
        for label, values in rows:
            lines += [label, *map(str, values or [])]
        if layout == "pipe":
            lines = [line + " |" for line in lines]
        text = "\n".join(lines)
        if layout == "traditional":
            text = text.replace("其他对外管理服务事项", "其他對外管理服務事項").replace("行政检查", "行政檢查")
            text = text.replace("行政确认", "行政確認").replace("信息内容", "信息內容")
    doc = load_document(text.encode(), "text/html" if layout == "html" else "text/plain")
    cells = {(c["row"], c["column"]): c for c in read_tables(doc.rows).cells if c["table"] == "active"}
    assert [cells[("licensing", c)]["value"] for c in ("previous_count", "change", "decisions")] == [3, 0, 5]
    assert not any(cells[("licensing", c)]["uncertain"] for c in ("previous_count", "change", "decisions"))
    assert cells[("punishment", "decisions")]["value"] == 2 and not cells[("punishment", "decisions")]["uncertain"]
    # other_services: absent, or every one of its cells doubted
    assert all(c["uncertain"] for (row, _), c in cells.items() if row == "other_services"), cells


def test_checks_report_expected_and_actual():
    cells = [{"table": "review_litigation", "row": "review", "column": c, "value": v}
             for c, v in zip(["upheld", "corrected", "other", "pending", "total"], [10, 1, 0, 0, 0])]
    (check,) = run_checks(cells)
    assert check == {"rule": "review_litigation.total", "subject": "review", "ok": False, "expected": 11, "actual": 0}


def test_checks_on_a_consistent_table_all_pass():
    got = load_document(("<p>三、收到和处理政府信息公开申请情况</p>" + html_table()).encode(), "text/html")
    checks = run_checks(read_tables(got.rows).cells)
    rules = {c["rule"] for c in checks}
    assert rules == {"requests.balance", "requests.row_total", "requests.outcome_total"}
    assert all(c["ok"] for c in checks), [c for c in checks if not c["ok"]]


def test_a_broken_pdf_is_data_not_a_crash():
    report = parse_bytes(b"%PDF-1.4 this is not really a pdf", "application/pdf")
    assert report["parse_status"] == "error" and "could not be read" in report["warnings"][0]
    assert report["cells"] == []


def test_html_comments_scripts_and_form_widgets_stay_out_of_the_text():
    html = ("<html><body><div id='zoom'><!--ZJEG_RSS.content.begin--><p>一、总体情况</p>"
            "<script>var a = '本年新收';</script><p>全年主动公开政府信息1136条。<!-- 旧稿 --></p>"
            "<select><option>2019年</option></select><p>二、主动公开政府信息情况</p>"
            "<!--ZJEG_RSS.content.end--></div></body></html>")
    doc = load_document(html.encode(), "text/html")
    assert [r.text for r in doc.rows] == ["一、总体情况", "全年主动公开政府信息1136条。", "二、主动公开政府信息情况"]
    assert "ZJEG" not in doc.page_text and "2019年" not in doc.page_text


def test_reading_many_pages_keeps_none_of_them():
    """Texts cached by the reader must be plain strings: an lxml "smart" string keeps its
    whole page alive, and a parse worker grew by ~150 KB a report until it ran out."""
    from conftest import MIRROR

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6

    page = (MIRROR / "js_hongze/art/2024/2/26/art_52013_3345671.html").read_text(encoding="utf-8")
    load_document(page.encode(), "text/html")
    before = rss_mb()
    for i in range(300):
        load_document(page.replace("</body>", f"<p>第{i}页</p></body>").encode(), "text/html")
    assert rss_mb() - before < 15  # 300 pages kept would be ~45 MB


def test_a_report_nested_past_the_html_parsers_depth_is_read_whole():
    """libxml2 stops at its depth limit: a page that wraps its report in 3,000 unclosed
    containers would parse to nothing below them; it is parsed again, flattened."""
    from conftest import FIXTURES

    page = (FIXTURES / "reports" / "fj_pingtan_2024.html").read_text(encoding="utf-8")
    deep = page.replace("<body>", "<body>" + "<div><font>" * 3000, 1)
    whole = load_document(page.encode(), "text/html")
    flattened = load_document(deep.encode(), "text/html")
    assert len(read_tables(flattened.rows).cells) == len(read_tables(whole.rows).cells) == 200


# ---- the requests table's columns as its header prints them ---------------------------------

ORDER = ["natural_person", "business", "research", "public_interest", "legal_services", "other_org", "total"]


def _printed(order, headers):
    """The requests table as pipe text: the header line in print order, rows in that order."""
    lines = ["三、收到和处理政府信息公开申请情况", "| 申请人情况 |", "| " + " | ".join(headers) + " |"]
    for label, values in request_rows():
        by_key = dict(zip(ORDER, values))
        lines.append(f"| {label} | " + " | ".join(str(by_key[k]) for k in order) + " |")
    return "\n".join(lines)


def test_a_total_printed_first_lands_in_total():
    order = ["total", "natural_person", "business", "research", "public_interest", "legal_services", "other_org"]
    got = cells_of(_printed(order, ["总计", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]))
    for key, (_, values) in zip(KEYS_2021, request_rows()):
        assert [got[(key, c)] for c in ORDER] == values


def test_stacked_headers_with_the_total_first_land_in_place():
    order = ["total", "natural_person", "business", "research", "public_interest", "legal_services", "other_org"]
    text = _printed(order, ["总计", "自然人", "法人或其他组织"]).replace(
        "| 总计 | 自然人 | 法人或其他组织 |", "| 总计 | 自然人 | 法人或其他组织 |\n| 商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 |")
    got = cells_of(text)
    assert [got[("new_received", c)] for c in ORDER] == list(next(request_rows())[1])


def test_a_table_without_a_column_is_read_by_its_header_not_by_position():
    order = ["natural_person", "business", "research", "public_interest", "legal_services", "total"]  # no 其他
    got = cells_of(_printed(order, ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "总计"]))
    assert ("new_received", "other_org") not in got
    assert got[("new_received", "total")] == 11 and got[("new_received", "legal_services")] == 0


def test_a_glued_row_is_read_only_one_way():
    text = ("二、主动公开政府信息情况\n第二十条第（一）项\n信息内容 本年制发件数 本年废止件数 现行有效件数\n"
            "规章000\n行政规范性文件5416\n")
    got = cells_of(text, "active")
    assert [got[("regulations", c)] for c in ("made", "repealed", "valid")] == [0, 0, 0]
    assert not any(k[0] == "normative_documents" for k in got)  # 5/4/16, 54/1/6 or 5/41/6: not guessed


def test_pdftotext_layout_with_wrapped_labels_and_group_labels_beside_rows():
    """`pdftotext -layout` of a 2021 requests table (figures made up, layout as the tool writes
    it): group labels (（三）不予 / 公开) in the middle of sub-rows, labels wrapped after their
    numbers (…仍不明 / 确), a label whose numbers stand on its second line."""
    from conftest import FIXTURES

    text = (FIXTURES / "layouts" / "pdftotext_layout_2021.txt").read_text(encoding="utf-8")
    report = parse_bytes(text.encode(), content_type="text/plain")
    got = {(c["row"], c["column"]): c["value"] for c in report["cells"] if c["table"] == "requests"}
    assert len(got) == 25 * 7 and not report["warnings"]
    assert [got[(r, "total")] for r in ("new_received", "denied_third_party", "unable_unclear",
                                        "other_no_correction", "total_processed")] == [11, 1, 0, 1, 12]
    assert all(c["ok"] for c in report["checks"])


# A page of a flipbook or of a split PDF that starts inside the requests table: its header and
# its heading are on the page before, the first thing printed is a row only that table has.
@pytest.mark.parametrize("text,ctype", [
    ("P. 9\n四、结转下年度继续办理 0 1 0 0 0 0 1\n四、政府信息公开行政复议、行政诉讼情况\n", "text/plain"),
    ("P. 9\n四、結轉下年度繼續辦理　　0  1  0  0  0  0  1\n四、政府信息公開行政復議、行政訴訟情況\n", "text/plain"),
    ("四、结转下年度继续办理\n\n0\n\n1\n\n0\n\n0\n\n0\n\n0\n\n1\n\n五、存在的主要问题及改进情况\n", "text/plain"),
    ("| 四、结转下年度继续办理 | 0 | 1 | 0 | 0 | 0 | 0 | 1 |\n", "text/markdown"),
], ids=["one-line", "traditional-wide-spaces", "cell-per-line", "pipe"])
def test_a_page_that_starts_with_a_requests_row_is_read(text, ctype):
    report = parse_bytes(text.encode(), content_type=ctype)
    got = {c["column"]: c["value"] for c in report["cells"] if c["table"] == "requests" and c["row"] == "carried_forward"}
    assert [got.get(c) for c in ORDER] == [0, 1, 0, 0, 0, 0, 1]


def test_a_page_that_starts_with_the_carried_over_row_reads_the_rows_after_it():
    text = "P. 8\n二、上年结转政府信息公开申请数量　　1  0  0  0  0  0  1\n三、本年度办理结果\n（一）予以公开 2 0 0 0 0 0 2\n"
    got = cells_of(text)
    assert got[("carried_over", "natural_person")] == 1 and got[("granted", "total")] == 2


def test_a_headless_row_that_does_not_add_up_is_flagged():
    # with no header on the page the columns are the template's: a row whose 总计 is not the sum
    # of the six before it (a printed order other than the template's, or a misprint) is doubted
    report = parse_bytes("四、结转下年度继续办理 2 0 0 0 0 0 3\n".encode(), content_type="text/plain")
    row = [c for c in report["cells"] if c["row"] == "carried_forward"]
    assert row and all(c["uncertain"] for c in row)


def test_the_rows_named_in_prose_start_no_table():
    text = ("某某镇2020年政府信息公开工作年度报告\n一、总体情况\n2020年，某某镇共收到政府信息公开申请3件，办结1件，"
            "结转下年度继续办理2件。上年结转1件。\n二、主动公开政府信息情况\n")
    report = parse_bytes(text.encode(), content_type="text/plain")
    assert not [c for c in report["cells"] if c["table"] == "requests" and not c["uncertain"]]


_PROSE = "，认真贯彻落实《条例》和上级工作部署要求，依法、及时、准确地公开了相关政府信息，推进政府信息公开工作深入开展。" * 6


@pytest.mark.parametrize("header", [
    "信息内容本年新制作数量本年新公开数量对外公开总数量",
    "信息内容 本年新制作数量 本年新公开数量 对外公开总数量",
    "信息內容本年新製作數量本年新公開數量對外公開總數量",
], ids=["glued", "spaced", "traditional"])
def test_a_flattened_page_cut_after_table_2s_header_reads_its_glued_rows(header):
    # the whole page on one line, cut before table 3: only two of the header words are there
    line = "某某开发区2019年政府信息公开工作年度报告" + _PROSE + "二、主动公开政府信息情况第二十条第(一)项" + header + "规章555规范性文件141414第"
    got = cells_of(line, "active")
    assert [got[("regulations", c)] for c in ("made", "published", "total_published")] == [5, 5, 5]
    assert not any(k[0] == "normative_documents" for k in got)  # 14/14/14 or 14/1/414 …: not guessed


def test_prose_naming_two_rows_apart_is_not_a_flattened_table():
    line = "某某镇2020年政府信息公开工作年度报告" + _PROSE + "全年本年新收申请5件，上年结转2件，均已办结" + _PROSE
    assert cells_of(line) == {}


_FEES_THEN_PROCUREMENT = {
    "pipe": ("第二十条第（八）项 | |\n信息内容 | 上一年项目数量 | 本年增/减 |\n行政事业性收费 | | |\n第二十条第（九）项 | |\n"
             "信息内容 | 采购项目数量 | 采购总金额 |\n3 | 50 |\n", "text/markdown"),
    "cell-per-line": ("第二十条第(八)项\n\n信息内容\n\n上一年项目数量\n\n本年增/减\n\n行政事业性收费\n\n第二十条第(九)项\n\n信息内容\n\n"
                      "采购项目数量\n\n采购总金额\n\n3\n\n50\n", "text/plain"),
    "traditional": ("第二十條第（八）項 | |\n信息內容 | 上一年項目數量 | 本年增/減 |\n行政事業性收費 | | |\n第二十條第（九）項 | |\n"
                    "信息內容 | 採購項目數量 | 採購總金額 |\n3 | 50 |\n", "text/markdown"),
}


@pytest.mark.parametrize("name", list(_FEES_THEN_PROCUREMENT))
def test_values_after_the_next_sub_tables_header_are_not_the_blank_rows(name):
    # 行政事业性收费 printed blank, then 第二十条第（九）项's header and figures whose row label is missing:
    # the figures are not the fees row's
    text, ctype = _FEES_THEN_PROCUREMENT[name]
    report = parse_bytes(text.encode(), content_type=ctype)
    assert not [c for c in report["cells"] if c["row"] == "fees"]


@pytest.mark.parametrize("tail", ["采购项目数量(指202", "采购项目数量（指2020年", "採購項目數量(指2020年1", "本年增/减(减用负值表示,如-8"])
def test_digits_glued_inside_an_open_note_are_the_notes(tail):
    # a capture cut inside a header's note: its year is no cell of the row above
    text = ("第二十条第(八)项 | |\n信息内容 | 上一年项目数量 | 本年增/减 |\n行政事业性收费 | | |\n第二十条第(九)项 | |\n"
            "信息内容 | " + tail)
    report = parse_bytes(text.encode(), content_type="text/markdown")
    assert not [c for c in report["cells"] if c["table"] == "active"]


def test_a_wrapped_note_with_spaced_figures_still_gives_its_row():
    # pdftotext wraps a long label inside its note; the figures after a space are the row's
    text = "第二十条第（一）项\n信息内容 本年新制作数量 本年新公开数量 对外公开总数量\n规范性文件（指各行政机关印发的 3 3 12\n有正式文号的文件）\n"
    got = cells_of(text, "active")
    assert [got.get(("normative_documents", c)) for c in ("made", "published", "total_published")] == [3, 3, 12]


def test_a_row_cut_inside_its_own_note_gives_no_cells():
    text = "第二十条第（八）项\n信息内容 上一年项目数量 本年增/减\n行政事业性收费（指202"
    assert not [k for k in cells_of(text, "active") if k[0] == "fees"]


@pytest.mark.parametrize("text,ctype", [
    ("三、收到和处理政府信息公开申请情况\n| 申请人情况 |\n| 自然人 | 商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 | 总计 |\n"
     "| 一、本年新收政府信息公开申请数量 | 0 | ||||||||\n", "text/markdown"),
    ("三、收到和處理政府信息公開申請情況\n| 申請人情況 |\n| 自然人 | 商業企業 | 科研機構 | 社會公益組織 | 法律服務機構 | 其他 | 總計 |\n"
     "| 一、本年新收政府信息公開申請數量 | 3 | | | | | | |\n", "text/markdown"),
    ("三、收到和处理政府信息公开申请情况\n申请人情况\n自然人\n商业企业\n科研机构\n社会公益组织\n法律服务机构\n其他\n总计\n"
     "一、本年新收政府信息公开申请数量\n2\n1\n-\n-\n-\n-\n-\n", "text/plain"),
])
def test_a_requests_row_whose_total_is_blank_is_doubted(text, ctype):
    # figures that stop before the 总计: one figure in a merged cell, or a row cut short
    report = parse_bytes(text.encode(), content_type=ctype)
    row = [c for c in report["cells"] if c["table"] == "requests" and c["row"] == "new_received"]
    assert row and all(c["uncertain"] for c in row)


def test_a_requests_row_with_blank_organisations_and_a_total_is_not_doubted():
    text = ("三、收到和处理政府信息公开申请情况\n| 申请人情况 |\n| 自然人 | 商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 | 总计 |\n"
            "| 一、本年新收政府信息公开申请数量 | 3 | - | - | - | - | - | 3 |\n")
    row = [c for c in parse_bytes(text.encode(), content_type="text/markdown")["cells"] if c["row"] == "new_received"]
    assert {c["column"]: c["value"] for c in row} == {"natural_person": 3, "total": 3}
    assert not any(c["uncertain"] for c in row)


@pytest.mark.parametrize("split", ["本年增/\n\n处理决定数量", "本年增/\n减\n处理决定数量", "本年增—\n减\n处理决定数量"])
def test_a_header_cut_after_its_slash_is_no_blank_cell(split):
    text = ("第二十条第(五)项\n\n信息内容\n\n上一年项目数量\n\n" + split + "\n\n行政许可\n\n1\n\n0\n\n5\n\n"
            "其他对外管理服务事项\n\n2\n\n1\n\n7\n")
    report = parse_bytes(text.encode(), content_type="text/plain")
    assert not [w for w in report["warnings"] if w.startswith("active")]
    got = {(c["row"], c["column"]): c["value"] for c in report["cells"]}
    assert [got[("licensing", c)] for c in ("previous_count", "change", "decisions")] == [1, 0, 5]


_BAR_HEAD = ("三、收到和处理政府信息公开申请情况\n申请人情况 |\n自然人 |\n商业企业 |\n科研机构 |\n社会公益组织 |\n法律服务机构 |\n其他 |\n"
             "总计 |\n")


@pytest.mark.parametrize("row,want", [
    # each cell closed by ' |': a lone '|' is a cell left empty
    ("一、本年新收政府信息公开申请数量 |\n|\n|\n|\n|\n|\n|\n4 |\n", {"total": 4}),
    ("一、本年新收政府信息公开申请数量 |\n4 |\n|\n|\n|\n|\n|\n4 |\n", {"natural_person": 4, "total": 4}),
    ("一、本年新收政府信息公开申请数量 |\n3 |\n1 |\n|\n|\n|\n|\n4 |\n", {"natural_person": 3, "business": 1, "total": 4}),
    ("一、本年新收政府信息公開申請數量 |\n|\n|\n|\n|\n|\n|\n４ |\n", {"total": 4}),
])
def test_a_lone_bar_between_bar_closed_cells_is_an_empty_cell(row, want):
    text = _BAR_HEAD + row + "二、上年结转政府信息公开申请数量 |\n0 |\n0 |\n0 |\n0 |\n0 |\n0 |\n0 |\n"
    report = parse_bytes(text.encode(), content_type="text/markdown")
    got = {c["column"]: c["value"] for c in report["cells"] if c["row"] == "new_received"}
    assert got == want
    assert not any(c["uncertain"] for c in report["cells"] if c["row"] == "new_received")


def test_a_lone_bar_opening_a_row_is_no_cell():
    # '|' before a label opens the row (a converter's row marker), and a figure's cells stay put
    text = ("二、主动公开政府信息情况\n|\n第二十条第(一)项 | |||\n|\n信息内容 |\n本年制发件数 |\n本年废止件数 |\n现行有效件数 |\n"
            "|\n规章 |\n0 |\n0 |\n|\n|\n行政规范性文件 |\n5 |\n1 |\n8 |\n|\n第二十条第(五)项 | |||\n")
    report = parse_bytes(text.encode(), content_type="text/markdown")
    got = {(c["row"], c["column"]): c["value"] for c in report["cells"]}
    assert got == {("regulations", "made"): 0, ("regulations", "repealed"): 0,
                   ("normative_documents", "made"): 5, ("normative_documents", "repealed"): 1,
                   ("normative_documents", "valid"): 8}
    assert not [w for w in report["warnings"] if w.startswith("active")]


@pytest.mark.parametrize("label", ["3.危及“三安全一稳定”", "3.危及「三安全一稳定」", '3.危及"三安全一稳定"', "3.危及‘三安全一稳定’"])
def test_a_blank_mark_after_a_closing_quote_is_a_blank_cell(label):
    # a flattened table: the row's first blank '-' stands right after the label's closing quote
    line = ("一、本年新收政府信息公开申请数量0 - - - - - 0二、上年结转政府信息公开申请数量- - - - - - 0三、本年度办理结果（一）予以公开"
            "- - - - - - 0（三）不予公开1.属于国家秘密- - - - - - 02.其他法律行政法规禁止公开- - - - - - 0" + label +
            "- - - - - - 04.保护第三方合法权益- - - - - - 0")
    text = ("某某县人民政府2023年政府信息公开工作年度报告\n" + _PROSE +
            "三、收到和处理政府信息公开申请情况申请人情况自然人商业企业科研机构社会公益组织法律服务机构其他总计" + line)
    report = parse_bytes(text.encode(), content_type="text/plain")
    row = {c["column"]: (c["value"], c["uncertain"]) for c in report["cells"] if c["row"] == "denied_security"}
    assert row == {"total": (0, False)}


@pytest.mark.parametrize("pad", [4, 9])
def test_a_layout_table_printing_only_its_total_puts_it_under_total(pad):
    # pdftotext -layout of a table whose rows print only 总计 (the six applicant cells blank)
    sp = " " * pad
    orgs = " " * 43 + sp.join(["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"])
    at = len(orgs) + pad
    top = (" " * 33 + "自然人" + sp + "法人或其他组织").ljust(at) + "总计"
    rows = "".join(label.ljust(at) + " " + str(n) + "\n" for label, n in
                   [("一、本年新收政府信息公开", 5), ("二、上年结转政府信息公开", 1), ("四、结转下年度继续办理", 2)])
    text = "三、收到和处理政府信息公开申请情况\n" + top + "\n" + orgs + "\n" + rows
    report = parse_bytes(text.encode(), content_type="text/plain")
    got = {(c["row"], c["column"]): c["value"] for c in report["cells"] if c["table"] == "requests"}
    assert got == {("new_received", "total"): 5, ("carried_over", "total"): 1, ("carried_forward", "total"): 2}
