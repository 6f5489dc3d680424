"""docs/schema.md is written from one source of each part (the Datasette metadata for the
tables, views and columns; pipelines/formats.py for the keys), and that source describes
every table and column an archive has, migrated afresh or made by a real crawl."""
import sqlite3

from archive import schema_doc
from conftest import ROOT, ogi, rows


def test_the_page_is_what_the_generator_writes():
    assert (ROOT / "docs/schema.md").read_text(encoding="utf-8") == schema_doc.render(), \
        "docs/schema.md is out of date: run ogi-archive schema-doc"


def test_the_metadata_describes_every_table_and_column_of_a_fresh_archive():
    assert schema_doc.problems(schema_doc.objects(schema_doc.fresh_archive()), schema_doc.metadata()["tables"]) == []


def test_the_metadata_describes_every_table_and_column_of_a_crawled_archive(demo_db):
    conn = sqlite3.connect(demo_db[0])
    try:
        found = schema_doc.objects(conn)
    finally:
        conn.close()
    assert {"reports", "cells", "cell_keys", "_sqlite_migrations"} <= set(found)
    assert schema_doc.problems(found, schema_doc.metadata()["tables"]) == []


def test_a_column_left_undescribed_or_described_and_absent_is_named():
    tables = schema_doc.metadata()["tables"]
    tables["reports"]["columns"].pop("agency")
    tables["cells"]["columns"]["colour"] = "a column no archive has"
    del tables["checks"]
    tables["report_texts"] = {"columns": {}}
    found = schema_doc.objects(schema_doc.fresh_archive())
    assert sorted(schema_doc.problems(found, tables)) == sorted([
        "reports.agency is not described", "cells.colour is described but the archive has no such column",
        "table checks is not described", "report_texts is described but the archive has no such table or view"])


def test_the_page_names_every_key_with_its_printed_wording():
    from pipelines.formats import FORMATS, cell_keys

    page = (ROOT / "docs/schema.md").read_text(encoding="utf-8")
    for k in cell_keys():
        for text in (f"`{k['row_key']}`", f"`{k['column_key']}`", k["row_label"], k["column_label"]):
            assert text in page, text
    assert "2019: 规范性文件 · 2021: 行政规范性文件" in page  # where the formats word a key otherwise
    assert "2019: 本年新制作数量 · 2021: 本年制发件数" in page
    assert set(FORMATS) == {k["format_version"] for k in cell_keys()}


def test_cell_keys_in_the_archive_label_every_figure_of_a_national_format(demo_db):
    """The page's join gives each non-legacy cell of a real crawl the template's row label and
    column header: the table in the archive is the one formats.py declares."""
    from pipelines.formats import cell_keys

    db = demo_db[0]
    archived = rows(db, "select * from cell_keys order by id")
    assert [{k: v for k, v in r.items() if k != "id"} for r in archived] == cell_keys()
    labelled = rows(db, schema_doc.LABELS_SQL)
    assert len(labelled) == rows(db, "select count(*) n from cells")[0]["n"] > 900
    assert [r for r in labelled if r["table_key"] != "legacy" and not (r["row_label"] and r["column_label"])] == []
    new = next(r for r in labelled if (r["row_key"], r["column_key"]) == ("new_received", "natural_person"))
    assert (new["row_label"], new["column_label"]) == ("一、本年新收政府信息公开申请数量", "自然人")


def test_cell_keys_follow_formats_py_when_it_declares_more(tmp_path, monkeypatch):
    """An archive made before a key was declared gets it the next time it is opened."""
    from archive.db import open_archive
    from pipelines import formats

    open_archive(tmp_path / "a.db").close()
    declared = formats.cell_keys()
    extra = {**declared[-1], "column_key": "extra", "column_label": "另一列", "column_order": 99}
    monkeypatch.setattr(formats, "cell_keys", lambda: [*declared, extra])
    open_archive(tmp_path / "a.db").close()
    assert rows(tmp_path / "a.db", "select column_label from cell_keys order by id desc limit 1") == \
        [{"column_label": "另一列"}]


def test_schema_doc_command_writes_and_checks(tmp_path):
    page = tmp_path / "schema.md"
    proc = ogi("schema-doc", "--check", "--out", page)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "cannot read" in proc.stderr
    proc = ogi("schema-doc", "--out", page)
    assert proc.returncode == 0 and page.read_text(encoding="utf-8") == schema_doc.render()
    assert ogi("schema-doc", "--check", "--out", page).returncode == 0
    page.write_text(page.read_text(encoding="utf-8").replace("商业企业", "商企"), encoding="utf-8")
    proc = ogi("schema-doc", "--check", "--out", page)
    assert proc.returncode == 1 and "run ogi-archive schema-doc" in proc.stderr and "Traceback" not in proc.stderr
    assert ogi("schema-doc", "--check").returncode == 0  # the repository's own page

