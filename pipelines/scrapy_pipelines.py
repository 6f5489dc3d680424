"""Thin Scrapy adapters around the pure functions; the only module here that knows Scrapy."""
import hashlib
import logging
import traceback
from datetime import datetime, timezone

from .document import load_document
from .report import normalise, parse_tables

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


class NormalisePipeline(_Pipeline):
    """Script, title, dates, agency: the report's metadata, originals kept beside the normalised."""

    def process_item(self, item):
        if item["role"] != "report":
            return item
        try:
            doc = load_document(item["body"], item.get("content_type"), item["url"])
            item["document"] = doc
            item["parsed"] = normalise(doc, url=item.get("page_url") or item["url"], list_date=item.get("list_date"),
                                       last_modified=item.get("last_modified"), list_title=item.get("list_title"),
                                       site_region=item.get("site_region"))
        except Exception as e:  # the capture is kept whatever happens here
            item["parsed"] = _failed(e)
        return item


class ParsePipeline(_Pipeline):
    """Sections, statistical tables and their checks."""

    def process_item(self, item):
        parsed = item.get("parsed")
        if item["role"] != "report" or parsed is None or parsed.get("parse_status") != "ok":
            return item
        doc = item.pop("document")
        try:
            tables = parse_tables(doc, parsed.get("report_year"))
            parsed["warnings"] = parsed["warnings"] + tables.pop("warnings")
            parsed.update(tables)
        except Exception as e:
            parsed.update(_failed(e))
        return item


def _failed(e):
    log.warning("parse failed: %s", e)
    return {"parse_status": "error", "parse_error": f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}",
            "warnings": []}


class ArchivePipeline(_Pipeline):
    """The one writer: captures, then reports, in batches inside one transaction each."""

    batch_size = 25

    def __init__(self, crawler):
        super().__init__(crawler)
        self.pending = []
        self.db = None

    def open_spider(self):
        from archive.db import open_archive
        from archive.store import upsert_site

        self.db = open_archive(self.crawler.settings.get("OGI_ARCHIVE_DB"))
        self.run_id = self.crawler.settings.getint("OGI_RUN_ID") or None
        site = getattr(self.crawler.spider, "site", None)
        if site is not None:
            upsert_site(self.db, site.as_dict())

    def process_item(self, item):
        self.pending.append(item)
        if len(self.pending) >= self.batch_size:
            self.flush()
        return {k: item.get(k) for k in ("site_id", "url", "role", "sha256")}

    def flush(self):
        from archive.store import mark_seen, report_id, save_capture, save_report

        with self.db.atomic():
            for item in self.pending:
                if item["role"] == "seen":
                    rid = report_id(item["site_id"], item["url"])
                    if self.db.table("reports").count_where("id = ?", [rid]):
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

    def close_spider(self):
        if self.db is not None:
            self.flush()
            self.db.close()
