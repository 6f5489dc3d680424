"""Metadata normalisation: title, year, agency and region, source, publication date."""
import pytest

from archive.store import canonical_url, report_id
from pipelines.document import load_document
from pipelines.metadata import agency_from_title, report_year
from pipelines.region import region_of, resolve_agency, site_id_region
from pipelines.report import normalise


@pytest.mark.parametrize("title,year", [
    ("怀化市财政局2020年政府信息公开工作年度报告", 2020),
    ("某县2020年度政府信息公开工作年度报告", 2020),
    ("某县人民政府二〇二〇年政府信息公开工作年度报告", 2020),
    ("懷化市財政局2020年政府信息公開工作年度報告", 2020),
])
def test_report_year_from_the_title(title, year):
    assert report_year(title, "", None) == (year, None)


def test_report_year_from_the_statistics_period():
    text = "本报告中所列数据统计期限为2020年1月1日至12月31日。"
    assert report_year("政府信息公开工作年度报告", text, "2021-01-25") == (2020, None)


def test_report_year_guessed_from_publication_says_so():
    year, warning = report_year("政府信息公开工作年度报告", "", "2021-01-25T14:59:00+08:00")
    assert year == 2020 and "guessed" in warning


@pytest.mark.parametrize("title,agency", [
    ("怀化市财政局2020年政府信息公开工作年度报告", "怀化市财政局"),
    ("2024年上海市科委政府信息公开工作年度报告", "上海市科委"),
    ("关于淮安市人民政府2024年政府信息公开工作年度报告", "淮安市人民政府"),
    ("宿州市人民政府2019年政府信息公开工作年度报告（图片版）", "宿州市人民政府"),
])
def test_agency_from_the_title(title, agency):
    assert agency_from_title(title) == agency


@pytest.mark.parametrize("name,site_region", [("怀化市财政局", None), ("市财政局", "431200"), ("懷化市財政局", None)])
def test_one_agency_one_id_however_its_name_is_written(name, site_region):
    r = resolve_agency(name, site_region=site_region)
    assert r["agency_id"] == resolve_agency("怀化市财政局")["agency_id"]
    assert (r["region_code"], r["province"], r["prefecture"], r["level"], r["kind"]) == (
        "431200", "湖南省", "怀化市", "prefecture", "department")


def test_the_same_district_across_a_renaming_of_its_title():
    a, b = resolve_agency("洪泽区人民政府"), resolve_agency("淮安市洪泽区人民政府")
    assert a["agency_id"] == b["agency_id"] and a["county"] == "洪泽区" and a["level"] == "county"
    assert a["kind"] == "government"


@pytest.mark.parametrize("name,hint,code", [
    ("朝阳区人民政府", "110000", "110105"), ("朝阳区人民政府", "220100", "220104"),
    ("北京市朝阳区人民政府", None, "110105"), ("江苏省人民政府", None, "320000"),
])
def test_same_named_places_are_told_apart_by_the_site(name, hint, code):
    assert resolve_agency(name, site_region=hint)["region_code"] == code


def test_levels():
    assert resolve_agency("江苏省人民政府")["level"] == "provincial"
    assert resolve_agency("某某镇人民政府", site_region="320813")["level"] == "township"
    assert resolve_agency("生态环境部", site_id_code="bm17000009")["level"] == "central"


def test_site_id_code_gives_the_region():
    assert site_id_region("3213220037") == "321322" and site_id_region("bm17000009") == "000000"
    assert site_id_region("政府网站标识码") is None


def test_region_of_a_municipality_has_no_prefecture():
    assert region_of("110105") == {"region_code": "110105", "province": "北京市", "prefecture": None, "county": "朝阳区"}


def test_big5_gateway_copy_is_the_same_report():
    big5 = "https://big5.mee.gov.cn/gate/big5/www.mee.gov.cn/ywdt/hjywnews/202204/t20220417_974894.shtml"
    assert canonical_url(big5) == "https://www.mee.gov.cn/ywdt/hjywnews/202204/t20220417_974894.shtml"
    assert report_id("mee", big5) == report_id("mee", canonical_url(big5))


PAGE = """<html><head><meta name="PubDate" content="2022-04-17 14:46:00"><meta name="SiteIDCode" content="4312000013">
<meta name="ContentSource" content="市财政局"></head><body><h1>市财政局2021年政府信息公开工作年度报告</h1>
<table><tr><td>索引号</td><td>000014349/2022-00110</td><td>发文日期</td><td>2022-04-16</td></tr>
<tr><td>分类</td><td>信息公开年报</td><td>文号</td><td></td></tr></table>
<div class="TRS_Editor"><p>一、总体情况</p><p>2021年，本局依法做好政府信息公开工作，全年主动公开信息若干条，依申请公开工作平稳有序。</p>
<p>怀化市财政局</p><p>2022年4月15日</p></div></body></html>"""


def test_date_candidates_in_order_of_trust_and_all_kept():
    doc = load_document(PAGE.encode(), "text/html")
    r = normalise(doc, url="http://czj.huaihua.gov.cn/zwgk/xxgknb/202204/t20220414_1.html", list_date="2022-04-14",
                  last_modified="Mon, 18 Apr 2022 01:00:00 GMT")
    assert (r["published_at"], r["published_from"]) == ("2022-04-17T14:46:00+08:00", "meta")
    assert [c["from"] for c in r["published_candidates"]] == ["meta", "catalog", "list", "url", "signature", "http"]
    assert [c["value"] for c in r["published_candidates"]][1:5] == ["2022-04-16", "2022-04-14", "2022-04-14", "2022-04-15"]


def test_full_agency_name_from_the_signature_and_catalog_fields():
    r = normalise(load_document(PAGE.encode(), "text/html"))
    assert r["agency"] == "怀化市财政局" and r["agency_from"] == "signature" and r["source"] == "市财政局"
    assert r["region_code"] == "431200" and r["index_no"] == "000014349/2022-00110" and r["category"] == "信息公开年报"


@pytest.mark.parametrize("title,agency", [
    ("左贡县人民政府2021年度信息公开年度报告", "左贡县人民政府"),
    ("某某县人民政府2020年政务公开年度报告", "某某县人民政府"),
    ("某某區人民政府2022年度信息公開工作年度報告", "某某区人民政府"),
])
def test_the_year_between_agency_and_report_does_not_join_them(title, agency):
    assert agency_from_title(title) == agency
