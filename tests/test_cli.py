import json

import pytest

from conftest import CORPUS, ROOT, needs_corpus, ogi

SEED = CORPUS / "000_6f0d1c700e1760a4.txt"
TRAD = ROOT / "crawler/demo/mirror/hn_huaihua_czj/zwgk/xxgknb/202101/t20210125_5873012.html"
SCHEMA_KEYS = {"title", "title_original", "report_year", "agency", "published_at", "published_from", "source",
               "script", "format_version", "extracted_by", "sections", "cells", "checks", "warnings"}


def test_parse_prints_schema_json_for_an_html_page():
    proc = ogi("parse", TRAD)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert set(report) == SCHEMA_KEYS
    assert report["format_version"] == "2019" and report["published_at"] == "2021-01-25T14:59:00+08:00"
    cell = report["cells"][0]
    assert set(cell) == {"table", "row", "column", "value", "unit", "raw", "label", "header", "via", "uncertain",
                         "confidence"}
    assert report["extracted_by"] == "text" and cell["confidence"] is None
    # provenance: the printed label and header (simplified), what the row was read from
    new = next(c for c in report["cells"] if (c["row"], c["column"]) == ("new_received", "natural_person"))
    assert "本年新收" in new["label"] and new["header"] == "自然人" and new["via"] == "line"  # a table flattened into lines
    assert all(c["uncertain"] is False for c in report["cells"])
    assert set(report["checks"][0]) == {"rule", "subject", "ok", "expected", "actual"}
    assert all(set(s) == {"number", "heading", "text"} for s in report["sections"])


@needs_corpus()
def test_parse_the_seed():
    proc = ogi("parse", SEED)
    report = json.loads(proc.stdout)
    assert report["published_at"] == "2021-01-25T14:59:00+08:00" and report["published_from"] == "page"
    assert report["source"] == "市财政局" and report["agency"] == "怀化市财政局" and report["report_year"] == 2020
    assert report["script"] == "traditional" and not any(ch in "".join(s["text"] for s in report["sections"]) for ch in "麵製係隻")


def test_parse_a_missing_file_exits_2_with_a_message(tmp_path):
    proc = ogi("parse", tmp_path / "nope.pdf")
    assert proc.returncode == 2 and "cannot read" in proc.stderr and proc.stdout == ""


@pytest.mark.parametrize("name, body, why", [
    ("empty.pdf", b"", "empty file"),
    ("blank.md", b" \n\t\n", "blank file"),
    ("noise.bin", bytes(range(256)) * 20, "binary data in no format"),
])
def test_parse_of_an_empty_or_binary_file_exits_2_with_one_line(tmp_path, name, body, why):
    (tmp_path / name).write_bytes(body)
    proc = ogi("parse", tmp_path / name)
    assert proc.returncode == 2 and proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"ogi-archive parse: {tmp_path / name}: {why}"), line


@pytest.mark.parametrize("name, body", [
    ("README.md", "# ogi-archive\n\n| file | size |\n|---|---|\n| a.md | 1200 |\n| b.md | 2400 |\n"),
    ("news.html", "<html><body><h1>我区召开安全生产工作会议</h1><p>12月3日，会议部署了2023年工作。</p>"
                  "<table><tr><td>参会人数</td><td>120</td></tr></table></body></html>"),
])
def test_parse_of_a_non_report_prints_no_cells_and_says_why(tmp_path, name, body):
    (tmp_path / name).write_text(body, encoding="utf-8")
    proc = ogi("parse", tmp_path / name)
    assert proc.returncode == 0 and json.loads(proc.stdout)["cells"] == []
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"ogi-archive parse: {tmp_path / name}: no cells: not an annual report"), line


def test_an_html_fragment_is_read_as_html(tmp_path):
    """A report body as a CMS API returns it: no <html> or <body>, starting with <p style=…>."""
    table = "".join(f"<tr><td>{label}</td><td>{a}</td><td>{b}</td><td>{c}</td></tr>"
                    for label, a, b, c in (("规章", 0, 0, 3), ("行政规范性文件", 5, 4, 16)))
    body = ('<p style="text-indent:2em"><span>某某镇2022年政府信息公开工作年度报告</span></p>'
            '<p style="text-indent:2em">二、主动公开政府信息情况</p><table><tr><td colspan="4">第二十条第（一）项</td></tr>'
            "<tr><td>信息内容</td><td>本年制发件数</td><td>本年废止件数</td><td>现行有效件数</td></tr>" + table + "</table>")
    (tmp_path / "body.txt").write_text(body, encoding="utf-8")
    report = json.loads(ogi("parse", tmp_path / "body.txt").stdout)
    assert report["title"] == "某某镇2022年政府信息公开工作年度报告"
    got = {(c["row"], c["column"]): c["value"] for c in report["cells"]}
    assert got[("normative_documents", "valid")] == 16 and not any("<" in w for w in report["warnings"])


def test_parse_an_unreadable_pdf_exits_5_and_still_prints_json(tmp_path):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 truncated")
    proc = ogi("parse", bad)
    assert proc.returncode == 5 and "error" in proc.stderr
    assert json.loads(proc.stdout)["cells"] == []


def test_sites_list_prints_the_registry():
    proc = ogi("sites", "list", "--sites", ROOT / "crawler/demo/sites.toml")
    assert proc.returncode == 0 and "hn_huaihua_czj" in proc.stdout and "怀化市财政局" in proc.stdout


def test_a_bad_registry_entry_is_refused_before_any_request(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[site]]\nid = "Bad Id"\nname = "x"\nstart_urls = ["http://x/"]\n', encoding="utf-8")
    proc = ogi("crawl", "--sites", bad, "--db", tmp_path / "a.db")
    assert proc.returncode == 2 and "bad.toml" in proc.stderr and "Bad Id" in proc.stderr
    assert not (tmp_path / "a.db").exists()


def test_crawl_an_unknown_site_exits_2(tmp_path):
    proc = ogi("crawl", "--sites", ROOT / "crawler/demo/sites.toml", "--site", "no_such_site", "--db", tmp_path / "a.db")
    assert proc.returncode == 2 and "no_such_site" in proc.stderr


def test_crawl_a_site_that_is_down_exits_3_naming_it(tmp_path):
    reg = tmp_path / "down.toml"
    reg.write_text('[[site]]\nid = "xx_down"\nname = "停机的网站"\ncms = "trs"\nstart_urls = ["http://127.0.0.1:9/zfxxgknb/index.html"]\n',
                   encoding="utf-8")
    proc = ogi("crawl", "--sites", reg, "--db", tmp_path / "a.db", "-s", "RETRY_TIMES=0", "-s", "ROBOTSTXT_OBEY=False")
    assert proc.returncode == 3 and "xx_down" in proc.stderr


def _truncated(path, demo):
    data = demo.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def _other_sqlite(path, demo):
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("create table notes (text)")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("make, why", [
    (lambda path, demo: None, "no archive at"),
    (lambda path, demo: path.mkdir(), "is not an archive: it is a folder"),
    (lambda path, demo: path.write_bytes(b""), "is not an archive: it is empty"),
    (lambda path, demo: path.write_text("年报 " * 1000, encoding="utf-8"), "is not an archive: it is no SQLite file"),
    (lambda path, demo: path.write_bytes(demo.read_bytes()[:50]), "is not an archive: it is truncated"),
    (_truncated, "is not an archive: it is truncated"),
    (_other_sqlite, "is not an archive: an SQLite file without the archive's tables"),
], ids=["missing", "folder", "empty", "text", "a header cut short", "half an archive", "another database"])
@pytest.mark.parametrize("command", [("serve",), ("export", "csv", "--out", "out", "--db")])
def test_a_file_that_is_no_archive_is_one_line_and_exit_2(demo_db, tmp_path, make, why, command):
    path = tmp_path / "archive.db"
    make(path, demo_db[0])
    proc = ogi(*command, path, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert why in line and "Traceback" not in proc.stderr, line
    assert not (tmp_path / "out").exists()


def test_serve_waits_for_no_crawl(demo_db, tmp_path):
    """Immutable serving reads a still file: while a crawl holds the archive, one line and exit 4."""
    import shutil

    from crawler.runner import ArchiveLock

    db = tmp_path / "archive.db"
    shutil.copy(demo_db[0], db)
    with ArchiveLock(db):
        proc = ogi("serve", db)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "is being written (a crawl or re-parse holds it)" in line and "--live" in line


def test_scrapy_list_works_from_the_repo_root():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert {"trs", "hanweb", "catalog", "generic"} <= set(proc.stdout.split())


def test_a_crawl_imports_only_the_installed_package_whatever_its_working_folder(tmp_path):
    """A folder holding a pipelines/ or crawler/ of its own (a user's scripts, another
    checkout) must not have its code run by the archiver or the parse workers."""
    for name in ("pipelines", "crawler", "archive"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(
            f"import pathlib\npathlib.Path({str(tmp_path / ('imported-' + name))!r}).write_text('x')\n"
            f"raise SystemExit('the wrong {name} was imported')\n")
    (tmp_path / "pipelines.py").write_text("raise SystemExit('the wrong pipelines was imported')\n")
    proc = ogi("demo", "--db", tmp_path / "a.db", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not list(tmp_path.glob("imported-*"))
    assert "5 in the archive" in proc.stdout


@pytest.mark.parametrize("setting", ["OGI_CONCURRENT_SITES=abc", "OGI_PARSE_WORKERS=2.5", "DOWNLOAD_TIMEOUT=abc",
                                     "OGI_LIMITS=notjson", 'OGI_LIMITS={"pages": "x"}', 'OGI_LIMITS={"foo": 1}',
                                     "LOG_FILE=/nonexistent/folder/x.log", "OGI_REFETCH=maybe"])
def test_a_bad_setting_is_one_line_and_exit_2(tmp_path, setting):
    proc = ogi("crawl", "--db", tmp_path / "a.db", "-s", setting)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"ogi-archive: bad setting -s {setting}: ")
    assert not (tmp_path / "a.db").exists()


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999/", "ftp://example.gov.cn/"])
def test_a_bad_start_url_is_one_line_and_exit_2(tmp_path, url):
    proc = ogi("crawl", "--db", tmp_path / "a.db", "--start-url", url)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("ogi-archive crawl: bad start URL: ")


def test_the_lock_holds_through_a_symlink(tmp_path):
    """Two paths to one archive are one archive: a crawl through a symlink waits its turn (exit 4)."""
    from crawler.runner import ArchiveLock

    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with ArchiveLock(tmp_path / "real" / "a.db"):
        proc = ogi("crawl", "--db", tmp_path / "link" / "a.db", "--start-url", "http://127.0.0.1:9/")
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "another crawl is running" in proc.stderr
