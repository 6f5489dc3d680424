"""The label catalogue (tests/fixtures/labels/) is well formed.

catalogue.tsv lists how real annual reports print their headings, table headers and row
labels, one row per distinct printed variant, each with the canonical key a reader
assigned to it and one page it was seen on; sightings.tsv has every page each variant
was seen on. Keys are the ones the shared spec report-schema.md defines; nothing here
runs the parser.
"""
import collections
import csv
import pathlib

import pytest

LABELS = pathlib.Path(__file__).parent / "fixtures" / "labels"

ACTIVE_ROWS = {"regulations", "normative_documents", "licensing", "other_services",
               "punishment", "coercion", "fees", "procurement"}
ACTIVE_COLUMNS = {"made", "published", "total_published", "repealed", "valid",
                  "previous_count", "change", "decisions", "amount", "items"}
REQUEST_ROWS = {
    "new_received", "carried_over", "granted", "partial",
    "denied_state_secret", "denied_prohibited", "denied_security", "denied_third_party",
    "denied_internal", "denied_process", "denied_enforcement", "denied_query",
    "unable_not_held", "unable_needs_creation", "unable_unclear",
    "ignored_complaint", "ignored_repeat", "ignored_publication", "ignored_mass", "ignored_confirm",
    "other", "other_no_correction", "other_no_fee", "other_other",
    "total_processed", "carried_forward",
}
REQUEST_COLUMNS = {"natural_person", "business", "research", "public_interest",
                   "legal_services", "other_org", "total", "org_subtotal"}
REVIEW_ROWS = {"review", "suit_direct", "suit_after_review"}
REVIEW_COLUMNS = {"upheld", "corrected", "other", "pending", "total"}
REQUEST_GROUPS = {"outcome", "denied", "unable", "ignored", "other"}
SECTIONS = {"overview", "active", "requests", "review_litigation", "problems", "other_matters"}

VALID = {
    ("row", "active"): ACTIVE_ROWS,
    ("column", "active"): ACTIVE_COLUMNS,
    ("row", "requests"): REQUEST_ROWS,
    ("column", "requests"): REQUEST_COLUMNS,
    ("group", "requests"): REQUEST_GROUPS,
    ("row", "review_litigation"): REVIEW_ROWS,
    ("column", "review_litigation"): REVIEW_COLUMNS,
    ("section", "-"): SECTIONS,
}


def load(name):
    with (LABELS / name).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        assert reader.fieldnames == ["kind", "table", "key", "variant", "url"]
        return list(reader)


@pytest.fixture(scope="module")
def entries():
    return load("catalogue.tsv")


@pytest.fixture(scope="module")
def sightings():
    return load("sightings.tsv")


def ident(e):
    return e["kind"], e["table"], e["key"], e["variant"]


def test_loads_and_every_field_is_filled(entries, sightings):
    assert entries and sightings
    for e in entries + sightings:
        assert all(e[f] and e[f] == e[f].strip() for f in ("kind", "table", "key", "variant", "url")), e
        assert e["url"].startswith(("http://", "https://")), e


def test_at_least_200_distinct_source_pages(sightings):
    assert len({e["url"] for e in sightings}) >= 200


def test_sightings_and_catalogue_agree(entries, sightings):
    seen = {(ident(e), e["url"]) for e in sightings}
    assert {ident(e) for e in sightings} == {ident(e) for e in entries}
    assert all((ident(e), e["url"]) in seen for e in entries)
    assert len(seen) == len(sightings)


def test_every_key_is_a_key_of_the_schema(entries, sightings):
    bad = [e for e in entries + sightings if e["key"] not in VALID.get((e["kind"], e["table"]), ())]
    assert not bad, bad[:5]


def test_no_variant_has_two_keys_within_a_kind_and_table(entries):
    keys = collections.defaultdict(set)
    for e in entries:
        keys[(e["kind"], e["table"], e["variant"])].add(e["key"])
    clashes = {k: v for k, v in keys.items() if len(v) > 1}
    assert not clashes, clashes


def test_each_variant_is_listed_once(entries):
    seen = collections.Counter(ident(e) for e in entries)
    assert [k for k, n in seen.items() if n > 1] == []
