"""Fuzz benchmark: many more mutated reports than CI parses (tests/fuzzing.py), each in the
parse pool under a crawl's budget, and the figures: inputs fuzzed, statuses, crashes,
documents over their budget, the worst peak memory and time.

    python benchmarks/bench_fuzz.py [--examples 2000] (a kind: html, text, pdf, docx, xlsx)
"""
import argparse
import collections
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

from hypothesis import HealthCheck, given, settings  # noqa: E402

import fuzzing  # noqa: E402
from crawler.pool import Budget, ParsePool  # noqa: E402

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=2000)
    a = ap.parse_args()
    import logging

    import pipelines.report  # noqa: F401  (before the fork)

    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # what a damaged PDF makes it say, a line a page

    budget = Budget(seconds=30, memory_mb=1536, retries=0, niceness=0)
    pool = ParsePool(1, budget, context="fork")
    total, bad, worst_mb, worst_s = 0, [], 0, 0.0
    for kind in sorted(fuzzing.SEEDS):
        seen = collections.Counter()

        @settings(max_examples=a.examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(fuzzing.documents(kind))
        def run(doc):
            global total, worst_mb, worst_s
            t = time.monotonic()
            outcome = pool.run(fuzzing.parse, doc)
            worst_s = max(worst_s, time.monotonic() - t)
            total += 1
            found = fuzzing.problems(outcome, 1024)
            if outcome.status == "ok":
                seen[outcome.value[0]["parse_status"]] += 1
                worst_mb = max(worst_mb, outcome.value[1])
            else:
                seen[outcome.status] += 1
            if found:
                bad.append((kind, found, doc[0][:80]))

        run()
        print(f"{kind:5}: {sum(seen.values())} inputs: " + ", ".join(f"{k} {v}" for k, v in sorted(seen.items())),
              flush=True)
    pool.close()
    print(f"inputs fuzzed {total}, problems {len(bad)} (uncaught exceptions, over budget, crashes: "
          f"{pool.deaths} worker deaths, {pool.timeouts} timeouts), worst parse {worst_s:.2f} s, "
          f"worst peak memory {worst_mb} MB (budget {budget.seconds:g} s, {budget.memory_mb} MB)")
    for b in bad[:20]:
        print("  ", b)
    sys.exit(1 if bad else 0)
