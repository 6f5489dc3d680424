"""The archive's views, its canned queries and the printed report page, through Datasette's
own client on the demo archive (and on archives made here where the demo has no case)."""
import collections
import pathlib

import pytest
import yaml

from conftest import ROOT, rows
from test_datasette import ds, get  # noqa: F401  (ds: a fixture)

METADATA = ROOT / "archive/datasette/metadata.yaml"


def array(ds, path):
    r = get(ds, path + ("&" if "?" in path else "?") + "_shape=array&_size=max")
    assert r.status_code == 200, r.text[:500]
    return r.json()


def cell_totals(db):
    """{report id: {(table, row, column): value}}, read straight from cells."""
    out = collections.defaultdict(dict)
    for c in rows(db, "select report_id, table_key, row_key, column_key, value from cells"):
        out[c["report_id"]][c["table_key"], c["row_key"], c["column_key"]] = c["value"]
    return out


def expected_figures(cells):
    """A report's headline figures computed here, from its cells, by the report-schema keys."""
    def total(*row_keys, table="requests", column="total"):
        found = [cells[table, r, column] for r in row_keys if (table, r, column) in cells]
        return sum(found) if found else None

    def rows_like(prefix):
        return sorted({r for t, r, c in cells if t == "requests" and r.startswith(prefix)})

    out = {"requests_new": total("new_received"), "requests_carried_over": total("carried_over"),
           "granted": total("granted"), "partly_granted": total("partial"), "denied": total(*rows_like("denied_")),
           "denied_state_secret": total("denied_state_secret"), "denied_query": total("denied_query"),
           "unable": total(*rows_like("unable_")), "not_processed": total(*rows_like("ignored_")),
           "other_outcome": total("other", "other_no_correction", "other_no_fee", "other_other"),
           "total_processed": total("total_processed"), "carried_forward": total("carried_forward")}
    for column in ("upheld", "corrected", "other", "pending", "total"):
        out[f"review_{column}"] = total("review", table="review_litigation", column=column)
        out[f"suits_{column}"] = total("suit_direct", "suit_after_review", table="review_litigation", column=column)
    return out


def test_report_figures_are_the_sums_of_each_reports_cells(ds, demo_db):
    db, _ = demo_db
    cells = cell_totals(db)
    got = {r["id"]: r for r in array(ds, "/archive/report_figures.json")}
    assert set(got) == {r["id"] for r in rows(db, "select id from reports")}
    for rid, row in got.items():
        want = expected_figures(cells[rid])
        assert {k: row[k] for k in want} == want, rid
        # every figure is a requests row's total or a review_litigation cell: the doubted ones among them
        doubted = rows(db, "select count(*) n from cells where report_id = ? and uncertain = 1 and ((table_key = "
                           "'requests' and column_key = 'total') or table_key = 'review_litigation')", rid)[0]["n"]
        assert row["uncertain_figures"] == doubted, rid
    hongze = got["b7bc81184e1681c4"]  # the demo's source error: the review row's total printed 0 (SOURCES.md)
    assert (hongze["review_upheld"], hongze["review_corrected"], hongze["review_total"]) == (10, 1, 0)
    assert hongze["uncertain_figures"] > 0


def test_figures_by_province_and_level_are_sums_over_reports(ds, demo_db):
    db, _ = demo_db
    cells = cell_totals(db)
    for view, group in (("figures_by_province_year", "province"), ("figures_by_level_year", "level")):
        want = collections.defaultdict(lambda: collections.Counter())
        for r in rows(db, f"select id, {group} as g, report_year from reports"):
            sums = want[r["g"], r["report_year"]]
            sums["reports"] += 1
            for name, value in expected_figures(cells[r["id"]]).items():
                sums[name] += value or 0
        got = array(ds, f"/archive/{view}.json")
        assert {(g[group], g["report_year"]) for g in got} == set(want)
        for g in got:
            w = want[g[group], g["report_year"]]
            assert g["reports"] == w["reports"]
            for name in ("requests_new", "granted", "denied", "unable", "not_processed", "other_outcome",
                         "total_processed", "review_total", "suits_total"):
                assert g[name] == w[name], (view, g[group], g["report_year"], name)
    jiangsu_2024 = [g for g in array(ds, "/archive/figures_by_province_year.json?province=江苏省&report_year=2024")]
    assert [g["requests_new"] for g in jiangsu_2024] == [3119 + 95]  # 淮安市 and 洪泽区 (the mirror's SOURCES.md)


def test_cross_year_checks_set_this_years_carried_over_beside_last_years_carried_forward(ds, demo_db):
    db, _ = demo_db
    cells = cell_totals(db)
    got = array(ds, "/archive/cross_year_checks.json")
    pairs = rows(db, "select r.id as report_id, p.id as previous_report_id from reports r join reports p on "
                     "p.agency_id = r.agency_id and p.report_year = r.report_year - 1")
    assert {(g["report_id"], g["previous_report_id"]) for g in got} == {(p["report_id"], p["previous_report_id"])
                                                                        for p in pairs}
    assert got, "the demo holds 洪泽区 2023 and 2024"
    for g in got:
        now = cells[g["report_id"]].get(("requests", "carried_over", "total"))
        before = cells[g["previous_report_id"]].get(("requests", "carried_forward", "total"))
        assert (g["carried_over"], g["previous_carried_forward"]) == (now, before)
        assert g["agrees"] == (None if None in (now, before) else int(now == before))


def test_every_view_and_its_columns_are_described(demo_db):
    import sqlite3

    from archive.export import views

    meta = yaml.safe_load(METADATA.read_text(encoding="utf-8"))["databases"]["archive"]["tables"]
    conn = sqlite3.connect(demo_db[0])
    for name in views():
        cols = [d[0] for d in conn.execute(f"select * from [{name}] limit 0").description]
        described = meta[name]["columns"]
        assert meta[name]["description"] and [c for c in cols if not described.get(c)] == [], name


# ---- archives made here, for the cases the demo lacks -------------------------------------------


def archive_of(path, reports):
    """An archive holding ``reports`` (parsed-report dicts with a ``url``), written by the store."""
    from archive.db import open_archive
    from archive.store import save_capture, save_report

    db = open_archive(path)
    for n, parsed in enumerate(reports):
        parsed = {"title": f"{parsed['agency']}{parsed['report_year']}年政府信息公开工作年度报告", "cells": [],
                  "checks": [], "warnings": [], "sections": [], "parse_status": "ok", **parsed}
        body = parsed.pop("body", f"report {n}".encode())
        cap, sha = save_capture(db, {"site_id": "s", "url": parsed["url"], "body": body, "role": "report"})
        save_report(db, "s", parsed["url"], cap, sha, parsed)
    return db


def served(path):
    """Datasette on the archive at ``path``, as the tests of the demo archive have it."""
    from datasette.app import Datasette

    from archive.cli import datasette_metadata

    return Datasette([str(path)], metadata=datasette_metadata(pathlib.Path(path).stem))


def report(agency_id, agency, year, published=None, kind="government", level="county", **extra):
    return {"url": f"http://s/{agency_id}/{year}.html", "agency_id": agency_id, "agency": agency,
            "report_year": year, "published_at": published, "agency_kind": kind, "level": level,
            "province": "江苏省", **extra}


@pytest.mark.parametrize("year, kind, level, published, due, late", [
    (2018, "department", "county", "2019-03-31", "2019-03-31", 0),  # 2008 条例: 31 March for all
    (2018, "government", "county", "2019-04-01T09:00:00+08:00", "2019-03-31", 1),
    (2020, "department", "prefecture", "2021-02-01", "2021-01-31", 1),  # 2019 条例 第五十条: 31 January
    (2020, "department", "county", "2021-01-31T23:59:00+08:00", "2021-01-31", 0),
    (2020, "government", "county", "2021-03-30", "2021-03-31", 0),  # a county government's own: 31 March
    (2020, "government", "township", "2021-02-20", "2021-01-31", 1),  # a township government: 31 January
    (2020, "government", "provincial", None, "2021-03-31", None),  # no date known: never late
    (2020, "other", "county", "2022-01-01", None, None),  # no rule known for its kind
])
def test_due_date_and_published_late(tmp_path, year, kind, level, published, due, late):
    db = archive_of(tmp_path / "a.db", [report("a", "某机关", year, published, kind=kind, level=level)])
    got = db.execute("select due_date, published_late from report_figures").fetchone()
    assert got == (due, late)


def test_views_are_remade_as_the_code_declares_them(tmp_path):
    from archive.db import open_archive, refresh_views

    db = archive_of(tmp_path / "a.db", [report("a", "某县人民政府", 2020, "2021-01-01")])
    assert not refresh_views(db)  # as declared already
    db.execute("drop view figures_by_level_year")
    db.execute("drop view report_figures")
    db.execute("create view report_figures as select id from reports")  # an older declaration
    db.close()
    db = open_archive(tmp_path / "a.db")
    assert [d[0] for d in db.execute("select * from report_figures").description][-2:] == ["due_date",
                                                                                            "published_late"]
    assert db.execute("select level, reports from figures_by_level_year").fetchall() == [("county", 1)]


# ---- a report's tables as printed -----------------------------------------------------------------


def page(ds, database, rid):
    import lxml.html

    r = get(ds, f"/-/report/{database}/{rid}")
    assert r.status_code == 200, r.text[:500]
    return lxml.html.fromstring(r.text)


def shown(doc):
    """{cell key: (text, class, title)} of the page's value cells."""
    return {td.get("data-key"): (td.text_content(), td.get("class"), td.get("title") or "")
            for td in doc.iter("td") if td.get("data-key")}


def test_every_cell_of_every_demo_report_is_on_its_page_once(ds, demo_db):
    db, _ = demo_db
    for r in rows(db, "select id from reports"):
        doc = page(ds, "archive", r["id"])
        keys = [td.get("data-key") for td in doc.iter("td") if td.get("data-key")]
        assert len(keys) == len(set(keys))
        got = shown(doc)
        cells = rows(db, "select * from cells where report_id = ?", r["id"])
        assert set(got) == {f"{c['table_key']}/{c['row_key']}/{c['column_key']}" for c in cells}
        for c in cells:
            text, cls, title = got[f"{c['table_key']}/{c['row_key']}/{c['column_key']}"]
            assert float(text.split()[0]) == c["value"]
            assert (cls == "uncertain") == bool(c["uncertain"])
            assert not c["uncertain"] or title.startswith("uncertain: ")


def test_the_huaihua_report_is_shown_as_printed(ds, demo_db):
    """The worked example of report-schema.md (the demo's 怀化市财政局 2020, facts of
    shared/corpus/000_6f0d1c700e1760a4.txt): the 2019 template's wording, its figures."""
    from pipelines.script import to_simplified

    db, _ = demo_db
    (r,) = rows(db, "select * from reports where agency = '怀化市财政局'")
    doc = page(ds, "archive", r["id"])
    assert doc.findtext(".//h1") == "怀化市财政局2020年政府信息公开工作年度报告"
    facts = doc.find('.//dl[@class="facts"]').text_content()
    assert "怀化市财政局" in facts and "2020" in facts and "due 2021-01-31" in facts and "late" not in facts
    headings = [h.text_content() for h in doc.iter("th")]
    for label in ("第二十条第（一）项", "本年新制作数量", "第二十条第（九）项", "采购总金额", "申请人情况", "法人或其他组织",
                  "自然人", "商业企业", "总计", "一、本年新收政府信息公开申请数量", "三、本年度办理结果", "（三）不予公开",
                  "1.属于国家秘密", "（六）其他处理", "四、结转下年度继续办理", "行政复议", "行政诉讼", "未经复议直接起诉",
                  "复议后起诉", "结果维持"):
        assert label in headings, label
    assert "对外公开总数量" not in headings  # the seed's 第二十条第（一）项 prints no such column (SOURCES.md)
    got = shown(doc)
    assert got["requests/new_received/natural_person"][0] == "5" and got["requests/new_received/total"][0] == "5"
    assert got["requests/granted/total"][0] == "5" and got["requests/carried_forward/total"][0] == "0"
    assert got["active/procurement/items"][0] == "361"
    (raw,) = rows(db, "select raw from cells where report_id = ? and row_key = 'procurement' and column_key = "
                      "'amount'", r["id"])
    assert to_simplified(raw["raw"]) == "5.19亿元"  # as the page prints it, in its traditional script
    assert got["active/procurement/amount"][0] == "51900 万元"
    assert got["active/procurement/amount"][2] == f"printed: {raw['raw']}"
    assert got["active/licensing/decisions"][0] == "2"
    assert [got[f"review_litigation/{row}/total"][0] for row in ("review", "suit_direct", "suit_after_review")] == \
        ["0", "0", "0"]
    links = {a.text_content(): a.get("href") for a in doc.iter("a")}
    assert links["the report's row"] == f"/archive/reports/{r['id']}"
    assert links["raw capture"] == f"/-/capture/archive/{r['capture_id']}"
    assert links["original page"] == r["url"]
    assert get(ds, links["raw capture"]).status_code == 200


def test_a_doubted_cell_says_why_and_failed_checks_are_listed(ds, demo_db):
    db, _ = demo_db
    doc = page(ds, "archive", "b7bc81184e1681c4")  # 洪泽区 2023: the review row's totals printed 0
    got = shown(doc)
    text, cls, title = got["review_litigation/review/upheld"]
    assert (text, cls) == ("10", "uncertain")
    assert "review_litigation.total fails for review: expected 11, printed 0" in title
    failed = [[td.text_content() for td in tr.iter("td")] for tr in doc.find('.//table[@class="failed"]').iter("tr")]
    assert [f[:4] for f in failed if f] == [["review_litigation.total", "review", "11", "0"],
                                            ["review_litigation.total", "suit_after_review", "5", "0"]]
    assert "（六）其他处理" in [th.text_content() for th in doc.iter("th")]  # printed as one row, as the PDF does
    assert not any(k.startswith("requests/other_other/") for k in got)
    assert get(ds, "/-/report/archive/0000000000000000").status_code == 404
    assert get(ds, "/-/report/nodb/b7bc81184e1681c4").status_code == 404


def test_report_titles_and_ids_link_to_the_page(ds, demo_db):
    import lxml.html

    db, _ = demo_db
    ids = {r["id"] for r in rows(db, "select id from reports")}
    pair = rows(db, "select r.id from reports r join reports p on p.agency_id = r.agency_id and "
                    "p.report_year = r.report_year - 1 union select p.id from reports r join reports p on "
                    "p.agency_id = r.agency_id and p.report_year = r.report_year - 1")
    for path, want in (("/archive/reports", ids), ("/archive/report_figures", ids), (f"/archive/reports/{min(ids)}",
                       {min(ids)}), ("/archive/cross_year_checks", {p["id"] for p in pair})):
        doc = lxml.html.fromstring(get(ds, path).text)
        linked = {a.get("href").rsplit("/", 1)[1] for a in doc.iter("a") if "/-/report/archive/" in a.get("href", "")}
        assert linked == want, path


def test_a_pre2019_report_shows_its_appendix_as_read(tmp_path):
    """A real 2013 report (tests/fixtures/reports/fj_pingtan_county_2013.html): its 统计表 rows in
    the order the report prints them, its two value columns."""
    from conftest import FIXTURES
    from pipelines.report import parse_bytes

    body = (FIXTURES / "reports" / "fj_pingtan_county_2013.html").read_bytes()
    parsed = parse_bytes(body, content_type="text/html")
    archive_of(tmp_path / "legacy.db", [{**parsed, "url": "http://s/2013.html", "body": body}]).close()
    ds = served(tmp_path / "legacy.db")
    (rid,) = [r["id"] for r in rows(tmp_path / "legacy.db", "select id from reports")]
    doc = page(ds, "legacy", rid)
    (table,) = doc.findall('.//table[@data-table="legacy"]')
    header = [th.text_content() for th in table.find("tr").iter("th")]
    assert header[1:] == ["2013年度", "历年累计"]
    labels = [tr.find("th").text_content() for tr in table.findall("tr")[1:]]
    flat = "".join(parsed["text"].split())
    assert sorted(labels, key=flat.find) == labels and len(labels) == len({c["row"] for c in parsed["cells"]})
    assert labels[0] == "主动公开信息数"
    got = shown(doc)
    assert got["legacy/主动公开信息数/2013年度"][0] == "1853 条"  # its unit column says 条


# ---- canned queries -------------------------------------------------------------------------------

QUERIES = yaml.safe_load(METADATA.read_text(encoding="utf-8"))["databases"]["archive"]["queries"]
PARAMS = {"agency_by_year": "agency=洪泽", "search_titles": "q=年度报告", "search": "q=%E4%BF%A1%E8%AE%BF"}  # 信访


def test_every_canned_query_has_a_title_and_a_description():
    assert all(q.get("title") and q.get("description") for q in QUERIES.values()), \
        [name for name, q in QUERIES.items() if not q.get("description")]


@pytest.mark.parametrize("name", [n for n in QUERIES if n not in ("published_late", "cross_year_disagreements",
                                                                   "prose_against_tables")])
def test_a_canned_query_runs_on_the_demo_and_links_its_reports(ds, demo_db, name):
    import lxml.html

    db, _ = demo_db
    got = array(ds, f"/archive/{name}.json?{PARAMS.get(name, '')}")
    assert got, name
    ids = {r["id"] for r in rows(db, "select id from reports")}
    named = {r[c] for r in got for c in ("report_id", "previous_report_id") if r.get(c)}
    assert named <= ids
    doc = lxml.html.fromstring(get(ds, f"/archive/{name}?{PARAMS.get(name, '')}").text)
    links = {a.get("href") for a in doc.iter("a")}
    assert {f"/-/report/archive/{rid}" for rid in named} <= links
    for r in got:
        for column in ("report_figures", "fetch_failures"):
            if r.get(column):  # a filter of those rows: it finds some
                assert f"/archive/{column}?{r[column]}" in links
                assert array(ds, f"/archive/{column}.json?{r[column]}"), (name, r[column])


def test_agency_by_year_finds_an_agency_by_its_id_or_any_name_it_had(ds, demo_db):
    db, _ = demo_db
    (hongze,) = rows(db, "select agency_id from reports where agency = '洪泽区人民政府'")
    by_id = array(ds, f"/archive/agency_by_year.json?agency={hongze['agency_id']}")
    by_old_name = array(ds, "/archive/agency_by_year.json?agency=洪泽区人民政府")
    by_traditional = array(ds, "/archive/agency_by_year.json?agency=淮安市洪澤區")
    assert [r["report_year"] for r in by_id] == [2023, 2024]  # its two reports, under two names
    assert by_id == by_old_name == by_traditional
    assert by_id[0]["requests_new"] == 21 and by_id[1]["requests_new"] == 95  # the mirror's SOURCES.md


def test_denials_and_requests_by_province_add_up_the_reports(ds, demo_db):
    db, _ = demo_db
    cells = cell_totals(db)
    years = collections.defaultdict(collections.Counter)
    for r in rows(db, "select id, report_year from reports"):
        for (table, row, column), value in cells[r["id"]].items():
            if table == "requests" and column == "total" and row.startswith("denied_"):
                years[r["report_year"]][row[len("denied_"):]] += value
                years[r["report_year"]]["denied"] += value
    got = {g["report_year"]: g for g in array(ds, "/archive/denials_by_reason.json")}
    assert set(got) == set(years)
    for year, sums in years.items():
        assert {k: got[year][k] for k in sums} == dict(sums)
    by_province = array(ds, "/archive/requests_by_province_year.json")
    assert sum(g["requests_new"] for g in by_province) == sum(c[("requests", "new_received", "total")]
                                                               for c in cells.values())


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """An archive of two agencies of one province, made here: 某县财政局 reports for 2019,
    2021 (late: published 1 March, due 31 January) and 2022 (its 上年结转 2, where 2021 carried
    forward 4), and none for 2020 nor 2023; 某县人民政府 for 2019 to 2023; a crawl run with two
    failed fetches."""
    from archive.store import finish_run, record_failure, start_run

    def carried(over, forward):
        return [{"table": "requests", "row": row, "column": "total", "value": v, "unit": None, "raw": str(v)}
                for row, v in (("carried_over", over), ("carried_forward", forward))]

    path = tmp_path_factory.mktemp("made") / "made.db"
    db = archive_of(path, [
        report("dept", "某县财政局", 2019, "2020-01-20", kind="department", cells=carried(0, 1)),
        report("dept", "某县财政局", 2021, "2022-03-01", kind="department", cells=carried(1, 4)),
        report("dept", "某县财政局", 2022, "2023-01-15", kind="department", cells=carried(2, 0)),
        *(report("gov", "某县人民政府", y, f"{y + 1}-03-01", cells=carried(0, 0)) for y in range(2019, 2024)),
    ])
    run = start_run(db, ["s"])
    for kind, url in (("http", "http://s/a.html"), ("timeout", "http://s/b.html")):
        record_failure(db, {"site_id": "s", "url": url, "fetch_role": "report", "kind": kind, "reason": kind},
                       run_id=run)
    finish_run(db, run, "ok", {"failures": 2}, {})
    db.close()
    return path, served(path)


def test_stopped_publishing_names_the_gap_and_the_stop(made):
    path, ds = made
    (row,) = array(ds, "/made/stopped_publishing.json")
    assert (row["agency"], row["first_year"], row["last_year"], row["missing_years"], row["latest_in_province"]) == \
        ("某县财政局", 2019, 2022, "2020", 2023)
    assert row["report_id"] == rows(path, "select id from reports where agency = '某县财政局' and report_year = 2022")[0]["id"]


def test_published_late_lists_the_late_report_and_its_delay(made):
    path, ds = made
    (row,) = array(ds, "/made/published_late.json")
    assert (row["agency"], row["report_year"], row["due_date"], row["days_late"]) == ("某县财政局", 2021,
                                                                                     "2022-01-31", 29)
    # 某县人民政府 published on 1 March each year: before its 31 March
    assert get(ds, "/made/published_late").text.count("/-/report/made/") == 1
    assert [r["report_year"] for r in array(ds, "/made/report_figures.json?published_late=1")] == [2021]
    facet = get(ds, "/made/report_figures.json?_facet=published_late").json()["facet_results"]["published_late"]
    assert {f["value"]: f["count"] for f in facet["results"]} == {0: 7, 1: 1}


def test_cross_year_disagreements_set_the_two_figures_side_by_side(made):
    path, ds = made
    (row,) = array(ds, "/made/cross_year_disagreements.json")
    assert (row["agency"], row["report_year"], row["carried_over"], row["previous_year"],
            row["previous_carried_forward"], row["difference"]) == ("某县财政局", 2022, 2, 2021, 4, -2)
    agreeing = array(ds, "/made/cross_year_checks.json?agrees=1")
    assert len(agreeing) == 4 and {r["agency"] for r in agreeing} == {"某县人民政府"}  # 2020–2023 of 2019–2023
    # 某县财政局 2021 has no 2020 report to be set beside
    assert not array(ds, "/made/cross_year_checks.json?report_year=2021&agency=某县财政局")


def test_latest_crawl_runs_count_their_failures_and_link_them(made):
    path, ds = made
    (run,) = array(ds, "/made/latest_crawl_runs.json")
    assert (run["failures"], run["still_failing"], run["failures_by_kind"]) == (2, 2, "http 1, timeout 1")
    failures = array(ds, f"/made/fetch_failures.json?{run['fetch_failures']}")
    assert sorted(f["url"] for f in failures) == ["http://s/a.html", "http://s/b.html"]


def test_prose_against_tables_lists_a_figure_the_text_states_otherwise(tmp_path):
    """A real capture (平潭综合实验区行政审批局 2023) with one figure of its prose changed: the
    query names the report and both figures, its page lists the check with what it tests."""
    from conftest import FIXTURES
    from pipelines.report import parse_bytes

    body = (FIXTURES / "real" / "fj_pingtan_xzspj_2023.txt").read_bytes().replace("行政复议1起".encode(),
                                                                                 "行政复议3起".encode())
    parsed = parse_bytes(body, content_type="text/plain")
    archive_of(tmp_path / "prose.db", [{**parsed, "url": "http://s/2023.html", "body": body}]).close()
    ds = served(tmp_path / "prose.db")
    (row,) = array(ds, "/prose/prose_against_tables.json")
    assert (row["rule"], row["text_says"], row["table_prints"]) == ("text.review", 3, 1)
    assert array(ds, "/prose/failing_checks.json") == []  # the tables' identities all hold
    doc = page(ds, "prose", row["report_id"])
    failed = [[td.text_content() for td in tr.iter("td")] for tr in doc.find('.//table[@class="failed"]').iter("tr")]
    (check,) = [f for f in failed if f]
    assert check[:4] == ["text.review", "review", "3", "1"] and "行政复议" in check[4]
    assert "uncertain" not in {td.get("class") for td in doc.iter("td")}  # no cell doubted for it
