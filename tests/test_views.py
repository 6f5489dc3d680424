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
        cap, sha = save_capture(db, {"site_id": "s", "url": parsed["url"], "body": f"report {n}".encode(),
                                     "role": "report"})
        save_report(db, "s", parsed["url"], cap, sha, parsed)
    return db


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
