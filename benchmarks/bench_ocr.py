"""OCR of image-only reports: seconds a page, peak memory, and cells read right.

Targets (issue 13): ≤ 3 s a page on a 2-core machine, ≤ 1.5 GB of memory.
Method: report pages are rendered from known tables (tests/ocr_pages.py: both national
formats, a sans and a serif Noto CJK font), made to look scanned (turned, blurred, grey,
JPEG-compressed) and put into PDFs without a text layer, one report (two pages) a PDF.
Each PDF is parsed by the real command, ``ogi-archive parse`` (a worker process under the
crawl's budget, the OCR extra's models loaded in it), as a user would.  Figures:

- s a page: the OCR's own time a page, as the parse reports it in its warnings (rendering
  the page, detection, recognition, rebuilding the table; the model's loading included in
  the first page);
- command s a page: the whole command's time (start, imports, loading, parse) over its pages;
- peak MB: the peak memory of the command's process tree (the sum of its processes' PSS,
  sampled every 100 ms);
- cells: cells read right of the known cells, and wrong cells not marked uncertain (the bar is 0).

    python benchmarks/bench_ocr.py [--quick] [--json]

``--quick`` reads one report (two pages): a smoke test.
"""
import argparse
import io
import json
import pathlib
import re
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from bench_crawl import BIN, run  # noqa: E402
from ocr_pages import FONTS_MISSING, SANS, SERIF, fonts_present, known_values, render_report, scanned  # noqa: E402

REPORTS = [("2019", SANS, 1), ("2021", SERIF, 2), ("2019", SERIF, 3), ("2021", SANS, 4)]
TARGET_SECONDS, TARGET_MB = 3.0, 1536


def scanned_pdf(fmt, font, seed):
    expected = known_values(fmt, seed)
    pages = [scanned(p, angle=a, blur=1.0, quality=40, seed=seed + i)
             for i, (p, a) in enumerate(zip(render_report(fmt, expected, font), (0.7, -1.1)))]
    buf = io.BytesIO()
    first, *rest = [p.convert("RGB") for p in pages]
    first.save(buf, "PDF", resolution=150, save_all=True, append_images=rest)
    return buf.getvalue(), expected, len(pages)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one report of two pages: a smoke test")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON instead of the table")
    a = ap.parse_args()
    from pipelines.ocr import MISSING, available

    if not available():
        raise SystemExit(f"bench_ocr: {MISSING}")
    if not fonts_present():
        raise SystemExit(f"bench_ocr: {FONTS_MISSING}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="ogi-bench-ocr-") as tmp:
        for fmt, font, seed in REPORTS[:1] if a.quick else REPORTS:
            body, expected, n = scanned_pdf(fmt, font, seed)
            path = pathlib.Path(tmp) / f"report_{fmt}_{seed}.pdf"
            path.write_bytes(body)
            seconds, peak, out = run([str(BIN / "ogi-archive"), "parse", str(path), "--seconds", "600"],
                                     pathlib.Path(tmp) / f"log_{seed}")
            report = json.loads(out)
            said = next((w for w in report["warnings"] if "read by OCR" in w), "")
            m = re.search(r"([\d.]+) s a page", said)
            got = {(c["table"], c["row"], c["column"]): c for c in report["cells"]}
            right = sum(1 for k, v in expected.items() if k in got and abs(got[k]["value"] - v) < 1e-9)
            silent = sum(1 for k, c in got.items() if (k not in expected or abs(c["value"] - expected[k]) > 1e-9)
                         and not c["uncertain"])
            rows.append({"report": f"{fmt} {font.stem.split('-')[0].replace('NotoS', 'S')}", "pages": n,
                         "ocr_s_per_page": float(m.group(1)) if m else None, "command_s_per_page": seconds / n,
                         "peak_mb": peak, "cells_right": right, "cells": len(expected), "silent_errors": silent})
    pages = sum(r["pages"] for r in rows)
    summary = {
        "pages": pages,
        "ocr_s_per_page": sum(r["ocr_s_per_page"] * r["pages"] for r in rows) / pages,
        "command_s_per_page": sum(r["command_s_per_page"] * r["pages"] for r in rows) / pages,
        "peak_mb": max(r["peak_mb"] for r in rows),
        "cells_right": sum(r["cells_right"] for r in rows), "cells": sum(r["cells"] for r in rows),
        "silent_errors": sum(r["silent_errors"] for r in rows),
        "target_s_per_page": TARGET_SECONDS, "target_mb": TARGET_MB,
    }
    if a.json:
        print(json.dumps({"reports": rows, "summary": summary}, indent=1))
        return
    print(f"{'report':14} {'pages':>5} {'OCR s/page':>10} {'cmd s/page':>10} {'peak MB':>8} {'cells right':>12} {'silent':>6}")
    for r in rows:
        print(f"{r['report']:14} {r['pages']:5} {r['ocr_s_per_page']:10.2f} {r['command_s_per_page']:10.2f} "
              f"{r['peak_mb']:8.0f} {r['cells_right']:>6}/{r['cells']:<5} {r['silent_errors']:6}")
    s = summary
    print(f"{'all':14} {s['pages']:5} {s['ocr_s_per_page']:10.2f} {s['command_s_per_page']:10.2f} {s['peak_mb']:8.0f} "
          f"{s['cells_right']:>6}/{s['cells']:<5} {s['silent_errors']:6}")
    print(f"targets: ≤ {TARGET_SECONDS:g} s a page ({'met' if s['ocr_s_per_page'] <= TARGET_SECONDS else 'NOT met'}), "
          f"≤ {TARGET_MB} MB ({'met' if s['peak_mb'] <= TARGET_MB else 'NOT met'})")


if __name__ == "__main__":
    main()
