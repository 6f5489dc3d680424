"""Run a crawl of registry sites into the archive, and report what it did."""
import logging
import re
import sys
import pathlib
import time
from datetime import datetime

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from archive.db import ArchiveError, archive_errors, open_archive
from archive.store import finish_run, mark_removed, start_run

from .spiders.families import SPIDERS

STAT_KEYS = ("pages", "captures", "reports_new", "reports_changed", "reports_unchanged", "reports_copy", "needs_ocr",
             "too_large", "broken_links", "refused", "failures", "budget_spent")


class Locked(RuntimeError):
    """Another run holds the archive's lock."""


class ArchiveLock:
    """An exclusive, non-blocking lock beside the archive (``archive.db.lock``), held for a run.

    The kernel drops it when the process dies, so a killed run never leaves it stuck.
    """

    def __init__(self, db_path):
        import os

        # beside the real file: two paths to one archive (a symlink) are one lock
        self.path = pathlib.Path(os.path.realpath(db_path) + ".lock")
        self.fh = None

    def __enter__(self):
        import fcntl
        import os

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fh = open(self.path, "a+")
        except OSError as e:
            raise ArchiveError(f"cannot write the archive's lock {self.path}: {e.strerror or e}") from None
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.seek(0)
            holder = self.fh.read().strip()
            self.fh.close()
            raise Locked(f"another crawl is running on this archive ({self.path}{': ' + holder if holder else ''})")
        try:
            self.fh.seek(0)
            self.fh.truncate()
            self.fh.write(f"pid {os.getpid()} since {datetime.now():%Y-%m-%d %H:%M:%S}")
            self.fh.flush()
        except OSError:
            pass  # the lock is held all the same; the note of who holds it is a courtesy
        return self

    def __exit__(self, *exc):
        import fcntl

        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def project_settings(overrides=None):
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


class BadSetting(ValueError):
    """A -s NAME=VALUE the crawl cannot use; the message names it and says why."""


# settings whose default is a whole number but that are read as a float
_READ_AS_FLOAT = {"DOWNLOAD_TIMEOUT", "DOWNLOAD_DELAY", "OGI_PARSE_SECONDS", "OGI_RECHECK_DAYS",
                  "CLOSESPIDER_TIMEOUT", "RETRY_BACKOFF_BASE", "RETRY_BACKOFF_MAX", "AUTOTHROTTLE_START_DELAY",
                  "AUTOTHROTTLE_MAX_DELAY", "AUTOTHROTTLE_TARGET_CONCURRENCY"}


def _json(value):
    import json

    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as e:
        raise ValueError(f"not JSON ({e})") from None


def checked_overrides(pairs):
    """``{name: value}`` from the command line, each checked against the type of the
    setting it changes (a number, a switch, a JSON object); raises :class:`BadSetting`."""
    settings = project_settings()
    for name, value in pairs.items():
        current = settings.get(name)
        try:
            if name == "OGI_LIMITS":
                from pipelines.limits import Limits

                limits = _json(value)
                if not isinstance(limits, dict):
                    raise ValueError("a JSON object is needed")
                unknown = set(limits) - set(Limits.__dataclass_fields__)
                if unknown:
                    raise ValueError(f"unknown limit(s) {', '.join(sorted(unknown))}; the limits are "
                                     f"{', '.join(Limits.__dataclass_fields__)}")
                if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in limits.values()):
                    raise ValueError("each limit must be a positive whole number")
            elif isinstance(current, bool):
                if str(value).lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError("True or False is needed")
            elif isinstance(current, int) and name not in _READ_AS_FLOAT:
                if not re.match(r"^\s*[-+]?\d+\s*$", str(value)):
                    raise ValueError("a whole number is needed")
            elif isinstance(current, (int, float)):
                if not re.match(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$", str(value)):
                    raise ValueError("a number is needed")
            elif isinstance(current, dict) and not isinstance(_json(value), dict):
                raise ValueError("a JSON object is needed")
            if name == "LOG_FILE" and not pathlib.Path(value).resolve().parent.is_dir():
                raise ValueError("its folder does not exist")
        except ValueError as e:  # json's errors are ValueErrors too
            raise BadSetting(f"-s {name}={value}: {e}") from None
    return dict(pairs)


def _progress(crawlers, total):
    """A status line on an interactive terminal (never in cron's mail): sites done, documents, reports."""
    from twisted.internet import task

    def show():
        done = sum(1 for c in crawlers.values() if c.stats and c.stats.get_value("finish_reason"))
        pages = sum((c.stats.get_value("ogi/pages") or 0) for c in crawlers.values() if c.stats)
        reports = sum(sum((c.stats.get_value(f"ogi/reports_{k}") or 0) for k in ("new", "changed", "unchanged"))
                      for c in crawlers.values() if c.stats)
        sys.stderr.write(f"\r\033[Kcrawling: {done}/{total} sites done, {pages} documents, {reports} reports")
        sys.stderr.flush()

    loop = task.LoopingCall(show)
    loop.start(1.0, now=False)
    return loop


def run_crawl(sites, db_path, overrides=None, log_dir=None):
    """Crawl ``sites`` (registry Site objects) into the archive at ``db_path``, holding its lock.

    Returns {"run_id", "seconds", "totals", "sites": {id: stats}, "failed": {id: reason}}.
    Raises :class:`Locked` at once when another run holds the archive, and
    :class:`~archive.db.ArchiveError` when the archive, its lock or its log cannot be written.
    """
    with ArchiveLock(db_path):
        return _run(sites, db_path, overrides, log_dir)


def _run(sites, db_path, overrides, log_dir):
    started = time.monotonic()
    log_dir = pathlib.Path(log_dir or pathlib.Path(db_path).resolve().parent / "logs")
    with archive_errors(log_dir):
        log_dir.mkdir(parents=True, exist_ok=True)
    db = open_archive(db_path)
    with archive_errors(db_path):
        run_id = start_run(db, [s.id for s in sites])
    db.close()
    log_file = log_dir / f"crawl-{datetime.now():%Y%m%d-%H%M%S}-run{run_id}.log"
    settings = project_settings({"OGI_ARCHIVE_DB": str(db_path), "OGI_RUN_ID": run_id, "LOG_FILE": str(log_file),
                                 **(overrides or {})})
    process = CrawlerProcess(settings)
    crawlers, waiting = {}, list(sites)

    def start_next(result=None):
        """Start the next site's crawl (OGI_CONCURRENT_SITES run at once); passes ``result`` on."""
        if waiting:
            site = waiting.pop(0)
            crawler = process.create_crawler(SPIDERS[site.cms])
            if not site.robots_obey:
                crawler.settings.set("ROBOTSTXT_OBEY", False, priority="spider")
            crawlers[site.id] = crawler
            process.crawl(crawler, site=site).addBoth(start_next)
        return result

    for _ in range(max(1, settings.getint("OGI_CONCURRENT_SITES", 32))):
        start_next()
    archiver = []  # held for the whole run: every site's crawl shares one archiver process

    def hold_archiver():
        from crawler.archiver import ArchiverClient

        archiver.append(ArchiverClient.for_settings(settings))

    from twisted.internet import reactor

    reactor.callLater(0, hold_archiver)  # inside the running event loop
    progress = _progress(crawlers, len(sites)) if sys.stderr.isatty() else None
    process.start()
    if progress is not None:
        sys.stderr.write("\r\033[K")
    per_site, failed, archive_error, archiver_died = {}, {}, None, False
    for client in archiver:
        archive_error = client.archive_error
        try:
            client.release()
        except Exception as e:
            logging.getLogger(__name__).error("%s", e)
            failed["(archive)"] = str(e)
            archiver_died = True
    if archive_error:
        failed["(archive)"] = f"the archive could not be written: {archive_error}"
    logging.getLogger().handlers.clear()  # the log file is closed; later output goes to the caller
    with archive_errors(db_path):
        db = open_archive(db_path)
        for site in waiting:  # the run was stopped (Ctrl-C, a signal) before these sites' turn
            failed[site.id] = "not crawled: the run was stopped before its turn"
        for site_id, crawler in crawlers.items():
            stats = crawler.stats.get_stats() if crawler.stats else {}
            s = {k: stats.get(f"ogi/{k}", 0) for k in STAT_KEYS}
            # this site's own failures: requests that failed for good, and exceptions in its callbacks
            # (log_count/ERROR would count every site's errors in a shared process)
            s["errors"] = stats.get("ogi/errors", 0) + stats.get("spider_exceptions/count", 0)
            s["finish_reason"] = stats.get("finish_reason")
            found = s["reports_new"] + s["reports_changed"] + s["reports_unchanged"]
            archived = db.execute("select count(*) from reports where site_id = ? and removed_at is null",
                                  [site_id]).fetchone()[0]
            if stats.get("ogi/write_errors"):
                failed[site_id] = ("the archive could not be written: some of this site's documents are not "
                                   "archived (the next run fetches them again)")
            elif stats.get("ogi/archiver_died") or archiver_died:
                failed[site_id] = ("the archiver ended before it had archived this site's documents "
                                   "(the next run fetches what is missing)")
            elif not s["pages"]:
                failed[site_id] = "no list page could be fetched"
            elif s["errors"]:
                failed[site_id] = (f"{s['errors']} failed fetches or errors (fetch_failures has each URL with its "
                                   f"reason; the next run asks for them first)")
            elif s["finish_reason"] not in ("finished", None):
                failed[site_id] = f"stopped: {s['finish_reason']}"
            elif not found and archived:
                failed[site_id] = f"no reports found where {archived} are archived: has the site changed?"
            # a report no longer listed is marked removed, only after a clean crawl of its site
            # (one whose discovery stopped at its page budget may not have seen them all)
            s["reports_removed"] = 0 if site_id in failed or s["budget_spent"] else mark_removed(db, site_id, run_id)
            per_site[site_id] = s
        totals = {k: sum(s[k] for s in per_site.values()) for k in STAT_KEYS + ("errors", "reports_removed")}
        finish_run(db, run_id, "failed" if failed else "ok", totals, per_site,
                   error_text="; ".join(f"{k}: {v}" for k, v in failed.items()) or None)
        db.close()
    result = {"run_id": run_id, "seconds": time.monotonic() - started, "totals": totals, "sites": per_site,
              "failed": failed, "log_file": str(log_file)}
    if archive_error:  # the run is recorded; what it could not write is fetched again next time
        error = ArchiveError(archive_error)
        error.result = result
        raise error
    return result
