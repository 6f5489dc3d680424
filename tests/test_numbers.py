import pytest

from pipelines.numbers import is_blank, parse_number


@pytest.mark.parametrize("raw,value,unit", [
    ("5", 5, None), ("５", 5, None), (" 0 ", 0, None), ("1,234", 1234, None), ("1，234", 1234, None),
    ("5.19亿元", 51900, "万元"), ("3000元", 0.3, "万元"), ("7730.28", 7730.28, None), ("12件", 12, "件"),
    ("+4", 4, None), ("-8", -8, None), ("22（其中修订16件）", 22, None),
])
def test_numbers(raw, value, unit):
    v, u, _ = parse_number(raw)
    assert v == value and type(v) is type(value) and u == unit


@pytest.mark.parametrize("raw", ["—", "-", "/", "", "无", "－"])
def test_blanks_are_not_numbers(raw):
    assert parse_number(raw) is None and is_blank(raw)


@pytest.mark.parametrize("raw", ["1.属于国家秘密", "2.", "- 5 -", "规章"])
def test_labels_are_not_numbers(raw):
    assert parse_number(raw) is None and not is_blank(raw)
