"""Crawl benchmark: a generated mirror of TRS-style sites on 127.0.0.1, crawled three ways in
one run of this script:

1. a bare Scrapy crawl of the same pages (benchmarks/bare_spider.py: no pipelines);
2. the full pipeline, ``ogi-archive crawl`` into a fresh archive;
3. the full pipeline again over the unchanged mirror (the nightly re-run).

Targets (issue 5): full ≥ half the bare rate; the unchanged re-run ≤ 15% of the first
run's time; peak memory < 400 MB, counted over the crawl and every process it starts
(the archiver, the parse workers): the sum of their PSS, sampled every 100 ms.

    python benchmarks/bench_crawl.py [--sites 20 --reports 100]
"""
import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = pathlib.Path(sys.executable).parent
MIRROR = ROOT / "crawler/demo/mirror"
TEMPLATES = [
    MIRROR / "hn_huaihua_czj/zwgk/xxgknb/202101/t20210125_5873012.html",
    MIRROR / "js_hongze/art/2024/2/26/art_52013_3345671.html",
    MIRROR / "js_huaian_xxgk/xxgk/gknb/202502/5b578ca9f1a582d1b885388e582edef8.shtml",
    MIRROR / "js_shuyang/shuyang/xxgknb/287f7c4e645f26d1a078a0efd494e79d.shtml",
]
PER_PAGE = 20
# the commands run this checkout's code, whichever checkout the venv was installed from
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
SETTINGS = ["OGI_PARSE_WORKERS=" + os.environ.get("OGI_PARSE_WORKERS", "2"), "DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False", "CONCURRENT_REQUESTS=32",
            "CONCURRENT_REQUESTS_PER_DOMAIN=32", "ROBOTSTXT_OBEY=False", "LOG_LEVEL=INFO"]


def template_page(templates, s, r, title):
    """A report page from the r-th of ``templates`` (texts), titled ``title``, made distinct by its site and number."""
    page = templates[r % len(templates)]
    page = re.sub(r"<title>.*?</title>", f"<title>{title}</title>", page, count=1, flags=re.S)
    page = re.sub(r'(<meta name="ArticleTitle" content=")[^"]*', r"\g<1>" + title, page)
    return page.replace("</body>", f"<p>{s}-{r}</p></body>")  # every page distinct


def generate(root, n_sites, n_reports, page=None):
    """n_sites TRS columns of n_reports report pages each (the demo's real report pages as
    templates).  ``page(s, r, title, path)``, if given, returns the text of report r of site s
    (and may write files beside ``path``, such as an attachment the page links)."""
    templates = [t.read_text(encoding="utf-8") for t in TEMPLATES]
    page = page or (lambda s, r, title, path: template_page(templates, s, r, title))
    for s in range(n_sites):
        col = root / f"s{s:03d}" / "zfxxgknb"
        items = []
        for r in range(n_reports):
            year = 2008 + r % 18
            day = f"{year + 1}01{(r % 28) + 1:02d}"
            rel = f"{day[:6]}/t{day}_{s * 100000 + r}.html"
            title = f"第{s}号测试区第{r}局{year}年政府信息公开工作年度报告"
            (col / rel).parent.mkdir(parents=True, exist_ok=True)
            (col / rel).write_text(page(s, r, title, col / rel), encoding="utf-8")
            items.append(f'<li><a href="./{rel}" title="{title}">{title}</a><span>{day[:4]}-{day[4:6]}-{day[6:]}</span></li>')
        pages = [items[i:i + PER_PAGE] for i in range(0, len(items), PER_PAGE)]
        for i, chunk in enumerate(pages):
            name = "index.html" if i == 0 else f"index_{i}.html"
            (col / name).write_text(
                f"<html><head><meta charset='utf-8'></head><body><ul>{''.join(chunk)}</ul>"
                f"<script>var countPage = {len(pages)}//共多少页</script></body></html>", encoding="utf-8")


def write_registry(path, base, n_sites):
    """The sites.toml of the generated mirror's n_sites columns served at ``base``; their start URLs."""
    starts = [f"{base}/s{s:03d}/zfxxgknb/index.html" for s in range(n_sites)]
    path.write_text("".join(f'[[site]]\nid = "bench_s{s:03d}"\nname = "测试站{s}"\ncms = "trs"\nstart_urls = ["{u}"]\n\n'
                            for s, u in enumerate(starts)), encoding="utf-8")
    return starts


def settings_args(*extra):
    return sum((["-s", s] for s in [*SETTINGS, *extra]), [])


def bare_crawl(tmp, starts, name="bare", extra=()):
    """The bare Scrapy crawl of ``starts`` (no project settings): (seconds, peak MB, items scraped)."""
    out = tmp / f"{name}.jsonl"
    seconds, peak, _ = run([str(BIN / "scrapy"), "runspider", str(ROOT / "benchmarks/bare_spider.py"),
                            "-a", "start_urls=" + ",".join(starts), "-o", str(out), *settings_args(*extra)],
                           tmp / name, cwd=tmp)
    n = sum(1 for _ in open(out)) if out.exists() else 0
    if not n:
        raise SystemExit("the bare crawl scraped nothing:\n" + (tmp / f"{name}.err").read_text()[-3000:])
    return seconds, peak, n


def full_crawl(registry, db, logs):
    """``ogi-archive crawl`` of ``registry`` into ``db``: (seconds, peak MB, stdout)."""
    return run([str(BIN / "ogi-archive"), "crawl", "--sites", str(registry), "--db", str(db), *settings_args()], logs)


def tree_memory(root, parts=None, cpu=None):
    """MB of memory of a process and all its descendants: the sum of their PSS (shared
    pages counted in proportion, as forked parse workers share their parent's), or of
    their RSS where PSS cannot be read.  ``parts``, a list, is given each process's
    (name, MB): its command line, "(fork)" added where it is its parent's.  ``cpu``, a
    dict, is given each process's CPU seconds so far: {pid: (name, seconds)}."""
    total, todo = 0, [(root, None)]
    while todo:
        pid, parent = todo.pop()
        kb, name = 0, str(pid)
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().decode(errors="replace").split("\0")
            if "-c" in args[:-1]:  # python … -c CODE: the start of what it runs
                args = [*args[:args.index("-c")], "-c", args[args.index("-c") + 1][:40]]
            name = " ".join(a if "-c" in args[i - 1:i] else os.path.basename(a) for i, a in enumerate(args[:5]) if a) or name
            name = name + " (fork)" if parent and name == parent.removesuffix(" (fork)") else name
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    todo += [(int(c), name) for c in f.read().split()]
            if cpu is not None:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                known = cpu.get(pid, (name,))[0]  # the name read while it could be (an exiting process has no command line)
                cpu[pid] = (known if name == str(pid) else name, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
            with open(f"/proc/{pid}/smaps_rollup") as f:
                kb = next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except (OSError, StopIteration):
            try:
                with open(f"/proc/{pid}/statm") as f:
                    kb = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
            except OSError:
                continue
        total += kb
        if parts is not None:
            parts.append((name, kb / 1024))
    return total / 1024


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")  # /proc/<pid>/stat counts CPU time in these
# the processes of the last run() at its peak of memory: [(name, MB)]
PEAK_PARTS = []
# the CPU seconds of the last run(): "processes", each process's as last sampled, every 100 ms
# ({name: [count, seconds]}: what a process spent after its last sample is missed), and "this
# process", the benchmark's own (the mirror's server, where it serves from this process, and the
# sampling)
CPU = {}


def run(argv, logs, cwd=None):
    """Run a command, its output to files; (seconds, peak memory in MB of the process and
    every process it started, sampled every 100 ms, stdout)."""
    import threading

    out_path, err_path = logs.with_suffix(".out"), logs.with_suffix(".err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        t, own = time.monotonic(), os.times()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=cwd, env=ENV)
        peak, stop, cpu = [0.0], threading.Event(), {}
        PEAK_PARTS.clear()

        def sample():
            while not stop.wait(0.1):
                parts = []
                mb = tree_memory(proc.pid, parts, cpu)
                if mb > peak[0]:
                    peak[0], PEAK_PARTS[:] = mb, parts

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.monotonic() - t
        stop.set()
        sampler.join()
        now = os.times()
        by_name = {}
        for name, used in cpu.values():
            by_name.setdefault(name, [0, 0.0])
            by_name[name][0] += 1
            by_name[name][1] += used
        CPU.clear()
        CPU.update({"processes": by_name,
                    "this process": now.user + now.system - own.user - own.system})
    if os.waitstatus_to_exitcode(status) != 0:
        print(err_path.read_text()[-3000:], file=sys.stderr)
        raise SystemExit(f"{argv[0]} failed with {os.waitstatus_to_exitcode(status)}")
    return seconds, max(peak[0], usage.ru_maxrss / 1024), out_path.read_text()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=20)
    ap.add_argument("--reports", type=int, default=100)
    a = ap.parse_args()
    from crawler.demo import serve_site

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="ogi-bench-"))
    try:
        t = time.monotonic()
        generate(tmp / "mirror", a.sites, a.reports)
        server, base = serve_site(tmp / "mirror")
        n = a.sites * a.reports
        print(f"mirror: {a.sites} sites × {a.reports} reports = {n} reports, "
              f"{sum(1 for _ in (tmp / 'mirror').rglob('*.html'))} pages, generated in {time.monotonic() - t:.1f} s, "
              f"served at {base}")
        starts = write_registry(tmp / "sites.toml", base, a.sites)
        bare_s, bare_mb, bare_n = bare_crawl(tmp, starts)
        bare8_s, _, _ = bare_crawl(tmp, starts, "bare8", ["CONCURRENT_ITEMS=8"])
        full_s, full_mb, out = full_crawl(tmp / "sites.toml", tmp / "archive.db", tmp / "full")
        import sqlite3

        got = sqlite3.connect(tmp / "archive.db").execute("select count(*) from reports").fetchone()[0]
        again_s, again_mb, out2 = full_crawl(tmp / "sites.toml", tmp / "archive.db", tmp / "again")
        server.shutdown()
        bare_rate, full_rate = bare_n / bare_s, got / full_s
        print(f"bare Scrapy:        {bare_n} report pages in {bare_s:6.1f} s = {bare_rate:6.1f} pages/s, peak {bare_mb:.0f} MB")
        print(f"bare, CONCURRENT_ITEMS=8 as the project sets it: {bare_n / bare8_s:.1f} pages/s "
              f"(full / this: {got / full_s / (bare_n / bare8_s):.2f})")
        print(f"full pipeline:      {got} reports      in {full_s:6.1f} s = {full_rate:6.1f} reports/s, peak {full_mb:.0f} MB")
        print(f"  full / bare rate: {full_rate / bare_rate:.2f} (target ≥ 0.50)")
        print(f"unchanged re-run:   {again_s:6.1f} s = {again_s / full_s:.1%} of the first run (target ≤ 15%), "
              f"peak {again_mb:.0f} MB")
        print(f"peak memory:        {max(full_mb, again_mb):.0f} MB, the crawl and its archiver and workers together "
              f"(target < 400 MB)")
        print("re-run summary:\n  " + "\n  ".join(out2.strip().splitlines()[:3]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
