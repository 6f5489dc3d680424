"""Fuzzing the parser through the parse pool, as a crawl runs it (tests/fuzzing.py): mutated
HTML, text, PDF, DOCX and XLSX reports each end as a well-formed parse with a known
status, within their time and memory; none takes its worker down.  Sized for CI
(OGI_FUZZ_EXAMPLES a kind, derandomised); benchmarks/bench_fuzz.py runs many more."""
import os

import pytest
from hypothesis import HealthCheck, given, settings

import fuzzing
from crawler.pool import Budget, ParsePool

EXAMPLES = int(os.environ.get("OGI_FUZZ_EXAMPLES", 30))
BUDGET = Budget(seconds=30, memory_mb=1536, retries=0, niceness=0)
PEAK_MB = 1024  # what one parse may take at its peak, well under the cap


@pytest.fixture(scope="module")
def pool():
    import pipelines.report  # noqa: F401  (imported before the fork: the worker starts with it)

    p = ParsePool(1, BUDGET, context="fork")
    yield p
    p.close()


@pytest.mark.parametrize("kind", sorted(fuzzing.SEEDS))
def test_a_mutated_report_ends_as_a_well_formed_parse(pool, kind):
    seen = {}

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(fuzzing.documents(kind))
    def check(doc):
        body, ctype = doc
        outcome = pool.run(fuzzing.parse, (body, ctype))
        if outcome.status == "ok":
            seen[outcome.value[0]["parse_status"]] = seen.get(outcome.value[0]["parse_status"], 0) + 1
        assert not fuzzing.problems(outcome, PEAK_MB), (kind, len(body), body[:64])

    check()
    assert sum(seen.values()) == EXAMPLES and pool.deaths == 0, seen
