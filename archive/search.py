"""Full-text search of the reports' titles and section texts, in either script.

SQLite's own tokenizers do not fit Chinese: ``unicode61`` keeps a run of Chinese
characters as one token (信访 is not found in 信访工作), and ``trigram`` finds no term
shorter than three characters (信访, 复议).  The tokenizer here, ``ogi_cjk``, is Python
registered on each connection through the sqlitefts package:

- the text is converted to simplified script (OpenCC t2s, as :func:`pipelines.script.to_simplified`),
  so 信訪 and 信访 are the same tokens, in a query as in a report;
- a run of Chinese characters gives its overlapping bigrams (信访工作 → 信访 访工 工作), a
  lone character between others gives itself; whitespace inside a run (a PDF's line break
  in 依申请公\\n开) does not break it;
- any other run of letters, or of digits, is one token, lowercased, full-width forms as ASCII.

Each token carries the UTF-8 byte offsets of its characters in the text as given (not the
converted one), so ``snippet()`` and ``highlight()`` mark the very characters.  A query of
two characters is one token; one of three or more is several, which FTS5 takes as a phrase
(the bigrams one after another): 依申请公开 matches only those five characters in a row.

The index is ``reports_fts`` (title, body: the sections' headings and texts), one row a
report, its rowid the report's rowid in ``reports``; it keeps its own copy of the text (see
:func:`create_index`).  :func:`index_report` rewrites a report's row; ``store.write_parse``
calls it for every parse it writes, and a trigger drops the row of a report deleted.
"""
import functools
import re
import unicodedata
from itertools import accumulate

from pipelines.script import _short_t2s, to_simplified

TOKENIZER = "ogi_cjk"
FTS_TABLE = "reports_fts"

# Han ideographs (the URO, extension A, compatibility ideographs, the supplementary planes) and 〇
CJK = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# a run of Chinese characters (whitespace between two of them kept inside), or a word: letters
# that are not Chinese (full-width forms, other scripts included), or digits (2024 in 2024年, 5 and g in 5G)
_PIECES = re.compile(rf"([{CJK}](?:\s*[{CJK}])*)|[^\W\d_{CJK}]+|\d+")
_SPACE = re.compile(r"\s")


def _utf8_width(char):
    if char < "\x80" or "\udc80" <= char <= "\udcff":  # ASCII, or a byte that was not UTF-8 (surrogateescape)
        return 1
    if char < "\u0800":
        return 2
    return 3 if char < "\U00010000" else 4


def _simplified(text):
    """The text in simplified script, character for character: t2s of the whole text when it
    keeps the length (it does on every character and on the phrases seen), else each
    character converted on its own."""
    try:
        converted = to_simplified(text)
    except (UnicodeError, ValueError):  # lone surrogates, a NUL: the converter refuses them
        converted = None
    if converted is not None and len(converted) == len(text):
        return converted
    return "".join(_one_char(c) for c in text)


def _one_char(char):
    try:
        converted = _short_t2s(char)
    except (UnicodeError, ValueError):
        return char
    return converted if len(converted) == 1 else char


def _word(word):
    if word.isascii():
        return word.lower()
    return unicodedata.normalize("NFKC", word).lower()


def tokens(text):
    """The tokens of ``text``: a list of (token, start, end), start and end the UTF-8 byte
    offsets of the token's characters in ``text`` (a character that is not valid UTF-8,
    decoded with surrogateescape, counts its one byte)."""
    simple = _simplified(text)
    out = []
    at = byte = 0  # a character offset and its byte offset, moving forward only
    for m in _PIECES.finditer(text):
        start, end = m.span()
        if start > at:
            byte += len(text[at:start].encode("utf-8", "surrogateescape"))
        piece = text[start:end]
        size = len(piece.encode("utf-8", "surrogateescape"))
        if m.group(1) is None:
            out.append((_word(piece), byte, byte + size))
        else:
            out.extend(_bigrams(piece, simple[start:end], byte, size))
        at, byte = end, byte + size
    return out


def _bigrams(run, simple, byte, size):
    """The tokens of a run of Chinese characters (``simple`` its simplified form) that starts
    at ``byte`` and is ``size`` bytes long."""
    n = len(run)
    if n == 1:
        return [(simple, byte, byte + size)]
    if size == 3 * n and not _SPACE.search(run):  # the common case: no break, every character 3 bytes
        return [(simple[i:i + 2], byte + 3 * i, byte + 3 * i + 6) for i in range(n - 1)]
    bounds = list(accumulate(map(_utf8_width, run), initial=byte))  # bounds[i]: where character i starts
    keep = [i for i, c in enumerate(run) if not c.isspace()]
    return [(simple[i] + simple[j], bounds[i], bounds[j + 1]) for i, j in zip(keep, keep[1:])]


# ---- the tokenizer in SQLite ---------------------------------------------------------------

_FTS5 = None  # the C callbacks and the fts5_tokenizer struct, made once and kept for the process


def _callbacks():
    global _FTS5
    if _FTS5 is None:
        from sqlitefts import fts5  # noqa: F401  (declares the FTS5 structs to cffi)
        from sqlitefts.tokenizer import dll, ffi

        ffi.cdef("void *sqlite3_malloc(int); void sqlite3_free(void*);")
        SQLITE_OK, SQLITE_ERROR, SQLITE_NOMEM = 0, 1, 7

        # each table's tokenizer is a byte of SQLite's memory that SQLite's own sqlite3_free
        # releases: a connection closed as the interpreter ends (its callbacks gone) calls
        # no Python (sqlitefts' own xDelete raises there)
        @ffi.callback("int(void*, const char **, int, Fts5Tokenizer **)", error=SQLITE_ERROR)
        def create(context, argv, argc, out):
            out[0] = ffi.cast("Fts5Tokenizer *", dll.sqlite3_malloc(1))
            return SQLITE_OK if out[0] != ffi.NULL else SQLITE_NOMEM

        @ffi.callback("int(Fts5Tokenizer *, void *, int, const char *, int, "
                      "int(void*, int, const char *, int, int, int))", error=SQLITE_ERROR)
        def tokenize(tokenizer, context, flags, text, size, emit):
            text = ffi.unpack(text, size).decode("utf-8", "surrogateescape") if size > 0 else ""
            for token, start, end in tokens(text):
                token = token.encode("utf-8", "surrogateescape")
                rc = emit(context, 0, token, len(token), start, end)
                if rc != SQLITE_OK:
                    return rc
            return SQLITE_OK

        delete = ffi.cast("void(*)(Fts5Tokenizer *)", ffi.addressof(dll, "sqlite3_free"))
        _FTS5 = (ffi.new("fts5_tokenizer *", [create, delete, tokenize]), create, tokenize)
    return _FTS5[0]


def register(conn):
    """Make the ``ogi_cjk`` tokenizer known to ``conn`` (a sqlite3 connection or a sqlite-utils
    Database), once: every connection that reads or writes ``reports_fts`` needs it."""
    if getattr(conn, "_ogi_cjk", False):  # a sqlite-utils Database that has it already
        return
    from sqlitefts.fts5 import fts5_api_from_db
    from sqlitefts.tokenizer import ffi

    api = fts5_api_from_db(getattr(conn, "conn", conn))
    if api is None or api == ffi.NULL:
        raise RuntimeError("this SQLite has no FTS5")
    name = TOKENIZER.encode()
    if api.xFindTokenizer(api, name, ffi.new("void **"), ffi.new("fts5_tokenizer *")) != 0 and \
            api.xCreateTokenizer(api, name, ffi.NULL, _callbacks(), ffi.NULL) != 0:
        raise RuntimeError(f"the {TOKENIZER} tokenizer could not be registered")
    if hasattr(conn, "conn"):
        conn._ogi_cjk = True


# ---- the index ----------------------------------------------------------------------------

# a report's row of the index: its title, and its sections' headings and texts in order (the
# report's whole text where the parse found no sections), rowid the report's
_ROWS = f"""insert into {FTS_TABLE} (rowid, title, body)
select r.rowid, r.title, coalesce((select group_concat(coalesce(s.heading, '') || char(10) || coalesce(s.text, ''),
                                                      char(10) || char(10))
                                   from (select heading, text from sections where report_id = r.id order by number) s),
                                  r.text)
from reports r"""


def create_index(db):
    """The search index (``reports_fts``) with every report in it, and the trigger that drops
    a deleted report's row.  The index keeps its own copy of the text it holds (an external-
    content table would read it from ``reports`` and ``sections``, but must then be given a
    report's old text, exactly, to take its tokens out: the text a re-parse has just replaced)."""
    register(db)
    db.execute(f"create virtual table {FTS_TABLE} using fts5(title, body, tokenize = '{TOKENIZER}')")
    db.execute(f"create trigger {FTS_TABLE}_forget after delete on reports begin "
               f"delete from {FTS_TABLE} where rowid = old.rowid; end")
    db.execute(_ROWS)


def index_report(db, rid):
    """The report ``rid``'s row of the index written anew from its title and sections."""
    register(db)
    db.execute(f"delete from {FTS_TABLE} where rowid = (select rowid from reports where id = ?)", [rid])
    db.execute(_ROWS + " where r.id = ?", [rid])


def rebuild(db):
    """The index made anew from every report's title and sections (after a change of the
    tokenizer, or to time what the migration does)."""
    register(db)
    db.execute(f"drop trigger if exists {FTS_TABLE}_forget")
    db.execute(f"drop table if exists {FTS_TABLE}")
    create_index(db)


# ---- a search ------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def escape_query(text):
    """What a user typed as an FTS5 query, as Datasette's ``escape_fts`` makes it (each term
    quoted, a "quoted phrase" kept whole), but never one FTS5 refuses: control characters
    (a NUL ends SQLite's reading of the string) are spaces, and nothing left is "" (which
    matches nothing) rather than no query at all."""
    from datasette.utils import escape_fts

    return escape_fts(_CONTROL.sub(" ", text or "")) or '""'


# ---- what a search shows -------------------------------------------------------------------

MARK, UNMARK = "<mark>", "</mark>"  # around each match in what the search query shows
EXCERPT_BEFORE, EXCERPT_AFTER = 30, 70  # characters of text shown before the first match and after it
_PHRASE = re.compile(r'"((?:[^"]|"")*)"')


def phrases(query):
    """The token lists of the phrases of an FTS5 query as :func:`escape_query` makes it."""
    found = [[t for t, _, _ in tokens(p.replace('""', '"'))] for p in _PHRASE.findall(query)]
    return [p for p in found if p]


def highlight(text, query):
    """``text`` with each match of ``query`` (what the user typed) between <mark> and </mark>:
    the matches FTS5 finds, each term's tokens one after another, marked on the text's own
    characters; None when nothing in it matches.

    FTS5's highlight() and snippet() cannot be used: two matches that share a character (信访
    and 访问 in 信访问, 〇〇 twice in 二〇〇〇), as overlapping pairs do, make them write the
    rest of the text again."""
    if not isinstance(text, str) or not isinstance(query, str):
        return None
    return _marked(text, phrases(escape_query(query)))


def _marked(text, phrase_list):
    found = tokens(text)
    where = {}
    for i, (token, _, _) in enumerate(found):
        where.setdefault(token, []).append(i)
    spans = []
    for phrase in phrase_list:
        n = len(phrase)
        for i in where.get(phrase[0], ()):
            if [t for t, _, _ in found[i:i + n]] == phrase:
                spans.append((found[i][1], found[i + n - 1][2]))
    if not spans:
        return None
    data = text.encode("utf-8", "surrogateescape")
    out, at, mark, unmark = [], 0, MARK.encode(), UNMARK.encode()
    for start, end in _merged(sorted(spans)):
        out += [data[at:start], mark, data[start:end], unmark]
        at = end
    out.append(data[at:])
    return b"".join(out).decode("utf-8", "surrogateescape")


def _merged(spans):
    """Byte spans, sorted, with those that overlap made one (those that only touch kept apart)."""
    merged = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def excerpt(marked, cut_before=False, cut_after=False):
    """The part of ``marked`` (a text from :func:`highlight`) around its first match: whole
    matches only, … where it is cut (or where ``marked`` itself was cut from a longer text);
    None when nothing in it is marked."""
    if not isinstance(marked, str):
        return None
    first = marked.find(MARK)
    if first < 0:
        return None
    start = max(0, first - EXCERPT_BEFORE)
    end = marked.find(UNMARK, first) + len(UNMARK) + EXCERPT_AFTER
    for m in _MARKS.finditer(marked, first):  # a match begun inside the excerpt ends in it
        if m.start() >= end:
            break
        end = max(end, marked.find(UNMARK, m.end()) + len(UNMARK))
    end = min(end, len(marked))
    return ("…" if start or cut_before else "") + marked[start:end] + ("…" if end < len(marked) or cut_after else "")


_MARKS = re.compile(re.escape(MARK))
_WORD_CHAR = re.compile(rf"[^\W_{CJK}]")
_MARGIN = 60  # characters past an excerpt a window takes, for a match that ends there


def snippet(title, body, query):
    """What the search query shows of a report: the part of its sections' text around the
    first match, the matches marked; its title, marked, when the match is only there.

    Only a window of the text around each place its terms may start is tokenized, not the
    whole text: the pair of characters a term starts with, found by a regular expression
    (where a term starts with a word, the whole text is)."""
    if not isinstance(query, str):
        return None
    found = phrases(escape_query(query))
    if not found:
        return None
    return _body_excerpt(body, found) or (_marked(title, found) if isinstance(title, str) else None)


def _body_excerpt(body, phrase_list):
    if not isinstance(body, str):
        return None
    starts = _starts(tuple(p[0] for p in phrase_list))
    if starts is None:
        return excerpt(_marked(body, phrase_list))
    covered = -1
    for m in starts.finditer(_simplified(body)):
        if m.start() < covered:
            continue
        begin, end = _widened(body, m.start() - EXCERPT_BEFORE - 10, m.end() + EXCERPT_AFTER + _MARGIN)
        marked = _marked(body[begin:end], phrase_list)
        if marked:
            return excerpt(marked, begin > 0, end < len(body))
        covered = end - _MARGIN
    return None


@functools.lru_cache(maxsize=256)
def _starts(first_tokens):
    """A regular expression finding, in a simplified text, where a token of ``first_tokens``
    may stand (its characters, whitespace between them allowed); None if one is a word."""
    if not all(_CJK_ONLY.fullmatch(t) for t in first_tokens):
        return None
    return re.compile("|".join(r"\s*".join(map(re.escape, t)) for t in first_tokens))


_CJK_ONLY = re.compile(f"[{CJK}]+")


def _widened(text, begin, end):
    """[begin, end) within the text, widened so as to cut no word of letters or digits."""
    begin, end = max(0, begin), min(len(text), end)
    while 0 < begin and _WORD_CHAR.match(text[begin - 1]) and _WORD_CHAR.match(text[begin]):
        begin -= 1
    while end < len(text) and _WORD_CHAR.match(text[end - 1]) and _WORD_CHAR.match(text[end]):
        end += 1
    return begin, end
