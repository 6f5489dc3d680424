"""docs/schema.md, written from the one source of each of its parts: the Datasette metadata
(archive/datasette/metadata.yaml) for the tables, views and columns, as Datasette shows them,
and pipelines/formats.py for the canonical keys and the template's wording of each.

The tables, views and columns themselves are read from an archive migrated afresh (in
memory), so the page says what an archive holds, in its columns' order, with their types and
links; a table or column that the metadata does not describe, or that it describes and no
archive has, is a :class:`SchemaDocError` rather than a page.  ``ogi-archive schema-doc``
writes the page, ``--check`` says whether it is up to date.
"""
import pathlib

METADATA = pathlib.Path(__file__).parent / "datasette" / "metadata.yaml"
DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "schema.md"

# what SQLite and FTS keep for themselves: not the archive's to describe
_FTS_SHADOWS = ("_data", "_idx", "_docsize", "_config", "_content")

# each cell with the template's wording of its row and column: its report's format first, else
# the other format's (a 2021 report may print the 2019 layout of a table); legacy cells have none
LABELS_SQL = """select r.title, c.table_key, c.row_key, c.column_key, c.value, k.row_label, k.column_label
from cells c
join reports r on r.id = c.report_id
left join cell_keys k on k.id = coalesce(
  (select id from cell_keys where format_version = r.format_version
     and table_key = c.table_key and row_key = c.row_key and column_key = c.column_key),
  (select min(id) from cell_keys
     where table_key = c.table_key and row_key = c.row_key and column_key = c.column_key))"""


class SchemaDocError(Exception):
    """The metadata and the archive disagree: the message names every table and column concerned."""


def metadata():
    """The archive database's part of the Datasette metadata: {"tables": …, "queries": …}."""
    import yaml

    return yaml.safe_load(METADATA.read_text(encoding="utf-8"))["databases"]["archive"]


def fresh_archive():
    """A connection to an archive migrated afresh, in memory (no WARC folder: none is needed)."""
    from sqlite_utils import Database

    from .db import migrations, write_cell_keys

    db = Database(memory=True)
    migrations.apply(db)
    write_cell_keys(db)
    return db.conn


def objects(conn):
    """The archive's tables and views as the metadata must describe them: {name: {"type",
    "columns": [(name, declared type, primary key position)], "links": {column: "table.column"}}},
    SQLite's own tables and full-text indexes' shadow tables left out."""
    from .search import register

    register(conn)  # reading the search index's columns needs its tokenizer
    found = conn.execute("select name, type, sql from sqlite_master where type in ('table', 'view') "
                         "and name not like 'sqlite\\_%' escape '\\' order by name").fetchall()
    fts = [name for name, _, sql in found if sql and "using fts" in sql.lower()]
    out = {}
    for name, kind, _ in found:
        if any(name == f + s for f in fts for s in _FTS_SHADOWS):
            continue
        out[name] = {
            "type": kind,
            "columns": [(c[1], c[2], c[5]) for c in conn.execute(f"pragma table_xinfo([{name}])") if c[6] == 0],
            "links": {fk[3]: f"{fk[2]}.{fk[4]}" for fk in conn.execute(f"pragma foreign_key_list([{name}])")},
        }
    return out


def problems(found, tables):
    """What the metadata's ``tables`` leave undescribed in ``found`` (see :func:`objects`), or
    describe and the archive does not have: a list of lines, empty when they agree."""
    out = []
    for name, obj in found.items():
        described = (tables.get(name) or {}).get("columns") or {}
        if name not in tables:
            out.append(f"{obj['type']} {name} is not described")
            continue
        out += [f"{name}.{c} is not described" for c, _, _ in obj["columns"] if c not in described]
        have = {c for c, _, _ in obj["columns"]}
        out += [f"{name}.{c} is described but the archive has no such column" for c in described if c not in have]
    shadows = {f + s for f in found for s in _FTS_SHADOWS}  # a full-text index's own tables, hidden
    out += [f"{name} is described but the archive has no such table or view" for name in tables
            if name not in found and name not in shadows]
    return out


def _cell(text):
    return " ".join(str(text).split()).replace("|", "\\|") if text is not None else ""


def _tables(found, meta):
    tables = {name: info for name, info in meta["tables"].items() if name in found}  # not an index's own tables
    lines = ["## Tables and views", "",
             "| table | one row per, or what it is |", "|---|---|"]
    lines += [f"| [`{name}`](#{name}) | {_cell(tables[name].get('description'))} |" for name in tables]
    for name, info in tables.items():
        obj = found[name]
        notes = [obj["type"]] + (["hidden in Datasette"] if info.get("hidden") else [])
        lines += ["", f"### {name}", "", f"*{', '.join(notes)}.* {_cell(info.get('description'))}", "",
                  "| column | type | links to | description |", "|---|---|---|---|"]
        for column, kind, pk in obj["columns"]:
            key = " (primary key)" if pk else ""
            link = f"`{obj['links'][column]}`" if column in obj["links"] else ""
            lines.append(f"| `{column}`{key} | {kind or ''} | {link} | {_cell(info['columns'][column])} |")
    return lines


def _merged(orders):
    """One printed order of the keys of several formats: each format's keys in its own order,
    a key only one format prints placed after the key printed before it there."""
    out = []
    for order in orders:
        for i, key in enumerate(order):
            if key not in out:
                out.insert(out.index(order[i - 1]) + 1 if i else 0, key)
    return out


def _by_format(values):
    """One wording, or each format's: {format: text} → text."""
    if len(set(values.values())) == 1:
        return next(iter(values.values()))
    return " · ".join(f"{fmt}: {text}" for fmt, text in values.items())


def _keys():
    from pipelines.formats import TABLE_HEADINGS, cell_keys

    keys = cell_keys()
    lines = ["## The keys of cells", "",
             "`cells.table_key`, `row_key` and `column_key` are the canonical keys of the parsed-report schema. "
             "Each national format's template prints them so (`pipelines/formats.py`; the archive's `cell_keys` "
             "table holds the same, a row for each cell a template prints). Where the formats word a key "
             "differently, each format's wording is given. A report may print a table in the other format's "
             "layout (a 2021 report with 2019's single （六）其他处理 row): its cells keep the keys they were "
             "read as.", "",
             "Each figure beside the template's wording (its report's format first, else the other's):", "",
             "```sql", LABELS_SQL, "```", "",
             "Pre-2019 reports have no template: their cells have `table_key` `legacy`, the indicator as "
             "printed (simplified) as `row_key`, and `value` (or the column's header, e.g. 本年, 累计) as "
             "`column_key`."]
    for table, heading in TABLE_HEADINGS.items():
        rows, columns = {}, {}
        for k in (k for k in keys if k["table_key"] == table):
            row = rows.setdefault(k["row_key"], {"label": {}, "group": {}, "columns": {}})
            row["label"][k["format_version"]] = k["row_label"]
            row["group"][k["format_version"]] = k["row_group"] or ""
            row["columns"].setdefault(k["format_version"], []).append(f"`{k['column_key']}`")
            column = columns.setdefault(k["column_key"], {"label": {}, "group": {}})
            column["label"][k["format_version"]] = k["column_label"]
            column["group"][k["format_version"]] = k["column_group"] or ""
        per_row = len({tuple(cols) for r in rows.values() for cols in r["columns"].values()}) > 1
        for keyed, field in ((rows, "row"), (columns, "column")):
            orders = {}
            for k in (k for k in keys if k["table_key"] == table):  # in printed order
                order = orders.setdefault(k["format_version"], [])
                if k[f"{field}_key"] not in order:
                    order.append(k[f"{field}_key"])
            ordered = {key: keyed[key] for key in _merged(orders.values())}
            keyed.clear()
            keyed.update(ordered)
        lines += ["", f"### `{table}` — {heading}", "",
                  "| row_key | printed label | formats | printed under |" + (" columns |" if per_row else ""),
                  "|---|---|---|---|" + ("---|" if per_row else "")]
        for key, row in rows.items():
            cols = _by_format({f: ", ".join(c) for f, c in row["columns"].items()})
            lines.append(f"| `{key}` | {_cell(_by_format(row['label']))} | {', '.join(row['label'])} | "
                         f"{_cell(_by_format(row['group']))} |" + (f" {cols} |" if per_row else ""))
        lines += ["", "| column_key | printed header | formats | printed under |", "|---|---|---|---|"]
        for key, column in columns.items():
            lines.append(f"| `{key}` | {_cell(_by_format(column['label']))} | {', '.join(column['label'])} | "
                         f"{_cell(_by_format(column['group']))} |")
    return lines


def _queries(meta):
    queries = meta.get("queries") or {}
    if not queries:
        return []
    lines = ["## Canned queries", "", "At `/archive/<name>` in Datasette.", "", "| name | what it gives |",
             "|---|---|"]
    return lines + [f"| `{name}` | {_cell(q.get('title') or q.get('description'))} |" for name, q in queries.items()]


def render(conn=None):
    """The text of docs/schema.md (for the archive ``conn``; by default one migrated afresh).
    Raises :class:`SchemaDocError` when the metadata and the archive disagree."""
    conn = conn or fresh_archive()
    meta = metadata()
    found = objects(conn)
    wrong = problems(found, meta["tables"])
    if wrong:
        raise SchemaDocError("archive/datasette/metadata.yaml and the archive disagree: " + "; ".join(wrong))
    lines = ["# The archive's schema", "",
             "<!-- Written by `ogi-archive schema-doc` from archive/datasette/metadata.yaml (tables, views, "
             "columns) and pipelines/formats.py (keys): edit those and run it again. "
             "tests/test_schema_doc.py fails when this page is not what it writes. -->", "",
             "Every table, view and column of the SQLite archive, in the order an archive holds them, as "
             "Datasette describes them; then every key of `cells` with the wording the national templates print. "
             "How the archive is written and what the parse adds to the shared schema: [archive.md](archive.md).",
             "", *_tables(found, meta), "", *_keys()]
    queries = _queries(meta)
    if queries:
        lines += ["", *queries]
    return "\n".join(lines) + "\n"


def check(path=DOC):
    """None when ``path`` holds what :func:`render` writes, else why not (a line)."""
    text = render()
    try:
        current = pathlib.Path(path).read_text(encoding="utf-8")
    except OSError as e:
        return f"cannot read {path}: {e.strerror or e}"
    if current != text:
        return f"{path} is not what the metadata and formats.py give: run ogi-archive schema-doc"
    return None


def write(path=DOC):
    """Write docs/schema.md (or ``path``); True when it changed."""
    text = render()
    path = pathlib.Path(path)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True
