"""Table cells to numbers: full-width digits, separators, units, money in 万元; counts in
Chinese numerals."""
import functools
import re
import unicodedata

import cn2an

BLANK_MARKS = {"", "-", "—", "——", "–", "－", "―", "/", "／", "\\", "无", "無", "空", "—-", "--", "---", "*", "×"}
MONEY_FACTORS = {"亿元": 10000, "亿": 10000, "億元": 10000, "万元": 1, "萬元": 1, "千元": 0.1, "元": 0.0001}
COUNT_UNITS = ("件次", "人次", "件", "条", "條", "个", "個", "项", "項", "次", "份", "宗", "起", "人", "家", "篇", "期")
_NUMBER = re.compile(
    r"^(?P<sign>[+\-±])?(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>亿元|億元|万元|萬元|千元|元|亿|%s)?"
    r"\s*(?P<note>[(（\[【].*[)）\]】])?$" % "|".join(COUNT_UNITS)
)


_DIGITS_APART = re.compile(r"\d\s+[\d.]|[\d.]\s+\d")
_SPACE = re.compile(r"\s+")
_THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3}(?!\d))")


@functools.lru_cache(maxsize=8192)
def normalise(raw):
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if _DIGITS_APART.search(text):
        return text  # digits apart are several cells, never one number
    return _THOUSANDS.sub("", _SPACE.sub("", text))


def is_blank(raw):
    return normalise(raw) in BLANK_MARKS


@functools.lru_cache(maxsize=8192)
def parse_number(raw):
    """``(value, unit, note)`` for a cell that holds a number, else None.

    ``5.19亿元`` → (51900, '万元', None); ``22（其中修订16件）`` → (22, None, '（其中修订16件）');
    ``+4`` → (4, None, None); ``-8`` → (-8, None, None).
    """
    text = normalise(raw)
    m = _NUMBER.match(text)
    if not m:
        return None
    num = m.group("num")
    value = float(num) if "." in num else int(num)
    if m.group("sign") == "-":
        value = -value
    unit = m.group("unit")
    if unit in MONEY_FACTORS:
        value = round(value * MONEY_FACTORS[unit], 6)
        if float(value).is_integer():
            value = int(value)
        unit = "万元"
    return value, unit, m.group("note")


CN_NUMERAL = "零〇一二两三四五六七八九十百千万"


def whole_number(text):
    """A count written in digits (full-width too) or in Chinese numerals: ``２１`` → 21,
    ``二十一`` → 21, ``两`` → 2; None when it is no whole number."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        value = cn2an.cn2an(text, "smart")
    except (ValueError, KeyError, TypeError):
        return None
    return int(value) if float(value).is_integer() and value >= 0 else None
