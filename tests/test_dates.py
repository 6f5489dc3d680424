import pytest

from pipelines.dates import labelled_page_date, parse_date, signature_date, unlabelled_page_date, url_date


@pytest.mark.parametrize("raw,iso", [
    ("2021-01-25 14:59", "2021-01-25T14:59:00+08:00"),
    ("2022-04-17 14:46:00", "2022-04-17T14:46:00+08:00"),
    ("发布日期: 2020/12/31 14:29:32", "2020-12-31T14:29:32+08:00"),
    ("發布時間:2021-01-25 14:59信息來源:市財政局", "2021-01-25T14:59:00+08:00"),
    ("时间:2017-01-12 10:01", "2017-01-12T10:01:00+08:00"),
    ("2021年1月25日", "2021-01-25"),
    ("二〇二一年一月二十五日", "2021-01-25"),
    ("二○二○年十二月三十一日", "2020-12-31"),
    ("(2026年1月23日)", "2026-01-23"),
    ("D:20250225100250+08'00'", "2025-02-25T10:02:50+08:00"),
    ("D:20240226144123+06'41'", "2024-02-26T14:41:23+08:00"),  # broken offset: wall time kept
    ("Mon, 25 Jan 2021 06:59:00 GMT", "2021-01-25T14:59:00+08:00"),
    ("时间: 2017年06月08日", "2017-06-08"),
])
def test_parse_date(raw, iso):
    assert parse_date(raw) == iso


@pytest.mark.parametrize("raw", ["", None, "政府信息公开", "2021-13-45"])
def test_not_a_date(raw):
    assert parse_date(raw) is None


def test_labelled_page_date_needs_its_label():
    assert labelled_page_date("發布時間:2021-01-25 14:59信息來源:市財政局") == "2021-01-25T14:59:00+08:00"
    assert labelled_page_date("本报告所列数据统计期限为2020年1月1日至12月31日") is None


@pytest.mark.parametrize("url,iso", [
    ("http://czj.huaihua.gov.cn/zwgk/xxgknb/202101/t20210125_5873012.html", "2021-01-25"),
    ("http://www.taizhou.gov.cn/art/2018/2/28/art_46355_1634538.html", "2018-02-28"),
    ("http://www.shuyang.gov.cn/sygfj/gknb/202401/2ecfb31a335f4d689220a3a23e24a986.shtml", None),
])
def test_url_date(url, iso):
    assert url_date(url) == iso


@pytest.mark.parametrize("head,iso", [
    ("2021年迎宾路街道政府信息公开工作年度报告\n迎宾路街道办事处\n2022年01月18日来源:1\n[字体: ] 打印", "2022-01-18"),
    ("某某镇2020年政府信息公开工作年度报告\n2021-01-29 浏览次数：35\n", "2021-01-29"),
    ("某某鎮2020年政府信息公開工作年度報告\n2021年01月29日　來源：某某鎮\n", "2021-01-29"),
    ("某某镇2020年政府信息公开工作年度报告\n2021/1/29 14:05 字号：大 中 小\n", "2021-01-29T14:05:00+08:00"),
    # a date opening prose or a statistics period is no publication date
    ("某某镇2020年政府信息公开工作年度报告\n2021年1月1日至2021年12月31日，我镇共公开信息5条。\n", None),
    ("某某镇2020年政府信息公开工作年度报告\n2020年1月1日起至2020年12月31日止 来源于各部门统计\n", None),
    ("某某镇2020年政府信息公开工作年度报告\n本报告2021年1月5日来源：镇党政办\n", None),
])
def test_an_unlabelled_date_is_taken_only_beside_page_chrome(head, iso):
    assert unlabelled_page_date(head) == iso


@pytest.mark.parametrize("tail,iso", [
    ("本报告所列数据的统计期限自2020年1月1日起至2020年12月31日。本年度报告电子版可以从门户网站下载。", None),
    ("统计时限为2021年1月1日至2021年12月31日止", None),
    ("数据统计期间：2022年1月1日—2022年12月31日", None),
    ("统计期限自2020年1月1日起至2020年12月31日。\n\n某某局\n2021年1月20日", "2021-01-20"),
    ("某某镇人民政府\n二〇二一年一月二十日", "2021-01-20"),
])
def test_a_signature_date_is_no_bound_of_a_period(tail, iso):
    found = signature_date(tail)
    assert (found[0] if found else None) == iso
