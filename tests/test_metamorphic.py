"""Metamorphic tests: every report with hand-checked figures (the shared corpus, the
project's fixtures, the held-out real captures), printed again in each layout real sites
use (tests/layouts.py), must parse to exactly its figures: the same keys, values and units,
no cell more, no cell less — and, varied by hypothesis (spaces and line breaks inside labels,
full-width digits and spaces, thousands separators), still the same."""
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CORPUS, FIXTURES
from layouts import LAYOUTS, figures

from pipelines.report import parse_bytes


def _cases():
    """Each distinct set of figures once (the same report captured three ways is one)."""
    sources = [FIXTURES / "reports" / "expected.json", FIXTURES / "real" / "expected.json"]
    if (CORPUS / "expected.json").exists():  # ../shared: CI has it; a user's clone may not
        sources.append(CORPUS / "expected.json")
    seen, out = set(), []
    for path in sources:
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            fig = figures(case)
            if fig is None:  # pre-2019 appendices: no national tables to print in these layouts
                continue
            key = tuple(sorted(fig.cells.items()))
            if key not in seen:
                seen.add(key)
                out.append(fig)
    return out


CASES = _cases()


def unit_of(column):
    return "万元" if column == "amount" else None


def diff(fig, report):
    """What the parse got wrong: missing keys, wrong values or units, extra keys, fields."""
    got = {(c["table"], c["row"], c["column"]): (c["value"], c["unit"]) for c in report["cells"]}
    want = {k: (v, unit_of(k[2])) for k, v in fig.cells.items()}
    out = {
        "missing": sorted(k for k in want if k not in got),
        "wrong": sorted((k, got[k], want[k]) for k in want if k in got and
                        (abs(got[k][0] - want[k][0]) > 1e-9 or got[k][1] != want[k][1])),
        "extra": sorted((k, got[k]) for k in got if k not in want),
    }
    if report["title"] != fig.title or report["report_year"] != fig.year:
        out["fields"] = (report["title"], report["report_year"])
    return {k: v[:6] for k, v in out.items() if v}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("fig", CASES, ids=lambda f: f.name.rsplit(".", 1)[0])
def test_every_layout_gives_the_same_cells(fig, layout):
    body, content_type = LAYOUTS[layout](fig)
    assert not diff(fig, parse_bytes(body, content_type=content_type))


# ---- the same figures, printed with the small differences of real pages ----------------------

FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


def _style(draw):
    """A printing style hypothesis draws: how labels and values are spaced and written."""
    full_width = draw(st.booleans())
    separator = draw(st.sampled_from(["", ",", "，"]))
    breaks = draw(st.lists(st.integers(1, 8), max_size=2))
    space = draw(st.sampled_from(["", " ", "\u3000", "\xa0"]))

    def style(kind, text):
        if kind == "value":
            if separator and text.isdigit() and len(text) > 3:
                text = f"{int(text):,}".replace(",", separator)
            return text.translate(FULL_WIDTH) if full_width else text
        for at in sorted(breaks, reverse=True):  # a space inside a label where a cell wrapped
            if at < len(text) - 1 and "\u4e00" <= text[at] <= "\u9fff" and "\u4e00" <= text[at - 1] <= "\u9fff":
                text = text[:at] + space + text[at:]
        return text

    return style


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_spacing_digits_and_separators_change_nothing(data):
    fig = data.draw(st.sampled_from(CASES), label="report")
    layout = data.draw(st.sampled_from(list(LAYOUTS)),
                       label="layout")
    fig.style = _style(data.draw)
    try:
        body, content_type = LAYOUTS[layout](fig)
    finally:
        fig.style = None
    assert not diff(fig, parse_bytes(body, content_type=content_type))
