#!/usr/bin/env python3
"""Make the demo PDF attachment of the js_hongze demo site.

淮安市洪泽区人民政府 2024年政府信息公开工作年度报告, re-typeset for the offline
demo mirror: every figure is the one printed in shared/corpus/hongze-2024.pdf
(2021-format tables, with （六）其他处理 printed as ONE row, as that PDF does);
the narrative prose is written by the project, not copied.

Uses reportlab's built-in CID font STSong-Light (no font file is embedded or
needed), so the PDF has a real text layer; tables are ruled (grid lines) so
pdfplumber's page.extract_tables() finds them.

Usage:
    python scripts/make_demo_pdf.py [OUT.pdf] [--check]
Default OUT: crawler/demo/mirror/js_hongze/uploadfiles/2025/02/2025021410352867.pdf
"""
from __future__ import annotations

import argparse
import os
import sys

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (CondPageBreak, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table,
                                TableStyle)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "crawler", "demo", "mirror", "js_hongze", "uploadfiles", "2025", "02",
                           "2025021410352867.pdf")

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

# ---------------------------------------------------------------- figures ---
# hongze-2024.pdf, as printed
ACTIVE = {"regulations": [0, 0, 0], "normative_documents": [3, 0, 8],
          "licensing": "9487", "punishment": "2776", "coercion": "84", "fees": "7545"}


def _np(n):
    return [n, 0, 0, 0, 0, 0, n]


Z = [0] * 7
REQUESTS = {  # row key -> 自然人, 商业企业, 科研机构, 社会公益组织, 法律服务机构, 其他, 总计
    "new_received": _np(95), "carried_over": Z,
    "granted": _np(50), "partial": _np(9),
    "denied_state_secret": Z, "denied_prohibited": Z, "denied_security": _np(1), "denied_third_party": Z,
    "denied_internal": Z, "denied_process": _np(1), "denied_enforcement": _np(1), "denied_query": Z,
    "unable_not_held": _np(31), "unable_needs_creation": _np(1), "unable_unclear": Z,
    "ignored_complaint": _np(1), "ignored_repeat": Z, "ignored_publication": Z, "ignored_mass": Z,
    "ignored_confirm": Z,
    "other": Z,
    "total_processed": _np(95), "carried_forward": Z,
}
REVIEW = [1, 1, 0, 0, 2, 1, 0, 0, 0, 1, 2, 0, 1, 0, 3]

# ----------------------------------------------------------------- styles ---
BODY = ParagraphStyle("body", fontName=FONT, fontSize=15, leading=27, firstLineIndent=30, wordWrap="CJK",
                      spaceAfter=2)
H1 = ParagraphStyle("h1", fontName=FONT, fontSize=21, leading=34, alignment=TA_CENTER)
H2 = ParagraphStyle("h2", parent=BODY, spaceBefore=6)
CAP = ParagraphStyle("cap", fontName=FONT, fontSize=13, leading=20, alignment=TA_CENTER, spaceBefore=8,
                     spaceAfter=4)
CELL = ParagraphStyle("cell", fontName=FONT, fontSize=9.5, leading=12.5, alignment=TA_CENTER, wordWrap="CJK")
CELL_L = ParagraphStyle("cell_l", parent=CELL, alignment=0)


def P(t, st=BODY):
    return Paragraph(t, st)


def C(t, st=CELL):
    return Paragraph(str(t), st)


GRID = [("GRID", (0, 0), (-1, -1), 0.6, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2)]

WIDTH = A4[0] - 2 * 2.5 * cm


def active_tables():
    out = []
    w4 = [WIDTH * 0.34] + [WIDTH * 0.22] * 3
    t = Table([[C("第二十条第（一）项"), "", "", ""],
               [C("信息内容"), C("本年制发件数"), C("本年废止件数"), C("现行有效件数")],
               [C("规章"), *map(C, ACTIVE["regulations"])],
               [C("行政规范性文件"), *map(C, ACTIVE["normative_documents"])]], colWidths=w4)
    t.setStyle(TableStyle(GRID + [("SPAN", (0, 0), (-1, 0))]))
    out += [t, Spacer(1, 8)]
    w2 = [WIDTH * 0.34, WIDTH * 0.66]
    for item, head, rows in (("第二十条第（五）项", "本年处理决定数量", [("行政许可", ACTIVE["licensing"])]),
                             ("第二十条第（六）项", "本年处理决定数量",
                              [("行政处罚", ACTIVE["punishment"]), ("行政强制", ACTIVE["coercion"])]),
                             ("第二十条第（八）项", "本年收费金额（单位：万元）", [("行政事业性收费", ACTIVE["fees"])])):
        t = Table([[C(item), ""], [C("信息内容"), C(head)]] + [[C(a), C(b)] for a, b in rows], colWidths=w2)
        t.setStyle(TableStyle(GRID + [("SPAN", (0, 0), (-1, 0))]))
        out += [KeepTogether([t]), Spacer(1, 8)]
    return out


REQ_LAYOUT = [  # (group, label, key)
    ("（三）不予公开", ["1.属于国家秘密", "2.其他法律行政法规禁止公开", "3.危及“三安全一稳定”", "4.保护第三方合法权益",
                   "5.属于三类内部事务信息", "6.属于四类过程性信息", "7.属于行政执法案卷", "8.属于行政查询事项"],
     ["denied_state_secret", "denied_prohibited", "denied_security", "denied_third_party", "denied_internal",
      "denied_process", "denied_enforcement", "denied_query"]),
    ("（四）无法提供", ["1.本机关不掌握相关政府信息", "2.没有现成信息需要另行制作", "3.补正后申请内容仍不明确"],
     ["unable_not_held", "unable_needs_creation", "unable_unclear"]),
    ("（五）不予处理", ["1.信访举报投诉类申请", "2.重复申请", "3.要求提供公开出版物", "4.无正当理由大量反复申请",
                   "5.要求行政机关确认或重新出具已获取信息"],
     ["ignored_complaint", "ignored_repeat", "ignored_publication", "ignored_mass", "ignored_confirm"]),
]


def requests_table():
    nums = lambda k: [C(v) for v in REQUESTS[k]]  # noqa: E731
    rows = [
        [C("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"), "", "", C("申请人情况"), "", "", "", "", "", ""],
        ["", "", "", C("自然人"), C("法人或其他组织"), "", "", "", "", C("总计")],
        ["", "", "", "", C("商业企业"), C("科研机构"), C("社会公益组织"), C("法律服务机构"), C("其他"), ""],
        [C("一、本年新收政府信息公开申请数量", CELL_L), "", "", *nums("new_received")],
        [C("二、上年结转政府信息公开申请数量", CELL_L), "", "", *nums("carried_over")],
        [C("三、本年度办理结果"), C("（一）予以公开", CELL_L), "", *nums("granted")],
        ["", C("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", CELL_L), "", *nums("partial")],
    ]
    spans = [("SPAN", (0, 0), (2, 2)), ("SPAN", (3, 0), (9, 0)), ("SPAN", (3, 1), (3, 2)), ("SPAN", (4, 1), (8, 1)),
             ("SPAN", (9, 1), (9, 2)), ("SPAN", (0, 3), (2, 3)), ("SPAN", (0, 4), (2, 4)),
             ("SPAN", (1, 5), (2, 5)), ("SPAN", (1, 6), (2, 6))]
    for group, labels, keys in REQ_LAYOUT:
        start = len(rows)
        for i, (lab, key) in enumerate(zip(labels, keys)):
            rows.append(["", C(group) if i == 0 else "", C(lab, CELL_L), *nums(key)])
        spans.append(("SPAN", (1, start), (1, len(rows) - 1)))
    r = len(rows)
    rows.append(["", C("（六）其他处理", CELL_L), "", *nums("other")])
    rows.append(["", C("（七）总计", CELL_L), "", *nums("total_processed")])
    spans += [("SPAN", (1, r), (2, r)), ("SPAN", (1, r + 1), (2, r + 1)), ("SPAN", (0, 5), (0, r + 1))]
    rows.append([C("四、结转下年度继续办理", CELL_L), "", "", *nums("carried_forward")])
    spans.append(("SPAN", (0, len(rows) - 1), (2, len(rows) - 1)))
    num_w = (WIDTH * 0.52) / 7
    t = Table(rows, colWidths=[WIDTH * 0.06, WIDTH * 0.12, WIDTH * 0.30] + [num_w] * 7, repeatRows=0)
    t.setStyle(TableStyle(GRID + spans))
    return t


def review_table():
    res = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    rows = [[C("行政复议"), "", "", "", "", C("行政诉讼")] + [""] * 9,
            [C(x) for x in res] + [C("未经复议直接起诉"), "", "", "", "", C("复议后起诉"), "", "", "", ""],
            [""] * 5 + [C(x) for x in res * 2],
            [C(v) for v in REVIEW]]
    spans = [("SPAN", (0, 0), (4, 0)), ("SPAN", (5, 0), (14, 0)), ("SPAN", (5, 1), (9, 1)),
             ("SPAN", (10, 1), (14, 1))] + [("SPAN", (i, 1), (i, 2)) for i in range(5)]
    t = Table(rows, colWidths=[WIDTH / 15] * 15)
    t.setStyle(TableStyle(GRID + spans))
    return t


def story():
    s = [P("淮安市洪泽区人民政府", H1), P("2024年政府信息公开工作年度报告", H1), Spacer(1, 14)]
    s += [P("本报告由淮安市洪泽区人民政府办公室按照《中华人民共和国政府信息公开条例》（以下简称《条例》）的要求编制，"
            "报告中数据的统计期限为2024年1月1日至2024年12月31日。如对本报告有疑问，请与淮安市洪泽区人民政府办公室联系"
            "（地址：淮安市洪泽区洪泽湖大道90号；邮编：223100；电话：0517-87290606）。"),
          P("一、总体情况", H2),
          P("2024年，淮安市洪泽区人民政府围绕区委、区政府中心工作，以健全公开制度、完善公开平台为重点，"
            "推动政务公开工作提质增效，为全区经济社会发展提供支撑。"),
          P("（一）主动公开情况。通过区政府门户网站集中发布政府文件、项目审批、通知公告等信息。全年在政府网站平台主动发布各类政府信息2428条，"
            "公开区政府常务会议7期，发布政策解读信息7条。"),
          P("（二）依申请公开情况。按照《条例》和上级有关规范要求统一办理流程，指导各部门通过自行办理、协同办理、会商办理等方式答复申请。"
            "全年区政府办代表区政府受理政府信息公开申请17件，均在法定期限内答复。"),
          P("（三）政府信息管理情况。对区政府门户网站和政务新媒体实行常态化监测，新增信息审核发布报备环节，严格执行分级审核、先审后发和"
            "“三审三校”要求，未经审核报备的信息不予发布。"),
          P("（四）政府信息公开平台建设情况。定期检查政务新媒体运行情况，督促整改更新不及时、链接失效等问题，对关注度低、无力运维的账号予以关停整合。"),
          P("（五）政府信息公开监督保障情况。将政府网站平台信息公开工作纳入全区高质量发展考核，在重要时间节点加强政务新媒体安全管理，"
            "及时转载中央重大方针政策。"),
          CondPageBreak(9 * cm),
          P("二、主动公开政府信息情况", H2)]
    s += active_tables()
    s += [CondPageBreak(22 * cm), P("三、收到和处理政府信息公开申请情况", H2), requests_table(), Spacer(1, 10),
          KeepTogether([P("四、政府信息公开行政复议、行政诉讼情况", H2), review_table()]), Spacer(1, 10),
          P("五、存在的主要问题及改进情况", H2),
          P("全区政府信息公开工作仍有不足：个别部门研判复杂申请的能力不强，答复文书的规范性有待提高，疑难问题协调机制尚不完善，"
            "政策解读形式较为单一，政务新媒体运维管理仍需加强。"),
          P("2025年，我们将重点做好三方面工作：一是梳理优化依申请公开工作流程，加强部门之间的协同配合；二是汇编典型案例，"
            "更新答复文书模板，降低行政复议、行政诉讼的发生率和纠错率；三是坚持跟班学习制度，持续开展业务培训。"),
          P("六、其他需要报告的事项", H2),
          P("2024年，区政府执行《政府信息公开信息处理费管理办法》，全年收取政府信息公开信息处理费0元。")]
    return s


def page_number(canvas, doc):
    canvas.saveState()
    canvas.setFont(FONT, 12)
    canvas.drawCentredString(A4[0] / 2, 1.4 * cm, f"- {doc.page} -")
    canvas.restoreState()


def build(out):
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=2.5 * cm, rightMargin=2.5 * cm, topMargin=2.6 * cm,
                            bottomMargin=2.4 * cm,
                            invariant=1,  # reproducible bytes (fixed 2000-01-01 timestamp)
                            title="政府信息公开工作年度报告",  # generic, like the real attachment's /Title
                            author="", subject="", creator="ogi-archive demo mirror (reportlab)")
    doc.build(story(), onFirstPage=page_number, onLaterPages=page_number)
    return out


def check(path):
    import pdfplumber
    with pdfplumber.open(path) as pdf:
        n = len(pdf.pages)
        text = "\n".join(p.extract_text() or "" for p in pdf.pages)
        tables = [t for p in pdf.pages for t in p.extract_tables()]
    for needle in ("淮安市洪泽区人民政府", "2024年政府信息公开工作年度报告", "本年新收政府信息公开申请数量",
                   "行政规范性文件", "结转下年度继续办理", "9487", "7545"):
        assert needle in text.replace(" ", ""), needle
    assert 4 <= n <= 6, n
    assert len(tables) >= 6, len(tables)
    print(f"{path}: {n} pages, {len(tables)} tables, {os.path.getsize(path)} bytes: OK")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="verify the text layer and tables with pdfplumber")
    a = ap.parse_args()
    p = build(a.out)
    if a.check:
        check(p)
    sys.exit(0)
