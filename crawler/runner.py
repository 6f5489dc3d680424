"""Run a crawl of registry sites into the archive, and report what it did."""
import contextlib
import logging
import re
import sys
import pathlib
import time
from datetime import datetime

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from archive.db import ArchiveError, archive_errors, open_archive

from .spiders.families import SPIDERS

STAT_KEYS = ("pages", "captures", "reports_new", "reports_changed", "reports_unchanged", "reports_copy", "needs_ocr",
             "too_large", "broken_links", "refused", "failures", "budget_spent")


SITE_PRIORITY = 50  # a site's own value of a setting given for the whole run (-s, priority 40)


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
    import os

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    if os.environ.get("OGI_REDIS_URL"):
        settings.set("OGI_REDIS_URL", os.environ["OGI_REDIS_URL"], priority="project")
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
    With OGI_REDIS_URL (a setting), this process coordinates a distributed run (see
    :mod:`crawler.distributed`): other crawl processes may join it.
    """
    with ArchiveLock(db_path):
        return _run(sites, db_path, overrides, log_dir)


def crawl_sites(sites, settings, configure=None):
    """Crawl ``sites`` in this process, OGI_CONCURRENT_SITES at a time, until all are done or
    the run is stopped; ``configure(crawler, site)`` may set a site's own settings, and is
    called inside the event loop, once, with None for the site before any.  Returns
    ({site id: crawler}, [sites not started]).  With JOBDIR, each site's crawl keeps its
    pending requests and seen URLs in a folder of its own under it, and takes them up again."""
    with _pending_requests_folder(settings) as spill:
        return _crawl_sites(sites, settings, configure, spill)


@contextlib.contextmanager
def _pending_requests_folder(settings):
    """Without a JOBDIR, each site's pending requests still wait on disk, in a folder of the
    run's own that goes with it: a site's crawl holds in memory only what it is fetching,
    not a request for every report its lists name (a TRS list's first page names all its
    pages), so a crawl's memory is flat with the size of the sites.  (With OGI_REDIS_URL,
    the queue is in Redis.)  Yields the folder, or None."""
    if settings.get("JOBDIR") or settings.get("OGI_REDIS_URL"):
        yield None
        return
    import shutil
    import tempfile

    spill = tempfile.mkdtemp(prefix="ogi-queue-")
    try:
        yield spill
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def _crawl_sites(sites, settings, configure, spill):
    process = CrawlerProcess(settings)
    # Scrapy leaves its loggers at every level and lets its handler drop what is below
    # LOG_LEVEL: a record made (its caller looked up) for each request and item, then dropped
    logging.getLogger("scrapy").setLevel(settings.get("LOG_LEVEL") or "DEBUG")
    crawlers, waiting, resumed = {}, list(sites), set()

    def start_next(result=None):
        """Start the next site's crawl (OGI_CONCURRENT_SITES run at once); passes ``result`` on."""
        if waiting:
            site = waiting.pop(0)
            crawler = process.create_crawler(SPIDERS[site.cms])
            if not site.robots_obey:
                crawler.settings.set("ROBOTSTXT_OBEY", False, priority="spider")
            if settings.get("JOBDIR") or spill:  # a folder a site: each site's crawl keeps its own queue and seen URLs
                jobdir = pathlib.Path(settings.get("JOBDIR") or spill) / site.id
                # above the command line's priority: the process's own settings are merged in again at crawl()
                crawler.settings.set("JOBDIR", str(jobdir), priority=SITE_PRIORITY)
                if (jobdir / "requests.seen").exists() and (jobdir / "requests.seen").stat().st_size:
                    resumed.add(site.id)
            if configure is not None:
                configure(crawler, site)
            crawlers[site.id] = crawler
            process.crawl(crawler, site=site).addBoth(finished, site.id).addBoth(start_next)
        return result

    def finished(result, site_id):
        """Keep a finished site's counts, and let its crawler go (its spider, what it knew of
        the archive, its duplicate filter): a run holds nothing of each document it fetched."""
        kept = crawlers[site_id] = _Kept(crawlers[site_id])
        if site_id in resumed:  # took up a stopped crawl (JOBDIR): what the stopped one saw, this one did not
            kept.stats._stats["ogi/resumed"] = 1
        return result

    for _ in range(max(1, settings.getint("OGI_CONCURRENT_SITES", 32))):
        start_next()
    from twisted.internet import reactor

    if configure is not None:
        reactor.callLater(0, configure, None, None)  # inside the running event loop
    progress = _progress(crawlers, len(sites)) if sys.stderr.isatty() else None
    process.start()
    if progress is not None:
        sys.stderr.write("\r\033[K")
    logging.getLogger().handlers.clear()  # the log file is closed; later output goes to the caller
    return crawlers, waiting


class _Kept:
    """What is kept of a site's finished crawl: its stats, read as a crawler's are."""

    def __init__(self, crawler):
        self.stats = self
        self._stats = dict(crawler.stats.get_stats()) if crawler.stats else {}

    def get_stats(self):
        return self._stats

    def get_value(self, key, default=None):
        return self._stats.get(key, default)


def site_stats(crawler):
    """A site's counts in this process (``STAT_KEYS``, errors, archiver troubles, how it ended)."""
    stats = crawler.stats.get_stats() if crawler.stats else {}
    s = {k: stats.get(f"ogi/{k}", 0) for k in STAT_KEYS + ("write_errors", "archiver_died", "resumed")}
    # this site's own failures: requests that failed for good, and exceptions in its callbacks
    # (log_count/ERROR would count every site's errors in a shared process)
    s["errors"] = stats.get("ogi/errors", 0) + stats.get("spider_exceptions/count", 0)
    s["finish_reason"] = stats.get("finish_reason")
    return s


def judge(per_site, db, archiver_died=False):
    """{site id: why it failed} for the sites whose crawl failed, from their counts (and the
    archive, read: a site where nothing was found but reports are archived has changed)."""
    failed = {}
    for site_id, s in per_site.items():
        found = s["reports_new"] + s["reports_changed"] + s["reports_unchanged"]
        if s.pop("write_errors", 0):
            failed[site_id] = ("the archive could not be written: some of this site's documents are not "
                               "archived (the next run fetches them again)")
        elif s.pop("archiver_died", 0) or archiver_died:
            failed[site_id] = ("the archiver ended before it had archived this site's documents "
                               "(the next run fetches what is missing)")
        elif not s["pages"] and not s.get("resumed"):  # a crawl taken up may have had all its list pages
            failed[site_id] = "no list page could be fetched"
        elif s["errors"]:
            failed[site_id] = (f"{s['errors']} failed fetches or errors (fetch_failures has each URL with its "
                               f"reason; the next run asks for them first)")
        elif s["finish_reason"] not in ("finished", None):
            failed[site_id] = f"stopped: {s['finish_reason']}"
        elif not found and not s.get("resumed"):
            archived = db.execute("select count(*) from reports where site_id = ? and removed_at is null",
                                  [site_id]).fetchone()[0]
            if archived:
                failed[site_id] = f"no reports found where {archived} are archived: has the site changed?"
    return failed


def _run(sites, db_path, overrides, log_dir):
    from .archiver import ArchiverClient, ArchiverDied, finish

    started = time.monotonic()
    log_dir = pathlib.Path(log_dir or pathlib.Path(db_path).resolve().parent / "logs")
    with archive_errors(log_dir):
        log_dir.mkdir(parents=True, exist_ok=True)
    # opened (and migrated) once here, under the lock, before the archiver starts: an archive
    # that cannot be written is one line and exit 6, not an archiver that dies
    open_archive(db_path).close()
    settings = project_settings({"OGI_ARCHIVE_DB": str(db_path), **(overrides or {})})
    pattern = settings.get("LOG_FILE") or str(log_dir / f"crawl-{datetime.now():%Y%m%d-%H%M%S}-run{{run_id}}.log")
    distributed = None
    if settings.get("OGI_REDIS_URL"):
        from .distributed import Coordinator

        distributed = Coordinator(settings, sites, overrides or {})
        client = distributed.start_archiver(db_path, ArchiverClient.spawn_options(settings))
    else:
        client = ArchiverClient.spawn(db_path, **ArchiverClient.spawn_options(settings))
    try:
        run_id, log_file = client.call(("start_run", [s.id for s in sites], pattern), timeout=300)
    except (ArchiverDied, ArchiveError) as e:
        with contextlib.suppress(Exception):  # it ends: its input is closed
            client.close()
            if distributed is not None:
                distributed.close()
        if isinstance(e, ArchiveError):
            raise
        raise ArchiveError(f"{db_path}: the archiver could not start the run: {e}") from None
    settings.set("OGI_RUN_ID", run_id, priority="cmdline")
    settings.set("LOG_FILE", log_file, priority="cmdline")
    if distributed is not None:
        distributed.publish(run_id, settings)

    def configure(crawler, site):
        if site is None:  # every site's crawl shares this one client, held for the whole run
            client.adopt(settings)
        elif distributed is not None:
            distributed.configure(crawler, site)

    crawlers, waiting = crawl_sites(sites, settings, configure)
    archive_error = client.archive_error
    client.release(keep=True)
    per_site = {site_id: site_stats(crawler) for site_id, crawler in crawlers.items()}
    failed, joined = {}, {}
    if distributed is not None:
        joined, left = distributed.wait_for_joiners()
        for sender, stats in joined.items():
            for site_id, s in stats.items():
                per_site[site_id] = merge_stats(per_site.get(site_id), s)
        for sender in left:
            failed[f"(crawler {sender})"] = ("it joined the run and ended without finishing; what it had taken "
                                             "from the shared queue is fetched by the next run")
    archiver_died = client.failure is not None
    with archive_errors(db_path):
        db = open_archive(db_path)
        try:
            failed.update(judge(per_site, db, archiver_died))
        finally:
            db.close()
    for site in waiting:  # the run was stopped (Ctrl-C, a signal) before these sites' turn
        failed[site.id] = "not crawled: the run was stopped before its turn"
    if left_behind := [k for k in failed if k.startswith("(crawler ")]:
        for site_id in per_site:  # a site that crawler had a part in may be incomplete: nothing is marked removed
            failed.setdefault(site_id, f"crawled in part by a crawler that ended early ({left_behind[0][9:-1]})")
    if archive_error:
        failed["(archive)"] = f"the archive could not be written: {archive_error}"
    totals = None
    if not archiver_died:
        try:
            per_site, totals = client.call(("finish", per_site, failed), timeout=600)
        except ArchiverDied as e:
            logging.getLogger(__name__).error("%s", e)
            archiver_died = True
        except ArchiveError as e:  # the run's end could not be written: it stays 'running' until the next
            archive_error = archive_error or str(e)
            totals = {k: sum(s.get(k, 0) for s in per_site.values()) for k in STAT_KEYS + ("errors",)}
            totals["reports_removed"] = 0
    try:
        client.close()
        if distributed is not None:
            distributed.close()
    except ArchiverDied as e:
        failed["(archive)"] = str(e)
        archiver_died = True
    if totals is None:  # the archiver is gone: the run's row is closed here, every site failed
        for site_id in per_site:
            failed.setdefault(site_id, "the archiver ended before it had archived this site's documents "
                                       "(the next run fetches what is missing)")
        failed.setdefault("(archive)", "the archiver ended early")
        with archive_errors(db_path):
            db = open_archive(db_path)
            with db.atomic():
                per_site, totals = finish(db, run_id, per_site, failed)
            db.close()
    result = {"run_id": run_id, "seconds": time.monotonic() - started, "totals": totals, "sites": per_site,
              "failed": failed, "log_file": str(log_file), "crawlers": {"this process": _documents(crawlers),
                                                                         **{k: _pages(v) for k, v in joined.items()}}}
    if archive_error:  # the run is recorded; what it could not write is fetched again next time
        error = ArchiveError(archive_error)
        error.result = result
        raise error
    return result


def _documents(crawlers):
    return sum((c.stats.get_value("ogi/pages") or 0) for c in crawlers.values() if c.stats)


def _pages(stats):
    return sum(s.get("pages", 0) for s in stats.values())


def merge_stats(a, b):
    """One site's counts from two crawl processes, added up (how it ended: the worse)."""
    if a is None:
        return dict(b)
    out = {k: a.get(k, 0) + b.get(k, 0) for k in set(a) | set(b) if k != "finish_reason"}
    out["finish_reason"] = next((r for r in (a.get("finish_reason"), b.get("finish_reason"))
                                 if r not in ("finished", None)), a.get("finish_reason") or b.get("finish_reason"))
    return out
