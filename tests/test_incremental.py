"""Cron-grade runs on a copy of the demo mirror that the tests change between runs."""
import json
import os
import shutil
import sqlite3
import subprocess
import time

import pytest

from conftest import BIN, MIRROR, ogi
from crawler.demo import serve_site

MANIFEST = json.loads((MIRROR / "MANIFEST.json").read_text(encoding="utf-8"))
SITE = "hn_huaihua_czj"
REPORT = "zwgk/xxgknb/202101/t20210125_5873012.html"
LISTED = sum(1 for r in MANIFEST["reports"] if r["site"] == SITE)  # the reports its lists name


def serve_copy(tmp_path, site_id):
    """A copy of a demo site's folder served on 127.0.0.1, and a registry naming it there."""
    entry = MANIFEST["sites"][site_id]
    root = tmp_path / "mirror" / site_id
    shutil.copytree(MIRROR / site_id, root)
    server, base = serve_site(root)
    registry = tmp_path / "sites.toml"
    starts = ", ".join(f'"{base}{u}"' for u in entry["start_urls"])
    registry.write_text(f'[[site]]\nid = "{site_id}"\nname = "{entry["name"]}"\nregion_code = "{entry["region_code"]}"\n'
                        f'cms = "{entry["cms"]}"\nstart_urls = [{starts}]\n', encoding="utf-8")
    return server, (root, registry, tmp_path / "archive.db")


@pytest.fixture
def site(tmp_path):
    server, site = serve_copy(tmp_path, SITE)
    yield site
    server.shutdown()


@pytest.fixture
def hongze(tmp_path):
    """The demo site with two reports listed, one of each year."""
    server, site = serve_copy(tmp_path, "js_hongze")
    yield site
    server.shutdown()


FAST = ("-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False")


def crawl(registry, db, *more):
    proc = ogi("crawl", "--sites", registry, "--db", db, *FAST, *more)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def q(db, sql, *args):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def last_run(db):
    return q(db, "select pages, reports_new, reports_changed, reports_unchanged from crawl_runs order by id desc limit 1")[0]


def test_an_unchanged_rerun_revalidates_with_304s_and_downloads_list_pages_only(site):
    root, registry, db = site
    crawl(registry, db)
    first = q(db, "select count(*) from captures")[0][0]
    crawl(registry, db, "-s", "OGI_RECHECK_DAYS=0")  # every report revalidated: each answers 304
    pages, new, changed, unchanged = last_run(db)
    assert (new, changed, unchanged) == (0, 0, LISTED) and pages == 2
    assert q(db, "select count(*) from captures")[0][0] == first + 2


def test_an_unchanged_rerun_downloads_list_pages_only(site):
    root, registry, db = site
    crawl(registry, db)
    first = q(db, "select count(*) from captures")[0][0]
    crawl(registry, db)
    pages, new, changed, unchanged = last_run(db)
    roles = q(db, "select role, count(*) from captures where run_id = (select max(id) from crawl_runs) group by role")
    assert dict(roles) == {"list": 2}  # index.html and index_1.html: no detail page body was downloaded
    assert (new, changed, unchanged) == (0, 0, LISTED) and pages == 2
    assert q(db, "select count(*) from captures")[0][0] == first + 2


def test_a_changed_report_becomes_a_second_version_and_the_first_is_kept(site):
    root, registry, db = site
    crawl(registry, db)
    recheck = ("-s", "OGI_RECHECK_DAYS=0")  # revalidate every archived report on this run
    page = root / REPORT
    page.write_text(page.read_text(encoding="utf-8").replace("5.19億元", "5.20億元"), encoding="utf-8")
    os.utime(page, (time.time() + 5, time.time() + 5))
    crawl(registry, db, *recheck)
    assert last_run(db)[2] == 1
    versions = q(db, "select version, capture_id, parsed from report_versions where report_id = "
                     "(select id from reports where url like ?) order by version", "%" + REPORT)
    assert [v[0] for v in versions] == [1, 2] and versions[0][1] != versions[1][1]
    assert '"raw": "5.19億元"' in versions[0][2] and versions[1][2] is None  # the latest is in cells
    (value,) = q(db, "select value from cells where row_key = 'procurement' and column_key = 'amount'")[0]
    assert value == 52000
    # both bodies are still in the archive
    assert q(db, "select count(*) from captures where url like ?", "%" + REPORT)[0][0] == 2


def test_a_report_gone_from_its_list_gets_removed_at_and_stays(hongze):
    root, registry, db = hongze
    crawl(registry, db)
    gone_path = "/art/2024/2/26/art_52013_3345671.html"
    cells = q(db, "select count(*) from cells where report_id = (select id from reports where url like ?)",
              "%" + gone_path)[0][0]
    listing = root / "col/col52013/index.html"
    text = listing.read_text(encoding="utf-8")
    start = text.index(f'<record><![CDATA[<li><a href="{gone_path}"')
    text = text[:start] + text[text.index("</record>", start) + len("</record>\n"):]
    listing.write_text(text.replace("var totalRecord = 5;", "var totalRecord = 4;"), encoding="utf-8")
    crawl(registry, db)
    rows = dict(q(db, "select url, removed_at from reports"))
    gone = [u for u, r in rows.items() if r]
    assert len(gone) == 1 and gone[0].endswith(gone_path)
    assert len(rows) == sum(1 for r in MANIFEST["reports"] if r["site"] == "js_hongze")
    assert cells and q(db, "select count(*) from cells where report_id = (select id from reports where url like ?)",
                       "%" + gone_path)[0][0] == cells


def test_a_second_concurrent_run_exits_at_once_with_its_own_code(site):
    root, registry, db = site
    crawl(registry, db)
    import fcntl

    with open(str(db) + ".lock", "a+") as held:  # as a running crawl holds it
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        t = time.monotonic()
        proc = ogi("crawl", "--sites", registry, "--db", db)
        assert proc.returncode == 4 and "another crawl is running" in proc.stderr
        assert time.monotonic() - t < 30
    assert q(db, "pragma integrity_check")[0][0] == "ok"


def test_two_runs_started_together_do_not_corrupt_the_archive(site):
    root, registry, db = site
    procs = [subprocess.Popen([str(BIN / "ogi-archive"), "crawl", "--sites", str(registry), "--db", str(db), *FAST],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    codes = sorted(p.wait(120) for p in procs)
    assert codes in ([0, 0], [0, 4])  # the second waits for nothing: it runs after, or exits locked
    assert q(db, "pragma integrity_check")[0][0] == "ok"
    assert q(db, "select count(*) from reports")[0][0] == LISTED
    assert q(db, "select count(*) from (select report_id from report_versions group by report_id, sha256 "
                 "having count(*) > 1)")[0][0] == 0


def test_a_successful_run_prints_only_its_summary(site):
    root, registry, db = site
    proc = crawl(registry, db)
    assert proc.stderr == ""
    assert proc.stdout.splitlines()[0].startswith("sites:") and len(proc.stdout.splitlines()) <= 10
