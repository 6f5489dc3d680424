"""A researcher's first visit, in a real browser: headless Chromium (Debian's `chromium`, driven
by Playwright) on the real `ogi-archive serve` of the demo archive.  It searches 信访 from the
reports table's search box, opens the report found, its page of printed tables, its raw
capture and the charts, saves a screenshot of each, and asserts what each page shows: the
titles, labels and numbers the archive holds (read from the archive by SQL, not typed in).

Screenshots go to $OGI_SCREENSHOTS when it is set, else to the test's temporary folder."""
import os
import pathlib
import shutil
import subprocess

import pytest

from archive.warc import warc_dir
from conftest import rows, served

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _cjk_font():
    try:
        out = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return False
    return bool(out.strip())


try:
    from playwright.sync_api import sync_playwright
except ImportError:  # the test extra installs it
    sync_playwright = None

pytestmark = [
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (pip install -e '.[test]')"),
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (.ci/run installs Debian's chromium)"),
    pytest.mark.skipif(not _cjk_font(), reason="no CJK font (.ci/run installs Debian's fonts-noto-cjk)"),
]


@pytest.fixture(scope="module")
def served_demo(demo_db, tmp_path_factory):
    """`ogi-archive serve` on a copy of the demo archive (the file and its WARC folder)."""
    src, _ = demo_db
    db = tmp_path_factory.mktemp("served") / "archive.db"
    shutil.copy(src, db)
    shutil.copytree(warc_dir(src), warc_dir(db))
    with served(db) as base:
        yield base, db


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not errors, errors


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = pathlib.Path(os.environ.get("OGI_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _shot(page, shots, name):
    path = shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000  # a page drawn, not a blank
    return path


def _figure(db, report_id, table, row, column="total"):
    got = rows(db, "select value from cells where report_id = ? and table_key = ? and row_key = ? and column_key = ?",
               report_id, table, row, column)
    return got[0]["value"] if got else None


def _number(value):
    return f"{value:g}"


def test_search_open_a_report_its_tables_its_capture_and_the_charts(served_demo, page, shots):
    base, db = served_demo
    # what the archive holds, by plain SQL: the reports whose title or sections say 信访
    expected = rows(db, "select distinct r.id, r.title, r.capture_id, r.url from reports r left join sections s "
                        "on s.report_id = r.id where r.title like '%信访%' or s.text like '%信访%' order by r.id")
    assert expected, "the demo archive has a report mentioning 信访"

    # 1. the reports table's search box
    page.goto(base + "/archive/reports")
    page.fill("input[name=_search]", "信访")
    page.press("input[name=_search]", "Enter")
    page.wait_for_load_state("networkidle")
    _shot(page, shots, "1-search")
    body = page.inner_text("body")
    for r in expected:
        assert r["title"] in body
    assert f"{len(expected)} row" in body

    # 2. the report's own row page, reached by its link in the results
    report = expected[0]
    page.click(f"a[href$='/reports/{report['id']}']")
    page.wait_for_load_state("networkidle")
    _shot(page, shots, "2-report")
    body = page.inner_text("body")
    assert report["title"] in body

    # 3. its tables as printed, with Chinese labels and the archive's numbers
    page.click("a[href*='/-/report/']")
    page.wait_for_load_state("networkidle")
    _shot(page, shots, "3-printed-tables")
    new = _figure(db, report["id"], "requests", "new_received")
    assert new is not None
    row = page.locator("tr", has_text="本年新收政府信息公开申请数量").first
    assert _number(new) in row.inner_text().split()
    assert "行政复议" in page.inner_text("body")

    # 4. its raw capture, as the agency's server sent it
    with page.expect_response(lambda r: "/-/capture/" in r.url) as got:
        page.goto(f"{base}/-/capture/archive/{report['capture_id']}")
    response = got.value
    content_type = rows(db, "select content_type from captures where id = ?", report["capture_id"])[0]["content_type"]
    assert response.headers["content-type"].split(";")[0] == content_type.split(";")[0]
    if content_type.startswith("text/html"):
        _shot(page, shots, "4-capture")
        assert report["title"][:10] in page.inner_text("body")
    else:  # Chromium's PDF viewer draws in a frame of its own: the file is checked by its bytes
        page.wait_for_timeout(2000)
        page.screenshot(path=str(shots / "4-capture.png"))
        body = page.request.get(f"{base}/-/capture/archive/{report['capture_id']}").body()
        assert body.startswith(b"%PDF") if content_type.startswith("application/pdf") else body

    # 5. the charts: drawn, with the report years the archive holds on their axes
    page.goto(base + "/-/dashboards/figures")
    page.wait_for_selector(".vega-embed svg, .vega-embed canvas")
    page.wait_for_timeout(500)
    _shot(page, shots, "5-charts")
    body = page.inner_text("body")
    assert "Information requests received a year" in body and "How requests were answered" in body
    years = {r["report_year"] for r in rows(db, "select distinct report_year from reports where report_year is not null")}
    assert years and all(str(y) in body for y in years)
    assert page.locator(".vega-embed svg, .vega-embed canvas").count() >= 4
