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

Messages either way are frames: a 4-byte length, then a pickle.  The crawl's side is
:class:`ArchiverClient`, run by the crawl's own event loop (no thread in the crawl has
to win Python's lock to hand a document over).

    python -m crawler.archiver --db archive.db [--run-id N] [--workers 2] [--log-file F]
"""
import argparse
import asyncio
import collections
import logging
import os
import pickle
import queue
import struct
import sys
import threading
import time

log = logging.getLogger(__name__)

HEADER = struct.Struct("!I")
# documents read from the crawl and not yet archived, before the archiver stops reading (and
# the crawl waits): many more than a batch, so that the workers never wait for the writer
MAX_IN_FLIGHT = 512
MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024
BATCH_SIZE = 50  # documents a transaction; and at most FLUSH_SECONDS between two
FLUSH_SECONDS = 2.0
WORKER_NICENESS = 10  # parse workers yield the CPU to the crawl


class ArchiverDied(RuntimeError):
    """The archiver process ended before it had archived what it was given."""


def frame(message):
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(payload)) + payload


# ---- the crawl's side ------------------------------------------------------------------


class ArchiverClient:
    """The crawl's handle on its archiver process: one per crawl process and archive,
    shared by every site's crawl in it (see :meth:`shared`).  Each site's pipeline opens
    a channel; what the archiver reports for a channel goes to that site's stats.

    Documents are written to the archiver's pipe (made 1 MB deep) as they come: the
    write returns at once while the archiver keeps up, and holds the crawl when it
    falls far behind.  Its reports are read by the event loop when they arrive."""

    _shared = {}  # (event loop, archive path) → [client, users]
    PIPE_SIZE = 1 << 20

    def __init__(self, db_path, run_id=None, workers=2, log_file=None, log_level="INFO", parse_seconds=60.0,
                 parse_memory_mb=3072, limits=None):
        import json

        self.key = None
        # -P: only the installed package is imported, never a pipelines/ or crawler/ that
        # happens to sit in the folder the crawl was started from
        self.argv = [sys.executable, "-P", "-m", "crawler.archiver", "--db", str(db_path),
                     "--run-id", str(run_id or 0), "--workers", str(workers), "--log-level", str(log_level),
                     "--parse-seconds", str(parse_seconds), "--parse-memory-mb", str(parse_memory_mb),
                     "--limits", json.dumps(limits or {})]
        if log_file:
            self.argv += ["--log-file", str(log_file)]
        self.proc = None
        self.channels = {}  # id → {"stats": a Scrapy stats collector, "done": future}
        self.failure = None
        self.archive_error = None  # the first reason the archiver gave for a batch it could not write
        self._buffer = bytearray()

    @classmethod
    def for_settings(cls, settings):
        """The process's client for the archive a crawl's Scrapy settings name."""
        return cls.shared(settings.get("OGI_ARCHIVE_DB"), run_id=settings.getint("OGI_RUN_ID") or None,
                          workers=settings.getint("OGI_PARSE_WORKERS", os.cpu_count() or 1),
                          log_file=settings.get("LOG_FILE"), log_level=settings.get("LOG_LEVEL"),
                          parse_seconds=settings.getfloat("OGI_PARSE_SECONDS", 60.0),
                          parse_memory_mb=settings.getint("OGI_PARSE_MEMORY_MB", 3072),
                          limits=settings.getdict("OGI_LIMITS"))

    @classmethod
    def shared(cls, db_path, **kw):
        """The process's client for the archive at ``db_path`` (started on first use);
        give it back with :meth:`release`."""
        loop = asyncio.get_running_loop()
        key = (loop, os.path.abspath(db_path))
        entry = cls._shared.get(key)
        if entry is None:
            client = cls(db_path, **kw)
            client.key = key
            client.start(loop)
            entry = cls._shared[key] = [client, 0]
        entry[1] += 1
        return entry[0]

    def start(self, loop):
        import fcntl
        import subprocess

        self.loop = loop
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            fcntl.fcntl(self.proc.stdin.fileno(), 1031, self.PIPE_SIZE)  # F_SETPIPE_SZ
        except OSError:
            pass  # the system's default depth (64 KB) will do, with more waiting
        os.set_blocking(self.proc.stdout.fileno(), False)
        loop.add_reader(self.proc.stdout.fileno(), self._readable)
        return self

    def open_channel(self, stats, site=None):
        """A channel for one site's documents; ``site`` (the registry entry) is recorded."""
        ch = len(self.channels) + 1
        self.channels[ch] = {"stats": stats, "done": self.loop.create_future()}
        self._send(("open", ch, site))
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

    def release(self):
        """The last user closes the archiver, which has archived everything by then and exits."""
        entry = self._shared.get(self.key)
        if entry is not None:
            entry[1] -= 1
            if entry[1] > 0:
                return
            del self._shared[self.key]
        self.loop.remove_reader(self.proc.stdout.fileno())
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        code = self.proc.wait()
        self.proc.stdout.close()
        if code:
            raise ArchiverDied(f"the archiver exited with {code}")

    def _send(self, message):
        if self.failure is None:
            view = memoryview(frame(message))
            try:
                while view:
                    view = view[os.write(self.proc.stdin.fileno(), view):]
                return
            except BrokenPipeError:
                self._died()
        raise ArchiverDied(str(self.failure))  # a new one each time: a raised exception grows its traceback

    def _readable(self):
        try:
            data = os.read(self.proc.stdout.fileno(), 1 << 16)
        except BlockingIOError:
            return
        if not data:
            self.loop.remove_reader(self.proc.stdout.fileno())
            self._died()
            return
        self._buffer += data
        while len(self._buffer) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._buffer)
            if len(self._buffer) < HEADER.size + size:
                break
            kind, *rest = pickle.loads(self._buffer[HEADER.size:HEADER.size + size])
            del self._buffer[:HEADER.size + size]
            if kind == "counts":
                for ch, counts in rest[0].items():
                    stats = self.channels[ch]["stats"]
                    for key, n in counts.items():
                        stats.inc_value(f"ogi/{key}", n)
            elif kind == "done":
                done = self.channels[rest[0]]["done"]
                if not done.done():
                    done.set_result(None)
            elif kind == "archive_error" and self.archive_error is None:
                self.archive_error = rest[0]

    def _died(self):
        code = self.proc.poll()
        self.failure = ArchiverDied(f"the archiver (pid {self.proc.pid}) ended early"
                                    + (f", with {code}" if code is not None else ""))
        for channel in self.channels.values():  # each waiting site learns of it in close_channel
            if not channel["done"].done():
                channel["done"].set_result(None)


# ---- the archiver's side -----------------------------------------------------------------


def parse_report(*args, **kw):
    """:func:`pipelines.report.parse_for_archive`, imported where it runs (a parse worker):
    the crawl never loads the parser."""
    from pipelines.report import parse_for_archive

    return parse_for_archive(*args, **kw)


def warm_up():
    """Parse a small report once, so that a worker's first real report pays no set-up."""
    parse_report("<html><head><title>某市2020年政府信息公开工作年度报告</title></head><body>"
                 "<p>一、总体情况</p><p>發布時間：2021-01-25</p><table><tr><td>本年新收政府信息公开申请数量"
                 "</td><td>1</td></tr></table></body></html>".encode(), "text/html", "http://127.0.0.1/t.html")


def write_batch(db, batch, run_id):
    """Write a batch of ``(channel, item)`` in one transaction (in the archiver's writer);
    returns what was written, counted per channel."""
    from archive.store import (mark_seen, note_document, record_failure, report_id, resolve_failures, save_capture,
                               save_report)

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
            cap_id, sha = save_capture(db, {**item, "run_id": run_id})
            note_document(db, item, cap_id)
            if failing:
                resolve_failures(db, item["site_id"], {item["url"], item.get("asked_url") or item["url"]},
                                 run_id=run_id)
            counts[ch]["captures"] += 1
            if role == "report":
                # a report published as an attachment is known by the page that announces it
                parsed = item.get("parsed") or {}
                result = save_report(db, item["site_id"], item.get("page_url") or item["url"], cap_id, sha,
                                     parsed, list_title=item.get("list_title"), run_id=run_id)
                counts[ch][f"reports_{result}"] += 1
                status = parsed.get("parse_status")
                if status in ("needs_ocr", "too_large"):
                    counts[ch][status] += 1
                if status in ("error", "too_large"):
                    why = parsed.get("parse_error") or next(iter(parsed.get("warnings") or []), "unreadable")
                    log.warning("not parsed (%s): %s: %s", status, item["url"], why.splitlines()[0])
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
    return len(item.get("body") or b"")


def _read_frame(inp):
    """The next message, or None at the end of the input (a frame cut short by a crawl
    that was killed while writing it is the end too)."""
    head = inp.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (size,) = HEADER.unpack(head)
    payload = inp.read(size)
    if len(payload) < size:
        log.warning("the crawl's last message was cut short (%d of %d bytes): it ended while sending", len(payload),
                    size)
        return None
    return pickle.loads(payload)


def _worker_start(limits, log_file):
    """A new parse worker: its output to the run's log (a reader that aborts prints there,
    not in cron's mail), the document limits set, the parser warmed up."""
    from pipelines import limits as document_limits

    if log_file:
        fd = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    document_limits.configure(**(limits or {}))
    warm_up()


def _parse_args(item):
    args = (item["body"], item.get("content_type"), item.get("page_url") or item["url"])
    kw = {"list_date": item.get("list_date"), "last_modified": item.get("last_modified"),
          "list_title": item.get("list_title"), "site_region": item.get("site_region")}
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


def serve(db_path, run_id, workers, inp, out, budget=None, limits=None, log_file=None):
    """Read documents from ``inp`` until its end; parse and archive them; report on ``out``."""
    from pipelines import limits as document_limits
    from pipelines.report import unparsed

    from .pool import Budget, ParsePool

    budget = budget or Budget()
    document_limits.configure(**(limits or {}))
    todo = queue.Queue()
    room = _Room()
    send_lock = threading.Lock()

    def send(message):
        with send_lock:
            try:
                out.write(frame(message))
                out.flush()
            except OSError:  # the crawl is gone: what it sent is archived all the same
                pass

    writer = threading.Thread(target=_write_loop, args=(db_path, run_id, todo, send, room), name="archive-writer")
    writer.start()
    workers = max(1, workers)
    log.info("archiver started: %s, %d parse workers (%g s and %d MB a document)", db_path, workers,
             budget.seconds, budget.memory_mb)
    pool = None  # started with the first report: a run that finds nothing new starts no parser

    def parsed(ch, item, outcome):  # in a pool thread: the report goes to the writer
        item["parsed"] = outcome_parse(outcome)
        if outcome.status != "ok":
            log.warning("parse of %s: %s: %s", item["url"], outcome.status, outcome.reason)
        todo.put(("parsed", ch, item))

    try:
        while True:
            message = _read_frame(inp)
            if message is None:
                break
            if message[0] != "item":
                todo.put(message)
                continue
            _, ch, item = message
            room.take(_size(item))
            if item["role"] != "report":
                todo.put(("item", ch, item))
                continue
            todo.put(("pending", ch))
            too_large = precheck(item)
            if too_large:
                item["parsed"] = unparsed("too_large", too_large)
                todo.put(("parsed", ch, item))
                continue
            if pool is None:
                pool = ParsePool(workers, budget, preload=["pipelines.report"], initializer=_worker_start,
                                 init_args=(limits, log_file))
            args, kw = _parse_args(item)
            pool.submit(parse_report, args, kw, lambda outcome, ch=ch, item=item: parsed(ch, item, outcome))
    finally:
        if pool is not None:
            pool.close()
        todo.put(None)
        writer.join()


def _write_loop(db_path, run_id, todo, send, room):
    """The archive's one writer: batches of documents, one transaction each; after each,
    the counts per channel go back to the crawl, and 'done' for every channel whose
    documents are all archived."""
    try:
        _write(db_path, run_id, todo, send, room)
    except BaseException:
        # an archive that cannot be opened or written: end the archiver now, so that the
        # crawl sees it (its sites fail, the run exits non-zero) instead of waiting forever
        log.critical("the archiver cannot go on", exc_info=True)
        logging.shutdown()
        os._exit(70)


def _write(db_path, run_id, todo, send, room):
    from archive.db import open_archive
    from archive.store import upsert_site

    db = open_archive(db_path)
    # pending: a channel's reports still being parsed; ended: channels the crawl has closed.
    # An ended channel with nothing pending has all its documents in the batch, or written.
    batch, pending, ended = [], collections.Counter(), set()
    flushed = time.monotonic()

    def flush():
        nonlocal batch, flushed
        counts = collections.defaultdict(collections.Counter)
        if batch:
            try:
                counts = write_batch(db, batch, run_id)
            except Exception as e:  # rolled back: nothing archived before is touched, and what this
                # batch held is not in the archive, so the next run fetches it again
                log.exception("the archive could not write a batch of %d documents", len(batch))
                from archive.db import error_text

                send(("archive_error", error_text(db_path, e)))
                for ch in {ch for ch, _ in batch}:
                    counts[ch]["write_errors"] += 1
            for _, item in batch:
                room.give_back(_size(item))
            batch = []
        flushed = time.monotonic()
        if counts:
            send(("counts", {ch: dict(c) for ch, c in counts.items()}))
        for ch in [ch for ch in ended if pending[ch] <= 0]:
            ended.discard(ch)
            send(("done", ch))

    try:
        while True:
            try:
                message = todo.get(timeout=0.2)
            except queue.Empty:
                message = ()
            if message is None:
                break
            kind = message[0] if message else "idle"
            if kind == "pending":
                pending[message[1]] += 1
            elif kind in ("item", "parsed"):
                batch.append((message[1], message[2]))
                if kind == "parsed":
                    pending[message[1]] -= 1
            elif kind == "open":
                if message[2] is not None:
                    with db.atomic():
                        upsert_site(db, message[2])
            elif kind == "end":
                ended.add(message[1])
            if len(batch) >= BATCH_SIZE or (batch and time.monotonic() - flushed > FLUSH_SECONDS) \
                    or (kind == "idle" and batch) or any(pending[ch] <= 0 for ch in ended):
                flush()
        flush()
    finally:
        db.close()


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m crawler.archiver")
    ap.add_argument("--db", required=True)
    ap.add_argument("--run-id", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--log-file")
    ap.add_argument("--log-level", default="INFO")
    ap.add_argument("--parse-seconds", type=float, default=60.0)
    ap.add_argument("--parse-memory-mb", type=int, default=3072)
    ap.add_argument("--limits", default="{}", help="document limits, JSON (pipelines/limits.py)")
    a = ap.parse_args(argv)
    # Ctrl-C on a terminal reaches the whole process group: the crawl stops gracefully and
    # closes our input, and we archive what it sent before that, rather than die with it
    import json
    import signal

    from .pool import Budget

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.raiseExceptions = False  # a log that cannot be written (a full disk) prints no traceback
    level = int(a.log_level) if a.log_level.isdigit() else a.log_level.upper()  # Scrapy takes both forms
    logging.basicConfig(filename=a.log_file, level=level,
                        format="%(asctime)s [%(name)s] %(levelname)s: %(message)s", datefmt="%Y-%m-%d %H:%M:%S")
    # the frames go out on a private copy of stdout; whatever a library prints goes to stderr
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    budget = Budget(seconds=a.parse_seconds, memory_mb=a.parse_memory_mb, niceness=WORKER_NICENESS)
    serve(a.db, a.run_id or None, a.workers, sys.stdin.buffer, out, budget=budget, limits=json.loads(a.limits),
          log_file=a.log_file)


if __name__ == "__main__":
    main()
