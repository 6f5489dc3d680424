"""Kill benchmark: many more kills than CI makes (tests/killing.py), and the figures the
archive's promise rests on.

First the fault site (tests/fault_server.py) is crawled while it fails and again once it
has healed: failures recorded, retried, resolved, reports lost.  Then each trial starts a crawl of four fixture sites (15 reports: pages, PDF, DOCX, XLSX, DOC
attachments, Hanweb and TRS lists), kills the crawl, its process group, the archiver or a
parse worker at a random moment (SIGKILL or SIGTERM), then runs a clean crawl and checks
the archive: integrity, every report of a clean crawl present with its cells, none twice,
no process left behind, no run still 'running'.  Prints one line a trial, then:

    fault site: failures recorded F (…); on the healed run R resolved, P still open; reports lost = 0
    seed N: T trials, runs killed K, lost = 0, duplicated = 0, orphans = 0, other problems = 0

    python benchmarks/bench_kills.py [--trials 100] [--seed N]
"""
import argparse
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

import collections  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import fault_server  # noqa: E402
import killing  # noqa: E402


def fault_round(folder):
    """The fault site crawled twice; prints what became of its failures."""
    out = fault_server.crawl_twice(folder, killing.FAST + ["-s", "DOWNLOAD_TIMEOUT=2", "-s", "DOWNLOAD_MAXSIZE=2000000",
                                                            "-s", "OGI_MAX_LIST_PAGES=40"])
    _, _, failures, _, _ = out["first"]
    _, _, after, reports, _ = out["second"]
    kinds = collections.Counter(f["kind"] for f in failures)
    resolved = sum(1 for f in after if f["resolved_at"])
    got = {urlsplit(r["url"]).path for r in reports}
    want = set(fault_server.FIRST_RUN_REPORTS) | set(fault_server.HEALED_REPORTS)
    print(f"fault site: failures recorded {len(failures)} ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}); "
          f"on the healed run {resolved} resolved, {sum(1 for f in after if not f['resolved_at'])} still open; "
          f"reports lost = {len(want - got)}", flush=True)
    return len(want - got)

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--seed", type=int)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ogi-kills-") as tmp:
        lost = fault_round(pathlib.Path(tmp))
        results = killing.main(a.trials, pathlib.Path(tmp) / "kills", seed=a.seed)
    sys.exit(1 if lost or any(r["problems"] for r in results) else 0)
