"""Thin Scrapy adapters around the pure functions; the only module here that knows Scrapy.

CapturePipeline fingerprints each capture in the crawl; ArchivePipeline hands it to the
archiver process, which parses (:func:`parse_report`) and writes (:func:`write_batch`)."""
import hashlib
import logging
from datetime import datetime, timezone

log = logging.getLogger(__name__)


class _Pipeline:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def inc(self, key, n=1):
        self.crawler.stats.inc_value(f"ogi/{key}", n)


class CapturePipeline(_Pipeline):
    """Fingerprint the raw body; the body itself is kept as it came."""

    def process_item(self, item):
        if item["role"] == "seen":  # an archived report still listed: nothing was downloaded
            return item
        item["sha256"] = hashlib.sha256(item["body"]).hexdigest()
        item["size"] = len(item["body"])
        item["fetched_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.inc("pages")
        return item


def parse_report(*args, **kw):
    """:func:`pipelines.report.parse_for_archive`, imported where it runs: the crawl's own
    process never loads the parser (OpenCC, dateparser, cn2an…)."""
    from .report import parse_for_archive

    return parse_for_archive(*args, **kw)


def warm_up():
    """Parse a small report once, so that a worker's first real report pays no set-up."""
    parse_report("<html><head><title>某市2020年政府信息公开工作年度报告</title></head><body>"
                 "<p>一、总体情况</p><p>發布時間：2021-01-25</p><table><tr><td>本年新收政府信息公开申请数量"
                 "</td><td>1</td></tr></table></body></html>".encode(), "text/html", "http://127.0.0.1/t.html")


class ArchivePipeline(_Pipeline):
    """Hand every captured document to the archiver process (:mod:`pipelines.archiver`),
    which parses reports in its workers and writes the archive; its counts come back
    into this site's stats.  The crawl's own process neither parses nor writes."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.client = None
        self.channel = None

    async def open_spider(self):
        from .archiver import ArchiverClient

        self.client = ArchiverClient.for_settings(self.crawler.settings)
        site = getattr(self.crawler.spider, "site", None)
        self.channel = self.client.open_channel(self.crawler.stats, site.as_dict() if site is not None else None)

    def process_item(self, item):
        from .archiver import ArchiverDied

        try:
            self.client.archive(self.channel, item)
        except ArchiverDied as e:  # counted once here, and again when the site closes
            if not self.crawler.stats.get_value("ogi/archiver_died"):
                log.error("%s: %s; what this site's crawl fetches from now on is not archived", item["url"], e)
                self.inc("archiver_died")
                self.inc("errors")
        return {k: item.get(k) for k in ("site_id", "url", "role", "sha256")}

    async def close_spider(self):
        if self.client is None:
            return
        try:
            await self.client.close_channel(self.channel)
        except Exception as e:  # the archiver died: this site's documents may not all be archived
            log.error("%s: %s", getattr(self.crawler.spider, "name", "?"), e)
            self.inc("errors")
        try:
            self.client.release()
        except Exception as e:
            log.error("%s", e)
            self.inc("errors")
        self.client = None


def write_batch(db, batch, run_id):
    """Write a batch of ``(channel, item)`` in one transaction (in the archiver's writer);
    returns what was written, counted per channel."""
    from collections import Counter, defaultdict

    from archive.store import mark_seen, report_id, save_capture, save_report

    counts = defaultdict(Counter)
    with db.atomic():
        for ch, item in batch:
            if item["role"] == "seen":
                counts[ch]["reports_unchanged"] += mark_seen(
                    db, [report_id(item["site_id"], u) for u in item["urls"]], run_id=run_id)
                continue
            cap_id, sha = save_capture(db, {**item, "run_id": run_id})
            counts[ch]["captures"] += 1
            if item["role"] == "report":
                # a report published as an attachment is known by the page that announces it
                parsed = item.get("parsed") or {}
                result = save_report(db, item["site_id"], item.get("page_url") or item["url"], cap_id, sha,
                                     parsed, list_title=item.get("list_title"), run_id=run_id)
                counts[ch][f"reports_{result}"] += 1
                if parsed.get("parse_status") == "needs_ocr":
                    counts[ch]["needs_ocr"] += 1
                if parsed.get("parse_status") == "error":
                    why = parsed.get("parse_error") or next(iter(parsed.get("warnings") or []), "unreadable")
                    log.warning("parse failed: %s: %s", item["url"], why.splitlines()[0])
    return counts
