"""The Scrapy pipelines and the archiver process, built from a real crawler, fed plain items.

The archiver is started for real (``python -P -m crawler.archiver``), with one parse
worker or two, and writes a real SQLite archive."""
import asyncio
import json

import pytest
from scrapy.utils.test import get_crawler

from archive.db import open_archive
from crawler.archiver import parse_report
from pipelines.scrapy_pipelines import ArchivePipeline, CapturePipeline

from conftest import MIRROR

TRAD = MIRROR / "hn_huaihua_czj/zwgk/xxgknb/202101/t20210125_5873012.html"


@pytest.fixture(params=[1, 2], ids=["one-worker", "two-workers"])
def crawler(request, tmp_path):
    return make_crawler(tmp_path, workers=request.param)


def make_crawler(tmp_path, workers=1):
    c = get_crawler(settings_dict={"OGI_ARCHIVE_DB": str(tmp_path / "p.db"), "OGI_PARSE_WORKERS": workers})
    c.stats.open_spider()
    c.spider = None
    return c


def item(body, url="http://x/zwgk/xxgknb/202101/t20210125_5873012.html", role="report", ctype="text/html"):
    return {"site_id": "hn_huaihua_czj", "site_region": "431200", "url": url, "final_url": url, "status": 200,
            "content_type": ctype, "body": body, "role": role, "list_title": None, "list_date": "2021-01-25"}


def archive_items(crawler, items):
    """Capture and archive pipelines as a crawl drives them: open, items, close."""
    capture, archive = CapturePipeline.from_crawler(crawler), ArchivePipeline.from_crawler(crawler)

    async def go():
        await archive.open_spider()
        for it in items:
            archive.process_item(capture.process_item(it))
        await archive.close_spider()

    asyncio.run(go())
    return open_archive(crawler.settings.get("OGI_ARCHIVE_DB"))


def test_capture_fingerprints_the_body(crawler):
    it = CapturePipeline.from_crawler(crawler).process_item(item(b"abc", role="list"))
    assert it["sha256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" and it["size"] == 3


def test_the_parse_a_worker_runs_on_a_traditional_page():
    p = parse_report(TRAD.read_bytes(), "text/html", "http://x/zwgk/xxgknb/202101/t20210125_5873012.html",
                     list_date="2021-01-25", site_region="431200")
    assert p["script"] == "traditional" and p["title"] == "怀化市财政局2020年政府信息公开工作年度报告"
    assert p["published_at"] == "2021-01-25T14:59:00+08:00" and p["published_from"] == "page"
    assert p["region_code"] == "431200" and p["agency"] == "怀化市财政局"
    assert p["parse_status"] == "ok" and p["n_cells"] == 196 and len(json.loads(p["sections_json"])) == 6
    assert len(json.loads(p["cells_json"])) == 196 and p["n_checks_failed"] == 0


def test_the_archiver_parses_and_writes_and_counts(crawler):
    it = item(TRAD.read_bytes())
    db = archive_items(crawler, [it, dict(it, role="page", url=it["url"] + "?copy"), item(b"<a>list</a>", role="list")])
    (r,) = db.table("reports").rows
    assert r["title"] == "怀化市财政局2020年政府信息公开工作年度报告" and r["n_cells"] == 196
    assert r["parse_status"] == "ok" and r["region_code"] == "431200"
    assert db.execute("select count(*) from cells where report_id = ?", [r["id"]]).fetchone()[0] == 196
    assert db.table("captures").count == 3 and db.table("payloads").count == 2  # one content, stored once
    stats = crawler.stats
    assert stats.get_value("ogi/captures") == 3 and stats.get_value("ogi/reports_new") == 1
    assert stats.get_value("ogi/pages") == 3 and not stats.get_value("ogi/errors")


def test_a_second_archiving_of_the_same_report_is_unchanged(tmp_path):
    it = item(TRAD.read_bytes())
    archive_items(make_crawler(tmp_path), [it])
    again = make_crawler(tmp_path)
    db = archive_items(again, [dict(it)])
    assert again.stats.get_value("ogi/reports_unchanged") == 1 and db.table("report_versions").count == 1


def test_a_report_that_fails_to_parse_is_archived_with_its_capture(tmp_path):
    crawler = make_crawler(tmp_path)
    # a DOCX that is not one: the parser's error becomes parse_status=error, the capture stays
    bad = item(b"PK\x03\x04word/ this is no zip", url="http://x/a.docx", ctype="application/vnd.openxmlformats")
    db = archive_items(crawler, [bad])
    (r,) = db.table("reports").rows
    assert r["parse_status"] == "error" and "could not be read" in r["warnings"]
    assert db.table("captures").count == 1 and db.table("payloads").count == 1


def test_a_batch_the_archive_cannot_write_is_an_error_of_the_site(tmp_path):
    crawler = make_crawler(tmp_path)
    broken = {**item(None, role="page"), "sha256": "0" * 64, "size": 0}  # a capture without a body
    archive = ArchivePipeline.from_crawler(crawler)

    async def go():
        await archive.open_spider()
        client = archive.client
        archive.process_item(broken)
        await archive.close_spider()
        return client

    client = asyncio.run(go())
    assert crawler.stats.get_value("ogi/write_errors") == 1
    assert client.archive_error and str(tmp_path / "p.db") in client.archive_error  # the run ends with exit 6
    assert open_archive(crawler.settings.get("OGI_ARCHIVE_DB")).table("captures").count == 0  # rolled back whole


def test_an_archiver_that_dies_fails_the_site(tmp_path, caplog):
    crawler = make_crawler(tmp_path)
    archive = ArchivePipeline.from_crawler(crawler)

    async def go():
        await archive.open_spider()
        archive.client.proc.kill()
        archive.client.proc.wait()
        await asyncio.sleep(0.1)
        archive.process_item(item(TRAD.read_bytes()))
        archive.process_item(item(TRAD.read_bytes()))
        await archive.close_spider()

    asyncio.run(go())
    assert crawler.stats.get_value("ogi/errors") >= 2 and crawler.stats.get_value("ogi/archiver_died") == 1
    assert "not archived" in caplog.text


def test_ctrl_c_on_the_terminal_leaves_the_archiver_to_finish(tmp_path):
    """SIGINT reaches the whole process group; the archiver keeps going until the crawl,
    stopping gracefully, closes its input."""
    import os
    import signal

    crawler = make_crawler(tmp_path, workers=1)
    archive = ArchivePipeline.from_crawler(crawler)

    async def go():
        await archive.open_spider()
        archive.process_item(CapturePipeline.from_crawler(crawler).process_item(item(TRAD.read_bytes())))
        await asyncio.sleep(0.5)
        os.kill(archive.client.proc.pid, signal.SIGINT)
        await asyncio.sleep(0.2)
        await archive.close_spider()

    asyncio.run(go())
    assert crawler.stats.get_value("ogi/reports_new") == 1 and not crawler.stats.get_value("ogi/errors")


def test_an_archive_that_cannot_be_opened_fails_the_site_at_once(tmp_path, caplog):
    """The archiver's writer cannot open the archive: the archiver ends, and the crawl
    counts the error instead of waiting on it."""
    (tmp_path / "p.db").mkdir()  # a directory where the archive should be
    crawler = make_crawler(tmp_path)
    archive = ArchivePipeline.from_crawler(crawler)

    async def go():
        await archive.open_spider()
        archive.process_item(CapturePipeline.from_crawler(crawler).process_item(item(TRAD.read_bytes())))
        await asyncio.wait_for(archive.close_spider(), 30)

    asyncio.run(go())
    assert crawler.stats.get_value("ogi/errors") >= 1 and "archiver" in caplog.text
