"""Mutated reports for the fuzz tests (tests/test_fuzz.py) and the long fuzz run
(benchmarks/bench_fuzz.py): real reports of every kind, mutated byte by byte and, for the
zip-based formats, inside their XML parts (a byte flipped in a zip only breaks its
checksum: the reader must meet the damage).

Every mutated document is parsed in the parse pool, under a budget, as in a crawl; what
must hold for each (:func:`problems`): the parse returned (no uncaught exception), within
its time and memory, with a ``parse_status`` the archive knows, and a well-formed parse.
"""
import io
import zipfile

from hypothesis import strategies as st

from conftest import FIXTURES, MIRROR

SEEDS = {
    "html": (FIXTURES / "reports" / "fj_pingtan_2024.html", "text/html"),
    "text": (FIXTURES / "reports" / "fj_pingtan_2023.txt", "text/plain"),
    "pdf": (MIRROR / "js_hongze" / "uploadfiles" / "2025" / "02" / "2025021410352867.pdf", "application/pdf"),
    "docx": (FIXTURES.parent / "sites" / "attachments" / "uploadfiles" / "2023" / "01" / "20230119093022118.docx",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": (FIXTURES.parent / "sites" / "attachments" / "uploadfiles" / "2022" / "01" / "20220126160507342.xlsx",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}

# what a report's markup is made of, and what breaks readers
PIECES = [
    b"<table>", b"</table>", b"<tr>", b"</tr>", b"<td>", b"</td>", b"<td colspan=99999>", b"<td rowspan=0>",
    b"<p>", b"</div>", b"<div>" * 50, b"<script>", b"<!--", b"]]>", b"<br/>", b"&#0;", b"&#xD800;", b"&amp;",
    "本年新收政府信息公开申请数量".encode(), "行政复议".encode(), "１２３".encode(), "万元".encode(), b"-1",
    b"99999999999999999999", b"1e309", b"NaN", b"\x00", b"\xff\xfe", b"\xe4\xb8", b"\r\n" * 20, b"|" * 40,
    b"\t" * 40, "（五）不予处理".encode(), "总计".encode(), b"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>",
    b"</w:t></w:r></w:p></w:tc></w:tr></w:tbl>", b'<c r="ZZ999"><v>1</v></c>', b'<row r="0">', b"<v>-0</v>",
]


@st.composite
def mutations(draw, size):
    """A list of edits ``(op, position, bytes)`` for a body of ``size`` bytes."""
    piece = st.one_of(st.sampled_from(PIECES), st.binary(min_size=1, max_size=48))
    op = st.sampled_from(["insert", "replace", "delete", "duplicate", "truncate", "flip"])
    return draw(st.lists(st.tuples(op, st.integers(0, max(size - 1, 0)), piece), min_size=1, max_size=10))


def mutate(body, edits):
    out = bytearray(body)
    for op, at, piece in edits:
        at = min(at, len(out))
        if op == "insert":
            out[at:at] = piece
        elif op == "replace":
            out[at:at + len(piece)] = piece
        elif op == "delete":
            del out[at:at + len(piece) * 8]
        elif op == "duplicate":
            out[at:at] = out[at:at + len(piece) * 64]
        elif op == "truncate":
            del out[at:]
        elif op == "flip" and at < len(out):
            out[at] ^= piece[0] or 0xFF
    return bytes(out)


def mutate_zip(body, edits, part_index):
    """The zip with one of its XML parts mutated (the zip itself stays readable)."""
    src = zipfile.ZipFile(io.BytesIO(body))
    names = [n for n in src.namelist() if n.endswith(".xml")]
    target = names[part_index % len(names)]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in src.namelist():
            data = src.read(name)
            z.writestr(name, mutate(data, edits) if name == target else data)
    return out.getvalue()


@st.composite
def documents(draw, kind):
    """(bytes, content type) of a mutated report of ``kind``."""
    path, ctype = SEEDS[kind]
    body = path.read_bytes()
    if kind in ("docx", "xlsx") and draw(st.booleans()):
        return mutate_zip(body, draw(mutations(4096)), draw(st.integers(0, 50))), ctype
    return mutate(body, draw(mutations(len(body)))), ctype


def parse(body, ctype):
    """Runs in a parse worker: the parse, and its peak memory."""
    import resource

    from pipelines.report import parse_capture

    report = parse_capture(body, content_type=ctype, url="http://127.0.0.1/nb/report")
    return report, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def problems(outcome, memory_mb):
    """What is wrong with a parse outcome (empty: nothing)."""
    from pipelines.report import PARSE_STATUSES

    if outcome.status != "ok":
        return [f"{outcome.status}: {outcome.reason}"]
    report, peak_mb = outcome.value
    found = []
    if report.get("parse_status") not in PARSE_STATUSES:
        found.append(f"parse_status {report.get('parse_status')!r}")
    if report.get("parse_status") in ("error", "too_large") and not report.get("parse_error"):
        found.append("not parsed, and no reason")
    if peak_mb > memory_mb:
        found.append(f"{peak_mb} MB at the peak")
    keys = set()
    for c in report.get("cells") or []:
        key = (c["table"], c["row"], c["column"])
        if key in keys:
            found.append(f"cell {key} twice")
        keys.add(key)
        if not isinstance(c["value"], (int, float)) or c["value"] != c["value"]:
            found.append(f"cell {key}: value {c['value']!r}")
    for name in ("warnings", "sections", "checks"):
        if not isinstance(report.get(name, []), list):
            found.append(f"{name} is not a list")
    return found
