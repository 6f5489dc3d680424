"""Each Scrapy pipeline alone, built from a real crawler, fed plain items."""
import asyncio
import json

import pytest
from scrapy.utils.test import get_crawler

from archive.db import open_archive
from pipelines.scrapy_pipelines import ArchivePipeline, CapturePipeline, ParsePipeline

from conftest import MIRROR

TRAD = MIRROR / "hn_huaihua_czj/zwgk/xxgknb/202101/t20210125_5873012.html"


@pytest.fixture(params=[0, 1], ids=["inline", "worker-process"])
def crawler(request, tmp_path):
    c = get_crawler(settings_dict={"OGI_ARCHIVE_DB": str(tmp_path / "p.db"), "OGI_PARSE_WORKERS": request.param})
    c.stats.open_spider()
    return c


def item(body, url="http://x/zwgk/xxgknb/202101/t20210125_5873012.html", role="report", ctype="text/html"):
    return {"site_id": "hn_huaihua_czj", "site_region": "431200", "url": url, "final_url": url, "status": 200,
            "content_type": ctype, "body": body, "role": role, "list_title": None, "list_date": "2021-01-25"}


def run(crawler, it):
    it = CapturePipeline.from_crawler(crawler).process_item(it)
    return asyncio.run(ParsePipeline.from_crawler(crawler).process_item(it))


def archive_items(crawler, items):
    """The archive pipeline as a crawl drives it: open, items, close (the writes done in its thread)."""
    archive = ArchivePipeline.from_crawler(crawler)
    crawler.spider = None

    async def go():
        archive.open_spider()
        for it in items:
            await archive.process_item(it)
        await archive.close_spider()

    asyncio.run(go())


def test_capture_fingerprints_the_body(crawler):
    it = CapturePipeline.from_crawler(crawler).process_item(item(b"abc", role="list"))
    assert it["sha256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" and it["size"] == 3


def test_normalise_and_parse_a_traditional_page(crawler):
    p = run(crawler, item(TRAD.read_bytes()))["parsed"]
    assert p["script"] == "traditional" and p["title"] == "怀化市财政局2020年政府信息公开工作年度报告"
    assert p["published_at"] == "2021-01-25T14:59:00+08:00" and p["published_from"] == "page"
    assert p["region_code"] == "431200" and p["agency"] == "怀化市财政局"
    assert p["parse_status"] == "ok" and p["n_cells"] == 196 and len(json.loads(p["sections_json"])) == 6
    assert len(json.loads(p["cells_json"])) == 196 and p["n_checks_failed"] == 0


def test_a_parser_exception_becomes_parse_status_error(tmp_path, monkeypatch):
    import pipelines.report as report

    def boom(*a, **k):
        raise RuntimeError("table reader exploded")

    monkeypatch.setattr(report, "parse_tables", boom)
    crawler = get_crawler(settings_dict={"OGI_ARCHIVE_DB": str(tmp_path / "p.db"), "OGI_PARSE_WORKERS": 0})
    crawler.stats.open_spider()
    p = run(crawler, item(TRAD.read_bytes()))["parsed"]
    assert p["parse_status"] == "error" and "exploded" in p["parse_error"]
    assert p["title"] == "怀化市财政局2020年政府信息公开工作年度报告"  # what normalisation found is kept


def test_archive_keeps_the_capture_of_a_report_that_failed_to_parse(tmp_path, monkeypatch):
    import pipelines.report as report

    monkeypatch.setattr(report, "parse_tables", lambda *a, **k: 1 / 0)
    crawler = get_crawler(settings_dict={"OGI_ARCHIVE_DB": str(tmp_path / "p.db"), "OGI_PARSE_WORKERS": 0})
    crawler.stats.open_spider()
    it = run(crawler, item(TRAD.read_bytes()))
    archive_items(crawler, [it])
    db = open_archive(crawler.settings.get("OGI_ARCHIVE_DB"))
    (r,) = list(db.table("reports").rows)
    assert r["parse_status"] == "error" and "ZeroDivisionError" in r["parse_error"]
    assert db.table("captures").count == 1 and db.table("blobs").count == 1


def test_list_pages_are_captured_but_not_parsed(crawler):
    it = run(crawler, item(b"<html><body><a href='x'>x</a></body></html>", role="list"))
    assert "parsed" not in it and it["sha256"]


def test_a_batch_the_archive_cannot_write_is_an_error_of_the_site(tmp_path, monkeypatch, caplog):
    import archive.store as store

    def full_disk(*a, **k):
        raise OSError("database or disk is full")

    crawler = get_crawler(settings_dict={"OGI_ARCHIVE_DB": str(tmp_path / "p.db"), "OGI_PARSE_WORKERS": 0})
    crawler.stats.open_spider()
    good = run(crawler, item(TRAD.read_bytes()))
    monkeypatch.setattr(store, "save_report", full_disk)
    archive_items(crawler, [good])
    assert crawler.stats.get_value("ogi/errors") == 1 and "could not write a batch" in caplog.text
    db = open_archive(crawler.settings.get("OGI_ARCHIVE_DB"))
    assert db.table("captures").count == 0  # the batch's transaction was rolled back whole, nothing half-written


def test_the_writer_counts_what_it_wrote(tmp_path):
    crawler = get_crawler(settings_dict={"OGI_ARCHIVE_DB": str(tmp_path / "p.db"), "OGI_PARSE_WORKERS": 0})
    crawler.stats.open_spider()
    it = run(crawler, item(TRAD.read_bytes()))
    archive_items(crawler, [it, dict(it, role="page", url=it["url"] + "?copy")])
    assert crawler.stats.get_value("ogi/captures") == 2 and crawler.stats.get_value("ogi/reports_new") == 1
    db = open_archive(crawler.settings.get("OGI_ARCHIVE_DB"))
    assert db.table("captures").count == 2 and db.table("blobs").count == 1  # one content, stored once
