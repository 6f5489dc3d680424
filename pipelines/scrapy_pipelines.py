"""Thin Scrapy adapters around the pure functions; the only module here that knows Scrapy.

CapturePipeline fingerprints each capture in the crawl; ArchivePipeline hands it to the
archiver process (:mod:`crawler.archiver`), which parses it and writes it."""
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
        if item["role"] in ("seen", "failure"):  # nothing was downloaded
            return item
        item["sha256"] = hashlib.sha256(item["body"]).hexdigest()
        item["size"] = len(item["body"])
        item["fetched_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.inc("pages")
        return item


class ArchivePipeline(_Pipeline):
    """Hand every captured document to the archiver process (:mod:`crawler.archiver`),
    which parses reports in its workers and writes the archive; its counts come back
    into this site's stats.  The crawl's own process neither parses nor writes."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.client = None
        self.channel = None

    async def open_spider(self):
        from crawler.archiver import ArchiverClient

        self.client = ArchiverClient.for_settings(self.crawler.settings)
        site = getattr(self.crawler.spider, "site", None)
        self.channel = self.client.open_channel(self.crawler.stats, site.as_dict() if site is not None else None)

    def process_item(self, item):
        from crawler.archiver import ArchiverDied

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
