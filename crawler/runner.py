"""Run a crawl of registry sites into the archive, and report what it did."""
import logging
import pathlib
import time
from datetime import datetime

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from archive.db import open_archive
from archive.store import finish_run, start_run

from .spiders.families import SPIDERS

STAT_KEYS = ("pages", "captures", "reports_new", "reports_changed", "reports_unchanged", "needs_ocr")


def project_settings(overrides=None):
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def run_crawl(sites, db_path, overrides=None, log_dir=None):
    """Crawl ``sites`` (registry Site objects) into the archive at ``db_path``.

    Returns {"run_id", "seconds", "totals", "sites": {id: stats}, "failed": [ids]}.
    """
    started = time.monotonic()
    db = open_archive(db_path)
    run_id = start_run(db, [s.id for s in sites])
    db.close()
    log_dir = pathlib.Path(log_dir or pathlib.Path(db_path).resolve().parent / "logs")
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"crawl-{datetime.now():%Y%m%d-%H%M%S}-run{run_id}.log"
    settings = project_settings({"OGI_ARCHIVE_DB": str(db_path), "OGI_RUN_ID": run_id, "LOG_FILE": str(log_file),
                                 **(overrides or {})})
    process = CrawlerProcess(settings)
    crawlers = {}
    for site in sites:
        crawler = process.create_crawler(SPIDERS[site.cms])
        if not site.robots_obey:
            crawler.settings.set("ROBOTSTXT_OBEY", False, priority="spider")
        crawlers[site.id] = crawler
        process.crawl(crawler, site=site)
    process.start()
    logging.getLogger().handlers.clear()  # the log file is closed; later output goes to the caller
    per_site, failed = {}, []
    for site_id, crawler in crawlers.items():
        stats = crawler.stats.get_stats() if crawler.stats else {}
        s = {k: stats.get(f"ogi/{k}", 0) for k in STAT_KEYS}
        s["errors"] = stats.get("log_count/ERROR", 0)
        s["finish_reason"] = stats.get("finish_reason")
        s["lists_ok"] = stats.get("downloader/response_status_count/200", 0) > 0 and s["pages"] > 0
        per_site[site_id] = s
        if s["errors"] or not s["lists_ok"] or s["finish_reason"] not in ("finished", None):
            failed.append(site_id)
    totals = {k: sum(s[k] for s in per_site.values()) for k in STAT_KEYS + ("errors",)}
    db = open_archive(db_path)
    finish_run(db, run_id, "failed" if failed else "ok", totals, per_site,
               error_text=("sites failed: " + ", ".join(failed)) if failed else None)
    db.close()
    return {"run_id": run_id, "seconds": time.monotonic() - started, "totals": totals, "sites": per_site,
            "failed": failed, "log_file": str(log_file)}
