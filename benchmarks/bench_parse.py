"""Median parse time per report, by input kind (HTML, text, PDF).

Targets (issue 3): HTML/text ≤ 10 ms, PDF ≤ 100 ms per 6-page report (pypdfium2 grids; 300 ms with
pdfplumber), on a 2-core machine.
Inputs: the demo mirror's report pages, the shared corpus when it is beside the repo, and
the project's fixtures.  Each file is parsed --repeat times after one warm-up; the figure
is the median over files of each file's median.

    python benchmarks/bench_parse.py [--repeat 7]
"""
import argparse
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.document import load_document, sniff_kind  # noqa: E402
from pipelines.report import parse_document  # noqa: E402


def inputs():
    files = []
    mirror = ROOT / "crawler/demo/mirror"
    files += [p for p in mirror.rglob("t2*.html")] + list(mirror.rglob("art_*.html")) + list(mirror.rglob("*.shtml"))
    files += list(mirror.rglob("*.pdf"))
    for d in (ROOT.parent / "shared/corpus", ROOT / "tests/fixtures/reports"):
        if d.exists():
            files += [p for p in d.iterdir() if p.suffix in (".txt", ".md", ".pdf", ".html")]
    return files


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    a = ap.parse_args()
    by_kind = {}
    for path in inputs():
        body = path.read_bytes()
        ctype = {".md": "text/markdown", ".txt": "text/plain"}.get(path.suffix)
        kind = sniff_kind(body, ctype, str(path))
        parse_document(load_document(body, ctype, str(path)))  # warm-up
        times = []
        for _ in range(a.repeat):
            t = time.perf_counter()
            report = parse_document(load_document(body, ctype, str(path)))
            times.append(time.perf_counter() - t)
        pages = None
        if kind == "pdf":
            import pypdfium2
            pages = len(pypdfium2.PdfDocument(body))
        if report["cells"]:  # reports with tables only: news pages and READMEs are not what is measured
            by_kind.setdefault(kind, []).append((statistics.median(times), path, pages, len(report["cells"])))
    targets = {"html": 0.010, "text": 0.010, "pdf": 0.100}
    print(f"{'kind':6} {'files':>5} {'median ms':>10} {'max ms':>8}  target")
    for kind, rows in sorted(by_kind.items()):
        med = statistics.median(r[0] for r in rows)
        worst = max(rows, key=lambda r: r[0])
        print(f"{kind:6} {len(rows):5d} {med * 1000:10.1f} {worst[0] * 1000:8.1f}  ≤ {targets.get(kind, 0) * 1000:.0f} ms"
              + ("  ok" if med <= targets.get(kind, 1e9) else "  OVER"))
    for kind, rows in sorted(by_kind.items()):
        for t, path, pages, ncells in sorted(rows, key=lambda r: -r[0]):
            extra = f", {pages} pages, {t / pages * 1000:.0f} ms/page" if pages else ""
            print(f"  {kind:5} {t * 1000:7.1f} ms  {ncells:3d} cells  {path.relative_to(path.parent.parent)}{extra}")


if __name__ == "__main__":
    main()
