"""Word and spreadsheet reports: DOCX, XLSX, DOC (through LibreOffice when installed).

The files are written here in the official 2021 layout with the figures of a real report
(上海市人民政府办公厅 2025, tests/fixtures/reports/sh_gov_office_2025.md and SOURCES.md),
so each format is checked against values transcribed by hand from the source.
"""
import io
import json
import shutil
import subprocess

import pytest

from conftest import FIXTURES
from pipelines.report import parse_bytes
from pipelines.tables import REQUEST_COLUMNS

CASE = next(c for c in json.loads((FIXTURES / "reports/expected.json").read_text(encoding="utf-8"))["cases"]
            if c["file"] == "sh_gov_office_2025.md")
WANT = {(c["table"], c["row"], c["column"]): c["value"] for c in CASE["cells"]}
LABELS = {
    "new_received": "一、本年新收政府信息公开申请数量", "carried_over": "二、上年结转政府信息公开申请数量",
    "granted": "（一）予以公开", "partial": "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
    "denied_state_secret": "1.属于国家秘密", "denied_prohibited": "2.其他法律行政法规禁止公开",
    "denied_security": "3.危及“三安全一稳定”", "denied_third_party": "4.保护第三方合法权益",
    "denied_internal": "5.属于三类内部事务信息", "denied_process": "6.属于四类过程性信息",
    "denied_enforcement": "7.属于行政执法案卷", "denied_query": "8.属于行政查询事项",
    "unable_not_held": "1.本机关不掌握相关政府信息", "unable_needs_creation": "2.没有现成信息需要另行制作",
    "unable_unclear": "3.补正后申请内容仍不明确", "ignored_complaint": "1.信访举报投诉类申请", "ignored_repeat": "2.重复申请",
    "ignored_publication": "3.要求提供公开出版物", "ignored_mass": "4.无正当理由大量反复申请",
    "ignored_confirm": "5.要求行政机关确认或重新出具已获取信息",
    "other_no_correction": "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "other_no_fee": "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    "other_other": "3.其他", "total_processed": "（七）总计", "carried_forward": "四、结转下年度继续办理",
}
GROUPS = {"granted": "三、本年度办理结果", "denied_state_secret": "（三）不予公开", "unable_not_held": "（四）无法提供",
          "ignored_complaint": "（五）不予处理", "other_no_correction": "（六）其他处理"}
HEADER = ["申请人情况", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]


def table_rows():
    yield ["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", *HEADER[1:]]
    for row, label in LABELS.items():
        left = f"{GROUPS[row]} {label}" if row in GROUPS else label
        yield [left] + [str(WANT[("requests", row, c)]) for c in REQUEST_COLUMNS]


def review_rows():
    yield ["行政复议", "", "", "", "", "行政诉讼"]
    yield ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 3
    yield [str(WANT[("review_litigation", r, c)]) for r in ("review", "suit_direct", "suit_after_review")
           for c in ("upheld", "corrected", "other", "pending", "total")]


def check_cells(report, tables=("requests", "review_litigation")):
    got = {(c["table"], c["row"], c["column"]): c["value"] for c in report["cells"]}
    want = {k: v for k, v in WANT.items() if k[0] in tables}
    assert {k: got.get(k) for k in want} == want
    assert all(c["ok"] for c in report["checks"])


def make_docx():
    import docx

    d = docx.Document()
    d.add_paragraph(CASE["title"])
    d.add_paragraph("三、收到和处理政府信息公开申请情况")
    rows = list(table_rows())
    t = d.add_table(rows=len(rows), cols=len(rows[0]))
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            t.cell(i, j).text = v
    d.add_paragraph("四、政府信息公开行政复议、行政诉讼情况")
    rows = list(review_rows())
    t = d.add_table(rows=3, cols=15)
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            t.cell(i, j).text = v
    d.add_paragraph("五、存在的主要问题及改进情况")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_docx_tables_are_read():
    report = parse_bytes(make_docx(), url="http://x/report.docx")
    assert report["parse_status"] == "ok" and report["kind"] == "docx"
    assert report["title"] == CASE["title"] and report["report_year"] == 2025
    check_cells(report)


def test_xlsx_sheets_are_read():
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([CASE["title"]])
    ws.append(["三、收到和处理政府信息公开申请情况"])
    for r in table_rows():
        ws.append([int(v) if v.isdigit() else v for v in r])
    ws.append(["四、政府信息公开行政复议、行政诉讼情况"])
    for r in review_rows():
        ws.append([int(v) if v.isdigit() else v for v in r])
    buf = io.BytesIO()
    wb.save(buf)
    report = parse_bytes(buf.getvalue(), url="http://x/report.xlsx")
    assert report["parse_status"] == "ok" and report["kind"] == "xlsx"
    check_cells(report)


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504


def test_a_doc_without_libreoffice_is_kept_as_needs_conversion(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    report = parse_bytes(OLE, url="http://x/report.doc")
    assert report["parse_status"] == "needs_conversion" and "needs conversion" in report["warnings"][0]


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed (.ci/run installs it)")
def test_a_doc_is_converted_by_libreoffice(tmp_path):
    src = tmp_path / "report.docx"
    src.write_bytes(make_docx())
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/p", "--convert-to", "doc",
                    "--outdir", str(tmp_path), str(src)], capture_output=True, timeout=180, check=True)
    report = parse_bytes((tmp_path / "report.doc").read_bytes(), url="http://x/report.doc")
    assert report["parse_status"] == "ok" and report["kind"] == "doc"
    check_cells(report)


def test_an_image_only_pdf_needs_ocr():
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.rect(50, 50, 400, 600)  # a scanned page has pictures, no text layer
    c.showPage()
    c.save()
    report = parse_bytes(buf.getvalue(), url="http://x/report.pdf")
    assert report["parse_status"] == "needs_ocr" and report["cells"] == []


def test_an_eight_column_table_with_a_subtotal_column():
    """The 法人或其他组织 小计 variant (formats.md §3.2): the subtotal column is kept as
    org_subtotal and every other column still lands where it belongs."""
    orgs = REQUEST_COLUMNS[1:6]
    lines = ["三、收到和处理政府信息公开申请情况",
             "| 申请人情况 | 自然人 | 商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 | 小计 | 总计 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row, label in LABELS.items():
        v = {c: WANT[("requests", row, c)] for c in REQUEST_COLUMNS}
        subtotal = sum(v[c] for c in orgs)  # the column the variant adds: the five organisations' sum
        cells = [v["natural_person"], *[v[c] for c in orgs], subtotal, v["total"]]
        lines.append(f"| {label} | " + " | ".join(map(str, cells)) + " |")
    report = parse_bytes("\n".join(lines).encode(), content_type="text/markdown")
    got = {(c["row"], c["column"]): c["value"] for c in report["cells"] if c["table"] == "requests"}
    for row in LABELS:
        for col in REQUEST_COLUMNS:
            assert got[(row, col)] == WANT[("requests", row, col)], (row, col)
        assert got[(row, "org_subtotal")] == sum(WANT[("requests", row, c)] for c in orgs)
    assert all(c["ok"] for c in report["checks"])
