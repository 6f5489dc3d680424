"""Dates as government pages write them, to ISO 8601 in Asia/Shanghai.

Patterns first (they are exact and fast, and dateparser returns None for
labelled, glued and Chinese-numeral strings), dateparser for what is left,
configured once.  A date with a time becomes ``2021-01-25T14:59:00+08:00``,
a date alone ``2021-01-25``.
"""
import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from .numbers import whole_number

SHANGHAI = timezone(timedelta(hours=8))

_NUM_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d\d)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)\s*日?"
    r"(?:\s*[T ]?\s*(\d{1,2})\s*[:：时時]\s*(\d{2})(?:\s*[:：分]\s*(\d{2}))?)?"
)
_CN_DIGIT = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "○": 0, "Ｏ": 0, "0": 0}
_CN_DATE = re.compile(
    r"([〇零○Ｏ0一二三四五六七八九]{4})\s*年\s*([一二三四五六七八九十]{1,3})\s*月"
    r"\s*([一二三四五六七八九十]{1,3})\s*日"
)
_PDF_DATE = re.compile(r"D:(\d{4})(\d\d)(\d\d)(?:(\d\d)(\d\d)(\d\d)?)?")
# A label, then the date: 发布时间:2021-01-25 14:59 / 發布日期： / 时间: / 日期：
PAGE_DATE_LABEL = re.compile(
    r"(?:发布|發布|公开|公開|更新|印发|印發)?(?:时间|時間|日期)\s*[:：]\s*"
)

_PARSER = None


def _dateparser():
    global _PARSER
    if _PARSER is None:  # built on first use: importing dateparser costs ~0.3 s
        from dateparser.date import DateDataParser

        _PARSER = DateDataParser(
            languages=["zh", "en"],
            settings={
                "TIMEZONE": "Asia/Shanghai",
                "RETURN_AS_TIMEZONE_AWARE": True,
                "DATE_ORDER": "YMD",
                "PREFER_DAY_OF_MONTH": "first",
                "STRICT_PARSING": True,
            },
        )
    return _PARSER


def iso(y, m, d, hh=None, mm=None, ss=None):
    """ISO text for a date (and time, when hh is given); None if it is no date."""
    try:
        if hh is None:
            return datetime(int(y), int(m), int(d)).date().isoformat()
        dt = datetime(int(y), int(m), int(d), int(hh), int(mm or 0), int(ss or 0), tzinfo=SHANGHAI)
    except ValueError:
        return None
    return dt.isoformat()




def _cn_year(s):
    return int("".join(str(_CN_DIGIT[c]) for c in s))


def find_dates(text):
    """Every date in ``text``: a list of ``(iso, start, end)`` in order of position."""
    found = []
    for m in _NUM_DATE.finditer(text or ""):
        value = iso(*m.groups()[:3], *(m.groups()[3:] if m.group(4) else ()))
        if value:
            found.append((value, m.start(), m.end()))
    for m in _CN_DATE.finditer(text or ""):
        try:
            value = iso(_cn_year(m.group(1)), whole_number(m.group(2)), whole_number(m.group(3)))
        except (ValueError, KeyError, TypeError):  # a numeral that is no month or day (十十十)
            value = None
        if value:
            found.append((value, m.start(), m.end()))
    found.sort(key=lambda f: f[1])
    return found


def parse_date(text):
    """One date string (labelled, glued, numerals, PDF or HTTP form) to ISO; None if none."""
    if not text:
        return None
    text = str(text).strip()
    m = _PDF_DATE.match(text)
    if m:
        # PDF dates carry their own offset, often broken (+06'41'): the wall time is kept as Shanghai's
        return iso(*m.groups()[:3], *(m.groups()[3:] if m.group(4) else ()))
    found = find_dates(text)
    if found:
        return found[0][0]
    if re.match(r"^[A-Z][a-z]{2}, \d", text):  # HTTP date (Last-Modified)
        try:
            return parsedate_to_datetime(text).astimezone(SHANGHAI).isoformat()
        except (TypeError, ValueError):
            return None
    data = _dateparser().get_date_data(text)
    if data.date_obj is None:
        return None
    dt = data.date_obj.astimezone(SHANGHAI)
    if data.period == "time" or dt.hour or dt.minute:
        return dt.replace(microsecond=0).isoformat()
    return dt.date().isoformat()


def labelled_page_date(text):
    """The date after a 发布时间/发布日期/时间 label on the page, or None."""
    for m in PAGE_DATE_LABEL.finditer(text or ""):
        found = find_dates(text[m.end(): m.end() + 40])
        if found and found[0][1] <= 2:
            return found[0][0]
    return None


# page chrome printed on the line of an unlabelled publication date, right after it:
# "2022年01月18日来源:1", "2021-01-29 浏览次数:12", "2020-05-06 字号:大 中 小"
_CHROME_AFTER_DATE = re.compile(r"\s*(?:信息来源|来源|來源|作者|浏览|瀏覽|点击|點擊|阅读|閱讀|访问|訪問|字体|字體|字号|字號|"
                                r"打印|分享|发布机构|發布機構)")


def unlabelled_page_date(text, lines=25):
    """A date without a label that opens a short line of page chrome (来源, 浏览次数, 字号 … after
    it), in the first ``lines`` lines of ``text``; None if none does.  A date opening a line of
    prose (2021年1月1日至12月31日…) has no chrome after it and is not taken."""
    for line in (text or "").splitlines()[:lines]:
        line = line.strip()
        if len(line) > 80:
            continue
        found = find_dates(line)
        if found and found[0][1] == 0 and _CHROME_AFTER_DATE.match(line[found[0][2]:]):
            return found[0][0]
    return None


# a date that bounds a period (统计期限自2020年1月1日起至2020年12月31日止): no signature's date
_PERIOD_BEFORE = re.compile(r"(?:至|到|起至|~|～|—|-)\s*$")
_PERIOD_AFTER = re.compile(r"^\s*(?:止|起|至|到|~|～|—)")


def signature_date(tail):
    """The last date in ``tail`` (the end of a report, where it is signed) that bounds no
    period; None if there is none."""
    for value, start, end in reversed(find_dates(tail)):
        if not _PERIOD_BEFORE.search(tail[max(0, start - 3): start]) and not _PERIOD_AFTER.match(tail[end: end + 3]):
            return value, start, end
    return None


def url_date(url):
    """The date in a URL: TRS ``t20210125_…``, ``/202101/``+``t…``, Hanweb ``art/2018/2/28/``."""
    m = re.search(r"/t((?:19|20)\d\d)(\d\d)(\d\d)_\d+", url or "")
    if m:
        return iso(*m.groups())
    m = re.search(r"/art/((?:19|20)\d\d)/(\d{1,2})/(\d{1,2})/", url or "")
    if m:
        return iso(*m.groups())
    return None
