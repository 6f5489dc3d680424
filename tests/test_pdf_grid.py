"""The PDF reader's tables (pipelines/pdf.py): ruled grids from pypdfium2's rules and characters,
merged cells, tables split over pages, unruled columns, turned pages, wrapped cells."""
import pytest
from pdf_tables import Table, make_pdf

from pipelines import pdf as pdfmod
from pipelines.pdf import pdf_document

# the 申请人情况 head: 信息内容 spans two rows, 申请人情况 three columns
HEAD = [["信息内容", "申请人情况", None, None], [None, "自然人", "法人或其他组织", "总计"]]
SPANS = {(0, 0): (2, 1), (0, 1): (1, 3)}


def grid_rows(doc):
    return [r.cells for r in doc.rows if r.grid]


def lines(doc):
    return [r.cells[0] for r in doc.rows if not r.grid]


@pytest.fixture
def no_pdfplumber(monkeypatch):
    """The page must be read by pypdfium2 alone."""
    def refuse(*a, **k):
        raise AssertionError("pdfplumber was asked to read the page")
    monkeypatch.setattr(pdfmod, "_plumber_fallback", refuse)


def test_a_ruled_table_with_merged_head_cells(no_pdfplumber):
    t = Table(HEAD + [["本年新收", "3", "0", "3"], ["上年结转", "1", "", "1"]], widths=[120, 60, 90, 60], spans=SPANS)
    doc = pdf_document(make_pdf([["三、收到和处理政府信息公开申请情况", t, "四、政府信息公开行政复议情况"]]))
    assert grid_rows(doc) == t.expected()
    assert grid_rows(doc)[3] == ["上年结转", "1", "", "1"]  # a blank cell is a position, a merged one None
    assert lines(doc) == ["三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议情况"]
    assert all(r.prose for r in doc.rows if not r.grid)


def test_a_cell_spanning_rows_and_columns_in_the_body(no_pdfplumber):
    rows = [["结果", "情形", "自然人", "总计"], ["(三)不予公开", "1.国家秘密", "2", "2"], [None, "2.第三方", "0", "0"],
            ["(七)总计", None, "2", "2"]]
    t = Table(rows, widths=[90, 90, 50, 50], spans={(1, 0): (2, 1), (3, 0): (1, 2)})
    doc = pdf_document(make_pdf([["办理结果", t]]))
    assert grid_rows(doc) == t.expected()


def test_a_table_split_over_two_pages(no_pdfplumber):
    first = Table(HEAD + [["本年新收", "5", "1", "6"], ["上年结转", "0", "0", "0"]], widths=[120, 60, 90, 60],
                  spans=SPANS, open_bottom=True)
    second = Table([["予以公开", "2", "1", "3"], ["部分公开", "3", "0", "3"]], widths=[120, 60, 90, 60], open_top=True)
    doc = pdf_document(make_pdf([["申请人情况", first], ["- 4 -", second, "四、结转下年度继续办理"]]))
    assert grid_rows(doc) == first.expected() + second.expected()


def test_a_cell_that_wraps_onto_two_lines(no_pdfplumber):
    rows = [["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
            ["规章", "1", "0", "11"], ["行政规范性\n文件", "8", "26", "66"],
            ["2.其他法律行政法规\n禁止公开", "30", "1", "31"]]
    t = Table(rows, widths=[110, 70, 70, 70])
    doc = pdf_document(make_pdf([["第二十条第(一)项", t]]))
    assert grid_rows(doc) == t.expected()


def test_a_wrapped_single_character_pdfium_drops_is_read_by_the_fallback():
    """pdfium's text page leaves out some one-character text objects of a font without
    outlines (the built-in CID font); the page is then read by pdfplumber, not misread."""
    t = Table(HEAD + [["商业企\n业", "3", "0", "3"]], widths=[120, 60, 90, 60], spans=SPANS)
    doc = pdf_document(make_pdf([["申请人情况", t]]))
    assert grid_rows(doc) == [[c.replace("\n", "") if c else c for c in r] for r in t.expected()] \
        or grid_rows(doc) == t.expected()


def test_unruled_aligned_columns(no_pdfplumber):
    at = (0, 140, 220, 300)
    table = [("信息内容", "本年制发件数", "本年废止件数", "现行有效件数"), ("规章", "1", "", "11"),
             ("行政规范性文件", "8", "26", "66")]
    page = ["第二十条第(一)项"] + [tuple((w, x) for w, x in zip(row, at) if w) for row in table] + ["第二十条第(五)项"]
    doc = pdf_document(make_pdf([page]))
    assert grid_rows(doc) == [list(r) for r in table]
    assert lines(doc) == ["第二十条第(一)项", "第二十条第(五)项"]


def test_prose_with_wide_spaces_is_no_table(no_pdfplumber):
    page = ["第二十条 本年新收 3 件", (("电话:", 0), ("0517-87222589", 60)), "全年收取信息处理费 0 元"]
    doc = pdf_document(make_pdf([page]))
    assert grid_rows(doc) == []


@pytest.mark.parametrize("kw", [{"landscape": True}, {"rotate": 90}, {"rotate": 180}, {"rotate": 270},
                                {"landscape": True, "rotate": 90}])
def test_turned_pages(kw, no_pdfplumber):
    head = [["Item", "Applicants", None, None], [None, "Persons", "Companies", "Total"]]
    t = Table(head + [["New", "3", "0", "3"], ["Carried\nover", "1", "", "1"]], widths=[120, 60, 90, 60], spans=SPANS)
    doc = pdf_document(make_pdf([["Table 3", t, "After the table"]], font="Vera", **kw))
    assert grid_rows(doc) == t.expected()
    assert lines(doc)[-1] == "After the table"


ACTIVE = [("regulations", "规章", (1, 0, 11)), ("normative_documents", "行政规范性文件", (8, 26, 66))]
ACTIVE_CELLS = {("active", row, col): v for row, _, values in ACTIVE for col, v in zip(("made", "repealed", "valid"), values)}
ACTIVE_CELLS[("active", "licensing", "decisions")] = 447228


def _report(*tables):
    return ["某某市人民政府", "2024年政府信息公开工作年度报告", "二、主动公开政府信息情况", "第二十条第(一)项", tables[0],
            "第二十条第(五)项", tables[1], "五、存在的主要问题及改进情况"]


@pytest.mark.parametrize("ruled", [True, False])
def test_a_report_pdf_parses_to_its_cells(ruled, no_pdfplumber):
    """The parser reads the reader's rows as it reads an HTML table's, ruled or not."""
    from pipelines.report import parse_bytes

    head = ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]
    body = [[label, *map(str, values)] for _, label, values in ACTIVE]
    if ruled:
        first = Table([head, *body], widths=[110, 80, 80, 80])
        second = Table([["信息内容", "本年处理决定数量"], ["行政许可", "447228"]], widths=[110, 240])
    else:
        at = (0, 110, 190, 270)
        first = tuple(tuple(zip(r, at)) for r in [head, *body])
        second = tuple(tuple(zip(r, (0, 110))) for r in [["信息内容", "本年处理决定数量"], ["行政许可", "447228"]])
    page = _report(first, second)
    if not ruled:  # the unruled tables' lines go on the page one by one
        page = page[:4] + list(first) + [page[5]] + list(second) + page[7:]
    report = parse_bytes(make_pdf([page]), url="http://x/report.pdf")
    got = {(c["table"], c["row"], c["column"]): c["value"] for c in report["cells"]}
    assert got == ACTIVE_CELLS


def test_unruled_rows_keep_a_wrapped_label_line_in_its_place(no_pdfplumber):
    at = (0, 140, 220, 300)
    page = ["第二十条第(一)项", tuple(zip(("信息内容", "本年制发件数", "本年废止件数", "现行有效件数"), at)),
            tuple(zip(("行政规范性", "8", "26", "66"), at)), "文件", tuple(zip(("规章", "1", "0", "11"), at))]
    doc = pdf_document(make_pdf([page]))
    assert [r.cells if r.grid else r.cells[0] for r in doc.rows] == [
        "第二十条第(一)项", ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"], ["行政规范性", "8", "26", "66"],
        "文件", ["规章", "1", "0", "11"]]
