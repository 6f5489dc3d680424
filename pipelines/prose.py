"""The figures a report's prose states, against its tables: soft checks (``text.*``), never
errors, never changing a cell.

The prose is compared only where its wording names the table's figure:

- ``text.requests_new``: 新收 … 申请 N 件, or 收到 … 政府信息公开申请 N 件 (收到 N 件申请),
  against 一、本年新收 (总计).  收到 may count the requests in hand, new and carried over
  (平潭 2022: 收到 75 件, 新收 74 + 上年结转 1): a 收到 figure equal to 新收 + 上年结转 is of
  that scope and not compared, nor is one said to include them (含/包括/其中 … 上年结转).
  受理 is not taken: reports use it for the year's new requests (淮安市 2024: 共受理 3119,
  新收 3119) and for new and carried-over together (沭阳县 2025: 共受理 749 = 713 + 36);
  依申请公开 N 件 may count other things (letters, hotline calls) and is not taken either.
- ``text.review``: 行政复议 N 起/件 against 行政复议 (总计).
- ``text.suits``: 行政诉讼 N 起/件 against 行政诉讼, 未经复议直接起诉 + 复议后起诉 (总计).
  A count of the two together (行政复议、行政诉讼案件 74 件) is neither.

A statement about another year (2022年…, 上年…, 同比…) is skipped; so is a figure the prose
states twice with two values.  Numbers may be full-width or Chinese numerals.
"""
import re

from .numbers import CN_NUMERAL, whole_number

_NUMBER = rf"[0-9０-９]+|[{CN_NUMERAL}]+"
_N, _N2 = rf"(?P<n>{_NUMBER})", rf"(?P<n2>{_NUMBER})"
# what the prose says, and the table's figure it names: (rule, pattern, the table's rows summed)
STATEMENTS = (
    ("text.requests_new", re.compile(
        rf"(?P<verb>新收到?|收到)了?(?:公民、法人(?:和|或|及)其他组织(?:提出)?的?)?(?:各类)?"
        rf"(?:(?:政府信息公开|信息公开)?申请(?:数量)?(?:共|共计|总计|合计)?{_N}件|{_N2}件(?:政府信息公开)?申请)"),
     ("new_received",)),
    ("text.review", re.compile(rf"(?<!诉讼[、和及与或])行政复议(?:案件|申请)?共?{_N}(?:起|件)"), ("review",)),
    ("text.suits", re.compile(rf"(?<!复议[、和及与或])行政诉讼(?:案件)?共?{_N}(?:起|件)"),
     ("suit_direct", "suit_after_review")),
)
# what each rule tests, for the checks' readers (the report page, the docs)
RULES = {
    "text.requests_new": "the text's 收到/新收 政府信息公开申请 N 件 = 一、本年新收 (总计) of the requests table",
    "text.review": "the text's 行政复议 N 起/件 = 行政复议 总计 of the review and litigation table",
    "text.suits": "the text's 行政诉讼 N 起/件 = 未经复议直接起诉 + 复议后起诉 总计",
}
SUBJECTS = {"text.requests_new": "new_received", "text.review": "review", "text.suits": "suit_direct+suit_after_review"}
_TABLE = {"text.requests_new": ("requests", "total"), "text.review": ("review_litigation", "total"),
          "text.suits": ("review_litigation", "total")}
# the start of the clause a statement stands in; and what in it says the statement is of another scope
_CLAUSE = re.compile(r"[。；;！!？?\n]")
_OTHER_YEAR = re.compile(r"上年|上一年|去年|前一年|同比|较上|比上|与上")
_YEAR = re.compile(r"((?:19|20)\d\d)年")
_WITH_CARRIED = re.compile(r"^[^。；;]{0,30}?(?:含|包括|包含|其中)[^。；;]{0,12}?(?:上年|上一年|去年)(?:度)?结转")


def statements(text, year=None):
    """{rule: [(value, the words stating it, the verb)]} for each figure the prose states in its own scope."""
    flat = re.sub(r"\s+", "", text or "")
    found = {}
    for rule, pattern, _ in STATEMENTS:
        for m in pattern.finditer(flat):
            start = max((c.end() for c in _CLAUSE.finditer(flat, max(0, m.start() - 80), m.start())), default=0)
            before = flat[max(start, m.start() - 80):m.start()]
            if _OTHER_YEAR.search(before) or any(int(y) != year for y in _YEAR.findall(before) if year):
                continue
            if rule == "text.requests_new" and _WITH_CARRIED.search(flat[m.end():]):
                continue
            groups = m.groupdict()
            value = whole_number(groups["n"] or groups.get("n2"))
            if value is not None:
                found.setdefault(rule, []).append((value, m.group(0), groups.get("verb")))
    return found


def text_checks(text, cells, year=None):
    """(checks, warnings): a check a figure the prose states once (or always the same) and the
    table prints, ``ok`` False where they differ, with a warning saying both."""
    got = {(c["table"], c["row"], c["column"]): c["value"] for c in cells}
    checks, warnings = [], []
    stated = statements(text, year)
    for rule, _, rows in STATEMENTS:
        said = stated.get(rule)
        if not said or len({v for v, *_ in said}) > 1:
            continue  # not stated, or stated as two figures: nothing to compare
        table, column = _TABLE[rule]
        printed = [got.get((table, row, column)) for row in rows]
        if None in printed:
            continue
        value, words, verb = said[0]
        in_hand = sum(printed) + (got.get(("requests", "carried_over", "total")) or 0)
        if verb == "收到" and in_hand != sum(printed) and abs(value - in_hand) < 1e-6:
            continue  # the requests in hand, new and carried over: another scope
        ok = abs(value - sum(printed)) < 1e-6
        checks.append({"rule": rule, "subject": SUBJECTS[rule], "ok": ok, "expected": value, "actual": sum(printed)})
        if not ok:
            warnings.append(f"{rule}: the text says {words!r} ({value:g}), the {table} table prints "
                            f"{' + '.join(rows)} {column} {sum(printed):g}: a soft check, no cell changed")
    return checks, warnings
