"""Thin Scrapy adapters around the pure functions; the only module here that knows Scrapy."""
import hashlib
import logging
from datetime import datetime, timezone

import os
import time
from functools import partial

from .report import parse_for_archive

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


class ParsePipeline(_Pipeline):
    """Normalise (script, title, dates, agency, region) and parse (sections, tables, checks)
    each report, in a pool of worker processes so that parsing uses every core while
    the crawl goes on.  OGI_PARSE_WORKERS = 0 parses in the crawl's own process."""

    _pools = {}

    def __init__(self, crawler):
        super().__init__(crawler)
        self.workers = crawler.settings.getint("OGI_PARSE_WORKERS", os.cpu_count() or 1)

    @classmethod
    def pool(cls, workers):
        """One pool per process, shared by every site's crawl in it."""
        if workers not in cls._pools:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            cls._pools[workers] = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"))
        return cls._pools[workers]

    @classmethod
    def shutdown(cls):
        for pool in cls._pools.values():
            pool.shutdown(wait=True)
        cls._pools.clear()

    async def process_item(self, item):
        if item["role"] != "report":
            return item
        args = (item["body"], item.get("content_type"), item.get("page_url") or item["url"])
        kw = {"list_date": item.get("list_date"), "last_modified": item.get("last_modified"),
              "list_title": item.get("list_title"), "site_region": item.get("site_region")}
        if self.workers > 0:
            import asyncio

            loop = asyncio.get_running_loop()
            item["parsed"] = await loop.run_in_executor(self.pool(self.workers), partial(parse_for_archive, *args, **kw))
        else:
            item["parsed"] = parse_for_archive(*args, **kw)
        if item["parsed"].get("parse_status") == "error":
            log.warning("parse failed: %s: %s", item["url"], item["parsed"]["parse_error"].splitlines()[0])
        return item


class ArchivePipeline(_Pipeline):
    """The one writer: captures, then reports, in batches inside one transaction each."""

    batch_size = 50  # items per transaction; and at most flush_seconds between two
    flush_seconds = 2.0

    def __init__(self, crawler):
        super().__init__(crawler)
        self.pending = []
        self.db = None
        self.flushed = 0.0

    def open_spider(self):
        from archive.db import shared_archive
        from archive.store import upsert_site

        self.db = shared_archive(self.crawler.settings.get("OGI_ARCHIVE_DB"))
        self.run_id = self.crawler.settings.getint("OGI_RUN_ID") or None
        site = getattr(self.crawler.spider, "site", None)
        if site is not None:
            with self.db.atomic():
                upsert_site(self.db, site.as_dict())

    def process_item(self, item):
        self.pending.append(item)
        if len(self.pending) >= self.batch_size or time.monotonic() - self.flushed > self.flush_seconds:
            self.flush()
        return {k: item.get(k) for k in ("site_id", "url", "role", "sha256")}

    def flush(self):
        from archive.store import mark_seen, report_id, save_capture, save_report

        with self.db.atomic():
            for item in self.pending:
                if item["role"] == "seen":
                    rid = report_id(item["site_id"], item["url"])
                    if self.db.execute("select 1 from reports where id = ?", [rid]).fetchone():
                        mark_seen(self.db, rid, run_id=self.run_id)
                        self.inc("reports_unchanged")
                    continue
                cap_id, sha = save_capture(self.db, {**item, "run_id": self.run_id})
                self.inc("captures")
                if item["role"] == "report":
                    # a report published as an attachment is known by the page that announces it
                    result = save_report(self.db, item["site_id"], item.get("page_url") or item["url"], cap_id, sha,
                                         item.get("parsed") or {}, list_title=item.get("list_title"),
                                         run_id=self.run_id)
                    self.inc(f"reports_{result}")
                    if (item.get("parsed") or {}).get("parse_status") == "needs_ocr":
                        self.inc("needs_ocr")
        self.pending = []
        self.flushed = time.monotonic()

    def close_spider(self):
        if self.db is not None:
            from archive.db import release_archive

            self.flush()
            release_archive(self.db)
