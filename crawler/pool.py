"""Worker processes that parse one document at a time, each under a budget, so that a
bad document costs only itself.

A report's file is whatever its site serves.  Read by C and Rust libraries (pdfium,
calamine, libxml2), a hostile one can abort the process that reads it, take all its
memory or never finish.  So documents are parsed in worker processes, each owned by
a thread of this pool that hands it one document at a time and waits for the answer:

- a worker that dies on a document (a signal, an abort) is replaced, and the document
  tried once more in the fresh worker; if it dies again the outcome says how it died;
- a document that takes longer than ``Budget.seconds`` has its worker killed (with
  anything it started: it leads its own process group) and replaced;
- a worker's address space is capped at ``Budget.memory_mb``: a reader that asks for
  more gets a MemoryError (``memory``) or dies (``died``), never the machine's memory;
- workers die with their parent (``PR_SET_PDEATHSIG``), and leave when the pipe to the
  pool closes: a killed pool leaves no process behind.

Nothing else in the project starts parse processes: the archiver uses this pool with a
fork server that has imported the parser; ``ogi-archive parse`` with one forked worker.
"""
import ctypes
import logging
import os
import queue
import resource
import signal
import threading
import traceback
from dataclasses import dataclass

from pipelines import limits as document_limits

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Budget:
    seconds: float = 60.0  # wall-clock time for one document
    memory_mb: int = 3072  # address space of a worker process (0: no cap)
    retries: int = 1  # a document whose worker died is tried this many more times, each in a fresh worker
    niceness: int = 10  # workers yield the CPU to the crawl


@dataclass
class Outcome:
    """What became of one job: ``ok`` with its value, or ``error`` (an exception),
    ``memory`` (over the memory cap), ``timeout``, ``died`` (the worker died), each with
    a one-line reason (and, for ``error``, the traceback in ``detail``)."""

    status: str = "ok"
    value: object = None
    reason: str = None
    detail: str = None
    attempts: int = 1


def _signal_name(code):
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def _die_with_parent():
    """Ask Linux to kill this process when its parent dies (harmless elsewhere)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _cpu_backstop(seconds):
    """A CPU-time limit a little past the budget, for the next job only: a runaway parse
    ends by itself even when no pool is left to kill it."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(used.ru_utime + used.ru_stime + 2 * seconds + 5)
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.RLIM_INFINITY))
    except (ValueError, OSError):
        pass


def _worker_main(conn, other_end, budget, initializer, init_args):
    other_end.close()  # forked, it holds the pool's end too: closed, the pool's going away is an EOF here
    os.setsid()  # its own process group: a parse killed for its time goes with whatever it started
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the crawl, which then closes the pool
    _die_with_parent()
    if budget.niceness:
        os.nice(budget.niceness)
    if budget.memory_mb:
        limit = budget.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if initializer is not None:
        try:
            initializer(*init_args)
        except Exception:
            log.exception("a parse worker's warm-up failed")
    memory = f"over the memory budget of {budget.memory_mb} MB"
    while True:
        try:
            fn, args, kw = conn.recv()
        except (EOFError, OSError):
            return  # the pool is gone
        _cpu_backstop(budget.seconds)
        document_limits.start_clock(budget.seconds)  # what may stop early (OCR's pages) sees the time left
        try:
            out = ("ok", fn(*args, **(kw or {})))
        except MemoryError:
            out = ("memory", memory)
        except Exception as e:
            out = ("error", f"{type(e).__name__}: {e}", traceback.format_exc(limit=6))
        try:
            conn.send(out)
        except MemoryError:
            conn.send(("memory", memory))
        except (OSError, EOFError):
            return


class _Worker:
    def __init__(self, ctx, budget, initializer, init_args):
        parent, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, parent, budget, initializer, init_args),
                                daemon=True, name="ogi-parse-worker")
        self.proc.start()
        child.close()
        self.conn = parent

    def kill(self):
        """The worker and everything it started (its process group)."""
        for kill in (lambda: os.killpg(self.proc.pid, signal.SIGKILL), self.proc.kill):
            try:
                kill()
                break
            except (ProcessLookupError, PermissionError, OSError):
                continue
        self.proc.join(10)
        self.conn.close()

    def stop(self):
        self.conn.close()  # it leaves when it reads the end of its pipe
        self.proc.join(5)
        if self.proc.is_alive():
            self.kill()


class ParsePool:
    """``workers`` processes; ``submit(fn, args, kw, done)`` calls ``done(Outcome)`` from
    one of the pool's threads when the job has ended, however it ended.

    ``context``: "forkserver" (workers forked from a server that imported ``preload``:
    safe from a process with threads) or "fork" (from a process with no threads).
    ``initializer(*init_args)`` runs in every new worker before its first job."""

    def __init__(self, workers, budget=Budget(), context="forkserver", preload=(), initializer=None, init_args=()):
        import multiprocessing

        self.budget = budget
        self.ctx = multiprocessing.get_context(context)
        if context == "forkserver" and preload:
            self.ctx.set_forkserver_preload(list(preload))
        self._init = (initializer, init_args)
        self._jobs = queue.Queue()
        self._lock = threading.Lock()
        self._workers = set()
        self.deaths = self.timeouts = 0
        n = max(1, int(workers))
        # forked workers are started here, by the thread that makes the pool, before its own
        # threads exist (a fork server's are started by each slot as it needs them)
        first = [self._start() for _ in range(n)] if context == "fork" else [None] * n
        self._slots = [threading.Thread(target=self._slot, args=(w,), name=f"parse-slot-{i}", daemon=True)
                       for i, w in enumerate(first)]
        for t in self._slots:
            t.start()

    def submit(self, fn, args=(), kw=None, done=None):
        self._jobs.put((fn, args, kw, done))

    def run(self, fn, args=(), kw=None):
        """Run one job and wait for its Outcome."""
        box, ready = [], threading.Event()
        self.submit(fn, args, kw, lambda outcome: (box.append(outcome), ready.set()))
        ready.wait()
        return box[0]

    def close(self):
        """Finish the jobs given, then stop every worker."""
        for _ in self._slots:
            self._jobs.put(None)
        for t in self._slots:
            t.join()

    def kill(self):
        """Stop at once: every worker killed, jobs not begun dropped."""
        with self._lock:
            workers = list(self._workers)
        for w in workers:
            w.kill()

    # ---- a slot: one worker process, one job at a time -----------------------------

    def _slot(self, worker=None):
        while True:
            job = self._jobs.get()
            if job is None:
                break
            fn, args, kw, done = job
            outcome, worker = self._attempt(worker, fn, args, kw)
            while outcome.status == "died" and outcome.attempts <= self.budget.retries:
                retry, worker = self._attempt(None, fn, args, kw)
                retry.attempts = outcome.attempts + 1
                outcome = retry
            if outcome.status == "died" and outcome.attempts > 1:
                outcome.reason += f" (on each of {outcome.attempts} attempts)"
            try:
                if done is not None:
                    done(outcome)
            except Exception:
                log.exception("a parse pool callback failed")
        if worker is not None:
            self._forget(worker)
            worker.stop()

    def _start(self):
        w = _Worker(self.ctx, self.budget, *self._init)
        with self._lock:
            self._workers.add(w)
        return w

    def _forget(self, w):
        with self._lock:
            self._workers.discard(w)

    def _attempt(self, worker, fn, args, kw):
        """(Outcome, the worker to use next: None when this one is gone)."""
        if worker is None or not worker.proc.is_alive():
            if worker is not None:
                self._forget(worker)
            worker = self._start()
        try:
            worker.conn.send((fn, args, kw))
            if not worker.conn.poll(self.budget.seconds):
                worker.kill()
                self._forget(worker)
                self.timeouts += 1
                return Outcome("timeout", reason=f"the parse took over {self.budget.seconds:g} s"), None
            kind, *rest = worker.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            worker.proc.join(10)
            code = worker.proc.exitcode
            worker.conn.close()
            self._forget(worker)
            self.deaths += 1
            how = (f"killed by {_signal_name(code)}" if code is not None and code < 0
                   else f"exited with {code}" if code is not None else "vanished")
            log.warning("a parse worker (pid %s) died: %s", worker.proc.pid, how)
            return Outcome("died", reason=f"the parse worker died ({how})"), None
        if kind == "ok":
            return Outcome("ok", value=rest[0]), worker
        return Outcome(kind, reason=rest[0], detail=rest[1] if len(rest) > 1 else None), worker
