"""Every way real reports print a row label, a column header or a section heading
(tests/fixtures/labels/catalogue.tsv, harvested from 203 real report pages, each variant
keyed by a human reader) names its canonical key, and no other."""
import csv
import pathlib

import pytest

from pipelines.tables import column_key, row_key, section_key

CATALOGUE = pathlib.Path(__file__).parent / "fixtures" / "labels" / "catalogue.tsv"


def _variants():
    with CATALOGUE.open(encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            yield pytest.param(r, id=f"{r['kind']}-{r['table']}-{r['key']}-{r['variant'][:24]}")


@pytest.mark.parametrize("variant", list(_variants()))
def test_each_printed_variant_names_its_key(variant):
    text = variant["variant"].replace("\\n", "\n")  # the catalogue writes a line break in a cell as \n
    kind, table, key = variant["kind"], variant["table"], variant["key"]
    if kind == "row":
        assert row_key(table, text) == key, variant["url"]
    elif kind == "column":
        assert column_key(table, text) == key, variant["url"]
    elif kind == "section":
        assert section_key(text) == key, variant["url"]
    elif key != "other":  # a group label names no row (（六）其他处理 is a row of the 2019 table, a group of 2021's)
        assert row_key(table, text) is None, variant["url"]


def test_the_catalogue_covers_every_kind():
    with CATALOGUE.open(encoding="utf-8") as f:
        kinds = {r["kind"] for r in csv.DictReader(f, delimiter="\t")}
    assert kinds == {"row", "column", "section", "group"}
