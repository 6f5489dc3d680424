"""How documents go from the crawl to the archiver, and the archiver's answers come back.

One small interface, two ways of carrying it:

- the crawl's side, a *sender*: ``put(message)``; the archiver's answers go to a callback
  run by the crawl's event loop (``listen``), or are read one at a time with ``reply`` before
  that loop runs or after it ends;
- the archiver's side, a *receiver*: ``get()`` → ``(tag, sender, message)``, or None at the
  end; ``ack(tag)`` once what the message carried is in the archive; ``answer(sender, message)``.

Pipe: frames (a 4-byte length, then a pickle) on the archiver's stdin and stdout; one crawl
process and the archiver it started.  Redis (``OGI_REDIS_URL``): every crawl process of a
run, on any machine, pushes onto one list; the archiver moves each message onto a list of
messages taken (``LMOVE``) and removes it from there once archived, so that what a killed
archiver had taken is given again to the next one.  Answers go to a list per crawl process.
``redis`` is imported only when a Redis URL is given.
"""
import os
import pickle
import select
import struct
import threading
import time

HEADER = struct.Struct("!I")
PREFIX = "ogi"
# documents waiting in Redis before a crawl process waits for the archiver (as a full pipe makes it)
MAX_QUEUED = 512
MAX_QUEUED_BYTES = 64 * 1024 * 1024
ALIVE_SECONDS = 15  # an archiver that has not said it is alive for this long has died


class ArchiverDied(RuntimeError):
    """The archiver process ended before it had archived what it was given."""


class RedisUnusable(RuntimeError):
    """OGI_REDIS_URL names no Redis this process can use; the message says why, in a line."""


def frame(message):
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(payload)) + payload


def _frames(buffer):
    """The whole frames at the start of ``buffer`` (taken out of it)."""
    while len(buffer) >= HEADER.size:
        (size,) = HEADER.unpack_from(buffer)
        if len(buffer) < HEADER.size + size:
            return
        message = pickle.loads(buffer[HEADER.size:HEADER.size + size])
        del buffer[:HEADER.size + size]
        yield message


def connect(url):
    """A Redis client for ``url`` that has answered a PING; raises :class:`RedisUnusable`."""
    try:
        import redis
    except ImportError:
        raise RedisUnusable("OGI_REDIS_URL is set but the redis package is not installed "
                            "(pip install 'ogi-archive[distributed]')") from None
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=10, health_check_interval=30)
        client.ping()
    except ValueError as e:
        raise RedisUnusable(f"OGI_REDIS_URL={url}: {e}") from None
    except redis.RedisError as e:
        raise RedisUnusable(f"OGI_REDIS_URL={url}: no Redis answers there ({e})") from None
    return client


class Keys:
    """The Redis keys of the document queue (one per Redis database: one archive)."""

    def __init__(self, prefix=PREFIX):
        self.queue = f"{prefix}:documents"
        self.taken = f"{prefix}:documents:taken"
        self.bytes = f"{prefix}:documents:bytes"
        self.alive = f"{prefix}:archiver:alive"
        self.prefix = prefix

    def replies(self, sender):
        return f"{self.prefix}:replies:{sender}"


# ---- the crawl's side ------------------------------------------------------------------


class PipeSender:
    """Frames to the stdin of an archiver process this crawl started, answers from its stdout."""

    PIPE_SIZE = 1 << 20

    def __init__(self, proc):
        import fcntl

        self.proc = proc
        self.loop = None
        self._buffer = bytearray()
        try:
            fcntl.fcntl(proc.stdin.fileno(), 1031, self.PIPE_SIZE)  # F_SETPIPE_SZ
        except OSError:
            pass  # the system's default depth (64 KB) will do, with more waiting

    def put(self, message):
        """Raises :class:`ArchiverDied` when the archiver is gone."""
        view = memoryview(frame(message))
        try:
            while view:
                view = view[os.write(self.proc.stdin.fileno(), view):]
        except BrokenPipeError:
            raise ArchiverDied(self.gone()) from None

    def gone(self):
        code = self.proc.poll()
        return f"the archiver (pid {self.proc.pid}) ended early" + (f", with {code}" if code is not None else "")

    def listen(self, loop, on_message, on_gone):
        fd = self.proc.stdout.fileno()
        os.set_blocking(fd, False)

        def readable():
            try:
                data = os.read(fd, 1 << 16)
            except BlockingIOError:
                return
            if not data:
                self.unlisten()
                on_gone()
                return
            self._buffer += data
            for message in _frames(self._buffer):
                on_message(message)

        self.loop = loop
        loop.add_reader(fd, readable)

    def unlisten(self):
        if self.loop is not None:
            self.loop.remove_reader(self.proc.stdout.fileno())
            self.loop = None

    def reply(self, timeout=None):
        """The archiver's next message, read here and now (the event loop is not listening)."""
        fd = self.proc.stdout.fileno()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            for message in _frames(self._buffer):
                return message
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([fd], [], [], wait)[0]:
                raise ArchiverDied(f"the archiver (pid {self.proc.pid}) did not answer in {timeout:g} s")
            try:
                data = os.read(fd, 1 << 16)
            except BlockingIOError:
                continue
            if not data:
                raise ArchiverDied(self.gone())
            self._buffer += data

    def close(self):
        """End the archiver's input; it archives what it has and exits.  Returns its exit code."""
        self.unlisten()
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        code = self.proc.wait()
        self.proc.stdout.close()
        return code


class RedisSender:
    """One crawl process's side of the Redis queue; ``sender`` names it in the archiver's answers."""

    def __init__(self, url, sender, prefix=PREFIX):
        self.redis = connect(url)
        self.sender = sender
        self.keys = Keys(prefix)
        self.replies = self.keys.replies(sender)
        self._thread = None
        self._stop = threading.Event()

    def put(self, message):
        """Push a message; when the archiver is far behind, wait (as a full pipe would)."""
        payload = pickle.dumps((self.sender, message), protocol=pickle.HIGHEST_PROTOCOL)
        pipe = self.redis.pipeline()
        pipe.lpush(self.keys.queue, payload).incrby(self.keys.bytes, len(payload))
        queued, size = pipe.execute()
        while queued > 1 and (queued > MAX_QUEUED or size > MAX_QUEUED_BYTES):
            time.sleep(0.05)
            if not self.redis.exists(self.keys.alive):
                raise ArchiverDied(self.gone())
            queued, size = self.redis.llen(self.keys.queue), int(self.redis.get(self.keys.bytes) or 0)

    def gone(self):
        return f"the archiver has not said it is alive (in Redis) for {ALIVE_SECONDS} s"

    def listen(self, loop, on_message, on_gone):
        self._stop.clear()

        def read():
            while not self._stop.is_set():
                found = self.redis.blpop([self.replies], timeout=1)
                if found is not None:
                    loop.call_soon_threadsafe(on_message, pickle.loads(found[1]))
                elif not self.redis.exists(self.keys.alive):
                    loop.call_soon_threadsafe(on_gone)
                    return

        self._thread = threading.Thread(target=read, name="archiver-replies", daemon=True)
        self._thread.start()

    def unlisten(self):
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def reply(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while deadline is None or time.monotonic() < deadline:
            found = self.redis.blpop([self.replies], timeout=1)
            if found is not None:
                return pickle.loads(found[1])
            if not self.redis.exists(self.keys.alive):
                raise ArchiverDied(self.gone())
        raise ArchiverDied(f"the archiver did not answer in {timeout:g} s")

    def close(self):
        self.unlisten()
        self.redis.delete(self.replies)
        return 0


# ---- the archiver's side ---------------------------------------------------------------


class PipeReceiver:
    """Frames from the crawl on ``inp`` (its end is the end), answers on ``out``."""

    def __init__(self, inp, out, log=None):
        self.inp, self.out, self.log = inp, out, log
        self.lock = threading.Lock()

    def get(self):
        """The next ``(None, None, message)``, or None at the end of the input (a frame cut
        short by a crawl killed while writing it is the end too)."""
        head = self.inp.read(HEADER.size)
        if len(head) < HEADER.size:
            return None
        (size,) = HEADER.unpack(head)
        payload = self.inp.read(size)
        if len(payload) < size:
            if self.log:
                self.log.warning("the crawl's last message was cut short (%d of %d bytes): it ended while sending",
                                 len(payload), size)
            return None
        return None, None, pickle.loads(payload)

    def ack(self, tag):
        pass

    def answer(self, sender, message):
        with self.lock:
            try:
                self.out.write(frame(message))
                self.out.flush()
            except OSError:  # the crawl is gone: what it sent is archived all the same
                pass


class RedisReceiver:
    """The archiver's side of the Redis queue.  On start, what a killed archiver had taken
    and not archived goes back to the front of the queue.  ``get`` ends at a ``("stop",)``
    message, or when ``still_wanted()`` says no (the process that started us is gone)."""

    def __init__(self, url, prefix=PREFIX, still_wanted=lambda: True):
        self.redis = connect(url)
        self.keys = Keys(prefix)
        self.still_wanted = still_wanted
        self.requeued = 0
        while self.redis.lmove(self.keys.taken, self.keys.queue, "LEFT", "RIGHT") is not None:
            self.requeued += 1  # the oldest ends nearest the queue's end that is read first
        if not self.redis.llen(self.keys.queue):
            self.redis.set(self.keys.bytes, 0)
        self._alive = threading.Event()
        self.redis.set(self.keys.alive, os.getpid(), ex=ALIVE_SECONDS)
        threading.Thread(target=self._say_alive, name="archiver-alive", daemon=True).start()

    def _say_alive(self):
        while not self._alive.wait(ALIVE_SECONDS / 5):
            try:
                self.redis.set(self.keys.alive, os.getpid(), ex=ALIVE_SECONDS)
            except Exception:  # Redis is away for a moment: the senders will wait, or say so
                pass

    def get(self):
        while True:
            payload = self.redis.blmove(self.keys.queue, self.keys.taken, 1, "RIGHT", "LEFT")
            if payload is None:
                if not self.still_wanted():
                    return None
                continue
            self.redis.decrby(self.keys.bytes, len(payload))
            sender, message = pickle.loads(payload)
            if message == ("stop",):
                self.ack(payload)
                return None
            return payload, sender, message

    def ack(self, tag):
        if tag is not None:
            self.redis.lrem(self.keys.taken, 1, tag)

    def answer(self, sender, message):
        key = self.keys.replies(sender)
        self.redis.pipeline().rpush(key, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)).expire(
            key, 86400).execute()

    def close(self):
        self._alive.set()
        self.redis.delete(self.keys.alive)


def stop(url, prefix=PREFIX):
    """Tell the archiver reading the Redis queue to end once it has archived all before this."""
    connect(url).lpush(Keys(prefix).queue, pickle.dumps((None, ("stop",))))
