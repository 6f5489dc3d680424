"""Captures in WARC files (archive/warc.py): the demo archive holds no bodies, its WARC files
pass warcio's digest check and index with a standard indexer (cdxj-indexer), every capture
reads back by its offset; an older archive's blobs move out only once every record checks;
a writer killed mid-record leaves a file the next writer repairs."""
import hashlib
import json
import sqlite3
import subprocess

import pytest

from archive import warc
from archive.db import ArchiveError, migrations, open_archive
from archive.store import save_capture
from conftest import BIN, rows


def check(paths):
    """``warcio check`` on WARC files: (exit code, output)."""
    proc = subprocess.run([str(BIN / "warcio"), "check", "-v", *map(str, paths)], capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def cdxj(paths):
    proc = subprocess.run([str(BIN / "cdxj-indexer"), *map(str, paths)], capture_output=True, text=True, check=True)
    return [json.loads(line.split(" ", 2)[2]) for line in proc.stdout.splitlines() if line.strip()]


def test_the_demo_archive_holds_no_bodies_and_its_warc_files_check_and_index(demo_db):
    db, _ = demo_db
    tables = {r["name"] for r in rows(db, "select name from sqlite_master where type = 'table'")}
    assert "blobs" not in tables
    index = {t for t in tables if t.startswith("reports_fts")}  # the search index's postings are its BLOBs
    blob_columns = [r for t in tables - index for r in rows(db, f"select name, type from pragma_table_info('{t}')")
                    if r["type"].upper() == "BLOB"]
    assert not blob_columns
    files = sorted(warc.warc_dir(db).glob("*.warc.gz"))
    assert files and not list(warc.warc_dir(db).glob("*.open"))
    code, out = check(files)
    assert code == 0 and "digest pass" in out and "fail" not in out, out
    captures = rows(db, "select * from captures")
    index = cdxj(files)
    by_place = {(e["filename"], int(e["offset"])): e for e in index}
    read = warc.open_reader(db)
    for c in captures:  # each capture is a record the standard index found, where the archive says
        entry = by_place[(c["warc_file"], c["warc_offset"])]
        assert entry["url"] == (c["final_url"] or c["url"]) and int(entry["length"]) == c["warc_length"]
        assert warc.hex_of(entry["digest"]) == c["sha256"]
        got = read(c["id"])
        assert hashlib.sha256(got.body).hexdigest() == c["sha256"] and got.content_type == c["content_type"]


def test_a_body_fetched_twice_is_written_once_then_revisited(tmp_path):
    db = open_archive(tmp_path / "a.db")
    a, sha = save_capture(db, {"site_id": "s", "url": "http://h/1.html", "body": "同一个".encode(), "role": "page",
                               "content_type": "text/html", "status": 200})
    b, _ = save_capture(db, {"site_id": "s", "url": "http://h/2.html", "body": "同一个".encode(), "role": "page",
                             "content_type": "text/html", "status": 200})
    db.conn.commit()
    kinds = {r["id"]: r["warc_type"] for r in db.query("select id, warc_type from captures")}
    assert kinds == {a: "response", b: "revisit"} and db.table("payloads").count == 1
    read = warc.open_reader(db)
    assert read(a).body == read(b).body == "同一个".encode()
    db._ogi_warcs.close()
    files = sorted(warc.warc_dir(tmp_path / "a.db").glob("*.warc.gz"))
    code, out = check(files)
    assert code == 0, out
    records = [e for e in cdxj(files)]
    assert sorted(e.get("mime") for e in records) == ["text/html", "warc/revisit"]


def old_archive(path, bodies):
    """An archive as it was before WARC files (schema up to m007, bodies in blobs)."""
    from sqlite_utils import Database

    db = Database(path)
    migrations.apply(db, stop_before="m008_captures_in_warc")
    for i, (url, body) in enumerate(bodies, 1):
        sha = hashlib.sha256(body).hexdigest()
        db.execute("insert or ignore into blobs (sha256, size, content) values (?, ?, ?)", [sha, len(body), body])
        db.execute("insert into captures (id, site_id, url, final_url, status, content_type, sha256, size, fetched_at, "
                   "role, etag) values (?, 's', ?, ?, 200, 'application/pdf', ?, ?, '2024-01-02T03:04:05+00:00', "
                   "'report', '\"e1\"')", [i, url, url, sha, len(body)])
    db.conn.commit()
    db.close()


def test_an_older_archive_moves_its_blobs_to_warc_and_checks_every_record(tmp_path):
    path = tmp_path / "old.db"
    bodies = [("http://h/a.pdf", b"%PDF-1.4 a"), ("http://h/b.pdf", b"%PDF-1.4 b"), ("http://h/a.pdf?x", b"%PDF-1.4 a")]
    old_archive(path, bodies)
    db = open_archive(path)
    assert "blobs" not in db.table_names()
    read = warc.open_reader(db)
    assert [read(i).body for i in (1, 2, 3)] == [b for _, b in bodies]
    assert [r["warc_type"] for r in db.query("select warc_type from captures order by id")] == \
        ["response", "response", "revisit"]
    fk = {f.column: f.other_table for f in db.table("captures").foreign_keys}
    assert fk["sha256"] == "payloads"
    code, out = check(sorted(warc.warc_dir(path).glob("*.warc.gz")))
    assert code == 0, out


def test_a_capture_whose_body_is_missing_stops_the_move_and_drops_nothing(tmp_path):
    path = tmp_path / "old.db"
    old_archive(path, [("http://h/a.pdf", b"%PDF-1.4 a"), ("http://h/b.pdf", b"%PDF-1.4 b")])
    conn = sqlite3.connect(path)
    conn.execute("delete from blobs where content = ?", [b"%PDF-1.4 b"])
    conn.commit()
    conn.close()
    with pytest.raises(ArchiveError, match="blobs does not hold"):
        open_archive(path)
    conn = sqlite3.connect(path)
    assert conn.execute("select count(*) from blobs").fetchone()[0] == 1
    # the migration rolled back whole: still pending, the captures as they were
    assert "warc_file" not in {r[1] for r in conn.execute("pragma table_info(captures)")}
    assert not conn.execute("select count(*) from _sqlite_migrations where name = 'm008_captures_in_warc'").fetchone()[0]
    conn.close()


def test_a_record_cut_short_by_a_kill_is_cut_off_by_the_next_writer(tmp_path):
    folder = tmp_path / "w"
    store = warc.WarcStore(folder)
    body = bytes(range(256)) * 50
    sha = hashlib.sha256(body).hexdigest()
    where = store.write({"url": "http://h/x", "body": body, "status": 200}, sha)
    store.sync()
    open_name = folder / (where.file + warc.OPEN)
    whole = open_name.stat().st_size
    with open(open_name, "ab") as fh:  # what a writer killed halfway through a record leaves
        fh.write(open_name.read_bytes()[where.offset:where.offset + where.length // 2])
    store.fh = None  # the killed writer is gone
    second = warc.WarcStore(folder)
    second.write({"url": "http://h/y", "body": b"next", "status": 200}, hashlib.sha256(b"next").hexdigest())
    second.close()
    repaired = folder / where.file
    assert repaired.exists() and repaired.stat().st_size == whole
    code, out = check(sorted(folder.glob("*.warc.gz")))
    assert code == 0, out
    _, _, payload = warc.read_record(folder, where.file, where.offset, where.length)
    assert payload == body


def test_a_record_that_is_not_the_captures_is_an_error_not_a_wrong_body(tmp_path):
    db = open_archive(tmp_path / "a.db")
    a, _ = save_capture(db, {"site_id": "s", "url": "http://h/1", "body": b"one", "role": "page"})
    b, _ = save_capture(db, {"site_id": "s", "url": "http://h/2", "body": b"two", "role": "page"})
    db.execute("update captures set warc_offset = (select warc_offset from captures where id = ?) where id = ?", [a, b])
    db.conn.commit()
    with pytest.raises(warc.WarcError, match="not http://h/2"):
        warc.open_reader(db)(b)


from hypothesis import HealthCheck, example, given, settings, strategies as st  # noqa: E402

_header_text = st.text(st.characters(min_codepoint=0x09, max_codepoint=0xFF, blacklist_characters=":"), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bodies=st.lists(st.binary(max_size=3000), min_size=1, max_size=6),
       headers=st.lists(st.tuples(_header_text.filter(lambda k: k.strip()), _header_text), max_size=5),
       status=st.sampled_from([200, 203, 206, 404, 500, 999]), repeat=st.booleans())
@example(bodies=[b""], headers=[("0", ";\x80=0")], status=200, repeat=False)  # a value warcio could not encode
def test_any_capture_round_trips_and_every_file_checks(tmp_path_factory, bodies, headers, status, repeat):
    """Bodies of any bytes (empty included), odd header text, any status, repeats: each
    capture reads back as written and the files pass warcio's check."""
    folder = tmp_path_factory.mktemp("w")
    store = warc.WarcStore(folder, max_bytes=2000)  # small files: rolling is exercised too
    written, firsts = [], {}
    for i, body in enumerate(bodies + (bodies[:1] if repeat else [])):
        sha = hashlib.sha256(body).hexdigest()
        where = store.write({"url": f"http://h/{i}?q=一", "body": body, "status": status,
                             "http_headers": headers + [("Content-Encoding", "gzip")]}, sha, firsts.get(sha))
        firsts.setdefault(sha, {"record_id": where.record_id, "url": f"http://h/{i}?q=一",
                                "fetched_at": None, "where": where})
        written.append((body, where, firsts[sha]["where"]))
    store.close()
    for body, where, first in written:
        head, http, payload = warc.read_record(folder, where.file, where.offset, where.length)
        if where.record_type == "revisit":
            assert head.get_header("WARC-Refers-To") and not payload
            _, _, payload = warc.read_record(folder, first.file, first.offset, first.length)
        assert payload == body
        assert http.get_header("Content-Encoding") is None  # the body is stored decoded
        assert http.get_header("Content-Length") == str(len(body))
    code, out = check(sorted(folder.glob("*.warc.gz")))
    assert code == 0, out
