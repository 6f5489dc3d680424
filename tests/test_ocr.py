"""Image-only reports (issue 13): found whether or not OCR is installed, and read by OCR
(the extra ogi-archive[ocr]) from pages rendered of known tables, in both national formats,
a sans and a serif CJK font, clean and made to look scanned: nearly every cell right, and
every wrong cell marked uncertain."""
import io

import pytest

from ocr_pages import FONTS_MISSING, SANS, SERIF, fonts_present, image_bytes, known_values, render_report, scanned
from pipelines import ocr as OCR
from pipelines.report import parse_capture

needs_ocr_extra = pytest.mark.skipif(not OCR.available(), reason=OCR.MISSING + " (.ci/run's test install has it)")
needs_fonts = pytest.mark.skipif(not fonts_present(), reason=FONTS_MISSING)
ocr = [pytest.mark.ocr, needs_ocr_extra, needs_fonts]


def image_page(n, title="某县人民政府办公室2023年政府信息公开工作年度报告", intro=""):
    imgs = "".join(f'<p style="text-align:center"><img src="/u/cms/2024/p{i}.jpg" width="900"></p>' for i in range(n))
    return (f"<html><head><title>{title}</title></head><body><div class='header'><img src='/images/logo.png'></div>"
            f"<div class='TRS_Editor'><p>{intro}</p>{imgs}</div><p>发布时间：2024-01-20</p></body></html>").encode()


def score(report, expected):
    """(share of the known cells read right, the wrong or extra cells not marked uncertain)."""
    got = {(c["table"], c["row"], c["column"]): c for c in report["cells"]}
    right = sum(1 for k, v in expected.items() if k in got and abs(got[k]["value"] - v) < 1e-9)
    silent = [(k, got[k]["raw"]) for k in got if (k not in expected or abs(got[k]["value"] - expected[k]) > 1e-9)
              and not got[k]["uncertain"]]
    return right / len(expected), silent


# ---- found, with or without OCR ----------------------------------------------------------------


def test_a_page_of_page_scans_needs_ocr_without_the_extra():
    report = parse_capture(image_page(3), "text/html", "http://127.0.0.1/a/t1.html", ocr=False)
    assert report["parse_status"] == "needs_ocr" and report["cells"] == []
    assert any("3 page images" in w and "needs OCR" in w for w in report["warnings"]), report["warnings"]
    assert report["extracted_by"] is None


def test_a_title_marked_picture_version_needs_ocr():
    page = image_page(1, title="某县2023年政府信息公开工作年度报告（图片版）", intro="x" * 600)
    report = parse_capture(page, "text/html", "http://127.0.0.1/a/t2.html", ocr=False)
    assert report["parse_status"] == "needs_ocr"
    assert any("图片版" in w for w in report["warnings"]), report["warnings"]


def test_a_text_report_with_a_picture_is_no_image_report():
    from pipelines.document import html_document, image_report

    body = image_page(1, intro="一、总体情况。" + "本机关认真贯彻落实条例，全年主动公开政府信息。" * 30).decode()
    doc = html_document(body, "http://127.0.0.1/a/t3.html")
    assert doc.images == ["http://127.0.0.1/u/cms/2024/p0.jpg"]  # the logo is no page
    assert image_report(doc) is None


def test_a_docx_of_page_images_needs_ocr(tmp_path):
    import docx
    from PIL import Image

    from pipelines.document import load_document

    d = docx.Document()
    pic = tmp_path / "p.png"
    Image.new("L", (400, 300), 255).save(pic)
    d.add_picture(str(pic))
    buf = io.BytesIO()
    d.save(buf)
    doc = load_document(buf.getvalue(), url="http://x/r.docx")
    assert doc.kind == "docx" and "1 image" in doc.needs_ocr
    report = parse_capture(buf.getvalue(), url="http://x/r.docx", ocr=False)
    assert report["parse_status"] == "needs_ocr" and report["kind"] == "docx"


@pytest.mark.skipif(OCR.available(), reason="the OCR extra is installed here")
def test_asking_for_ocr_without_the_extra_is_an_error_said():
    report = parse_capture(image_page(1), "text/html", "http://127.0.0.1/a/t4.html", images=[b""], ocr=True)
    assert report["parse_status"] == "error" and "ogi-archive[ocr]" in report["parse_error"]


# ---- the tables rebuilt from boxes -----------------------------------------------------------------


def test_boxes_make_rows_columns_and_blank_cells():
    """Boxes as OCR gives them: a header wrapped over two lines, a label wrapped over two
    lines, a blank cell, ``o`` read for 0, full-width digits, and a label run into its number."""
    B = OCR.Box
    boxes = [B(300, 0, 380, 30, "本年制", 0.99), B(300, 32, 380, 62, "发件数", 0.99),
             B(400, 16, 480, 46, "现行有效件数", 0.99),
             B(0, 100, 100, 130, "规章", 0.99), B(330, 100, 350, 130, "o", 0.97), B(430, 100, 450, 130, "１２", 0.96),
             B(0, 140, 200, 170, "规范性", 0.99), B(330, 150, 350, 180, "3", 0.91),
             B(0, 175, 200, 205, "文件", 0.99),
             B(0, 220, 350, 250, "行政许可 7", 0.98), B(430, 220, 450, 250, "8", 0.99)]
    rows, warnings = OCR.page_rows(boxes)
    grid = [(r.cells, r.scores) for r in rows if r.grid]
    assert grid[0][0] == ["", "本年制发件数", "现行有效件数"]
    assert grid[1] == (["规章", "0", "12"], [None, 0.97, 0.96])
    assert grid[2] == (["规范性文件", "3", ""], [None, 0.91, None])
    assert grid[3][0] == ["行政许可", "7", "8"]
    assert warnings == []


def test_cells_under_the_confidence_floor_are_uncertain_and_named():
    cells = [{"table": "requests", "row": "granted", "column": "total", "value": 8, "raw": "8", "confidence": 0.6,
              "uncertain": False},
             {"table": "requests", "row": "partial", "column": "total", "value": 1, "raw": "1", "confidence": 0.999,
              "uncertain": False}]
    warnings = OCR.mark_low_confidence(cells)
    assert [c["uncertain"] for c in cells] == [True, False]
    assert len(warnings) == 1 and "requests.granted.total (8, 0.60)" in warnings[0]


# ---- read by OCR ---------------------------------------------------------------------------------

# (format, font, scanned, seed): both formats, both fonts, clean pages and scans
VARIANTS = [("2019", SANS, False, 1), ("2021", SERIF, False, 2), ("2019", SERIF, True, 3), ("2021", SANS, True, 4)]


@pytest.fixture(scope="module", params=VARIANTS, ids=lambda v: f"{v[0]}-{v[1].stem.split('-')[0]}-"
                                                                    f"{'scan' if v[2] else 'clean'}")
def read(request):
    fmt, font, scan, seed = request.param
    expected = known_values(fmt, seed)
    pages = render_report(fmt, expected, font)
    if scan:  # turned either way, blurred, grey and noisy, a JPEG of low quality
        pages = [scanned(p, angle=a, blur=1.0, quality=40, seed=seed + i) for i, (p, a) in enumerate(zip(pages, (0.7, -1.1)))]
    images = [image_bytes(p, "JPEG" if scan else "PNG") for p in pages]
    report = parse_capture(image_page(len(images)), "text/html", "http://127.0.0.1/a/t5.html", images=images)
    return fmt, expected, report


@pytest.mark.ocr
@needs_ocr_extra
@needs_fonts
def test_rendered_reports_are_read_right_or_marked(read):
    fmt, expected, report = read
    assert report["parse_status"] == "ok" and report["extracted_by"] == "ocr"
    assert report["format_version"] == fmt
    share, silent = score(report, expected)
    assert share >= 0.99, f"{share:.3f} of {len(expected)} cells right; warnings: {report['warnings']}"
    assert silent == [], "wrong cells not marked uncertain"
    assert all(isinstance(c["confidence"], float) and 0 < c["confidence"] <= 1 for c in report["cells"])
    assert any("read by OCR (2 pages" in w for w in report["warnings"])


@pytest.mark.ocr
@needs_ocr_extra
@needs_fonts
def test_a_pdf_without_a_text_layer_is_read_by_ocr():
    expected = known_values("2021", 5)
    page = render_report("2021", expected, SANS)[1]  # the requests table
    buf = io.BytesIO()
    page.convert("RGB").save(buf, "PDF", resolution=150)
    report = parse_capture(buf.getvalue(), "application/pdf", "http://127.0.0.1/a/r.pdf")
    assert report["parse_status"] == "ok" and report["extracted_by"] == "ocr" and report["kind"] == "pdf"
    requests = {k: v for k, v in expected.items() if k[0] == "requests"}
    share, silent = score({"cells": [c for c in report["cells"] if c["table"] == "requests"]}, requests)
    assert share >= 0.99 and silent == [], report["warnings"]
    assert not any("needs OCR" in w for w in report["warnings"])


@pytest.mark.ocr
@needs_ocr_extra
@needs_fonts
def test_a_docx_of_page_images_is_read_by_ocr(tmp_path):
    import docx
    from docx.shared import Inches

    expected = known_values("2019", 6)
    page = render_report("2019", expected, SERIF)[0]  # the 第二十条 tables and table 4
    pic = tmp_path / "p1.png"
    page.save(pic)
    d = docx.Document()
    d.add_picture(str(pic), width=Inches(6))
    buf = io.BytesIO()
    d.save(buf)
    report = parse_capture(buf.getvalue(), url="http://127.0.0.1/a/r.docx")
    assert report["parse_status"] == "ok" and report["extracted_by"] == "ocr" and report["kind"] == "docx"
    part = {k: v for k, v in expected.items() if k[0] in ("active", "review_litigation")}
    share, silent = score(report, part)
    assert share >= 0.99 and silent == [], report["warnings"]

