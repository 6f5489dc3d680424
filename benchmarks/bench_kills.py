"""Kill benchmark: many more kills than CI makes (tests/killing.py), and the figures the
archive's promise rests on.

Each trial starts a crawl of four fixture sites (15 reports: pages, PDF, DOCX, XLSX, DOC
attachments, Hanweb and TRS lists), kills the crawl, its process group, the archiver or a
parse worker at a random moment (SIGKILL or SIGTERM), then runs a clean crawl and checks
the archive: integrity, every report of a clean crawl present with its cells, none twice,
no process left behind, no run still 'running'.  Prints one line a trial, then:

    seed N: T trials, runs killed K, lost = 0, duplicated = 0, orphans = 0, other problems = 0

    python benchmarks/bench_kills.py [--trials 100] [--seed N]
"""
import argparse
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

import killing  # noqa: E402

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--seed", type=int)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ogi-kills-") as tmp:
        results = killing.main(a.trials, pathlib.Path(tmp), seed=a.seed)
    sys.exit(1 if any(r["problems"] for r in results) else 0)
