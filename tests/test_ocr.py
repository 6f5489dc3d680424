"""Image-only reports (issue 13): found whether or not OCR is installed, and read by OCR
(the extra ogi-archive[ocr]) from pages rendered of known tables, in both national formats,
a sans and a serif CJK font, clean and made to look scanned: nearly every cell right, and
every wrong cell marked uncertain."""
import io

import json

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


@pytest.fixture
def clock():
    """The parse's time budget as a worker sets it (pipelines.limits.start_clock), reset after."""
    from pipelines import limits

    yield limits.start_clock
    limits.start_clock(None)


@pytest.mark.ocr
@needs_ocr_extra
@needs_fonts
def test_ocr_stops_before_a_page_the_time_budget_would_not_hold(clock):
    """With 2 s left (under the reserve kept for the tables), the first page is read and the
    rest are not, said in a warning: the first page's cells are kept, nothing from the second."""
    expected = known_values("2019", 7)
    pages = render_report("2019", expected, SANS)
    images = [image_bytes(p, "PNG") for p in pages + pages[1:]]
    clock(2.0)
    report = parse_capture(image_page(len(images)), "text/html", "http://127.0.0.1/a/t6.html", images=images)
    assert report["parse_status"] == "ok" and report["extracted_by"] == "ocr"
    said = [w for w in report["warnings"] if "not read" in w]
    assert len(said) == 1 and "pages 2-3 of 3 not read" in said[0], report["warnings"]
    assert any("read by OCR (1 page," in w for w in report["warnings"])
    assert {c["table"] for c in report["cells"]} == {"active", "review_litigation"}
    part = {k: v for k, v in expected.items() if k[0] in ("active", "review_litigation")}
    share, silent = score(report, part)
    assert share >= 0.99 and silent == []


@pytest.mark.ocr
@needs_ocr_extra
@needs_fonts
def test_a_report_whose_tables_ocr_had_no_time_for_stays_needs_ocr(clock):
    """A first page of prose only, and no time for the pages after it: never a report that
    looks as if it had no figures."""
    from PIL import Image, ImageDraw, ImageFont

    cover = Image.new("RGB", (1240, 1754), "white")
    ImageDraw.Draw(cover).text((120, 200), "某县人民政府办公室2023年政府信息公开工作年度报告", fill="black",
                               font=ImageFont.truetype(str(SANS), 44))
    tables = render_report("2021", known_values("2021", 8), SANS)
    images = [image_bytes(p, "PNG") for p in [cover] + tables]
    clock(2.0)
    report = parse_capture(image_page(len(images)), "text/html", "http://127.0.0.1/a/t7.html", images=images)
    assert report["parse_status"] == "needs_ocr" and report["cells"] == []
    assert any("OCR read 1 of 3 pages" in w for w in report["warnings"]), report["warnings"]


# ---- a crawl of a site with an image-only report -----------------------------------------------------

LIST = """<html><head><meta charset="utf-8"><title>政府信息公开年报</title></head><body><ul class="list">
<li><a href="/zfxxgk/nb/202401/t20240120_101.html">某县人民政府办公室2023年政府信息公开工作年度报告（图片版）</a>
<span>2024-01-20</span></li></ul></body></html>"""
REPORT = """<html><head><meta charset="utf-8"><title>某县人民政府办公室2023年政府信息公开工作年度报告（图片版）</title>
</head><body><div class="logo"><img src="/images/logo.png"></div><h1>某县人民政府办公室2023年政府信息公开工作年度报告（图片版）</h1>
<p>发布时间：2024-01-20 09:30</p><div class="TRS_Editor">
<p><img src="/u/2024/01/p1.jpg" width="900"></p><p><img src="/u/2024/01/p2.jpg" width="900"></p>
</div></body></html>"""


@pytest.fixture(scope="module")
def picture_site(tmp_path_factory):
    """A site the project has never seen: its one report is two page scans under a title
    marked 图片版; the pages show a known 2021-format report."""
    from sites_server import serve, site_entry

    root = tmp_path_factory.mktemp("picture_site")
    expected = known_values("2021", 11)
    pages = render_report("2021", expected, SERIF)
    (root / "zfxxgk/nb/202401").mkdir(parents=True)
    (root / "u/2024/01").mkdir(parents=True)
    (root / "images").mkdir()
    (root / "zfxxgk/nb/index.html").write_text(LIST, encoding="utf-8")
    (root / "zfxxgk/nb/202401/t20240120_101.html").write_text(REPORT, encoding="utf-8")
    for i, (page, angle) in enumerate(zip(pages, (0.5, -0.7)), 1):
        (root / f"u/2024/01/p{i}.jpg").write_bytes(image_bytes(scanned(page, angle=angle, seed=i), "JPEG", 60))
    (root / "images/logo.png").write_bytes(image_bytes(pages[0].resize((40, 20))))
    server, base = serve(root)
    registry = root.parent / "picture_sites.toml"
    registry.write_text(site_entry("t_picture", "某县人民政府", [base + "/zfxxgk/nb/index.html"]), encoding="utf-8")
    yield registry, expected, server
    server.shutdown()
    server.server_close()


FAST = ("-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0")


def _crawl(registry, db, rc=0, **env):
    import os

    from conftest import ogi

    proc = ogi("crawl", "--sites", registry, "--db", db, *FAST, env={**os.environ, **env})
    assert proc.returncode == rc, proc.stdout + proc.stderr
    return proc


@pytest.mark.ocr
@needs_ocr_extra
@needs_fonts
def test_a_crawl_reads_an_image_only_report_by_ocr(picture_site, tmp_path):
    from conftest import rows

    registry, expected, server = picture_site
    db = tmp_path / "archive.db"
    proc = _crawl(registry, db)
    [report] = rows(db, "select * from reports")
    assert report["parse_status"] == "ok" and report["extracted_by"] == "ocr", report["warnings"]
    images = rows(db, "select url, page_url, content_type from captures where role = 'image' order by id")
    assert [i["url"].rsplit("/", 1)[1] for i in images] == ["p1.jpg", "p2.jpg"]  # not the logo
    assert {i["page_url"] for i in images} == {report["url"]}
    cells = rows(db, "select table_key, row_key, column_key, value, uncertain, confidence from cells")
    got = {(c["table_key"], c["row_key"], c["column_key"]): c for c in cells}
    right = sum(1 for k, v in expected.items() if k in got and abs(got[k]["value"] - v) < 1e-9)
    assert right / len(expected) >= 0.99
    assert all(c["uncertain"] for k, c in got.items() if k not in expected or abs(c["value"] - expected[k]) > 1e-9)
    assert all(c["confidence"] is not None for c in cells)
    assert "read by OCR: 1" in proc.stdout


@pytest.mark.ocr
@needs_ocr_extra
@needs_fonts
def test_a_page_image_that_failed_is_fetched_again_with_its_report_next_run(picture_site, tmp_path):
    """The second page image fails (HTTP 500): the report is archived from the first, the
    failure recorded.  The next run asks for the report again with every image, and the
    report, its page unchanged, gets the parse of both pages (the first parse's cells kept in
    cells_previous).  The run after that asks for neither."""
    from urllib.parse import urlsplit

    from conftest import rows

    registry, expected, server = picture_site
    db, image = tmp_path / "archive.db", "/u/2024/01/p2.jpg"
    server.behaviours["fail"] = {image: 500}
    try:
        _crawl(registry, db, rc=3)  # a site with a failed fetch: the run says so
    finally:
        del server.behaviours["fail"]
    [first] = rows(db, "select * from reports")
    assert [f["fetch_role"] for f in rows(db, "select * from fetch_failures where resolved_at is null")] == ["image"]
    assert any("image 2 of the page" in w for w in json.loads(first["warnings"]))
    assert first["n_cells"] < 0.99 * len(expected)

    asked = len(server.requests)
    proc = _crawl(registry, db)
    again = [p for _, p, _ in server.requests[asked:]]
    assert again.count(image) == 1 and again.count(urlsplit(first["url"]).path) == 1, again
    [report] = rows(db, "select * from reports")
    assert report["sha256"] == first["sha256"] and report["version"] == first["version"]  # the same page
    assert report["n_cells"] >= 0.99 * len(expected), report["warnings"]
    assert not any("image 2 of the page" in w for w in json.loads(report["warnings"]))
    assert rows(db, "select count(*) n from fetch_failures where resolved_at is null")[0]["n"] == 0
    parses = rows(db, "select * from parses where report_id = ? order by id", report["id"])
    assert [p["current"] for p in parses] == [0, 1] and parses[1]["n_cells"] == report["n_cells"]
    kept = rows(db, "select count(*) n from cells_previous where parse_id = ?", parses[0]["id"])[0]["n"]
    assert kept == first["n_cells"]
    assert "1 changed" in proc.stdout, proc.stdout

    asked = len(server.requests)
    _crawl(registry, db)
    assert image not in [p for _, p, _ in server.requests[asked:]]
    assert len(rows(db, "select * from parses where report_id = ?", report["id"])) == 2


@pytest.mark.ocr
@needs_ocr_extra
@needs_fonts
def test_a_crawl_without_ocr_says_needs_ocr_and_reparse_ocr_reads_it(picture_site, tmp_path):
    """The crawl of a user without OCR (or who leaves it for later: OGI_OCR=off): the report
    is archived, its images too, and it is counted as needing OCR; ``reparse --ocr`` reads it."""
    from conftest import ogi, rows

    registry, expected, server = picture_site
    db = tmp_path / "archive.db"
    proc = _crawl(registry, db, OGI_OCR="off")
    [report] = rows(db, "select * from reports")
    assert report["parse_status"] == "needs_ocr" and report["n_cells"] == 0
    assert any("2 page images" in w for w in __import__("json").loads(report["warnings"]))
    assert "needs OCR:      1" in proc.stdout
    assert len(rows(db, "select id from captures where role = 'image'")) == 2
    proc = ogi("reparse", "--db", db, "--ocr")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [report] = rows(db, "select * from reports")
    assert report["parse_status"] == "ok" and report["extracted_by"] == "ocr"
    assert report["n_cells"] >= 0.99 * len(expected)
