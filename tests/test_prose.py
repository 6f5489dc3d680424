"""The figures a report's prose states, against its tables (pipelines/prose.py): soft checks,
never errors, never a cell changed; on real reports' text as captured (tests/fixtures/real,
byte for byte) and the demo mirror's pages, whose quoted figures are the sources' own
(crawler/demo/mirror/SOURCES.md)."""
import pytest

from conftest import FIXTURES, MIRROR
from pipelines.report import parse_bytes

XZSPJ = FIXTURES / "real" / "fj_pingtan_xzspj_2023.txt"  # 平潭综合实验区行政审批局 2023, its page text whole
# its prose: 收到公民、法人和其他组织政府信息公开申请7件 … 因依申请公开引发行政复议1起、行政诉讼1起
SAID = ("申请7件", "行政复议1起", "行政诉讼1起")


def parse(body, ctype="text/plain"):
    return parse_bytes(body, content_type=ctype)


def text_checks(report):
    return {c["rule"]: (c["subject"], c["ok"], c["expected"], c["actual"]) for c in report["checks"]
            if c["rule"].startswith("text.")}


def prose_warnings(report):
    return [w for w in report["warnings"] if w.startswith("text.")]


def cells(report):
    return {(c["table"], c["row"], c["column"]): (c["value"], c.get("uncertain")) for c in report["cells"]}


def test_a_real_reports_prose_agrees_with_its_tables():
    report = parse(XZSPJ.read_bytes())
    assert text_checks(report) == {"text.requests_new": ("new_received", True, 7, 7),
                                   "text.review": ("review", True, 1, 1),
                                   "text.suits": ("suit_direct+suit_after_review", True, 1, 1)}
    assert not prose_warnings(report)


def test_prose_that_disagrees_with_the_table_warns_and_changes_no_cell():
    """The same capture with one figure of its prose changed (行政复议1起 → 3起; its table's
    行政复议 总计 stays 1): a failed check and a warning naming both figures; the cells, their
    doubts and the identities are those of the capture as published."""
    body = XZSPJ.read_bytes()
    assert body.count("行政复议1起".encode()) == 1
    published, changed = parse(body), parse(body.replace("行政复议1起".encode(), "行政复议3起".encode()))
    assert text_checks(changed)["text.review"] == ("review", False, 3, 1)
    (warning,) = prose_warnings(changed)
    assert "行政复议3起" in warning and "review total 1" in warning
    assert cells(changed) == cells(published)
    identities = [c for c in changed["checks"] if not c["rule"].startswith("text.")]
    assert identities == [c for c in published["checks"] if not c["rule"].startswith("text.")]
    assert [c["rule"] for c in changed["checks"] if not c["ok"]] == ["text.review"]


@pytest.mark.parametrize("seven, one", [("７", "１"), ("七", "一")])
def test_full_width_digits_and_chinese_numerals_are_read(seven, one):
    body = XZSPJ.read_text(encoding="utf-8")
    for said in SAID:
        body = body.replace(said, said.replace("7", seven).replace("1", one))
    assert text_checks(parse(body.encode())) == text_checks(parse(XZSPJ.read_bytes()))


@pytest.mark.parametrize("before", ["2022年", "上年", "同比"])
def test_a_figure_of_another_year_is_not_compared(before):
    body = XZSPJ.read_text(encoding="utf-8").replace("收到公民、法人", before + "收到公民、法人")
    assert "text.requests_new" not in text_checks(parse(body.encode()))


def test_the_requests_in_hand_are_another_scope():
    """平潭综合实验区 2022 (tests/fixtures/reports, the figures of the real page): 全年收到政府信息
    公开申请75件 counts the year's new requests (74) and the one carried over (1); the real page
    says the same 75 (its page.txt in the Pingtan archive repository)."""
    report = parse((FIXTURES / "reports" / "fj_pingtan_2022.html").read_bytes(), "text/html")
    got = {(c["row"]): c["value"] for c in report["cells"] if c["table"] == "requests" and c["column"] == "total"}
    assert (got["new_received"], got["carried_over"]) == (74, 1)
    assert "text.requests_new" not in text_checks(report) and not prose_warnings(report)
    assert text_checks(report)["text.review"] == ("review", True, 2, 2)


@pytest.mark.parametrize("page, ctype, compared", [
    # 沭阳县 2025: 共受理政府信息公开申请749件 (新收 713 + 上年结转 36); 行政复议、行政诉讼案件74件 (both together)
    ("js_shuyang/shuyang/xxgknb/287f7c4e645f26d1a078a0efd494e79d.shtml", "text/html", {}),
    # 淮安市 2024: 共受理 3119 (受理: not taken); 行政复议 351 件, 行政诉讼 46 件, as its table prints them
    ("js_huaian_xxgk/xxgk/gknb/202502/5b578ca9f1a582d1b885388e582edef8.shtml", "text/html",
     {"text.review": ("review", True, 351, 351), "text.suits": ("suit_direct+suit_after_review", True, 46, 46)}),
    # 洪泽区 2024: 区政府办代表区政府受理政府信息公开申请17件; the district's table: 95
    ("js_hongze/uploadfiles/2025/02/2025021410352867.pdf", "application/pdf", {}),
])
def test_figures_of_another_scope_in_the_demos_reports_are_not_compared(page, ctype, compared):
    report = parse((MIRROR / page).read_bytes(), ctype)
    assert report["cells"] and text_checks(report) == compared
    assert not prose_warnings(report)
