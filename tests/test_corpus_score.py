"""Parser accuracy on real reports, scored by the shared scorer: CI fails when it drops."""
import re
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
