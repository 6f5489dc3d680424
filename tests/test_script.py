import pytest

from pipelines.script import detect_script, to_simplified, to_traditional


@pytest.mark.parametrize("naive,right", [
    ("全麵落實", "全面落实"), ("製度機製", "制度机制"), ("聯係", "联系"), ("隻計", "只计"),
    ("懷化市財政局", "怀化市财政局"), ("發布時間", "发布时间"),
])
def test_naive_converter_artefacts_come_out_right(naive, right):
    assert to_simplified(naive) == right


@pytest.mark.parametrize("text,script", [
    ("懷化市財政局2020年政府信息公開工作年度報告", "traditional"),
    ("怀化市财政局2020年政府信息公开工作年度报告", "simplified"),
    ("懷化市財政局 怀化市财政局 政府信息公開 政府信息公开", "mixed"),
    ("2020年", "simplified"),
])
def test_detect_script(text, script):
    assert detect_script(text) == script


def test_no_cjk_is_no_script():
    assert detect_script("2021-01-25 14:59") is None


def test_round_trip_keeps_length():
    s = "全面推进政务公开工作"
    assert len(to_traditional(s)) == len(s) and to_simplified(to_traditional(s)) == s


def test_none_and_empty_pass_through():
    assert to_simplified(None) is None and to_simplified("") == ""


def test_a_long_text_in_two_scripts_is_mixed():
    simplified = "全面推进政务公开工作，依法做好政府信息公开。" * 300
    assert detect_script(to_traditional(simplified) + simplified) == "mixed"
    assert detect_script(simplified * 2) == "simplified"
    assert detect_script(to_traditional(simplified) * 2) == "traditional"
