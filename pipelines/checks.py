"""The arithmetic identities of report-schema.md, each tested cell by cell.

A failed identity is data: ``{"rule", "subject", "ok", "expected", "actual"}``.
An identity is tested only when every cell it needs is present.
"""
import re

from .formats import APPLICANT_COLUMNS, BALANCE, FORMATS, outcome_rows
from .tables import REQUEST_COLUMNS, REQUEST_ROWS, REVIEW_ROWS

ROW_ORDER = [k for k, _ in REQUEST_ROWS]  # the requests rows in printed order
OUTCOME_ROWS = sorted({r for f in FORMATS.values() for r in f.outcome_rows}, key=ROW_ORDER.index)


def _close(a, b):
    return abs(a - b) < 1e-6


def run_checks(cells):
    got = {(c["table"], c["row"], c["column"]): c["value"] for c in cells}
    out = []

    def check(rule, subject, expected_parts, actual):
        if actual is None or any(p is None for p in expected_parts) or not expected_parts:
            return
        expected = sum(expected_parts)
        out.append({"rule": rule, "subject": subject, "ok": _close(expected, actual), "expected": expected, "actual": actual})

    req = lambda row, col: got.get(("requests", row, col))  # noqa: E731
    present_columns = {k[2] for k in got if k[0] == "requests"}
    present_rows = {k[1] for k in got if k[0] == "requests"}
    columns = [c for c in REQUEST_COLUMNS + ["org_subtotal"] if c in present_columns]
    rows = [r for r in ROW_ORDER if r in present_rows]
    for col in columns:
        # new_received + carried_over = total_processed + carried_forward
        left = [req(r, col) for r in BALANCE[0]]
        right_known = [req(r, col) for r in BALANCE[1]]
        if None not in left and None not in right_known:
            out.append({"rule": "requests.balance", "subject": col, "ok": _close(sum(left), sum(right_known)),
                        "expected": sum(left), "actual": sum(right_known)})
    for row in rows:
        check("requests.row_total", row, [req(row, c) for c in APPLICANT_COLUMNS], req(row, "total"))
    outcomes = outcome_rows(rows)  # the 2019 single （六） row or the 2021 three: the format's declaration
    for col in columns:
        parts = [req(r, col) for r in outcomes]
        if outcomes and all(p is not None for p in parts):
            check("requests.outcome_total", col, parts, req("total_processed", col))
    out += legacy_checks(cells)
    for row in REVIEW_ROWS:
        parts = [got.get(("review_litigation", row, c)) for c in ("upheld", "corrected", "other", "pending")]
        check("review_litigation.total", row, parts, got.get(("review_litigation", row, "total")))
    return out


# pre-2019 统计表: a total and the parts the table lists under it (其中 …), by indicator name
LEGACY_RULES = [
    ("legacy.replies", re.compile(r"^对申请的答复(总)?数$|^答复总数$"),
     re.compile(r"^(同意公开|同意部分公开|部分公开|否决公开|不予公开|不同意公开|其他类型)答复(总)?数$")),
    ("legacy.requests_by_channel", re.compile(r"^(受理)?(政府信息)?依申请公开(信息)?总数$|^申请总数$|^收到申请数$"),
     re.compile(r"^(当面|传真|电子邮件|网上|网络|信函|信函、传真|其它形式|其他形式)申请数$")),
]


def legacy_checks(cells):
    """The looser identities of pre-2019 appendices (formats.md §5): a total equals the sum
    of the parts listed under it, for each value column.  Tested only where the table
    prints the total and at least two of its parts."""
    out = []
    legacy = [c for c in cells if c["table"] == "legacy"]
    for rule, total_re, part_re in LEGACY_RULES:
        for col in sorted({c["column"] for c in legacy}):
            total = [c["value"] for c in legacy if c["column"] == col and total_re.search(c["row"])]
            parts = [c["value"] for c in legacy if c["column"] == col and part_re.search(c["row"])]
            if len(total) == 1 and len(parts) >= 2:
                out.append({"rule": rule, "subject": col, "ok": _close(sum(parts), total[0]),
                            "expected": sum(parts), "actual": total[0]})
    return out


def cells_through(check, cells):
    """The cells a failed identity runs through (its subject is a row or a column)."""
    rule, subject = check["rule"], check["subject"]
    if rule == "requests.balance":
        rows = BALANCE[0] + BALANCE[1]
        return [c for c in cells if c["table"] == "requests" and c["column"] == subject and c["row"] in rows]
    if rule == "requests.row_total":
        return [c for c in cells if c["table"] == "requests" and c["row"] == subject]
    if rule == "requests.outcome_total":
        rows = set(OUTCOME_ROWS) | {"total_processed"}
        return [c for c in cells if c["table"] == "requests" and c["column"] == subject and c["row"] in rows]
    if rule == "review_litigation.total":
        return [c for c in cells if c["table"] == "review_litigation" and c["row"] == subject]
    if rule.startswith("legacy."):
        return [c for c in cells if c["table"] == "legacy" and c["column"] == subject]
    return []


def mark_uncertain(cells, checks):
    """Every cell an identity runs through that fails is marked ``uncertain``; one warning
    a failed identity names its table (the report's own figures may not add up: the
    cells are as printed, the doubt is the researcher's to settle)."""
    warnings = []
    for check in checks:
        if check["ok"] is False:
            for cell in cells_through(check, cells):
                cell["uncertain"] = True
            warnings.append(f"{check['rule'].split('.')[0]}: {check['rule']} fails for {check['subject']} "
                            f"(expected {check['expected']:g}, printed {check['actual']:g}): its cells marked uncertain")
    return warnings
