"""The real spiders and pipelines on the bundled mirror, served on 127.0.0.1 and kept under
the demo sites' own fixed hosts (http://<site>.demo.ogi-archive.invalid/…)."""
import json
from urllib.parse import urlsplit

from conftest import CORPUS, ROOT, needs_corpus, rows
from crawler.demo import REGISTRY
from crawler.registry import load_sites

SITES = {s.id: s for s in load_sites(REGISTRY)}


def test_demo_archives_exactly_the_mirrors_reports(demo_db, manifest):
    db, _ = demo_db
    got = {r["url"].split("/", 3)[3]: r for r in rows(db, "select * from reports")}
    want = {m["path"].lstrip("/"): m for m in manifest["reports"]}
    assert set(got) == set(want)
    assert rows(db, "select count(*) n from reports")[0]["n"] == len(manifest["reports"])


def test_no_news_page_is_taken_for_a_report(demo_db, manifest):
    db, _ = demo_db
    urls = {r["url"] for r in rows(db, "select url from reports")}
    for path in manifest["non_reports"]:
        assert not any(u.endswith(path) for u in urls), path


def test_report_metadata_matches_the_mirror(demo_db, manifest):
    db, _ = demo_db
    got = {r["url"].split("/", 3)[3]: r for r in rows(db, "select * from reports")}
    for m in manifest["reports"]:
        r = got[m["path"].lstrip("/")]
        for key in ("title", "title_original", "report_year", "agency", "published_at", "script", "format_version"):
            assert r[key] == m[key], (m["path"], key, r[key], m[key])
        assert r["parse_status"] == "ok"


def test_traditional_page_keeps_original_and_simplified_text(demo_db):
    db, _ = demo_db
    (r,) = rows(db, "select * from reports where script = 'traditional'")
    assert r["published_at"] == "2021-01-25T14:59:00+08:00" and r["published_from"] == "page"
    assert "懷化市財政局" in r["text_original"] and "怀化市财政局" in r["text"]
    assert not any(ch in r["text"] for ch in "麵製係隻")
    assert any(ch in r["text_original"] for ch in "麵製係隻")


def test_pdf_attachment_is_captured_and_parsed(demo_db, manifest):
    db, _ = demo_db
    (m,) = [m for m in manifest["reports"] if m.get("attachment")]
    (cap,) = rows(db, "select * from captures where url like ?", "%" + m["attachment"])
    assert cap["content_type"].startswith("application/pdf")
    (r,) = rows(db, "select * from reports where url like ?", "%" + m["path"])
    assert r["kind"] == "pdf" and r["n_cells"] > 150


def test_every_capture_body_is_stored_with_its_sha256(demo_db):
    import hashlib

    db, _ = demo_db
    from archive.warc import open_reader

    read = open_reader(db)
    for cap in rows(db, "select id, sha256 from captures"):
        assert hashlib.sha256(read(cap["id"], verify=False).body).hexdigest() == cap["sha256"]
    assert rows(db, "select count(*) n from captures where sha256 not in (select sha256 from payloads)")[0]["n"] == 0
    # the database itself holds no body
    assert "blobs" not in {r["name"] for r in rows(db, "select name from sqlite_master where type = 'table'")}


def test_the_failing_checks_are_the_sources_errors(demo_db, manifest):
    db, _ = demo_db
    got = {r["url"].split("/", 3)[3]: r for r in rows(db, "select * from reports")}
    for m in manifest["reports"]:
        rid = got[m["path"].lstrip("/")]["id"]
        failing = sorted(f"{c['rule']}:{c['subject']}" for c in rows(db, "select * from checks where report_id = ? and ok = 0", rid))
        assert failing == sorted(m["checks_failing"]), m["path"]


@needs_corpus()
def test_demo_cells_equal_the_corpus_values_they_carry(demo_db, manifest):
    db, _ = demo_db
    expected = {c["file"]: c for c in json.loads((CORPUS / "expected.json").read_text())["cases"]}
    got = {r["url"].split("/", 3)[3]: r["id"] for r in rows(db, "select id, url from reports")}
    for m in manifest["reports"]:
        case = expected[m["facts_from"].rsplit("/", 1)[1]]
        cells = {(c["table_key"], c["row_key"], c["column_key"]): c["value"]
                 for c in rows(db, "select * from cells where report_id = ?", got[m["path"].lstrip("/")])}
        for c in case["cells"]:
            assert cells.get((c["table"], c["row"], c["column"])) == c["value"], (m["path"], c)


def test_run_is_recorded_with_counts(demo_db, manifest):
    db, proc = demo_db
    (run,) = rows(db, "select * from crawl_runs")
    assert run["status"] == "ok" and run["reports_new"] == len(manifest["reports"]) and run["finished_at"]
    assert set(json.loads(run["site_stats"])) == set(manifest["sites"])
    assert "reports:" in proc.stdout and "ogi-archive serve" in proc.stdout


def test_second_run_adds_no_report_and_keeps_every_capture(demo_db, tmp_path, manifest):
    import shutil

    from conftest import ogi

    db = tmp_path / "again.db"
    shutil.copy(demo_db[0], db)
    before = rows(db, "select count(*) n from captures")[0]["n"]
    proc = ogi("demo", "--db", db)
    assert proc.returncode == 0, proc.stderr
    assert rows(db, "select count(*) n from reports")[0]["n"] == len(manifest["reports"])
    run = rows(db, "select * from crawl_runs order by id desc limit 1")[0]
    assert run["reports_new"] == 0 and run["reports_unchanged"] == len(manifest["reports"])
    assert rows(db, "select count(*) n from captures")[0]["n"] > before


def test_demo_mirror_links_are_all_inside_the_mirror():
    import re

    mirror = ROOT / "crawler" / "demo" / "mirror"
    for page in mirror.rglob("*html"):
        for href in re.findall(r'href="([^"]+)"', page.read_text(encoding="utf-8")):
            assert not href.startswith(("http://", "https://")), (page, href)


def test_reports_have_regions_and_one_agency_id_across_years(demo_db):
    db, _ = demo_db
    hz = rows(db, "select agency, agency_id, report_year, county, province, level from reports "
                  "where county = '洪泽区' order by report_year")
    assert [r["report_year"] for r in hz] == [2023, 2024]
    assert {r["agency"] for r in hz} == {"洪泽区人民政府", "淮安市洪泽区人民政府"}
    assert len({r["agency_id"] for r in hz}) == 1 and hz[0]["province"] == "江苏省" and hz[0]["level"] == "county"
    assert rows(db, "select count(*) n from reports where province is null")[0]["n"] == 0


def test_sites_crawled_one_at_a_time_share_one_archiver(tmp_path, manifest):
    """OGI_CONCURRENT_SITES bounds the crawls open at once (a registry of thousands never
    opens thousands); the next site starts as one finishes, and one archiver serves all."""
    import subprocess

    from conftest import BIN

    db = tmp_path / "archive.db"
    proc = subprocess.run([str(BIN / "ogi-archive"), "demo", "--db", str(db), "-s", "OGI_CONCURRENT_SITES=1"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {r["url"].split("/", 3)[3] for r in rows(db, "select url from reports")} == \
        {m["path"].lstrip("/") for m in manifest["reports"]}
    (run,) = rows(db, "select * from crawl_runs")
    assert run["status"] == "ok" and set(json.loads(run["site_stats"])) == set(manifest["sites"])
    (log,) = (tmp_path / "logs").glob("crawl-*.log")
    text = log.read_text(encoding="utf-8")
    assert text.count("archiver started") == 1
    # one site after the other: in the log, each opens after the one before it has closed
    events = [line for line in text.splitlines() if "Spider opened" in line or "Spider closed" in line]
    assert ["opened" if "opened" in e else "closed" for e in events] == ["opened", "closed"] * len(manifest["sites"])


def test_the_summary_counts_what_the_archive_holds(demo_db):
    """The summary's figures come from the reports' own counts; they must agree with the
    cells and checks tables they stand for."""
    import re

    db, proc = demo_db
    cells = rows(db, "select count(*) n from cells")[0]["n"]
    failed = rows(db, "select count(*) n, count(distinct report_id) r from checks where ok = 0")[0]
    assert re.search(rf"tables parsed: +\d+ reports with tables, {cells} cells", proc.stdout), proc.stdout
    assert re.search(rf"checks failed: +{failed['n']} \(in {failed['r']} reports\)", proc.stdout), proc.stdout
    assert cells > 0 and failed["n"] > 0  # the demo has both, so the test can fail


def test_the_archive_keeps_each_demo_sites_own_fixed_urls(demo_db, manifest):
    """The demo's documents are archived under their sites' fixed hosts, never under the
    address of the local server the crawl fetched them from (which is gone once it ends)."""
    db, _ = demo_db
    assert set(SITES) == set(manifest["sites"])
    for m in manifest["reports"]:
        host = urlsplit(SITES[m["site"]].start_urls[0]).hostname
        assert host.endswith(".demo.ogi-archive.invalid")
        (r,) = rows(db, "select url, site_id from reports where url = ?", f"http://{host}{m['path']}")
        assert r["site_id"] == m["site"]
    urls = [u for (u,) in map(dict.values, rows(db, "select url from reports union all select url from captures "
                                                    "union all select final_url from captures "
                                                    "union all select start_urls from sites union all select home from sites "
                                                    "union all select url from fetch_failures"))]
    assert urls and not [u for u in urls if u and "127.0.0.1" in u]
    assert all(urlsplit(u).hostname.endswith(".demo.ogi-archive.invalid")
               for u in urls if u and u.startswith("http"))


def test_the_warc_records_carry_the_fixed_urls(demo_db):
    import glob

    from warcio.archiveiterator import ArchiveIterator

    db, _ = demo_db
    targets = set()
    for path in glob.glob(str(db).removesuffix(".db") + "-warc/*.warc.gz"):
        with open(path, "rb") as fh:
            targets |= {r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(fh)
                        if r.rec_headers.get_header("WARC-Target-URI")}
    assert targets == {r["url"] for r in rows(db, "select url from captures")}


def test_each_sites_reports_are_its_own_agencys(demo_db, manifest):
    """A demo site holds only the reports of the agency it is the site of: each report's
    agency is in the site's region (its registry entry), and is the agency the site's own
    name gives (one agency id), whatever the report calls itself."""
    from pipelines.region import resolve_agency

    db, _ = demo_db
    reports = rows(db, "select site_id, agency, agency_id, region_code from reports")
    assert len(reports) == len(manifest["reports"])
    for r in reports:
        site = SITES[r["site_id"]]
        assert r["region_code"] == site.region_code, r
        assert r["agency_id"] == resolve_agency(site.name, site.region_code)["agency_id"], (r, site.name)
    assert {r["site_id"] for r in reports} == set(manifest["sites"])  # every demo site has a report of its own


def test_a_crawl_sends_only_the_demo_hosts_through_the_demo_proxy(tmp_path, manifest):
    """One run of the demo's sites (through the mirror's server, OGI_DEMO_PROXY) and a site that
    is not the demo's: that one is fetched directly, every request of it reaching its own
    server as a plain one (not a proxy's absolute URL), and its reports archived at its URL."""
    from conftest import ogi
    from crawler.demo import serve_mirror
    from sites_server import SITES as FIXTURES, fixture_entry, serve, stop
    from sites_server import manifest as fixtures

    mirror, proxy = serve_mirror(list(SITES.values()))
    server, base = serve(FIXTURES / "trs_paged")
    try:
        registry = tmp_path / "sites.toml"
        registry.write_text(REGISTRY.read_text(encoding="utf-8") + "\n" + fixture_entry("trs_paged", base),
                            encoding="utf-8")
        db = tmp_path / "archive.db"
        proc = ogi("crawl", "--sites", registry, "--db", db, "-s", f"OGI_DEMO_PROXY={proxy}",
                   "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert server.requests and all(path.startswith("/") for _, path, _ in server.requests)
    finally:
        stop([server])
        mirror.shutdown()
    direct = rows(db, "select url from reports where site_id = 't_trs_paged'")
    assert len(direct) == len(fixtures()["trs_paged"]["reports"])
    assert all(r["url"].startswith(base + "/") for r in direct)
    demo = rows(db, "select url from reports where site_id != 't_trs_paged'")
    assert len(demo) == len(manifest["reports"])
    assert all(urlsplit(r["url"]).hostname.endswith(".demo.ogi-archive.invalid") for r in demo)


def _numbers(text):
    """The digit runs of ``text``, and those of it with spaces and tabs left out (a PDF's
    text breaks a number where a line or a cell does)."""
    import re

    return set(re.findall(r"\d+", text)) | set(re.findall(r"\d+", re.sub(r"[ \t]+", "", text)))


def _source_text(path):
    if path.suffix == ".pdf":
        import pdfplumber

        with pdfplumber.open(path) as pdf:
            return "\n".join(page.extract_text() or "" for page in pdf.pages)
    return path.read_text(encoding="utf-8")


@needs_corpus()
def test_every_number_a_demo_report_prints_is_its_sources(manifest):
    """What the demo shows is what the agency published: every number on a report page (and
    in its attachment) is one the report it carries prints, one of the metadata taken from
    the agency's real page (SOURCES.md), or one of the demo values (the site's SiteIDCode,
    the 00000000 of the demo's ICP line)."""
    import html
    import re

    for m in manifest["reports"]:
        source = _numbers(_source_text(CORPUS / m["facts_from"].rsplit("/", 1)[1]))
        allowed = source | _numbers(" ".join((m.get("metadata_from") or {}).get("values", [])))
        allowed |= {manifest["sites"][m["site"]]["site_id_code"], "00000000"}
        site = ROOT / "crawler/demo/mirror" / m["site"]
        page = (site / m["path"].lstrip("/")).read_text(encoding="utf-8")
        shown = html.unescape(re.sub(r"<script.*?</script>|<[^>]+>", " ", page, flags=re.S))
        assert not sorted(set(re.findall(r"\d+", shown)) - allowed, key=int), m["path"]
        if m["attachment"]:
            attached = _source_text(site / m["attachment"].lstrip("/"))
            assert not sorted(set(re.findall(r"\d+", attached)) - source, key=int), m["attachment"]


def test_every_page_that_is_no_report_says_the_demo_wrote_it(manifest):
    """The demo's other articles (the traps a crawl must not take for reports) are the project's,
    not the agencies': each says so on the page, and gives no 索引号 or 文号 as if it were theirs."""
    import re

    for d in manifest["non_reports_detail"]:
        page = (ROOT / "crawler/demo/mirror" / d["site"] / d["path"].lstrip("/")).read_text(encoding="utf-8")
        assert f"本条目由 ogi-archive 项目编写，不是{manifest['sites'][d['site']]['name']}发布的信息" in page, d["path"]
        numbers = re.findall(r"(?:索 引 号|索引号|文　　号|文号)</t[hd]><td>([^<]*)</td>", page)
        assert not any(numbers), (d["path"], numbers)
