"""Giants and bombs at the sizes of issue 9, each crawled alone from a site on 127.0.0.1:
what it ends as, how long the whole crawl takes, and the peak memory of the crawl and every
process it starts (the sum of their PSS, sampled every 100 ms).

    a DOCX whose XML inflates to 1.1 GB           (was: past 13 GB of memory)
    a 96 MB HTML report                            (was: 2.7 GB across processes)
    a table of 10,000 columns                      (was: past 60 s)
    a PDF of 3,000 pages                           (was: past 60 s)
    an XLSX with one cell at XFD1048576            (was: SIGABRT, every site of the run failed)

    python benchmarks/bench_giants.py
"""
import pathlib
import sqlite3
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks"), str(ROOT)]

import hostile  # noqa: E402
from bench_crawl import BIN, run  # noqa: E402
from sites_server import serve, site_entry  # noqa: E402

GIANTS = [
    ("DOCX inflating to 1.1 GB", lambda: hostile.docx_bomb(1100)),
    ("96 MB HTML report", lambda: hostile.html_giant(96)),
    ("10,000-column table", lambda: hostile.html_wide(10_000, rows=20)),
    ("3,000-page PDF", lambda: hostile.pdf_pages(3000)),
    ("XLSX cell at XFD1048576", hostile.xlsx_far_cell),
]


def main():
    with tempfile.TemporaryDirectory(prefix="ogi-giants-") as tmp:
        tmp = pathlib.Path(tmp)
        print(f"{'document':26} {'bytes':>12}  {'crawl s':>7}  {'peak MB':>7}  outcome")
        for label, make in GIANTS:
            name, body = make()
            site = tmp / name.split(".")[0]
            (site / "nb").mkdir(parents=True)
            (site / "nb" / name).write_bytes(body)
            (site / "nb" / "index.html").write_text(
                f"<html><head><meta charset='utf-8'></head><body><a href='/nb/{name}'>某县2024年政府信息公开工作年度报告"
                f"</a></body></html>", encoding="utf-8")
            server, base = serve(site, {})
            registry = site / "sites.toml"
            registry.write_text(site_entry("giant", "某县人民政府", [f"{base}/nb/index.html"]), encoding="utf-8")
            db = site / "a.db"
            try:
                seconds, peak, _ = run([str(BIN / "ogi-archive"), "crawl", "--sites", str(registry), "--db", str(db),
                                        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"], site / "log")
            finally:
                server.shutdown()
                server.server_close()
            conn = sqlite3.connect(db)
            status, why = conn.execute("select parse_status, parse_error from reports").fetchone()
            conn.close()
            print(f"{label:26} {len(body):>12,}  {seconds:7.1f}  {peak:7.0f}  {status}: {(why or '').splitlines()[0]}",
                  flush=True)


if __name__ == "__main__":
    main()
