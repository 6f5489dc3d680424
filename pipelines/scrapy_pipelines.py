"""Thin Scrapy adapters around the pure functions; the only module here that knows Scrapy."""
import hashlib
import logging
from datetime import datetime, timezone

import os
import time
from functools import partial


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
        """One pool per process, shared by every site's crawl in it, started as the crawl
        opens: the workers are forked from a server that has imported the parser, and
        each warms up (loads OpenCC, the date parser, the region codes) before the first
        report comes, instead of after it."""
        if workers not in cls._pools:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["pipelines.report"])
            pool = cls._pools[workers] = ProcessPoolExecutor(workers, mp_context=context)
            # starting a worker waits for the fork server's imports: done beside the crawl,
            # which goes on fetching (and needs no worker at all when nothing changed)
            import threading

            cls._starting = threading.Thread(target=lambda: [pool.submit(warm_up) for _ in range(workers)],
                                             name="ogi-parse-pool-start", daemon=True)
            cls._starting.start()
        return cls._pools[workers]

    def open_spider(self):
        if self.workers > 0:
            self.pool(self.workers)

    _starting = None

    @classmethod
    def shutdown(cls):
        if cls._starting is not None:
            cls._starting.join()
            cls._starting = None
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
            item["parsed"] = await loop.run_in_executor(self.pool(self.workers), partial(parse_report, *args, **kw))
        else:
            item["parsed"] = parse_report(*args, **kw)
        if item["parsed"].get("parse_status") == "error":
            log.warning("parse failed: %s: %s", item["url"], item["parsed"]["parse_error"].splitlines()[0])
        return item


def parse_report(*args, **kw):
    """:func:`pipelines.report.parse_for_archive`, imported where it runs: the crawl's own
    process never loads the parser (OpenCC, dateparser, cn2an…) when workers parse."""
    from .report import parse_for_archive

    return parse_for_archive(*args, **kw)


def warm_up():
    """Parse a small report once, so that a worker's first real report pays no set-up."""
    parse_report("<html><head><title>某市2020年政府信息公开工作年度报告</title></head><body>"
                      "<p>一、总体情况</p><p>發布時間：2021-01-25</p><table><tr><td>本年新收政府信息公开申请数量"
                      "</td><td>1</td></tr></table></body></html>".encode(), "text/html", "http://127.0.0.1/t.html")


class ArchivePipeline(_Pipeline):
    """Captures, then reports, written in batches by the archive's writer thread, one
    transaction a batch: the crawl hands a batch over and goes on."""

    batch_size = 50  # items per transaction; and at most flush_seconds between two
    flush_seconds = 2.0
    max_in_flight = 4  # batches handed over and not yet written, before the crawl waits

    def __init__(self, crawler):
        super().__init__(crawler)
        self.pending = []
        self.in_flight = []
        self.writer = None
        self.flushed = 0.0

    def open_spider(self):
        from archive.db import ArchiveWriter
        from archive.store import upsert_site

        self.writer = ArchiveWriter.shared(self.crawler.settings.get("OGI_ARCHIVE_DB"))
        self.run_id = self.crawler.settings.getint("OGI_RUN_ID") or None
        site = getattr(self.crawler.spider, "site", None)
        if site is not None:
            self.writer.call(_atomic, upsert_site, site.as_dict()).result()

    async def process_item(self, item):
        self.pending.append(item)
        if len(self.pending) >= self.batch_size or time.monotonic() - self.flushed > self.flush_seconds:
            self.flush()
        self.collect()
        while len(self.in_flight) > self.max_in_flight:  # the writer is behind: wait for it
            await _wrap(self.in_flight[0])
            self.collect()
        return {k: item.get(k) for k in ("site_id", "url", "role", "sha256")}

    def flush(self):
        if self.pending:
            self.in_flight.append(self.writer.call(write_batch, self.pending, self.run_id))
        self.pending = []
        self.flushed = time.monotonic()

    def collect(self):
        """Count what the written batches did; a batch that failed is logged and counted
        as an error of its site (the run then exits non-zero naming it)."""
        while self.in_flight and self.in_flight[0].done():
            future = self.in_flight.pop(0)
            try:
                counts = future.result()
            except Exception:
                log.exception("the archive could not write a batch of %s", getattr(self.crawler.spider, "name", "?"))
                self.inc("errors")
                continue
            for key, n in counts.items():
                self.inc(key, n)

    async def close_spider(self):
        if self.writer is None:
            return
        self.flush()
        for future in list(self.in_flight):
            try:
                await _wrap(future)
            except Exception:
                pass  # counted by collect()
        self.collect()
        self.writer.release()


def _wrap(future):
    import asyncio

    return asyncio.wrap_future(future)


def _atomic(db, fn, *args):
    with db.atomic():
        return fn(db, *args)


def write_batch(db, items, run_id):
    """Write a batch of crawled items in one transaction (in the writer's thread);
    returns the counts of what was written, for the crawl's stats."""
    from collections import Counter

    from archive.store import mark_seen, report_id, save_capture, save_report

    counts = Counter()
    with db.atomic():
        for item in items:
            if item["role"] == "seen":
                counts["reports_unchanged"] += mark_seen(db, [report_id(item["site_id"], u) for u in item["urls"]],
                                                         run_id=run_id)
                continue
            cap_id, sha = save_capture(db, {**item, "run_id": run_id})
            counts["captures"] += 1
            if item["role"] == "report":
                # a report published as an attachment is known by the page that announces it
                result = save_report(db, item["site_id"], item.get("page_url") or item["url"], cap_id, sha,
                                     item.get("parsed") or {}, list_title=item.get("list_title"), run_id=run_id)
                counts[f"reports_{result}"] += 1
                if (item.get("parsed") or {}).get("parse_status") == "needs_ocr":
                    counts["needs_ocr"] += 1
    return counts
