"""Full-text search (archive/search.py): the tokenizer's offsets, checked on random text and
through SQLite, and what a search marks."""
import re
import sqlite3

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from archive import search
from pipelines.script import to_simplified


def marked(snippet):
    return re.findall(r"<mark>(.*?)</mark>", snippet, re.S)


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
