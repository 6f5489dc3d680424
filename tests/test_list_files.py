"""Reports published as files linked straight from a 年报 list, with no page of their own
(tests/sites/list_files, README.md there): each is archived under the rules of a report
page (the site's hosts, the budget, incremental runs, failures recorded), with the list's
title and date, and no other file of the list is asked for."""
import json

import pytest

from conftest import ogi, rows
from sites_server import SITES, fixture_entry, manifest, serve

SITE = manifest()["list_files"]
REPORTS = {r["path"]: r for r in SITE["reports"]}
FAST = ("-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0")


def path_of(url):
    return "/" + url.split("/", 3)[3]


@pytest.fixture()
def site(tmp_path):
    server, base = serve(SITES / "list_files")
    registry = tmp_path / "sites.toml"
    registry.write_text(fixture_entry("list_files", base), encoding="utf-8")
    yield server, registry, tmp_path / "archive.db"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    server, base = serve(SITES / "list_files")
    tmp = tmp_path_factory.mktemp("list_files")
    registry = tmp / "sites.toml"
    registry.write_text(fixture_entry("list_files", base), encoding="utf-8")
    proc = ogi("crawl", "--sites", registry, "--db", tmp / "archive.db", *FAST)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield server, registry, tmp / "archive.db"
    server.shutdown()
    server.server_close()


def reports(db):
    return {path_of(r["url"]): r for r in rows(db, "select * from reports")}


def test_each_file_is_a_report_with_the_lists_title_and_date(crawled):
    *_, db = crawled
    got = reports(db)
    assert set(got) == set(REPORTS)
    for path, want in REPORTS.items():
        r = got[path]
        assert r["parse_status"] == "ok", (path, r["parse_error"])
        assert (r["list_title"], r["title"], r["report_year"], r["agency"], r["kind"]) == (
            want["list_title"], want["title"], want["report_year"], want["agency"], want["format"]), path
        # the date beside the link is the publication date (the file itself has none)
        candidates = json.loads(r["published_candidates"])
        assert {"from": "list", "value": want["list_date"], "raw": want["list_date"]} in candidates, path
        assert (r["published_at"], r["published_from"]) == (want["published"], "list"), path


def test_a_file_behind_a_url_without_extension_is_known_by_what_it_is(crawled):
    """/attach/1/<id> (application/pdf) and download.jsp?fileId=… (octet-stream with a
    Content-Disposition): fetched as the list's report links, archived as the files they are."""
    *_, db = crawled
    captures = {path_of(c["url"]): c for c in rows(db, "select url, role, content_type from captures")}
    extensionless = [p for p, r in REPORTS.items() if r.get("extensionless")]
    assert len(extensionless) == 2
    for path in extensionless:
        assert captures[path]["role"] == "report"
        assert reports(db)[path]["kind"] == REPORTS[path]["format"]
    assert captures["/attach/1/20240118093512_6604"]["content_type"] == "application/pdf"


def test_no_other_file_of_the_list_is_asked_for(crawled):
    server, _, db = crawled
    asked = [p for _, p, _ in server.requests]
    for path in SITE["non_reports"]:
        assert path not in asked, path
    # the 2020 report is linked both as its page and as its PDF: one report, by its page, the PDF fetched once
    page = "/xxgknb/202101/t20210122_4417.html"
    assert asked.count(page) == 1 and asked.count(REPORTS[page]["attachment"]) == 1
    assert {c["role"] for c in rows(db, "select role from captures where url like ?", "%" + page)} == {"page"}


def test_a_second_run_asks_for_no_file_and_a_recheck_is_conditional(crawled):
    server, registry, db = crawled
    documents = set(REPORTS) | {r["attachment"] for r in REPORTS.values()}
    captures = rows(db, "select count(*) as n from captures where role != 'list'")[0]["n"]
    server.clear_log()
    proc = ogi("crawl", "--sites", registry, "--db", db, *FAST)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert server.requests and not [p for _, p, _ in server.requests if p in documents]
    assert "0 new, 0 changed, 6 unchanged" in proc.stdout
    # past OGI_RECHECK_DAYS each is asked for again with its validators, and is unchanged (304)
    server.clear_log()
    proc = ogi("crawl", "--sites", registry, "--db", db, *FAST, "-s", "OGI_RECHECK_DAYS=0")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    asked = {p: s for _, p, s in server.requests if p in documents}
    assert asked == {p: 304 for p in REPORTS}  # the 2020 page is unchanged: so is the PDF it announces
    assert rows(db, "select count(*) as n from captures where role != 'list'")[0]["n"] == captures
    assert "0 new, 0 changed, 6 unchanged" in proc.stdout


def test_a_file_that_fails_is_recorded_and_archived_with_its_title_when_it_comes_back(site):
    server, registry, db = site
    pdf, download = "/attach/0/9f2c4e7a1b3d5f60.pdf", "/attachment/download.jsp?fileId=2023011600017"
    server.behaviours["fail"] = {pdf: 500, "/attachment/download.jsp": 503}
    proc = ogi("crawl", "--sites", registry, "--db", db, *FAST)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    failures = {path_of(f["url"]): f for f in rows(db, "select * from fetch_failures")}
    assert set(failures) == {pdf, download}
    assert (failures[pdf]["fetch_role"], failures[pdf]["status"]) == ("attachment", 500)
    assert (failures[download]["fetch_role"], failures[download]["status"]) == ("report", 503)
    assert pdf not in reports(db) and download not in reports(db)
    server.behaviours["fail"].clear()
    server.clear_log()
    proc = ogi("crawl", "--sites", registry, "--db", db, *FAST)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not [p for _, p, _ in server.requests if p in set(REPORTS) - {pdf, download}]  # only what failed
    got = reports(db)
    for path in (pdf, download):  # asked for again as they were asked for: with the list's title and date
        assert got[path]["list_title"] == REPORTS[path]["list_title"]
        assert got[path]["published_at"] == REPORTS[path]["list_date"]
    assert all(f["resolved_at"] for f in rows(db, "select resolved_at from fetch_failures"))


def test_files_count_against_the_document_budget(site):
    server, registry, db = site
    proc = ogi("crawl", "--sites", registry, "--db", db, *FAST, "-s", "OGI_MAX_DOCUMENTS=3")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    documents = set(REPORTS) | {r["attachment"] for r in REPORTS.values()}
    assert len([p for _, p, _ in server.requests if p in documents]) == 3
    assert len(reports(db)) <= 3


# ---- the list's links, read without a crawl ------------------------------------------------

def list_requests(markup, url="http://www.example.gov.cn/xxgknb/index.html"):
    """The report requests a list page of ``markup`` gives: [(path, callback name, list title, list date)]."""
    import scrapy
    from scrapy.http import HtmlResponse
    from scrapy.utils.test import get_crawler

    from crawler.registry import adhoc_site
    from crawler.spiders.families import GenericSpider

    crawler = get_crawler(GenericSpider)
    spider = crawler._create_spider(site=adhoc_site(url))
    response = HtmlResponse(url, body=f"<html><body>{markup}</body></html>".encode(), encoding="utf-8",
                            request=scrapy.Request(url))
    out = []
    for r in spider.parse(response, depth=0):
        if isinstance(r, scrapy.Request) and r.callback.__name__ != "parse":
            meta = r.cb_kwargs.get("listing") or r.cb_kwargs.get("page")
            out.append((path_of(r.url), r.callback.__name__, meta["list_title"], meta["list_date"]))
    return out


def test_a_file_and_its_page_in_one_list_item_are_one_report_but_in_two_items_two():
    row = ('<li><a href="/nb/t1.html">某县2020年政府信息公开工作年度报告</a> '
           '<a href="/nb/P1.pdf" title="某县2020年政府信息公开工作年度报告">[PDF下载]</a><span>2021-01-22</span></li>')
    assert list_requests(f"<ul>{row}</ul>") == [
        ("/nb/t1.html", "parse_report", "某县2020年政府信息公开工作年度报告", "2021-01-22")]
    # the same title on two items of the list: two documents (a page that fails must not cost the file)
    rows_ = ('<li><a href="/nb/t1.html">某县2020年政府信息公开工作年度报告</a><span>2021-01-22</span></li>'
             '<li><a href="/nb/P1.pdf">某县2020年政府信息公开工作年度报告</a><span>2021-01-22</span></li>')
    assert [(p, cb) for p, cb, _, _ in list_requests(f"<ul>{rows_}</ul>")] == [
        ("/nb/t1.html", "parse_report"), ("/nb/P1.pdf", "parse_attachment")]


def test_a_links_title_is_whichever_of_its_title_and_text_names_a_report():
    markup = """<table>
<tr><td><a href="/a/1.pdf" title="点击下载">某县财政局2023年政府信息公开工作年度报告</a></td><td>2024-01-30</td></tr>
<tr><td><a href="/a/2.docx">某县2022年政府信息公开工作年度报告.docx</a></td><td><span>2023-01-16</span></td></tr>
<tr><td><a href="/a/3" title="某县2021年政府信息公开工作年度报告">某县2021年政府信息公开工...</a></td><td>2022-01-24</td></tr>
<tr><td><a href="/a/4.pdf">某县2020年政府信息公开工作年度报告 2021-01-05</a></td></tr>
<tr><td><a href="/a/5.pdf">附件：关于做好2024年政府信息公开工作年度报告编制发布工作的通知.pdf</a></td><td>2024-01-10</td></tr>
</table>"""
    assert list_requests(markup) == [
        ("/a/1.pdf", "parse_attachment", "某县财政局2023年政府信息公开工作年度报告", "2024-01-30"),
        ("/a/2.docx", "parse_attachment", "某县2022年政府信息公开工作年度报告", "2023-01-16"),
        ("/a/3", "parse_report", "某县2021年政府信息公开工作年度报告", "2022-01-24"),
        ("/a/4.pdf", "parse_attachment", "某县2020年政府信息公开工作年度报告", "2021-01-05"),
    ]
