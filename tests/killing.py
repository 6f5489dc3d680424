"""Kill a crawl at random moments, then run it clean, and check what the archive promises.

Used by tests/test_kills.py (a few dozen trials in CI) and benchmarks/bench_kills.py (more).
Every process a crawl starts carries ``OGI_TEST_TAG`` in its environment, so what is left
alive after a run (an orphan) is found by reading /proc, whoever its parent is.

A trial: start ``ogi-archive crawl`` on fixture sites served on 127.0.0.1, kill one of its
processes at a random moment (the crawl, its process group, the archiver, or one parse
worker; SIGKILL or SIGTERM), wait for it to end, then crawl again with nothing killed, and
check: integrity_check ok, every report of a clean reference crawl present with the same
cells, no report twice, no process left, no run still 'running'.
"""
import os
import pathlib
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid

from conftest import BIN
from sites_server import SITES, fixture_entry, serve

KILL_SITES = ("attachments", "trs_paged", "hanweb_proxy", "catalog_years")
TARGETS = ("crawl", "group", "archiver", "worker")
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0"]
# a killed run goes slower, so that the kill can land anywhere in it: one request at a time a site
SLOW = ["-s", "DOWNLOAD_DELAY=0.2", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]


def serve_sites(names=KILL_SITES):
    """Serve the fixture sites; returns (registry TOML text, servers)."""
    entries, servers = [], []
    for name in names:
        server, base = serve(SITES / name)
        servers.append(server)
        entries.append(fixture_entry(name, base, f"k_{name}"))
    return "\n".join(entries), servers


def tagged(tag):
    """pid → command line of every live process whose environment carries the tag."""
    found = {}
    needle = f"OGI_TEST_TAG={tag}".encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if needle not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                found[int(pid)] = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return found


def wait_gone(tag, seconds):
    """Wait until no process carries the tag; returns those still alive after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        left = tagged(tag)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def crawl(registry, db, tag, extra=(), **popen):
    env = {**os.environ, "OGI_TEST_TAG": tag}
    return subprocess.Popen([str(BIN / "ogi-archive"), "crawl", "--sites", str(registry), "--db", str(db), *FAST,
                             *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, **popen)


def _victim(target, crawl_pid, tag):
    """The pid to kill for ``target``, or None if that process does not exist right now."""
    if target in ("crawl", "group"):
        return crawl_pid
    procs = tagged(tag)
    archivers = {p for p, cmd in procs.items() if ".archiver --db" in cmd}
    if target == "archiver":
        return next(iter(archivers), None)
    # a parse worker: a child of the archiver's fork server (not the fork server itself)
    servers = {p for p, cmd in procs.items() if "multiprocessing.forkserver" in cmd and _ppid(p) in archivers}
    workers = [p for p in procs if _ppid(p) in servers]
    return random.choice(workers) if workers else None


def _ppid(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ValueError):
        return None


def reference(registry, folder):
    """A clean crawl into a fresh archive: (report id → number of cells, seconds a crawl
    at the killed runs' pace takes)."""
    db = folder / "reference.db"
    proc = crawl(registry, db, uuid.uuid4().hex)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, out.decode() + err.decode()
    started = time.monotonic()
    paced = crawl(registry, folder / "paced.db", uuid.uuid4().hex, SLOW)
    paced.communicate(timeout=180)
    return reports(db), time.monotonic() - started


def reports(db):
    conn = sqlite3.connect(db)
    try:
        return {rid: n for rid, n in conn.execute("select id, n_cells from reports")}
    finally:
        conn.close()


def rows_count(db, sql):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def check(db, want):
    """What must hold after a clean run: a list of problems (empty when all is well)."""
    problems = []
    conn = sqlite3.connect(db)
    try:
        if conn.execute("pragma integrity_check").fetchone()[0] != "ok":
            problems.append("integrity_check failed")
        got = dict(conn.execute("select id, n_cells from reports"))
        missing = set(want) - set(got)
        if missing:
            problems.append(f"{len(missing)} reports of a clean crawl missing")
        for rid, n in want.items():
            if rid in got and got[rid] != n:
                problems.append(f"report {rid}: {got[rid]} cells, a clean crawl gives {n}")
        for rid, n, stored in conn.execute("select r.id, r.n_cells, (select count(*) from cells c where "
                                           "c.report_id = r.id) from reports r"):
            if n != stored:
                problems.append(f"report {rid}: n_cells {n} but {stored} cells stored")
        twice = conn.execute("select count(*) from (select site_id, url from reports group by 1, 2 "
                             "having count(*) > 1)").fetchone()[0]
        if twice:
            problems.append(f"{twice} reports archived twice")
        versions = conn.execute("select count(*) from report_versions v join reports r on r.id = v.report_id "
                                "where v.version > 1").fetchone()[0]
        if versions:
            problems.append(f"{versions} extra versions of unchanged reports")
        running = conn.execute("select count(*) from crawl_runs where status = 'running'").fetchone()[0]
        if running:
            problems.append(f"{running} runs still 'running'")
        problems += _warc_problems(db, conn)
    finally:
        conn.close()
    return problems


def _warc_problems(db, conn):
    """Every capture reads back from its WARC record with its sha256; no WARC file is left
    '.open' after the clean run, and every file passes warcio's check (a kill's torn record
    was cut off)."""
    from archive.warc import WarcError, open_reader, warc_dir

    problems = []
    read = open_reader(conn)
    for (cid,) in conn.execute("select id from captures"):
        try:
            read(cid)
        except WarcError as e:
            problems.append(f"capture {cid}: {e}")
    folder = warc_dir(db)
    left_open = sorted(p.name for p in folder.glob("*.open"))
    if left_open:
        problems.append(f"WARC files left open after the clean run: {left_open}")
    files = sorted(folder.glob("*.warc.gz"))
    if files:
        warcio = pathlib.Path(sys.executable).parent / "warcio"
        proc = subprocess.run([str(warcio), "check", *map(str, files)], capture_output=True, text=True)
        if proc.returncode:
            problems.append(f"warcio check fails: {(proc.stdout + proc.stderr)[-400:]}")
    return problems


def trial(registry, db, want, rng, refetch=False, max_delay=2.5):
    """One kill and one clean run; returns a dict of what happened and the problems found."""
    target = rng.choice(TARGETS)
    sig = signal.SIGKILL if target in ("group", "worker") or rng.random() < 0.6 else signal.SIGTERM
    delay = rng.uniform(0.1, max_delay)
    tag = uuid.uuid4().hex
    extra = SLOW + (["-s", "OGI_REFETCH=True"] if refetch else [])
    proc = crawl(registry, db, tag, extra)
    time.sleep(delay)
    victim = _victim(target, proc.pid, tag)
    while victim is None and proc.poll() is None:  # not started yet: killed as soon as it is
        time.sleep(0.02)
        victim = _victim(target, proc.pid, tag)
    killed = None
    if victim is not None and proc.poll() is None:
        try:
            if target == "group":
                os.killpg(proc.pid, sig)
            else:
                os.kill(victim, sig)
            killed = f"{target}:{signal.Signals(sig).name}"
        except ProcessLookupError:
            pass
    try:
        out, err = proc.communicate(timeout=120)  # returns only when nothing holds its output
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return {"killed": killed, "delay": delay, "problems": ["the killed crawl's output stayed open (orphans?)"]}
    problems = []
    left = wait_gone(tag, 15)
    if left:
        problems.append(f"orphans after the kill: {sorted(left.values())}")
    clean_tag = uuid.uuid4().hex
    clean = crawl(registry, db, clean_tag)
    cout, cerr = clean.communicate(timeout=180)
    if clean.returncode != 0:
        problems.append(f"the clean run exited {clean.returncode}: {cerr.decode()[-400:]}")
    left = wait_gone(clean_tag, 15)
    if left:
        problems.append(f"orphans after the clean run: {sorted(left.values())}")
    for name, text in (("killed", err.decode()), ("clean", cerr.decode())):
        if "Traceback" in text:
            tb = text[text.index('Traceback'):]
            problems.append(f"a traceback on the {name} run's stderr: {tb[:300]} … {tb[-1200:]}")
    problems += check(db, want)
    return {"killed": killed, "delay": round(delay, 2), "exit": proc.returncode, "problems": problems}


def main(trials, folder, seed=None):
    """The long run (benchmarks/bench_kills.py): ``trials`` kills; prints the figures."""
    import pathlib

    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    seed = int(seed if seed is not None else time.time())
    rng = random.Random(seed)
    text, servers = serve_sites()
    registry = folder / "sites.toml"
    registry.write_text(text, encoding="utf-8")
    try:
        want, seconds = reference(registry, folder)
        print(f"a clean crawl: {len(want)} reports; {seconds:.1f} s at the pace of the killed runs", flush=True)
        results = []
        for i in range(trials):
            db = folder / (f"kill-{i}.db" if i % 2 == 0 else "kill-shared.db")
            results.append(trial(registry, db, want, rng, refetch=i % 2 == 1, max_delay=seconds))
            r = results[-1]
            print(f"trial {i + 1:3}: killed {r['killed'] or 'nothing (it had ended)':22} at {r['delay']:4} s: "
                  f"{'; '.join(r['problems']) or 'ok'}", flush=True)
    finally:
        for s in servers:
            s.shutdown()
    killed = sum(1 for r in results if r["killed"])
    lost = sum(1 for r in results for p in r["problems"] if "missing" in p or "cells" in p)
    twice = sum(1 for r in results for p in r["problems"] if "twice" in p or "versions" in p)
    orphans = sum(1 for r in results for p in r["problems"] if "orphan" in p)
    print(f"seed {seed}: {len(results)} trials, runs killed {killed}, lost = {lost}, duplicated = {twice}, "
          f"orphans = {orphans}, other problems = {sum(len(r['problems']) for r in results) - lost - twice - orphans}")
    return results


if __name__ == "__main__":
    sys.exit(0 if not any(r["problems"] for r in main(int(sys.argv[1]), sys.argv[2])) else 1)
