"""Metadata as real pages print it (phrasings seen on the held-out captures and the label
harvest): breadcrumbs are no titles, the agency and year are found where the title lacks them."""
import pytest

from pipelines.document import Document, Row
from pipelines.metadata import (agency_from_opening, agency_from_page, find_source, find_title, report_year)


def doc(*lines, title=None, catalog=None):
    return Document(kind="text", rows=[Row([line]) for line in lines], title=title, catalog=catalog or {})


@pytest.mark.parametrize("lines, want", [
    (["当前位置:街镇 > 河包镇 > 政务公开 > 政府信息公开年报", "河包镇2020年政府信息公开工作年度报告"],
     "河包镇2020年政府信息公开工作年度报告"),
    (["当前页面:", "首页", "> 信息公开年度报告", "衡阳市衡东县杨林镇2023年政府信息公开年度报告"],
     "衡阳市衡东县杨林镇2023年政府信息公开年度报告"),
    (["您现在的位置：首页 > 政务公开 > 年报 > 某某县2022年政府信息公开工作年度报告"], "某某县2022年政府信息公开工作年度报告"),
    (["Page 8 - 威海市文登区信访局2022年政府信息公开工作年度报告"], "威海市文登区信访局2022年政府信息公开工作年度报告"),
])
def test_a_breadcrumb_or_a_viewers_marker_is_no_title(lines, want):
    assert find_title(doc(*lines)) == want


@pytest.mark.parametrize("text, want", [
    ("本报告是根据《条例》要求,由两城镇人民政府党政办公室编制。内容包括政府信息公开总体情况", "两城镇人民政府"),
    ("根据《条例》规定,现公布荷塘区桂花街道办事处2019年政府信息公开工作年度报告,内容包括", "荷塘区桂花街道办事处"),
    ("结合我单位政府信息公开工作实际,现编制形成了《广告@:西柳镇人民政府2023年政府信息公开工作年度报告》。", "西柳镇人民政府"),
    ("2019年,新华街道办事处高度重视政府信息公开工作,认真贯彻落实《条例》", "新华街道办事处"),
    ("2022年，我镇认真贯彻落实条例要求的各项工作部署，全年共主动公开政府信息", None),  # 我镇 names no one
])
def test_the_opening_names_the_agency(text, want):
    assert agency_from_opening(text) == want


def test_the_pages_own_title_names_the_agency():
    assert agency_from_page(doc(title="2022年政府信息公开工作年度报告_城关镇人民政府")) == "城关镇人民政府"
    assert agency_from_page(doc(title="2022年政府信息公开工作年度报告_某某网")) is None


@pytest.mark.parametrize("text, published, want", [
    ("本报告中所列数据的统计期限自2022年1月1日起至2022年12月31日止。", None, 2022),
    ("数据统计时间为2021年1月1日至12月31日。", "2022-01-20", 2021),
    ("一、总体情况\n2020年,在区委、区政府的领导下", "2021-01-30", 2020),
    ("…六个方面汇报我镇2023年政府信息公开工作。", "2024-01-15", 2023),
    ("根据《2024年政务公开工作要点》……", "2024-01-15", 2023),  # a plan names no year's work: pub year − 1
])
def test_the_year_from_the_text_when_the_title_has_none(text, published, want):
    assert report_year("政府信息公开工作年度报告", text, published)[0] == want


_BODY = "，认真贯彻落实《条例》和上级工作部署要求，依法、及时、准确地公开了相关政府信息，推进政府信息公开工作深入开展。" * 3


@pytest.mark.parametrize("line, want", [
    # a page flattened to one line: the title, then (the title again or) the body glued after it
    ("随县经济开发区2019年政府信息公开工作年度报告随县经济开发区2019年政府信息公开工作年度报告2019年" + _BODY,
     "随县经济开发区2019年政府信息公开工作年度报告"),
    ("某某县财政局2020年政府信息公开工作年度报告一、总体情况2020年" + _BODY, "某某县财政局2020年政府信息公开工作年度报告"),
    ("某某鎮2020年政府信息公開工作年度報告根據《條例》" + _BODY, "某某鎮2020年政府信息公開工作年度報告"),
    ("某某县2021年度政府信息公开年报本年度报告根据" + _BODY, "某某县2021年度政府信息公开年报"),
    # prose that names the report is no title
    ("现将我镇2020年政府信息公开工作年度报告公布如下" + _BODY, None),
    ("本机关2019年政府信息公开工作年度报告2019年" + _BODY, None),
    ("某某镇2020年政府信息公开工作年度报告已于近日编制完成" + _BODY, None),
])
def test_a_title_glued_to_the_body_of_a_flattened_page(line, want):
    assert find_title(doc(line)) == want


@pytest.mark.parametrize("line, want", [
    ("来源: (川汇区人民政府) 时间: 2020-02-20 17:02:26 访问量:0", "川汇区人民政府"),
    ("来源：【某某局】 发布时间：2020-01-02", "某某局"),
    ("信息來源：（某某鎮） 發布時間：2020-01-02", "某某鎮"),
    ("来源：某某局（办公室） 发布时间：2020-01-02", "某某局（办公室）"),  # a bracket inside the name stays
])
def test_a_source_printed_in_brackets_is_the_name_inside(line, want):
    assert find_source(doc("某某局2019年政府信息公开工作年度报告", line), line) == want
