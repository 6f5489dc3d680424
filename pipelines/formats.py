"""The national report formats, each declared once: its tables, their rows and columns
(the printed label or header, and the pattern that recognises it), and the identities
its figures must satisfy.

The readers (:mod:`pipelines.tables`), the checks (:mod:`pipelines.checks`) and the
format decision (:mod:`pipelines.report`) all loop over these declarations; a new
template is a new :class:`Format` here and its fixtures.

Patterns run on labels that are simplified, without spaces, their bracketed notes
taken out; a row's pattern matching nearest the end of a label names it (the labels of
a table's row group run into its first row: ``(三)不予公开1.属于国家秘密``).  A long
label may be wrapped with its numbers on its first line (``3.补正后申请内容仍不明`` /
``确``): each pattern also recognises the label's opening words.
"""
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Key:
    key: str  # the canonical key (report-schema.md)
    printed: str  # the template's wording
    pattern: re.Pattern  # what recognises the printed label or header in the wild


def _keys(*specs):
    return tuple(Key(key, printed, re.compile(pattern)) for key, printed, pattern in specs)


# ---- rows and columns, in printed order (the order breaks ties between patterns) -----------

REQUEST_ROWS = _keys(
    ("new_received", "一、本年新收政府信息公开申请数量", r"本年新收|新收.{0,6}申请"),
    ("carried_over", "二、上年结转政府信息公开申请数量", r"上年结转|上年度结转"),
    ("granted", "（一）予以公开", r"予以公开"),
    ("partial", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", r"部分公开"),
    ("denied_state_secret", "1.属于国家秘密", r"国家秘密"),
    ("denied_prohibited", "2.其他法律行政法规禁止公开", r"其他法律|禁止公开|行政法规禁"),
    ("denied_security", "3.危及“三安全一稳定”", r"三安全|一稳定|危及"),
    ("denied_third_party", "4.保护第三方合法权益", r"第三方|保护第三"),
    ("denied_internal", "5.属于三类内部事务信息", r"内部事务|三类内部"),
    ("denied_process", "6.属于四类过程性信息", r"过程性|四类过程"),
    ("denied_enforcement", "7.属于行政执法案卷", r"执法案卷|属于行政执法"),
    ("denied_query", "8.属于行政查询事项", r"查询事项|属于行政查询"),
    ("unable_not_held", "1.本机关不掌握相关政府信息", r"不掌握"),
    ("unable_needs_creation", "2.没有现成信息需要另行制作", r"另行制作|现成信息"),
    ("unable_unclear", "3.补正后申请内容仍不明确", r"仍不明|内容不明确|补正后申请"),
    ("ignored_complaint", "1.信访举报投诉类申请", r"信访|举报投诉"),
    ("ignored_repeat", "2.重复申请", r"重复申请"),
    ("ignored_publication", "3.要求提供公开出版物", r"出版物|要求提供公开"),
    ("ignored_mass", "4.无正当理由大量反复申请", r"大量反复|无正当理由大量"),
    ("ignored_confirm", "5.要求行政机关确认或重新出具已获取信息", r"重新出具|确认或|要求行政机关确认"),
    ("other", "（六）其他处理", r"其他处理$"),
    ("other_no_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
     r"不补正|逾期不补|无正当理由逾期|逾期不$|申请人无正当理由"),
    ("other_no_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", r"缴纳费用|收费通知|逾期未按"),
    ("other_other", "3.其他", r"(?:^|[\d.、．])其他$"),
    ("total_processed", "（七）总计", r"总计$"),
    ("carried_forward", "四、结转下年度继续办理", r"结转下年|下年度继续"),
)
REQUEST_COLUMNS = _keys(
    ("natural_person", "自然人", r"自然人"),
    ("business", "商业企业", r"商业企业"),
    ("research", "科研机构", r"科研机构"),
    ("public_interest", "社会公益组织", r"社会公益"),
    ("legal_services", "法律服务机构", r"法律服务"),
    ("other_org", "其他", r"其他(?!组织)"),
    ("total", "总计", r"总计|合计"),
)
ORG_SUBTOTAL = Key("org_subtotal", "小计", re.compile(r"小计"))  # a column some reports add after the five
ACTIVE_ROWS = _keys(
    ("regulations", "规章", r"规章"),
    ("normative_documents", "规范性文件", r"规范性文件|规范性档案"),  # 档案: a converter's 文件
    ("licensing", "行政许可", r"行政许可"),
    ("other_services", "其他对外管理服务事项", r"对外管理服务"),
    ("punishment", "行政处罚", r"行政处罚"),
    ("coercion", "行政强制", r"行政强制"),
    ("fees", "行政事业性收费", r"事业性收费"),
    ("procurement", "政府集中采购", r"集中采购|政府采购"),
)
# the 第二十条 sub-tables' column headers: the format a header belongs to (None: both)
ACTIVE_COLUMNS = (
    (Key("made", "本年新制作数量", re.compile(r"本年新制作")), "2019"),
    (Key("published", "本年新公开数量", re.compile(r"本年新公开")), "2019"),
    (Key("total_published", "对外公开总数量", re.compile(r"对外公开总数")), "2019"),
    (Key("made", "本年制发件数", re.compile(r"本年制发")), "2021"),
    (Key("repealed", "本年废止件数", re.compile(r"本年废止")), "2021"),
    (Key("valid", "现行有效件数", re.compile(r"现行有效")), "2021"),
    (Key("previous_count", "上一年项目数量", re.compile(r"上一年项目数")), "2019"),
    (Key("change", "本年增/减", re.compile(r"本年增")), "2019"),
    (Key("decisions", "处理决定数量", re.compile(r"(?<!本年)处理决定数")), None),
    (Key("decisions", "本年处理决定数量", re.compile(r"本年处理决定数")), "2021"),
    (Key("amount", "本年收费金额（单位：万元）", re.compile(r"收费金额")), "2021"),
    (Key("items", "采购项目数量", re.compile(r"采购项目数")), "2019"),
    (Key("amount", "采购总金额", re.compile(r"采购总金额")), "2019"),
)
REVIEW_ROWS = _keys(
    ("review", "行政复议", r"行政复议$"),
    ("suit_direct", "未经复议直接起诉", r"直接起诉"),
    ("suit_after_review", "复议后起诉", r"复议后起诉"),
)
REVIEW_COLUMNS = _keys(
    ("upheld", "结果维持", r"维持"),
    ("corrected", "结果纠正", r"纠正"),
    ("other", "其他结果", r"其他结果|^其他$"),
    ("pending", "尚未审结", r"未审结|尚未"),
    ("total", "总计", r"总计|合计"),
)
MONEY_COLUMNS = ("amount",)  # in 万元 where the table prints no unit


# ---- the formats ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubTable:
    """One 第二十条 sub-table: its rows and its columns in printed order."""
    item: str  # 第二十条第（一）项
    rows: tuple
    columns: tuple


@dataclass(frozen=True)
class Format:
    name: str
    active: tuple  # SubTable, in printed order
    request_rows: tuple  # row keys, in printed order
    outcome_rows: tuple  # the rows that add up to total_processed
    request_columns: tuple = tuple(k.key for k in REQUEST_COLUMNS)
    review_rows: tuple = tuple(k.key for k in REVIEW_ROWS)
    review_columns: tuple = tuple(k.key for k in REVIEW_COLUMNS)
    wording: tuple = ()  # (key, printed): where this format's template words a row otherwise

    def active_columns(self, row):
        """The declared columns of the sub-table ``row`` belongs to."""
        return next((t.columns for t in self.active if row in t.rows), ())


_DENIED = ("denied_state_secret", "denied_prohibited", "denied_security", "denied_third_party", "denied_internal",
           "denied_process", "denied_enforcement", "denied_query")
_UNABLE = ("unable_not_held", "unable_needs_creation", "unable_unclear")
_IGNORED = ("ignored_complaint", "ignored_repeat", "ignored_publication", "ignored_mass", "ignored_confirm")
_OTHER_2021 = ("other_no_correction", "other_no_fee", "other_other")  # 2019 prints one （六）其他处理 row

FORMATS = {
    "2019": Format(
        name="2019",  # 国办公开办函〔2019〕60号
        active=(SubTable("第二十条第（一）项", ("regulations", "normative_documents"), ("made", "published", "total_published")),
                SubTable("第二十条第（五）项", ("licensing", "other_services"), ("previous_count", "change", "decisions")),
                SubTable("第二十条第（六）项", ("punishment", "coercion"), ("previous_count", "change", "decisions")),
                SubTable("第二十条第（八）项", ("fees",), ("previous_count", "change")),
                SubTable("第二十条第（九）项", ("procurement",), ("items", "amount"))),
        request_rows=("new_received", "carried_over", "granted", "partial", *_DENIED, *_UNABLE, *_IGNORED, "other",
                      "total_processed", "carried_forward"),
        outcome_rows=("granted", "partial", *_DENIED, *_UNABLE, *_IGNORED, "other"),
    ),
    "2021": Format(
        name="2021",  # 国办公开办函〔2021〕30号
        active=(SubTable("第二十条第（一）项", ("regulations", "normative_documents"), ("made", "repealed", "valid")),
                SubTable("第二十条第（五）项", ("licensing",), ("decisions",)),
                SubTable("第二十条第（六）项", ("punishment", "coercion"), ("decisions",)),
                SubTable("第二十条第（八）项", ("fees",), ("amount",))),
        request_rows=("new_received", "carried_over", "granted", "partial", *_DENIED, *_UNABLE, *_IGNORED,
                      *_OTHER_2021, "total_processed", "carried_forward"),
        outcome_rows=("granted", "partial", *_DENIED, *_UNABLE, *_IGNORED, *_OTHER_2021),
        wording=(("normative_documents", "行政规范性文件"),),
    ),
}
# pre-2019 reports have no national tables: their appendix is read as printed (table ``legacy``)

# the identities of report-schema.md, by rule: what each says, for the checks and the docs
IDENTITIES = {
    "requests.balance": "new_received + carried_over = total_processed + carried_forward, for each column",
    "requests.row_total": "the six applicant columns add up to total, for each row",
    "requests.outcome_total": "the outcome rows add up to total_processed, for each column",
    "review_litigation.total": "upheld + corrected + other + pending = total, for each row",
}
APPLICANT_COLUMNS = tuple(k.key for k in REQUEST_COLUMNS[:6])
# the requests table's columns as printed: the five kinds of 法人或其他组织, its 小计 where a report adds one, 总计
REQUEST_COLUMNS_PRINTED = (*REQUEST_COLUMNS[:6], ORG_SUBTOTAL, REQUEST_COLUMNS[6])
BALANCE = (("new_received", "carried_over"), ("total_processed", "carried_forward"))


def outcome_rows(rows):
    """The outcome rows of whichever format ``rows`` (the request rows a report printed) is in."""
    fmt = FORMATS["2019"] if "other" in rows else FORMATS["2021"]
    return [r for r in fmt.outcome_rows if r in rows]


def format_of_headers(found):
    """The format the 第二十条 headers read so far belong to ({formats} → name or None)."""
    found = {f for f in found if f}
    return found.pop() if len(found) == 1 else None


# ---- the printed layout around the keys (the archive's cell_keys, docs/schema.md) ----------------

TABLE_HEADINGS = {
    "active": "二、主动公开政府信息情况",
    "requests": "三、收到和处理政府信息公开申请情况",
    "review_litigation": "四、政府信息公开行政复议、行政诉讼情况",
}
_OUTCOMES = "三、本年度办理结果"
# the headings a row or column is printed under, outermost first (the 第二十条 items are the active rows')
GROUPS = {
    "requests": {
        "rows": {**{r: (_OUTCOMES,) for r in ("granted", "partial", "other", "total_processed")},
                 **{r: (_OUTCOMES, "（三）不予公开") for r in _DENIED},
                 **{r: (_OUTCOMES, "（四）无法提供") for r in _UNABLE},
                 **{r: (_OUTCOMES, "（五）不予处理") for r in _IGNORED},
                 **{r: (_OUTCOMES, "（六）其他处理") for r in _OTHER_2021}},
        "columns": {c: ("申请人情况",) if c in ("natural_person", "total") else ("申请人情况", "法人或其他组织")
                    for c in (k.key for k in REQUEST_COLUMNS_PRINTED)},
    },
    "review_litigation": {"rows": {"review": (), "suit_direct": ("行政诉讼",), "suit_after_review": ("行政诉讼",)},
                          "columns": {}},
}


def _active_column(key, fmt):
    """The printed header of an active sub-table column in format ``fmt`` (its own wording first)."""
    return next(k.printed for k, f in sorted(ACTIVE_COLUMNS, key=lambda kf: kf[1] is None)
                if k.key == key and f in (fmt, None))


def cell_keys():
    """Every cell a report in a national format may print: one dict per (format, table, row,
    column), in printed order, with the template's wording of its row and column and the
    headings they stand under.  The archive's ``cell_keys`` table and docs/schema.md are
    made from it.  (Pre-2019 ``legacy`` cells have no template: their keys are the labels.)"""
    printed = {k.key: k.printed for k in (*REQUEST_ROWS, *ACTIVE_ROWS, *REVIEW_ROWS)}
    request_columns = {k.key: k.printed for k in (*REQUEST_COLUMNS_PRINTED, *REVIEW_COLUMNS)}
    out = []
    for name, fmt in FORMATS.items():
        words = {**printed, **dict(fmt.wording)}
        layout = [("active", sub.rows, [(c, _active_column(c, name)) for c in sub.columns], (sub.item,))
                  for sub in fmt.active]
        layout.append(("requests", fmt.request_rows, [(k.key, k.printed) for k in REQUEST_COLUMNS_PRINTED], None))
        layout.append(("review_litigation", fmt.review_rows, [(c, request_columns[c]) for c in fmt.review_columns],
                       None))
        row_order = {}
        for table, rows, columns, group in layout:
            groups = GROUPS.get(table, {"rows": {}, "columns": {}})
            for row in rows:
                row_order[table] = row_order.get(table, 0) + 1
                for column_order, (column, column_label) in enumerate(columns, 1):
                    out.append({
                        "format_version": name, "table_key": table, "row_key": row, "column_key": column,
                        "table_label": TABLE_HEADINGS[table], "row_label": words[row],
                        "row_group": " / ".join(group or groups["rows"].get(row, ())) or None,
                        "column_label": column_label,
                        "column_group": " / ".join(groups["columns"].get(column, ())) or None,
                        "row_order": row_order[table], "column_order": column_order,
                    })
    return out
