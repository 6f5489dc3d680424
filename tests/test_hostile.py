"""Hostile files (tests/hostile.py): each ends as a status and a reason — in `ogi-archive parse`,
in the parse pool and in a crawl — never as a crash, a hang or the machine's memory; a parse
worker that dies costs only its own document."""
import json
import os
import shutil
import time

import pytest

from conftest import FIXTURES, ogi, rows
from hostile import write_all
from sites_server import serve, site_entry

from crawler.pool import Budget, ParsePool


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    return folder, write_all(folder)


@pytest.mark.parametrize("name", ["far-cell.xlsx", "bomb.docx", "pages.pdf", "wide.html", "giant.html",
                                  "truncated.pdf", "truncated.xlsx"])
def test_parse_ends_a_hostile_file_with_its_status_and_reason_in_a_line(hostile_dir, name):
    folder, expected = hostile_dir
    status, word = expected[name]
    proc = ogi("parse", folder / name)
    assert proc.returncode == 5, proc.stderr
    assert json.loads(proc.stdout)["warnings"]
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"ogi-archive parse: {folder / name}: {status}: ") and word in line, line


def test_parse_of_bytes_in_no_format_exits_2_with_one_line(hostile_dir):
    folder, _ = hostile_dir  # random bytes named .pdf: no document at all (a crawl archives them as an error)
    proc = ogi("parse", folder / "random.pdf")
    assert proc.returncode == 2 and proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"ogi-archive parse: {folder / 'random.pdf'}: binary data in no format"), line


# ---- the pool: a worker's death, its time and its memory cost only its own job --------------


def _abort():
    import faulthandler

    faulthandler.disable()  # pytest's, inherited by the fork: the abort is meant, its dump is noise
    os.abort()


def _sleep(seconds):
    time.sleep(seconds)
    return seconds


def _hog():
    return len(bytearray(1 << 34))


def _pid():
    return os.getpid()


def test_a_worker_that_dies_costs_only_its_document_and_is_replaced():
    pool = ParsePool(1, Budget(seconds=20, retries=1), context="fork")
    try:
        first = pool.run(_pid)
        died = pool.run(_abort)
        assert died.status == "died" and died.attempts == 2 and "SIGABRT" in died.reason, died
        after = pool.run(_pid)
        assert after.status == "ok" and after.value != first.value  # a fresh worker
        assert pool.deaths == 2
    finally:
        pool.close()
    assert not _alive(first.value) and not _alive(after.value)


def test_a_parse_over_its_time_is_killed_and_the_next_one_runs():
    pool = ParsePool(1, Budget(seconds=1), context="fork")
    try:
        slow = pool.run(_sleep, (30,))
        assert slow.status == "timeout" and "1 s" in slow.reason
        assert pool.run(_sleep, (0.01,)).status == "ok"
    finally:
        pool.close()


def test_a_parse_over_its_memory_gets_no_more():
    pool = ParsePool(1, Budget(memory_mb=1024), context="fork")
    try:
        hog = pool.run(_hog)
        assert hog.status == "memory" and "1024 MB" in hog.reason
        assert pool.run(_pid).status == "ok"
    finally:
        pool.close()


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(") ", 1)[1][0] != "Z"


# ---- a crawl of a site that serves them ------------------------------------------------------

REPORT = FIXTURES / "reports" / "fj_pingtan_2024.html"


@pytest.fixture(scope="module")
def hostile_site(hostile_dir, tmp_path_factory):
    """A column listing every hostile file as a report, and one real report."""
    folder, expected = hostile_dir
    root = tmp_path_factory.mktemp("hostile-site")
    (root / "nb").mkdir()
    links = []
    for i, name in enumerate(sorted(expected)):
        shutil.copy(folder / name, root / "nb" / name)
        links.append(f'<li><a href="/nb/{name}">某县{2000 + i}年政府信息公开工作年度报告</a></li>')
    shutil.copy(REPORT, root / "nb" / "t20250310_97791.html")
    links.append('<li><a href="/nb/t20250310_97791.html">平潭综合实验区2024年度政府信息公开工作年度报告</a></li>')
    (root / "nb" / "index.html").write_text(
        f"<html><head><meta charset='utf-8'><title>政府信息公开年报</title></head><body><ul>{''.join(links)}</ul>"
        f"</body></html>", encoding="utf-8")
    server, base = serve(root, {})
    registry = root / "sites.toml"
    registry.write_text(site_entry("t_hostile", "某县人民政府", [f"{base}/nb/index.html"], region_code="350128"),
                        encoding="utf-8")
    yield registry, expected
    server.shutdown()
    server.server_close()


def test_a_crawl_archives_every_hostile_file_with_its_status_and_reason(hostile_site, tmp_path):
    registry, expected = hostile_site
    db = tmp_path / "a.db"
    proc = ogi("crawl", "--sites", registry, "--db", db, "-s", "DOWNLOAD_DELAY=0", "-s", "RETRY_TIMES=0")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = {r["url"].rsplit("/", 1)[1]: r for r in rows(db, "select url, parse_status, parse_error, n_cells from reports")}
    for name, (status, word) in expected.items():
        assert got[name]["parse_status"] == status and word in got[name]["parse_error"], (name, got[name])
    assert got["t20250310_97791.html"]["parse_status"] == "ok" and got["t20250310_97791.html"]["n_cells"] == 200
    assert "too large to parse: 5" in proc.stdout and "parse errors: 3" in proc.stdout
    # every capture kept as it came
    assert len(rows(db, "select 1 from captures where role = 'report'")) == len(expected) + 1


def test_a_document_that_kills_its_worker_costs_only_itself(hostile_site, tmp_path):
    """With the sheet-span check lifted, the far cell reaches the spreadsheet reader, which
    aborts its process: the document is tried again in a fresh worker, then archived as an
    error saying how its worker died; every other document of the run is parsed."""
    registry, expected = hostile_site
    db = tmp_path / "a.db"
    proc = ogi("crawl", "--sites", registry, "--db", db, "-s", "DOWNLOAD_DELAY=0", "-s", "RETRY_TIMES=0",
               "-s", 'OGI_LIMITS={"cells": 100000000000000, "columns": 100000}', "-s", "OGI_PARSE_WORKERS=1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = {r["url"].rsplit("/", 1)[1]: r for r in rows(db, "select url, parse_status, parse_error, n_cells from reports")}
    far = got["far-cell.xlsx"]
    assert far["parse_status"] == "error" and "the parse worker died (killed by SIGABRT)" in far["parse_error"]
    assert "2 attempts" in far["parse_error"]
    assert got["t20250310_97791.html"]["parse_status"] == "ok" and got["t20250310_97791.html"]["n_cells"] == 200
    assert got["bomb.docx"]["parse_status"] == "too_large"  # the other limits still hold
    assert "Traceback" not in proc.stderr and "memory allocation" not in proc.stderr
