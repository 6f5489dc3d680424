"""Parser accuracy on real reports, scored by the shared scorer: CI fails when it drops."""
import re

import pytest
import subprocess
import sys

from conftest import BIN, CORPUS, FIXTURES, SHARED, needs_corpus

SCORER = SHARED / "tools" / "score_parse.py"


def score(expected):
    proc = subprocess.run([sys.executable, str(SCORER), str(expected), "--min-cells", "0.995", "--min-fields", "0.98",
                           "--cmd", f"{BIN / 'ogi-archive'} parse {{file}}"], capture_output=True, text=True, timeout=600)
    last = proc.stdout.strip().splitlines()[-1]
    m = re.search(r"checks (\d+)/(\d+)", last)
    return proc, last, (int(m.group(1)), int(m.group(2)))


@needs_corpus()
def test_development_corpus_at_the_bar():
    proc, last, (ok, n) = score(CORPUS / "expected.json")
    assert proc.returncode == 0, proc.stdout
    assert ok == n, f"failing checks differ from the expected ones:\n{proc.stdout}"


def expected_unit(cell):
    """A cell's unit as expected: the case's, else 万元 for amounts (report-schema.md), else none."""
    return cell["unit"] if "unit" in cell else "万元" if cell["column"] == "amount" else None


def wrong_cells(case, report):
    """(key, got, expected) for each expected cell whose value or unit differs."""
    got = {(c["table"], c["row"], c["column"]): (c["value"], c["unit"]) for c in report["cells"]}
    out = []
    for c in case.get("cells", []):
        key = (c["table"], c["row"], c["column"])
        if got.get(key) != (c["value"], expected_unit(c)):
            out.append((key, got.get(key), (c["value"], expected_unit(c))))
    return out


@needs_corpus()
def test_development_corpus_units():
    """The scorer compares values; the units (万元 for money, none for counts) are compared here."""
    import json

    from pipelines.report import parse_bytes

    cases = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))["cases"]
    for case in cases:
        path = CORPUS / case["file"]
        ctype = {".md": "text/markdown", ".txt": "text/plain"}.get(path.suffix)
        report = parse_bytes(path.read_bytes(), content_type=ctype)
        assert not [w for w in wrong_cells(case, report) if w[1] is not None and w[1][0] == w[2][0]], case["file"]


def _fixture_cases():
    import json

    doc = json.loads((FIXTURES / "reports" / "expected.json").read_text(encoding="utf-8"))
    return doc["cases"]


FIELDS = ("title", "report_year", "agency", "published_at", "source", "script", "format_version")


@pytest.mark.parametrize("case", _fixture_cases(), ids=lambda c: c["file"])
def test_project_fixtures_parse_exactly(case):
    """Real reports' layouts and figures (tests/fixtures/reports/SOURCES.md), checked without ../shared."""
    from pipelines.report import parse_bytes

    path = FIXTURES / "reports" / case["file"]
    ctype = {".md": "text/markdown", ".txt": "text/plain"}.get(path.suffix)
    report = parse_bytes(path.read_bytes(), content_type=ctype)
    assert not wrong_cells(case, report)
    printed = {(c["table"], c["row"], c["column"]) for c in case.get("cells", [])}
    extra = [c for c in report["cells"] if (c["table"], c["row"], c["column"]) not in printed and not c["uncertain"]]
    assert not extra or not case.get("cells"), extra  # a cell the report does not print is a wrong one
    for key in FIELDS:
        if key in case:
            want, value = case[key], report[key]
            if key == "published_at":
                assert (value or "").startswith(want), key
            else:
                assert value in want if isinstance(want, list) else value == want, key  # a list: any of them
    if "sections" in case:
        assert len(report["sections"]) == case["sections"]
    failing = sorted(f"{c['rule']}:{c['subject']}" for c in report["checks"] if not c["ok"])
    assert failing == sorted(case.get("checks_failing", []))
