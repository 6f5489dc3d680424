"""Normalisation cost per report: script detection and t2s, title, year, agency and region,
source, every date candidate.  Target (issue 4): under 2 ms for a 10,000-character report.

The input is the demo mirror's traditional-script report page (HTML, the seed's figures)
padded or cut to 10,000 characters of text, and each demo report page as it is.  The
document is loaded once (that is the parser's cost, measured by bench_parse.py); what is
timed is ``pipelines.report.normalise`` on it.  One-time start-up (loading OpenCC and the
division tables) is reported separately.

    python benchmarks/bench_normalise.py [--repeat 200]
"""
import argparse
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=200)
    a = ap.parse_args()
    t = time.perf_counter()
    from pipelines.document import load_document
    from pipelines.report import normalise

    page = ROOT / "crawler/demo/mirror/hn_huaihua_czj/zwgk/xxgknb/202101/t20210125_5873012.html"
    doc = load_document(page.read_bytes(), "text/html", str(page))
    normalise(doc, url="http://czj.huaihua.gov.cn/zwgk/xxgknb/202101/t20210125_5873012.html", site_region="431200")
    print(f"start-up (imports, OpenCC, division tables, first call): {(time.perf_counter() - t) * 1000:.0f} ms")

    # a 10,000-character report: the page's rows repeated until the text is that long
    rows, n = [], 0
    while n < 10_000:
        for r in doc.rows:
            rows.append(r)
            n += len(r.text) + 1
            if n >= 10_000:
                break
    doc10k = type(doc)(kind=doc.kind, rows=rows, title=doc.title, meta=doc.meta, catalog=doc.catalog,
                       page_text=doc.page_text)
    cases = {"10,000-char traditional report": doc10k}
    for p in sorted((ROOT / "crawler/demo/mirror").rglob("*.*htm*")):
        d = load_document(p.read_bytes(), "text/html", str(p))
        if "年度报告" in (d.meta.get("ArticleTitle") or d.title or "") or "年度報告" in (d.title or ""):
            cases[p.name] = d
    print(f"{'input':44} {'chars':>7} {'median ms':>10} {'p95 ms':>8}")
    for name, d in cases.items():
        times = []
        for _ in range(a.repeat):
            t = time.perf_counter()
            normalise(d, url="http://x.gov.cn/zwgk/xxgknb/202101/t20210125_5873012.html", list_date="2021-01-25",
                      last_modified="Mon, 25 Jan 2021 06:59:00 GMT", site_region="431200")
            times.append(time.perf_counter() - t)
        times.sort()
        print(f"{name:44} {len(d.text):7d} {statistics.median(times) * 1000:10.2f} {times[int(len(times) * .95)] * 1000:8.2f}"
              + ("  (target < 2 ms)" if name.startswith("10,000") else ""))


if __name__ == "__main__":
    main()
