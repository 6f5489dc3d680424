"""A run crawled by several processes (on one machine or many) that share one Redis.

With OGI_REDIS_URL set, ``ogi-archive crawl`` is the run's *coordinator*: it holds the
archive's lock, starts the one archiver (which reads every process's documents from Redis
and alone writes the archive), and publishes the run in Redis: its id, its sites, its
settings.  ``ogi-archive crawl --join`` on any machine that reaches that Redis waits for a
run, crawls it, and exits; it needs no archive.  Each site's requests go through one
scrapy-redis scheduler queue and duplicate filter shared by all processes, so a URL is
fetched once in the run, by whichever process takes it.

A site's crawl ends in a process when the shared queue is empty and no other process has
been busy on the site for a few seconds.  The coordinator waits for every process that
joined (each says it is alive every few seconds; one that stops saying so has died) before
the archiver closes the run.  A joiner that died may have taken requests it never made:
the run then fails its sites (nothing is marked removed) and the next run fetches what is
missing.

Redis keys (one Redis database serves one archive):

    ogi:run                          the current run's token
    ogi:run:<token>:info             run id, sites, settings, state (crawling, closing)
    ogi:run:<token>:crawlers         joined processes → crawling | done
    ogi:run:<token>:alive:<name>     a joined process is alive (expires)
    ogi:run:<token>:stats            joined processes → their per-site counts (JSON)
    ogi:run:<token>:<site>:requests  the site's shared queue; :seen its duplicate filter
    ogi:run:<token>:<site>:busy:<name>  a process is busy on the site (expires)
    ogi:documents, ogi:documents:taken, ogi:replies:<name>  (crawler/transport.py)
"""
import json
import logging
import os
import threading
import time
import uuid

from .transport import PREFIX, connect

log = logging.getLogger(__name__)

ALIVE_SECONDS = 15  # a joined process that has not said it is alive for this long has died
BUSY_SECONDS = 3  # a process busy on a site says so this long ahead, every beat
BEAT_SECONDS = 0.25  # how often a site's crawl looks at the shared queue, and says it is busy
JOINERS_WAIT = 120  # seconds the coordinator waits for OGI_JOINERS crawlers to join before it crawls


def run_keys(token, prefix=PREFIX):
    base = f"{prefix}:run:{token}"
    return {"info": f"{base}:info", "crawlers": f"{base}:crawlers", "stats": f"{base}:stats", "base": base}


def distributed_settings(settings, token, site_id, sender):
    """A site crawler's settings in a distributed run: the shared scheduler and filter."""
    base = run_keys(token)["base"]
    site = site_id.replace("%", "_")  # scrapy-redis formats its keys with %
    for name, value in {
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": True,  # a process that ends leaves the queue to the others
        "REDIS_URL": settings.get("OGI_REDIS_URL"),
        "SCHEDULER_QUEUE_KEY": f"{base}:{site}:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{base}:{site}:seen",
        "OGI_SENDER": sender,
        "OGI_BUSY_KEY": f"{base}:{site}:busy:",
        # a process takes from the shared queue only what it can fetch now (Scrapy would take
        # 16 at once, and fetch them two at a time, while another process has nothing to do)
        "CONCURRENT_REQUESTS": settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
    }.items():
        settings.set(name, value, priority="spider")
    settings.set("EXTENSIONS", {**settings.getdict("EXTENSIONS"), "crawler.distributed.SharedSite": 500},
                 priority="spider")


class SharedSite:
    """Keeps a site's crawl open in this process while another process is busy on it (its
    answers may add requests to the shared queue), says when this one is, and looks at the
    shared queue four times a second rather than every five seconds."""

    def __init__(self, crawler):
        from scrapy import signals

        self.crawler = crawler
        self.redis = connect(crawler.settings.get("OGI_REDIS_URL"))
        self.key = crawler.settings.get("OGI_BUSY_KEY")
        self.me = crawler.settings.get("OGI_SENDER")
        self.loop = None
        crawler.signals.connect(self.opened, signals.spider_opened)
        crawler.signals.connect(self.closed, signals.spider_closed)
        crawler.signals.connect(self.idle, signals.spider_idle)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def opened(self, spider):
        from twisted.internet import task

        self.loop = task.LoopingCall(self.beat)
        self.loop.start(BEAT_SECONDS, now=True)

    def closed(self, spider):
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.redis.delete(self.key + self.me)

    def beat(self):
        engine = self.crawler.engine
        if engine is None or engine.spider is None:
            return
        if not engine.spider_is_idle():
            self.redis.set(self.key + self.me, 1, ex=BUSY_SECONDS)
        slot = getattr(engine, "_slot", None)  # what another process queued is taken now, not at the next heartbeat
        if slot is not None:
            slot.nextcall.schedule()

    def others_busy(self):
        return any(not k.decode().endswith(":" + self.me) for k in self.redis.scan_iter(self.key + "*"))

    def idle(self, spider):
        from scrapy.exceptions import DontCloseSpider

        if self.others_busy():
            raise DontCloseSpider


class _Alive:
    """Sets a key with an expiry every few seconds until stopped."""

    def __init__(self, redis, key, seconds=ALIVE_SECONDS):
        self.redis, self.key, self.seconds = redis, key, seconds
        self.stopped = threading.Event()
        redis.set(key, os.getpid(), ex=seconds)
        threading.Thread(target=self._run, daemon=True, name="alive").start()

    def _run(self):
        while not self.stopped.wait(self.seconds / 5):
            try:
                self.redis.set(self.key, os.getpid(), ex=self.seconds)
            except Exception:
                pass

    def stop(self):
        self.stopped.set()
        self.redis.delete(self.key)


def needs_scrapy_redis():
    from .transport import RedisUnusable

    try:
        import scrapy_redis  # noqa: F401
    except ImportError:
        raise RedisUnusable("OGI_REDIS_URL is set but scrapy-redis is not installed "
                            "(pip install 'ogi-archive[distributed]')") from None


class Coordinator:
    """The coordinating process's side of a distributed run (used by :func:`crawler.runner.run_crawl`)."""

    def __init__(self, settings, sites, overrides):
        from .archiver import sender_name

        self.url = settings.get("OGI_REDIS_URL")
        self.redis = connect(self.url)
        needs_scrapy_redis()
        self.sites, self.overrides = sites, overrides
        self.token = uuid.uuid4().hex[:12]
        self.keys = run_keys(self.token)
        self.sender = sender_name()
        settings.set("OGI_SENDER", self.sender, priority="cmdline")
        self.proc = None
        # what killed runs left (we hold the archive's lock: no other run of this archive is on)
        for key in self.redis.scan_iter(f"{PREFIX}:run:*"):
            self.redis.delete(key)
        self.redis.delete(f"{PREFIX}:run")

    def start_archiver(self, db_path, options):
        """The run's one archiver, reading the Redis queue; returns this process's client."""
        from .archiver import ArchiverClient
        from .transport import RedisSender

        self.proc = ArchiverClient.spawn(db_path, redis_url=self.url, **options)
        deadline = time.monotonic() + 60
        while not self.redis.exists(f"{PREFIX}:archiver:alive"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                from .transport import ArchiverDied

                raise ArchiverDied(f"the archiver did not start (exit {self.proc.poll()})")
            time.sleep(0.05)
        return ArchiverClient(RedisSender(self.url, self.sender))

    def publish(self, run_id, settings):
        """Tell joining processes the run: its id, sites and the settings they crawl with."""
        mine = {k: v for k, v in self.overrides.items() if k not in ("LOG_FILE", "OGI_ARCHIVE_DB")}
        self.redis.hset(self.keys["info"], mapping={
            "run_id": run_id, "state": "crawling", "settings": json.dumps(mine, ensure_ascii=False),
            "sites": json.dumps([s.as_dict() for s in self.sites], ensure_ascii=False)})
        self.redis.set(f"{PREFIX}:run", self.token)
        wanted, deadline = settings.getint("OGI_JOINERS"), time.monotonic() + JOINERS_WAIT
        while self.redis.hlen(self.keys["crawlers"]) < wanted:
            if time.monotonic() > deadline:
                log.warning("%d of the %d crawlers waited for (OGI_JOINERS) joined in %d s: crawling without the "
                            "others", self.redis.hlen(self.keys["crawlers"]), wanted, JOINERS_WAIT)
                break
            time.sleep(0.2)

    def configure(self, crawler, site):
        distributed_settings(crawler.settings, self.token, site.id, self.sender)

    def wait_for_joiners(self):
        """Close the run to newcomers and wait for every joined process to finish:
        ({name: its per-site counts}, [names of those that died])."""
        self.redis.hset(self.keys["info"], "state", "closing")
        dead = []
        while True:
            crawling = [k.decode() for k, v in self.redis.hgetall(self.keys["crawlers"]).items() if v == b"crawling"]
            alive = [n for n in crawling if self.redis.exists(f"{self.keys['base']}:alive:{n}")]
            for name in set(crawling) - set(alive):
                log.error("crawler %s joined the run and stopped saying it is alive", name)
                self.redis.hset(self.keys["crawlers"], name, "dead")
                dead.append(name)
            if not alive:
                break
            time.sleep(0.5)
        stats = {k.decode(): json.loads(v) for k, v in self.redis.hgetall(self.keys["stats"]).items()}
        return stats, dead

    def close(self):
        """The archiver ends (after all before it); the run's keys go.  Raises
        :class:`~crawler.transport.ArchiverDied` when the archiver exited badly."""
        from .transport import ArchiverDied, stop

        if self.proc is not None and self.proc.poll() is None:
            stop(self.url)
        code = self.proc.wait() if self.proc is not None else 0
        for key in self.redis.scan_iter(f"{self.keys['base']}:*"):
            self.redis.delete(key)
        self.redis.delete(f"{PREFIX}:run")
        if code:
            raise ArchiverDied(f"the archiver exited with {code}")


def join(url, wait_seconds=600, log_dir=None):
    """Join the run that the coordinator at ``url`` publishes (waiting up to ``wait_seconds``
    for one), crawl it with the others until it is done, and return
    {"run_id", "sites", "documents", "seconds", "sender"}; None when no run came."""
    import pathlib
    from datetime import datetime

    # imported now, not once a run has come: a joiner starts crawling as soon as it can
    from .archiver import sender_name
    from .registry import Site
    from .runner import crawl_sites, project_settings, site_stats

    redis = connect(url)
    needs_scrapy_redis()
    sender = sender_name()
    deadline = time.monotonic() + wait_seconds
    while True:
        token = redis.get(f"{PREFIX}:run")
        if token is not None:
            token = token.decode()
            keys = run_keys(token)
            redis.hset(keys["crawlers"], sender, "crawling")  # before reading the state: see wait_for_joiners
            alive = _Alive(redis, f"{keys['base']}:alive:{sender}")
            info = {k.decode(): v.decode() for k, v in redis.hgetall(keys["info"]).items()}
            if info.get("state") == "crawling":
                break
            alive.stop()
            redis.hdel(keys["crawlers"], sender)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.5)
    started = time.monotonic()
    run_id = int(info["run_id"])
    sites = [Site(**d) for d in json.loads(info["sites"])]
    log_dir = pathlib.Path(log_dir or "logs")
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"crawl-{datetime.now():%Y%m%d-%H%M%S}-run{run_id}-joined-{os.getpid()}.log"
    settings = project_settings({**json.loads(info["settings"]), "OGI_REDIS_URL": url, "OGI_SENDER": sender,
                                 "OGI_RUN_ID": run_id, "LOG_FILE": str(log_file)})
    held = []

    def configure(crawler, site):
        if site is None:  # one client for the whole run, shared by every site's crawl
            from .archiver import ArchiverClient

            held.append(ArchiverClient.for_settings(settings))
        else:
            distributed_settings(crawler.settings, token, site.id, sender)

    try:
        crawlers, _ = crawl_sites(sites, settings, configure)
        for client in held:
            client.release()
        stats = {site_id: site_stats(c) for site_id, c in crawlers.items()}
        redis.hset(keys["stats"], sender, json.dumps(stats))
        redis.hset(keys["crawlers"], sender, "done")
    finally:
        alive.stop()
    return {"run_id": run_id, "sites": len(stats), "documents": sum(s["pages"] for s in stats.values()),
            "seconds": time.monotonic() - started, "sender": sender, "log_file": str(log_file)}
