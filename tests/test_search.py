"""Full-text search (archive/search.py): the demo archive and a few reports written here, searched
through Datasette's own client (the canned query ``search`` and the reports table's search box)
with the project's metadata and plugin; the oracle is the reports' own text, read back with
plain SQL and searched in Python."""
import asyncio
import hashlib
import re
import shutil
import sqlite3
import subprocess
import sys
import urllib.parse

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from archive import search
from archive.db import open_archive
from archive.store import report_id, save_report, write_parse
from conftest import ROOT, rows
from pipelines.script import to_simplified

# reports written into a copy of the demo archive: what each one's text puts before a term
WRITTEN = {
    # the term four times: the best match
    "often": ("某县2021年政府信息公开工作年度报告", "其他需要报告的事项", "全年信访工作：信访件数、信访办理、信访答复均按时完成。"),
    # a traditional-script text, as an older parse may have left it
    "trad": ("某縣信訪局2021年政府信息公開工作年度報告", "總體情況", "本機關全年受理信訪事項12件，行政復議3件。"),
    # ASCII, digits, full-width forms, characters of four bytes and 〇 before the term
    "mixed": ("某区2022年政府信息公开工作年度报告", "总体情况",
              "ABC123，ＡＢＣ１２３、𠀀𠮷〇：依申请公开事项办理情况良好。"),
    # 信 and 访, 依申请 and 公开, each in the text, never side by side
    "apart": ("某镇2022年政府信息公开工作年度报告", "总体情况",
              "本机关收到来信后上门走访，依申请办理；主动公开目录已更新。"),
    # markup in a text is shown as text
    "markup": ("某街道2023年政府信息公开工作年度报告", "其他需要报告的事项", "<b>粗体</b> & <script>x</script> 复议一件。"),
}


def parse_of(title, heading, text, year=2022):
    return {"title": title, "title_original": title, "report_year": year, "agency": title[:3], "script": "simplified",
            "sections": [{"number": 1, "heading": heading, "text": text}], "cells": [], "checks": [],
            "warnings": [], "text": text}


def write(db, key, parsed):
    """A report of site ``search-test`` (a new version when its text differs); its id."""
    url = f"http://search.test/{key}.html"
    sha = hashlib.sha256(repr(parsed).encode()).hexdigest()
    save_report(db, "search-test", url, None, sha, parsed)
    return report_id("search-test", url)


def copy_archive(demo_db, path):
    src, dst = sqlite3.connect(demo_db[0]), sqlite3.connect(path)
    src.backup(dst)
    src.close()
    dst.close()
    return path


@pytest.fixture(scope="module")
def archive(demo_db, tmp_path_factory):
    """A copy of the demo archive with the reports of WRITTEN added through the project's writer."""
    path = copy_archive(demo_db, tmp_path_factory.mktemp("search") / "archive.db")
    db = open_archive(path)
    ids = {key: write(db, key, parse_of(*texts)) for key, texts in WRITTEN.items()}
    db.close()
    return path, ids


@pytest.fixture(scope="module")
def ds(archive):
    from datasette.app import Datasette

    from archive.cli import datasette_metadata

    return Datasette([str(archive[0])], metadata=datasette_metadata("archive"))


def get(ds, path):
    async def go():
        return await ds.client.get(path)
    return asyncio.run(go())


def searched(ds, q):
    r = get(ds, "/archive/search.json?_shape=array&q=" + urllib.parse.quote(q))
    assert r.status_code == 200, r.text[:300]
    return r.json()


def indexed_texts(db_path):
    """Each report's title and the text of its sections (its whole text where it has none), read
    with plain SQL."""
    texts = {}
    for r in rows(db_path, "select id, title, text from reports"):
        sections = [s["heading"] + "\n" + s["text"] for s in
                    rows(db_path, "select heading, text from sections where report_id = ? order by number", r["id"])]
        texts[r["id"]] = [r["title"] or "", "\n\n".join(sections) or r["text"] or ""]
    return texts


def oracle(db_path, term):
    """The reports that hold ``term``: in a title or a section, in either script, whitespace
    between its characters allowed (a PDF's line break inside a word)."""
    want = to_simplified(term)
    return {rid for rid, texts in indexed_texts(db_path).items()
            if any(want in to_simplified(re.sub(r"\s+", "", t)) for t in texts)}


def marked(snippet):
    return re.findall(r"<mark>(.*?)</mark>", snippet, re.S)


# ---- what a search finds --------------------------------------------------------------------

@pytest.mark.parametrize("q", ["信访", "信訪", "复议", "復議", "依申请公开", "依申請公開"])
def test_a_term_finds_the_reports_that_hold_it_in_either_script(archive, ds, q):
    db_path, ids = archive
    expected = oracle(db_path, q)
    total = rows(db_path, "select count(*) n from reports")[0]["n"]
    assert 0 < len(expected) < total, "the term must be in some reports and not in others"
    found = searched(ds, q)
    assert {r["report_id"] for r in found} == expected
    assert all(set(r) == {"report_id", "title", "agency", "report_year", "snippet"} for r in found)


def test_the_traditional_report_is_found_by_simplified_and_traditional_terms(archive, ds):
    _, ids = archive
    for q in ("信访", "信訪", "行政复议", "行政復議"):
        assert ids["trad"] in {r["report_id"] for r in searched(ds, q)}, q


def test_a_term_in_no_report_finds_none(archive, ds):
    assert not oracle(archive[0], "区块链")
    assert searched(ds, "区块链") == [] and searched(ds, "區塊鏈") == []


def test_characters_of_a_term_apart_do_not_match(archive, ds):
    """信 and 访 are both in the report, never next to each other; so are 依申请 and 公开."""
    _, ids = archive
    apart = ids["apart"]
    for found, not_found in (("来信", "信访"), ("走访", "信访"), ("依申请", "依申请公开"), ("公开目录", "依申请公开")):
        assert apart in {r["report_id"] for r in searched(ds, found)}, found
        assert apart not in {r["report_id"] for r in searched(ds, not_found)}, not_found


def test_terms_apart_in_a_query_each_must_be_found(archive, ds):
    db_path, _ = archive
    both = oracle(db_path, "信访") & oracle(db_path, "复议")
    assert both and both != oracle(db_path, "信访") | oracle(db_path, "复议")
    assert {r["report_id"] for r in searched(ds, "信访 復議")} == both


@pytest.mark.parametrize("q", ["", " ", '"', "\x00", "。", "*", "NEAR(", "信访\"", "AND"])
def test_any_query_is_answered(ds, q):
    """Odd input is a query that finds what its terms find, never an error page."""
    got = searched(ds, q)
    if not re.search(r"[\u4e00-\u9fff]", q):
        assert got == []
    r = get(ds, "/archive/reports.json?_shape=array&_search=" + urllib.parse.quote(q))
    assert r.status_code == 200, r.text[:300]


def canned_search(threshold):
    """The canned query's SQL, its threshold of matches for the latest-first order set to ``threshold``."""
    from archive.cli import datasette_metadata

    sql = datasette_metadata()["databases"]["archive"]["queries"]["search"]["sql"]
    assert sql.count("10000") == 2
    return sql.replace("10000", str(threshold))


def test_the_best_match_comes_first(archive, ds):
    _, ids = archive
    assert searched(ds, "信访")[0]["report_id"] == ids["often"]


def test_past_the_threshold_the_latest_archived_come_first(archive, ds):
    """With as many matches as the threshold, no ranking: the latest archived (highest rowid) first."""
    db_path, ids = archive
    expected = oracle(db_path, "信访")
    latest = [r["id"] for r in rows(db_path, "select id from reports order by rowid desc") if r["id"] in expected]
    for threshold, order in ((len(expected), latest), (len(expected) + 1, None)):
        r = get(ds, "/archive.json?_shape=array&" + urllib.parse.urlencode({"sql": canned_search(threshold),
                                                                             "q": "信访"}))
        got = [row["report_id"] for row in r.json()]
        assert sorted(got) == sorted(expected)
        if order:
            assert got == order
        else:  # ranked: the best match first (written before the latest)
            assert got[0] == ids["often"] != latest[0]


# ---- what a search shows -----------------------------------------------------------------------

@pytest.mark.parametrize("q", ["信访", "信訪", "复议", "依申请公开", "公开目录"])
def test_the_snippet_marks_exactly_the_term_in_the_text(archive, ds, q):
    db_path, _ = archive
    texts = indexed_texts(db_path)
    for row in searched(ds, q):
        marks = marked(row["snippet"])
        assert marks, row
        for m in marks:  # the characters marked are the term's (a line break inside it aside)
            assert to_simplified(re.sub(r"\s+", "", m)) == to_simplified(q)
        plain = row["snippet"].replace("<mark>", "").replace("</mark>", "").strip("…")
        assert any(plain in t for t in texts[row["report_id"]]), "a snippet is the report's own text"


@pytest.mark.parametrize("key, q, shown", [
    ("trad", "信访", "受理<mark>信訪</mark>事項"),
    ("trad", "行政复议", "，<mark>行政復議</mark>3件"),
    ("mixed", "依申请公开", "ABC123，ＡＢＣ１２３、𠀀𠮷〇：<mark>依申请公开</mark>事项"),
    ("mixed", "１２３", "ABC<mark>123</mark>，ＡＢＣ<mark>１２３</mark>、"),
    ("mixed", "abc", "<mark>ABC</mark>123，<mark>ＡＢＣ</mark>１２３"),
])
def test_the_snippet_marks_the_original_characters(archive, ds, key, q, shown):
    _, ids = archive
    row = next(r for r in searched(ds, q) if r["report_id"] == ids[key])
    assert shown in row["snippet"]


def test_the_page_shows_marks_escapes_the_rest_and_links_the_report(archive, ds):
    _, ids = archive
    r = get(ds, "/archive/search?q=" + urllib.parse.quote("复议"))
    assert r.status_code == 200
    html = r.text
    assert f'href="/-/report/archive/{ids["markup"]}"' in html  # the report's page (its tables, its row)
    assert "粗体&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt; <mark>复议</mark>" in html
    assert "<script>x" not in html


@pytest.mark.parametrize("q", ["信訪", "依申请公开", "复议"])
def test_the_reports_table_search_box_finds_the_same_reports(archive, ds, q):
    r = get(ds, "/archive/reports.json?_shape=array&_col=title&_search=" + urllib.parse.quote(q))
    assert r.status_code == 200, r.text[:300]
    assert {row["id"] for row in r.json()} == oracle(archive[0], q)
    page = get(ds, "/archive/reports?_search=" + urllib.parse.quote(q))
    assert page.status_code == 200 and 'name="_search"' in page.text


# ---- keeping the index current ---------------------------------------------------------------

def found_ids(db, q):
    return {r[0] for r in db.execute("select r.id from reports_fts join reports r on r.rowid = reports_fts.rowid "
                                     "where reports_fts match ?", [search.escape_query(q)])}


def index_is_whole(db):
    """Every report has one row of the index, and FTS5 finds the index and its text agree."""
    db.execute("insert into reports_fts (reports_fts) values ('integrity-check')")
    return db.execute("select count(*) from reports_fts").fetchone()[0] == db.table("reports").count


@pytest.fixture
def fresh(tmp_path):
    db = open_archive(tmp_path / "a.db")
    yield db
    db.close()


def test_a_new_version_of_a_report_replaces_its_text_in_the_index(fresh):
    rid = write(fresh, "r", parse_of("某市2020年年度报告", "总体情况", "全年召开听证会两次。"))
    write(fresh, "other", parse_of("某县2020年年度报告", "总体情况", "全年召开听证会一次。"))
    assert found_ids(fresh, "听证会") == {rid, report_id("search-test", "http://search.test/other.html")}
    assert write(fresh, "r", parse_of("某市2020年年度报告", "总体情况", "全年召开座谈会两次。")) == rid
    assert fresh.table("reports").get(rid)["version"] == 2
    assert rid not in found_ids(fresh, "听证会") and found_ids(fresh, "座谈会") == {rid}
    assert index_is_whole(fresh)


def test_a_parse_written_over_the_current_one_replaces_its_text_in_the_index(fresh):
    rid = write(fresh, "r", parse_of("某市2020年年度报告", "总体情况", "全年召开听证会两次。"))
    with fresh.atomic():  # as a re-parse writes it: the parse it replaces no longer current
        fresh.execute("update parses set current = 0 where report_id = ?", [rid])
        write_parse(fresh, rid, parse_of("某市2020年年度报告", "总体情况", "全年召开座谈会两次。"), version=1,
                    capture_id=None, reparse_id=1)
    assert found_ids(fresh, "听证会") == set() and found_ids(fresh, "座谈会") == {rid}
    assert index_is_whole(fresh)


def test_a_report_deleted_leaves_the_index(fresh):
    rid = write(fresh, "r", parse_of("某市2020年年度报告", "总体情况", "全年召开听证会两次。"))
    fresh.execute("delete from reports where id = ?", [rid])
    assert found_ids(fresh, "听证会") == set() and index_is_whole(fresh)


def test_a_reparse_that_changes_section_texts_updates_the_index(demo_db, tmp_path, monkeypatch):
    """The real re-parse (worker processes, its writer): the parser now writes 来访 for 信访."""
    from archive import reparse as rp
    from archive.warc import warc_dir
    from pipelines import report

    path = copy_archive(demo_db, tmp_path / "archive.db")
    shutil.copytree(warc_dir(demo_db[0]), warc_dir(path))
    before = oracle(path, "信访")
    assert before
    split = report.split_sections
    monkeypatch.setattr(report, "split_sections",
                        lambda rows: [{**s, "text": s["text"].replace("信访", "来访")} for s in split(rows)])
    run = rp.reparse(path, workers=1)
    assert run["status"] == "ok" and run["changed"] >= 1
    after = oracle(path, "信访")
    assert after < before
    db = open_archive(path)
    assert found_ids(db, "信访") == after
    assert found_ids(db, "来访") == oracle(path, "来访") >= before - after
    assert index_is_whole(db)
    db.close()


def test_the_migration_indexes_the_reports_of_an_archive_made_before_it(demo_db, tmp_path):
    path = copy_archive(demo_db, tmp_path / "archive.db")
    db = open_archive(path)
    db.execute("drop table reports_fts")
    db.execute("drop trigger reports_fts_forget")
    db.execute("delete from _sqlite_migrations where name = 'm012_search_index'")
    db.conn.commit()
    db.close()
    db = open_archive(path)
    for q in ("信访", "依申请公开"):
        assert found_ids(db, q) == oracle(path, q) != set()
    assert index_is_whole(db)
    assert ("reports_fts_forget",) in db.execute("select name from sqlite_master where type = 'trigger'").fetchall()
    db.close()


def test_plain_sqlite3_reads_every_table_but_the_index(archive):
    conn = sqlite3.connect(archive[0])
    tables = [t for (t,) in conn.execute("select name from sqlite_master where type = 'table'")]
    for table in tables:
        if table != "reports_fts":
            conn.execute(f"select * from [{table}] limit 1").fetchall()
    with pytest.raises(sqlite3.OperationalError, match="ogi_cjk"):
        conn.execute("select * from reports_fts where reports_fts match '信访'").fetchall()
    conn.close()


def test_a_process_that_searches_ends_cleanly(archive):
    """The tokenizer's callbacks outlive any connection: one left open as the interpreter ends
    (closed by the garbage collector after the module is gone) prints nothing and crashes nothing."""
    code = ("import sys; from archive.db import open_archive; db = open_archive(sys.argv[1]); "
            "n = db.execute(\"select count(*) from reports_fts where reports_fts match '信访'\").fetchone()[0]; "
            "print(n)")
    out = subprocess.run([sys.executable, "-c", code, str(archive[0])], capture_output=True, text=True, cwd=ROOT,
                         timeout=60)
    assert out.returncode == 0 and out.stderr == "" and int(out.stdout) == len(oracle(archive[0], "信访"))


# ---- the tokenizer --------------------------------------------------------------------------

CHARS = (list("信访复议依申请公开工作年度报告") + list("信訪復議開報") + ["𠀀", "𠮷", "〇"] + list("aZ09")
         + ["Ａ", "１", "é", "ж", "😀", "_"] + list("，。、,.:-\"*") + [" ", "\n", "\u3000", "\t"])
texts = st.text(alphabet=st.sampled_from(CHARS), max_size=60)


def cjk(c):
    return bool(re.match(f"[{search.CJK}]", c))


@given(texts | st.text(alphabet=st.sampled_from(CHARS + ["\udc80", "\udcff"]), max_size=40))
@example("信访")
@example("依申请公\n开")
@example("ＡＢＣ１２３、𠀀𠮷〇：信訪")
@settings(max_examples=400, deadline=None)
def test_every_token_is_the_characters_its_offsets_slice(text):
    data = text.encode("utf-8", "surrogateescape")
    covered = set()
    for token, start, end in search.tokens(text):
        source = data[start:end].decode("utf-8", "surrogateescape")  # raises if an offset splits a character
        assert source and not source[0].isspace() and not source[-1].isspace()
        at = len(data[:start].decode("utf-8", "surrogateescape"))
        covered.update(range(at, at + len(source)))
        if cjk(source[0]):
            chars = [c for c in source if not c.isspace()]
            assert all(cjk(c) for c in chars) and len(token) == len(chars) in (1, 2)
            assert all(t in (c, to_simplified(c)) for t, c in zip(token, chars))
        else:
            assert token == search._word(source)
    # every letter, digit and Chinese character of the text is in a token
    assert all(i in covered for i, c in enumerate(text) if c.isalnum() and c != "_")


def fts(text):
    """An in-memory FTS5 table of the project's tokenizer holding ``text``."""
    conn = sqlite3.connect(":memory:")
    search.register(conn)
    conn.execute("create virtual table f using fts5(body, tokenize = 'ogi_cjk')")
    conn.execute("insert into f (body) values (?)", [text])
    return conn


@given(st.lists(texts, min_size=1, max_size=3), st.data())
@settings(max_examples=200, deadline=None)
def test_a_term_taken_from_a_text_is_found_and_marked_in_it(parts, data):
    """A run of two to four Chinese characters put into a random text: FTS5 finds the text, and
    the search's highlight marks the term in the text's own characters, wherever it stands."""
    term = data.draw(st.text(alphabet=st.sampled_from([c for c in CHARS if cjk(c)]), min_size=2, max_size=4))
    text = term.join(parts) if len(parts) > 1 else parts[0] + term
    conn = fts(text)
    assert conn.execute("select count(*) from f where f match ?", [search.escape_query(term)]).fetchone()[0] == 1
    conn.close()
    shown = search.highlight(text, term)
    assert shown.replace("<mark>", "").replace("</mark>", "") == text
    marks = marked(shown)
    assert marks and all(to_simplified(term) in to_simplified(re.sub(r"\s+", "", m)) for m in marks)


def test_fts5_highlight_marks_the_characters_of_the_offsets():
    """SQLite's own highlight() reads the tokenizer's offsets: right after characters of one to
    four bytes, full-width forms, whitespace inside a term and traditional script."""
    text = "ABC123，ＡＢＣ１２３ é ж 𠀀𠮷〇：依申请公\n开；受理信訪事項"
    conn = fts(text)
    for q, shown in (("依申请公开", "ＡＢＣ１２３ é ж 𠀀𠮷〇：[依申请公\n开]；"), ("信访", "受理[信訪]事項"),
                     ("123", "ABC[123]，ＡＢＣ[１２３] "), ("abc", "[ABC]123，[ＡＢＣ]１２３")):
        got = conn.execute("select highlight(f, 0, '[', ']') from f where f match ?", [search.escape_query(q)])
        assert shown in got.fetchone()[0], q
    conn.close()


@pytest.mark.parametrize("text, q, shown", [
    ("二〇〇〇年", "〇〇", "二<mark>〇〇〇</mark>年"),  # two matches sharing a character: one mark
    ("受理信访问题", "信访 访问", "受理<mark>信访问</mark>题"),
    ("信访信访", "信访", "<mark>信访</mark><mark>信访</mark>"),  # two matches side by side: two
    ("依申请公开", "依申请", "<mark>依申请</mark>公开"),
    ("无关", "信访", None),
])
def test_matches_sharing_characters_are_marked_once(text, q, shown):
    assert search.highlight(text, q) == shown


@given(st.lists(st.text(alphabet=st.sampled_from(CHARS), min_size=0, max_size=120), min_size=2, max_size=6),
       st.sampled_from(["信访", "依申请公开", "復議", "访工", "〇〇", "信访 复议"]))
@settings(max_examples=300, deadline=None)
def test_the_snippet_tokenizes_windows_and_shows_what_the_whole_text_would(parts, q):
    """The search's snippet tokenizes only windows of the text; what it shows is what marking
    the whole text and cutting around its first match shows."""
    body = q.split()[0].join(parts) + (q.split()[-1] if " " in q else "")
    assert search.snippet("标题", body, q) == (search.excerpt(search.highlight(body, q))
                                              or search.highlight("标题", q))
