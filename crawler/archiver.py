"""The archiver: a process beside the crawl that parses and archives what the crawl hands it.

The crawl's process does nothing but crawl: its event loop is busy with every request
and response, and what it does besides slows every site.  So each captured document
goes, as one write to a pipe, to this process, which

- parses reports in its own pool of worker processes (run at a lower priority: the
  crawl comes first, parsing takes the CPU the crawl leaves);
- writes captures, reports and their tables into the archive from one writer thread,
  in batches of one transaction each (the single writer of the archive);
- tells the crawl, as it goes, what it wrote for each site (new, changed, unchanged…),
  and when a site's last document is archived.

The archiver owns the archive: it also starts the run, answers what each site's archive
holds, and closes the run (see :func:`answer`).  Messages go through a transport
(:mod:`crawler.transport`): frames on its stdin and stdout, or a Redis queue that several
crawl processes share.  The crawl's side is :class:`ArchiverClient`, run by the crawl's
own event loop (no thread in the crawl has to win Python's lock to hand a document over).

    python -m crawler.archiver --db archive.db [--run-id N] [--workers 2] [--log-file F] [--redis-url URL]
"""
import argparse
import asyncio
import collections
import logging
import os
import queue
import sys
import threading
import time

log = logging.getLogger(__name__)

# documents read from the crawl and not yet archived, before the archiver stops reading (and
# the crawl waits): many more than a batch, so that the workers never wait for the writer
MAX_IN_FLIGHT = 512
MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024
BATCH_SIZE = 50  # documents a transaction; and at most FLUSH_SECONDS between two
FLUSH_SECONDS = 2.0
WORKER_NICENESS = 10  # parse workers yield the CPU to the crawl


from .transport import ArchiverDied


# ---- the crawl's side ------------------------------------------------------------------


class ArchiverClient:
    """The crawl's handle on the archiver: one per crawl process, shared by every site's
    crawl in it (see :meth:`shared`).  Each site's pipeline opens a channel; what the
    archiver reports for a channel goes to that site's stats.  The archiver also answers
    questions (:meth:`ask`, :meth:`call`): what a site's archive holds, the run's start
    and end — the crawl itself never opens the archive.

    Documents go through a transport (:mod:`crawler.transport`): the pipe of an archiver
    this process started, or, with OGI_REDIS_URL, the Redis queue of a run's one archiver.
    Sending returns at once while the archiver keeps up, and holds the crawl when it falls
    far behind.  Its reports are read by the event loop when they arrive."""

    _shared = {}  # (event loop, archive path or Redis URL) → [client, users]

    def __init__(self, link):
        self.link = link
        self.key = None
        self.loop = None
        self.channels = {}  # id → {"stats": a Scrapy stats collector, "done": future}
        self.questions = {}  # id → future of the answer
        self.failure = None
        self.archive_error = None  # the first reason the archiver gave for a batch it could not write

    @classmethod
    def spawn(cls, db_path, run_id=None, workers=2, log_file=None, log_level="INFO", parse_seconds=60.0,
              parse_memory_mb=3072, limits=None, redis_url=None):
        """Start an archiver process for the archive at ``db_path``, reading documents from
        its stdin, or from the Redis queue at ``redis_url``; returns its client (pipe only)."""
        import json
        import subprocess

        from .transport import PipeSender

        # -P: only the installed package is imported, never a pipelines/ or crawler/ that
        # happens to sit in the folder the crawl was started from
        argv = [sys.executable, "-P", "-m", "crawler.archiver", "--db", str(db_path),
                "--run-id", str(run_id or 0), "--workers", str(workers), "--log-level", str(log_level),
                "--parse-seconds", str(parse_seconds), "--parse-memory-mb", str(parse_memory_mb),
                "--limits", json.dumps(limits or {})]
        if log_file:
            argv += ["--log-file", str(log_file)]
        if redis_url:
            argv += ["--redis-url", redis_url]
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        return cls(PipeSender(proc)) if not redis_url else proc

    @staticmethod
    def spawn_options(settings):
        return dict(workers=settings.getint("OGI_PARSE_WORKERS", os.cpu_count() or 1),
                    log_level=settings.get("LOG_LEVEL"), parse_seconds=settings.getfloat("OGI_PARSE_SECONDS", 60.0),
                    parse_memory_mb=settings.getint("OGI_PARSE_MEMORY_MB", 3072),
                    limits=settings.getdict("OGI_LIMITS"))

    @staticmethod
    def _key(settings):
        url = settings.get("OGI_REDIS_URL")
        return ("redis", url) if url else os.path.abspath(settings.get("OGI_ARCHIVE_DB"))

    @classmethod
    def for_settings(cls, settings):
        """The process's client for the archiver a crawl's Scrapy settings name (started
        on first use); give it back with :meth:`release`."""
        def make():
            url = settings.get("OGI_REDIS_URL")
            if url:
                from .transport import RedisSender

                return cls(RedisSender(url, settings.get("OGI_SENDER") or sender_name()))
            return cls.spawn(settings.get("OGI_ARCHIVE_DB"), run_id=settings.getint("OGI_RUN_ID") or None,
                             log_file=settings.get("LOG_FILE"), **cls.spawn_options(settings))

        return cls.shared(cls._key(settings), make)

    @classmethod
    def shared(cls, key, make):
        loop = asyncio.get_running_loop()
        entry = cls._shared.get((loop, key))
        if entry is None:
            client = make()
            client.attach(loop, key)
            entry = cls._shared[(loop, key)] = [client, 0]
        entry[1] += 1
        return entry[0]

    def adopt(self, settings):
        """Share this client (made before the event loop ran) with the crawls of ``settings``."""
        self.shared(self._key(settings), lambda: self)

    def attach(self, loop, key=None):
        self.loop, self.key = loop, (loop, key)
        self.link.listen(loop, self._received, self._died)
        return self

    def open_channel(self, stats, site=None):
        """A channel for one site's documents; ``site`` (the registry entry) is recorded."""
        ch = len(self.channels) + 1
        self.channels[ch] = {"stats": stats, "done": self.loop.create_future()}
        try:
            self._send(("open", ch, site))
        except ArchiverDied:  # the site learns of it as it hands documents over, and at its close
            _settle(self.channels[ch]["done"])
        return ch

    def archive(self, ch, item):
        """Hand a captured document over."""
        self._send(("item", ch, item))

    async def close_channel(self, ch):
        """Wait until everything sent on ``ch`` is archived (its counts are in the stats by then);
        raises :class:`ArchiverDied` if the archiver ended first."""
        if self.failure is None:
            try:
                self._send(("end", ch))
            except ArchiverDied:
                pass
        await self.channels[ch]["done"]
        if self.failure is not None:
            raise ArchiverDied(str(self.failure))

    async def ask(self, question):
        """The archiver's answer to ``question`` (see :func:`answer`), in the event loop."""
        qid = len(self.questions) + 1
        self.questions[qid] = self.loop.create_future()
        self._send(("ask", qid, question))
        answer = await self.questions[qid]
        if self.failure is not None:
            raise ArchiverDied(str(self.failure))
        return answer

    def call(self, question, timeout=None):
        """The archiver's answer to ``question``, waited for here (before or after the event loop)."""
        qid = -(len(self.questions) + 1)
        self.questions[qid] = None
        self._send(("ask", qid, question))
        while True:
            message = self.link.reply(timeout)
            if message[0] in ("answer", "refused") and message[1] == qid:
                if message[0] == "refused":
                    from archive.db import ArchiveError

                    raise ArchiveError(message[2])
                return message[2]
            self._received(message)

    @property
    def proc(self):
        """The archiver process this client started (over a pipe), or None."""
        return getattr(self.link, "proc", None)

    def release(self, keep=False):
        """The last user closes the archiver's link (an archiver it started archives
        everything and exits), unless told to keep it, to ask more (then :meth:`close`)."""
        entry = self._shared.get(self.key)
        if entry is not None:
            entry[1] -= 1
            if entry[1] > 0:
                return
            del self._shared[self.key]
        self.link.unlisten()
        if not keep:
            self.close()

    def close(self):
        """Close the link; raises :class:`ArchiverDied` when an archiver this process
        started exited badly."""
        code = self.link.close()
        if code:
            raise ArchiverDied(f"the archiver exited with {code}")

    def _send(self, message):
        if self.failure is None:
            try:
                self.link.put(message)
                return
            except ArchiverDied as e:
                self._died(str(e))
        raise ArchiverDied(str(self.failure))  # a new one each time: a raised exception grows its traceback

    def _received(self, message):
        kind, *rest = message
        if kind == "counts":
            for ch, counts in rest[0].items():
                stats = self.channels[ch]["stats"]
                for key, n in counts.items():
                    stats.inc_value(f"ogi/{key}", n)
        elif kind == "done":
            _settle(self.channels[rest[0]]["done"])
        elif kind in ("answer", "refused"):
            future = self.questions.get(rest[0])
            if future is not None and not future.done():
                if kind == "refused":
                    from archive.db import ArchiveError

                    future.set_exception(ArchiveError(rest[1]))
                else:
                    future.set_result(rest[1])
        elif kind == "archive_error" and self.archive_error is None:
            self.archive_error = rest[0]

    def _died(self, why=None):
        self.failure = ArchiverDied(why or self.link.gone())
        for waiting in [c["done"] for c in self.channels.values()] + list(self.questions.values()):
            if waiting is not None:  # each learns of it where it waits
                _settle(waiting)


def _settle(future):
    """Wake what waits on ``future`` (once: the archiver's end may have woken it already)."""
    if not future.done():
        future.set_result(None)


def sender_name():
    """This crawl process's name in the archiver's answers: host, pid and a random part."""
    import socket
    import uuid

    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


# ---- the archiver's side -----------------------------------------------------------------


def parse_report(*args, **kw):
    """:func:`pipelines.report.parse_for_archive`, imported where it runs (a parse worker):
    the crawl never loads the parser."""
    from pipelines.report import parse_for_archive

    return parse_for_archive(*args, **kw)


def write_batch(db, batch, run_id):
    """Write a batch of ``(channel, item)`` in one transaction (in the archiver's writer);
    returns what was written, counted per channel."""
    from archive.store import (mark_seen, note_document, record_failure, report_id, resolve_failures, save_capture,
                               save_report, warc_store)

    counts = collections.defaultdict(collections.Counter)
    with db.atomic():
        # most batches of most runs have no failure to resolve: then no statement is spent on it
        failing = db.execute("select exists (select 1 from fetch_failures where resolved_at is null)").fetchone()[0]
        for ch, item in batch:
            role = item["role"]
            if role == "failure":
                record_failure(db, item, run_id=run_id)
                failing = True
                continue
            if role == "seen":
                counts[ch]["reports_unchanged"] += mark_seen(
                    db, [report_id(item["site_id"], u) for u in item["urls"]], run_id=run_id)
                if failing:
                    resolve_failures(db, item["site_id"], item["urls"], run_id=run_id)
                continue
            fetched = {item["url"], item.get("asked_url") or item["url"]}
            for image in item.get("images") or ():  # a report's page images: captures of their own
                if image is not None:
                    save_capture(db, {**image, "run_id": run_id})
                    fetched.add(image["url"])
                    counts[ch]["captures"] += 1
            cap_id, sha = save_capture(db, {**item, "run_id": run_id})
            note_document(db, item, cap_id)
            if failing:
                resolve_failures(db, item["site_id"], fetched, run_id=run_id)
            counts[ch]["captures"] += 1
            if role == "report":
                # a report published as an attachment is known by the page that announces it
                parsed = item.get("parsed") or {}
                result = save_report(db, item["site_id"], item.get("page_url") or item["url"], cap_id, sha,
                                     parsed, list_title=item.get("list_title"), run_id=run_id,
                                     parse_anew=bool(item.get("parse_anew")))
                counts[ch][f"reports_{result}"] += 1
                status = parsed.get("parse_status")
                if status in ("needs_ocr", "too_large"):
                    counts[ch][status] += 1
                if status in ("error", "too_large"):
                    why = parsed.get("parse_error") or next(iter(parsed.get("warnings") or []), "unreadable")
                    log.warning("not parsed (%s): %s: %s", status, item["url"], why.splitlines()[0])
        warc_store(db).sync()  # the records on disk before the rows that name them commit
    return counts


class _Room:
    """How many documents, and how many bytes of them, may be in the archiver at once."""

    def __init__(self, items=MAX_IN_FLIGHT, size=MAX_IN_FLIGHT_BYTES):
        self.items, self.size, self.capacity = items, size, size
        self.cond = threading.Condition()

    def take(self, size):
        with self.cond:  # a document larger than the whole room goes in alone
            self.cond.wait_for(lambda: self.items > 0 and (self.size >= size or self.size == self.capacity))
            self.items -= 1
            self.size -= size

    def give_back(self, size):
        with self.cond:
            self.items += 1
            self.size += size
            self.cond.notify_all()


def _size(item):
    return len(item.get("body") or b"") + sum(len(i["body"]) for i in item.get("images") or () if i)


def _worker_start(limits, log_file):
    """A new parse worker: its output to the run's log (a reader that aborts prints there,
    not in cron's mail), the document limits set (the parser was warmed up in the fork server it
    is forked from: crawler.warm)."""
    from pipelines import limits as document_limits

    if log_file:
        fd = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    document_limits.configure(**(limits or {}))


def _parse_args(item):
    args = (item["body"], item.get("content_type"), item.get("page_url") or item["url"])
    kw = {"list_date": item.get("list_date"), "last_modified": item.get("last_modified"),
          "list_title": item.get("list_title"), "site_region": item.get("site_region")}
    if item.get("images") is not None:  # a report of page images: theirs, in order (None: not fetched)
        kw["images"] = [i["body"] if i else None for i in item["images"]]
    return args, kw


def outcome_parse(outcome):
    """The parsed report for a pool's :class:`~crawler.pool.Outcome`: the parse itself, or,
    for a parse that did not end well, the capture's status and the reason."""
    from pipelines.report import unparsed

    if outcome.status == "ok":
        return outcome.value
    if outcome.status in ("timeout", "memory"):
        return unparsed("too_large", outcome.reason)
    return unparsed("error", outcome.reason, outcome.detail)


def precheck(item):
    """The reason a report is over its limits, told from its size and its zip directory
    alone (no worker need receive it), or None."""
    from pipelines.document import sniff_kind
    from pipelines import limits

    body = item["body"]
    try:
        kind = sniff_kind(body[:4096] if len(body) > 4096 else body, item.get("content_type"), item["url"])
        if kind in ("html", "text"):
            limits.check_markup(body)
        elif kind in ("docx", "xlsx"):
            limits.check_zip(body)
    except limits.TooLarge as e:
        return str(e)
    return None


def serve(db_path, run_id, workers, receiver, budget=None, limits=None, log_file=None, log_level="INFO"):
    """Read documents from ``receiver`` (:mod:`crawler.transport`) until its end; parse and
    archive them; answer each crawl process on its own channels."""
    from pipelines import limits as document_limits
    from pipelines.report import unparsed

    from .pool import Budget, ParsePool

    budget = budget or Budget()
    document_limits.configure(**(limits or {}))
    todo = queue.Queue()
    room = _Room()
    state = {"run_id": run_id, "log_file": log_file, "log_level": log_level,
             "started": f"archiver started: {db_path}, {max(1, workers)} parse workers ({budget.seconds:g} s and "
                        f"{budget.memory_mb} MB a document)"}
    writer = threading.Thread(target=_write_loop, args=(db_path, state, todo, receiver, room), name="archive-writer")
    writer.start()
    workers = max(1, workers)
    pool = None  # started with the first report: a run that finds nothing new starts no parser

    def parsed(src, item, tag, outcome):  # in a pool thread: the report goes to the writer
        item["parsed"] = outcome_parse(outcome)
        if outcome.status != "ok":
            log.warning("parse of %s: %s: %s", item["url"], outcome.status, outcome.reason)
        todo.put(("parsed", src, item, tag))

    try:
        while True:
            got = receiver.get()
            if got is None:
                break
            tag, sender, message = got
            kind = message[0]
            if kind == "ask":  # the channel of an answer is the question's number
                todo.put(("ask", (sender, message[1]), message[2], tag))
                continue
            src = (sender, message[1])
            if kind != "item":
                todo.put((kind, src, message[2] if len(message) > 2 else None, tag))
                continue
            item = message[2]
            room.take(_size(item))
            if item["role"] != "report":
                todo.put(("item", src, item, tag))
                continue
            todo.put(("pending", src, None, None))
            too_large = precheck(item)
            if too_large:
                item["parsed"] = unparsed("too_large", too_large)
                todo.put(("parsed", src, item, tag))
                continue
            if pool is None:
                pool = ParsePool(workers, budget, preload=["crawler.warm"], initializer=_worker_start,
                                 init_args=(limits, state["log_file"]))
            args, kw = _parse_args(item)
            pool.submit(parse_report, args, kw,
                        lambda outcome, src=src, item=item, tag=tag: parsed(src, item, tag, outcome))
    finally:
        if pool is not None:
            pool.close()
        todo.put(None)
        writer.join()


def _write_loop(db_path, state, todo, receiver, room):
    """The archive's one writer: batches of documents, one transaction each; after each,
    the counts per channel go back to the crawl, and 'done' for every channel whose
    documents are all archived."""
    try:
        _write(db_path, state, todo, receiver, room)
    except BaseException:
        # an archive that cannot be opened or written: end the archiver now, so that the
        # crawl sees it (its sites fail, the run exits non-zero) instead of waiting forever
        log.critical("the archiver cannot go on", exc_info=True)
        logging.shutdown()
        os._exit(70)


def _log_to(path, level):
    """This process's log (and its parse workers', from their start) in the file ``path``."""
    level = int(level) if str(level).isdigit() else str(level).upper()  # Scrapy takes both forms
    logging.basicConfig(filename=path, level=level, force=True,
                        format="%(asctime)s [%(name)s] %(levelname)s: %(message)s", datefmt="%Y-%m-%d %H:%M:%S")


def answer(db, state, question):
    """The archiver's answer to a crawl's question (asked with :meth:`ArchiverClient.ask`):

    - ``("start_run", site ids, log file pattern)``: a new run → (run id, its log file);
    - ``("known", site id, refetch)``: what the archive holds of a site → (known documents,
      open failures);
    - ``("finish", {site: stats}, {site: reason failed})``: the run's end (reports no longer
      listed marked removed, the run's row closed) → (per-site stats, totals)."""
    from archive.store import known_documents, open_failures, start_run

    kind = question[0]
    if kind == "start_run":
        _, site_ids, pattern = question
        with db.atomic():
            state["run_id"] = start_run(db, site_ids)
        if pattern:
            state["log_file"] = pattern.format(run_id=state["run_id"])
            _log_to(state["log_file"], state["log_level"])
        return state["run_id"], state["log_file"]
    if kind == "known":
        _, site_id, refetch = question
        return ({} if refetch else known_documents(db, site_id)), open_failures(db, site_id)
    if kind == "finish":
        with db.atomic():
            return finish(db, state["run_id"], question[1], question[2])
    raise ValueError(f"no such question: {kind!r}")


def finish(db, run_id, per_site, failed):
    """A run's end: each cleanly crawled site's reports that the run did not see are marked
    removed (not after a crawl stopped at its page budget, nor one that took up a stopped
    crawl (JOBDIR): it may not have seen them all), and the run's row gets its counts and
    status.  Returns (per-site stats, totals)."""
    from archive.store import finish_run, mark_removed

    for site_id, s in per_site.items():
        partial = site_id in failed or s["budget_spent"] or s.get("resumed")
        s["reports_removed"] = 0 if partial else mark_removed(db, site_id, run_id)
    counted = {k for s in per_site.values() for k, v in s.items() if isinstance(v, int)}
    totals = {k: sum(s.get(k, 0) for s in per_site.values()) for k in sorted(counted)}
    finish_run(db, run_id, "failed" if failed else "ok", totals, per_site,
               error_text="; ".join(f"{k}: {v}" for k, v in failed.items()) or None)
    return per_site, totals


def _write(db_path, state, todo, receiver, room):
    from archive.db import open_archive
    from archive.store import upsert_site

    db = open_archive(db_path)
    from archive.warc import repair, warc_dir

    repair(warc_dir(db_path))  # the WARC file a killed archiver left open is closed, its torn record cut off
    # pending: a channel's reports still being parsed; ended: channels the crawl has closed.
    # An ended channel with nothing pending has all its documents in the batch, or written.
    # A channel is (sender, number): each crawl process numbers its own.
    batch, tags, pending, ended = [], [], collections.Counter(), set()
    flushed = time.monotonic()

    def flush():
        nonlocal batch, tags, flushed
        counts = collections.defaultdict(collections.Counter)
        if batch:
            try:
                counts = write_batch(db, batch, state["run_id"])
            except Exception as e:  # rolled back: nothing archived before is touched, and what this
                # batch held is not in the archive, so the next run fetches it again
                log.exception("the archive could not write a batch of %d documents", len(batch))
                from archive.db import error_text

                for sender in {sender for (sender, _), _ in batch}:
                    receiver.answer(sender, ("archive_error", error_text(db_path, e)))
                for src in {src for src, _ in batch}:
                    counts[src]["write_errors"] += 1
            for _, item in batch:
                room.give_back(_size(item))
            for tag in tags:
                receiver.ack(tag)
            batch, tags = [], []
        flushed = time.monotonic()
        by_sender = collections.defaultdict(dict)
        for (sender, ch), c in counts.items():
            by_sender[sender][ch] = dict(c)
        for sender, chs in by_sender.items():
            receiver.answer(sender, ("counts", chs))
        for src in [src for src in ended if pending[src] <= 0]:
            ended.discard(src)
            del pending[src]
            receiver.answer(src[0], ("done", src[1]))

    announced = False
    try:
        while True:
            try:
                message = todo.get(timeout=0.2)
            except queue.Empty:
                message = ()
            if message is None:
                break
            kind, src, body, tag = message if message else ("idle", None, None, None)
            if kind == "pending":
                pending[src] += 1
            elif kind in ("item", "parsed"):
                batch.append((src, body))
                tags.append(tag)
                if kind == "parsed":
                    pending[src] -= 1
            elif kind == "open":
                if body is not None:
                    with db.atomic():
                        upsert_site(db, body)
            elif kind == "end":
                ended.add(src)
            elif kind == "ask":
                flush()
                try:
                    reply = ("answer", src[1], answer(db, state, body))
                except Exception as e:  # the archive cannot do it (read-only, full): the crawl says so
                    from archive.db import error_text

                    log.error("the archive could not answer %s: %s", body[0], e)
                    reply = ("refused", src[1], error_text(db_path, e))
                receiver.answer(src[0], reply)
            if tag is not None and kind not in ("item", "parsed"):
                receiver.ack(tag)
            if not announced and kind != "idle":
                log.info("%s", state["started"])
                announced = True
            if len(batch) >= BATCH_SIZE or (batch and time.monotonic() - flushed > FLUSH_SECONDS) \
                    or (kind == "idle" and batch) or any(pending[src] <= 0 for src in ended):
                flush()
        flush()
    finally:
        from archive.store import warc_store

        if getattr(db, "_ogi_warcs", None) is not None:
            warc_store(db).close()
        db.close()


def main(argv=None):
    from crawler import without_numpy

    without_numpy()
    ap = argparse.ArgumentParser(prog="python -m crawler.archiver")
    ap.add_argument("--db", required=True)
    ap.add_argument("--run-id", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--log-file")
    ap.add_argument("--log-level", default="INFO")
    ap.add_argument("--parse-seconds", type=float, default=60.0)
    ap.add_argument("--parse-memory-mb", type=int, default=3072)
    ap.add_argument("--limits", default="{}", help="document limits, JSON (pipelines/limits.py)")
    ap.add_argument("--redis-url", help="read documents from this Redis (a distributed run), not stdin")
    a = ap.parse_args(argv)
    # Ctrl-C on a terminal reaches the whole process group: the crawl stops gracefully and
    # closes our input, and we archive what it sent before that, rather than die with it
    import json
    import signal

    from .pool import Budget
    from .transport import PipeReceiver, RedisReceiver

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.raiseExceptions = False  # a log that cannot be written (a full disk) prints no traceback
    _log_to(a.log_file, a.log_level)
    # the frames go out on a private copy of stdout; whatever a library prints goes to stderr,
    # which is the run's log when it has one: what the archiver's helper processes (the fork
    # server, a worker being started) print as they die with a killed archiver goes there,
    # not to cron's mail
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    if a.log_file:
        try:
            fd = os.open(a.log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.dup2(fd, sys.stderr.fileno())
            os.close(fd)
        except OSError:
            pass
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    budget = Budget(seconds=a.parse_seconds, memory_mb=a.parse_memory_mb, niceness=WORKER_NICENESS)
    if a.redis_url:
        parent = os.getppid()  # the crawl that started us: when it is gone, we archive what we have and end
        receiver = RedisReceiver(a.redis_url, still_wanted=lambda: os.getppid() == parent)
        if receiver.requeued:
            log.warning("%d documents taken by an archiver that ended before archiving them are read again",
                        receiver.requeued)
    else:
        receiver = PipeReceiver(sys.stdin.buffer, out, log)
    try:
        serve(a.db, a.run_id or None, a.workers, receiver, budget=budget, limits=json.loads(a.limits),
              log_file=a.log_file, log_level=a.log_level)
    finally:
        if a.redis_url:
            receiver.close()


if __name__ == "__main__":
    main()
