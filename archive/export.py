"""Exports for archivists and analysts.

- ``warc``: the captures of the archive (or of a site, or a crawl run) as one WARC file.
  Each capture's records are copied as they are stored (one gzip member each, so their
  digests hold); a revisit whose first response is not in the export is written out as a
  response (its payload read back and checked), so the file stands on its own.
- ``csv``: ``cells.csv``, the long table of every figure with its report's metadata,
  and ``reports.csv``, one row per report with its headline figures (:data:`FIGURES`),
  in UTF-8 with a byte-order mark so spreadsheet programs read the Chinese right.
"""
import csv
import pathlib

from pipelines import formats as F

from .store import whole_number
from .warc import open_reader, read_record, record_bytes, warc_dir


class ExportError(RuntimeError):
    """The export cannot be made (no such site or run, an unwritable file); one line."""


# ---- one row per report ------------------------------------------------------------------

_OTHER = ("other",) + F._OTHER_2021  # 2019 prints one row, 2021 three: never both
# a headline figure: (column name, table, rows summed, column)
FIGURES = (
    ("requests_new", "requests", ("new_received",), "total"),
    ("requests_carried_over", "requests", ("carried_over",), "total"),
    ("granted", "requests", ("granted",), "total"),
    ("partly_granted", "requests", ("partial",), "total"),
    *((f"denied_{k[len('denied_'):]}", "requests", (k,), "total") for k in F._DENIED),
    ("denied", "requests", F._DENIED, "total"),
    ("unable", "requests", F._UNABLE, "total"),
    ("not_processed", "requests", F._IGNORED, "total"),
    ("other_outcome", "requests", _OTHER, "total"),
    ("total_processed", "requests", ("total_processed",), "total"),
    ("carried_forward", "requests", ("carried_forward",), "total"),
    *((f"review_{c}", "review_litigation", ("review",), c) for c in ("upheld", "corrected", "other", "pending",
                                                                     "total")),
    *((f"suits_{c}", "review_litigation", ("suit_direct", "suit_after_review"), c)
      for c in ("upheld", "corrected", "other", "pending", "total")),
)

REPORT_COLUMNS = ("id", "site_id", "title", "agency", "agency_id", "province", "prefecture", "county", "level",
                  "agency_kind", "report_year", "published_at", "format_version", "kind", "parse_status", "n_cells",
                  "n_checks_failed", "url")

# when a report was due (2008 条例 第三十一条; 2019 条例 第五十条): by 31 March of the next year
# under the 2008 条例 (reports of 2018 and before); from 2019 by 31 January for every
# administrative organ (departments, and township governments), by 31 March for the own report
# of a government at county level and above; NULL where the agency's kind or level is unknown
DUE_DATE_SQL = """case
    when r.report_year is null then null
    when r.report_year <= 2018 then (r.report_year + 1) || '-03-31'
    when r.agency_kind = 'department' then (r.report_year + 1) || '-01-31'
    when r.agency_kind = 'government' and r.level = 'township' then (r.report_year + 1) || '-01-31'
    when r.agency_kind = 'government' and r.level in ('central', 'provincial', 'prefecture', 'county')
      then (r.report_year + 1) || '-03-31'
  end"""


def _filter(table, rows, column):
    names = ", ".join(f"'{r}'" for r in rows)
    return f"table_key = '{table}' and column_key = '{column}' and row_key in ({names})"


def _of_report(what, where):
    """A figure of the report ``r``, from its own cells (an index seek: a page of a view built on
    it reads only the cells of the reports on the page)."""
    return f"(select {what} from cells where report_id = r.id and {where})"


def report_figures_sql():
    """One row per report: its metadata, its headline figures summed from ``cells`` (NULL
    where the report prints none of a figure's rows), ``uncertain_figures`` (the doubted
    cells among them), ``due_date`` (:data:`DUE_DATE_SQL`) and ``published_late`` (1 when
    published after it, NULL when either date is unknown).  The CSV export and the
    archive's view ``report_figures`` are this query."""
    # each computed column cast to the type it holds: a view's column has then that affinity, so
    # that a filter of it (Datasette's ?published_late=1, a facet) compares numbers as numbers
    figures = "".join(f",\n  cast({_of_report('sum(value)', _filter(t, rows, c))} as numeric) as {name}"
                      for name, t, rows, c in FIGURES)
    doubted = " or ".join(f"({_filter(t, rows, c)})" for _, t, rows, c in FIGURES)
    return (f"select {', '.join('r.' + c for c in REPORT_COLUMNS)}{figures},\n"
            f"  cast({_of_report('count(*)', f'uncertain = 1 and ({doubted})')} as integer) as uncertain_figures,\n"
            f"  cast({DUE_DATE_SQL} as text) as due_date,\n"
            f"  cast(case when r.published_at is null or ({DUE_DATE_SQL}) is null then null\n"
            f"    else substr(r.published_at, 1, 10) > ({DUE_DATE_SQL}) end as integer) as published_late\n"
            "from reports r")


# the figures the per-province and per-level views sum, a year
MAIN_FIGURES = ("requests_new", "requests_carried_over", "granted", "partly_granted", "denied", "unable",
                "not_processed", "other_outcome", "total_processed", "carried_forward", "review_total", "suits_total")


def figures_by_sql(group):
    """Reports counted and their main figures summed, by ``group`` (a report_figures column) and year."""
    sums = ", ".join(f"cast(sum({name}) as numeric) as {name}" for name in MAIN_FIGURES)
    counts = ", ".join(f"cast({count} as integer) as {name}" for count, name in (
        ("count(*)", "reports"), ("count(requests_new)", "reports_with_requests")))
    return (f"select {group}, report_year, {counts}, {sums}, cast(sum(published_late) as integer) as reports_late, "
            "cast(sum(n_checks_failed) as integer) as checks_failed\n"
            f"from report_figures group by {group}, report_year order by {group}, report_year")


# this year's 上年结转 against last year's 结转下年度继续办理, for the same agency: a soft
# check across reports (agrees NULL where either figure is not printed)
CROSS_YEAR_SQL = """select r.agency_id, r.agency, r.report_year, r.id as report_id,
  r.requests_carried_over as carried_over, p.id as previous_report_id, p.report_year as previous_year,
  p.carried_forward as previous_carried_forward,
  cast(case when r.requests_carried_over is null or p.carried_forward is null then null
    else abs(r.requests_carried_over - p.carried_forward) < 1e-6 end as integer) as agrees
from report_figures r join report_figures p on p.agency_id = r.agency_id and p.report_year = r.report_year - 1
order by r.agency_id, r.report_year"""


def views():
    """The archive's views, by name, in the order they are made (a view may read an earlier one)."""
    return {"report_figures": report_figures_sql(), "figures_by_province_year": figures_by_sql("province"),
            "figures_by_level_year": figures_by_sql("level"), "cross_year_checks": CROSS_YEAR_SQL}


CELL_COLUMNS = ("report_id", "site_id", "agency", "agency_id", "province", "report_year", "format_version",
                "table_key", "row_key", "column_key", "value", "unit", "raw", "label", "header", "uncertain")
CELLS_SQL = ("select c.report_id, r.site_id, r.agency, r.agency_id, r.province, r.report_year, r.format_version, "
             "c.table_key, c.row_key, c.column_key, c.value, c.unit, c.raw, c.label, c.header, c.uncertain "
             "from cells c join reports r on r.id = c.report_id order by c.report_id, c.table_key, c.row_key, "
             "c.column_key")


def export_csv(db, folder):
    """Write ``cells.csv`` and ``reports.csv`` into ``folder``; returns {file: rows}."""
    folder = pathlib.Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"cannot make {folder}: {e.strerror or e}") from None
    written = {}
    for name, sql in (("cells.csv", CELLS_SQL), ("reports.csv", report_figures_sql() + " order by r.id")):
        cur = db.execute(sql)
        header = [d[0] for d in cur.description]
        try:
            with open(folder / name, "w", encoding="utf-8-sig", newline="") as fh:
                out = csv.writer(fh)
                out.writerow(header)
                n = 0
                for row in cur:  # row by row: flat memory however large the archive
                    out.writerow([whole_number(v) for v in row])
                    n += 1
        except OSError as e:
            raise ExportError(f"cannot write {folder / name}: {e.strerror or e}") from None
        written[str(folder / name)] = n
    return written


# ---- WARC ------------------------------------------------------------------------------------


def export_warc(db, db_path, out, site=None, run=None):
    """Write the chosen captures' records into the WARC file ``out``; returns how many captures."""
    from . import warc

    where, params = [], []
    if site:
        if not db.execute("select 1 from captures where site_id = ? limit 1", [site]).fetchone():
            raise ExportError(f"the archive holds no capture of site {site!r}")
        where.append("c.site_id = ?")
        params.append(site)
    if run is not None:
        if not db.execute("select 1 from captures where run_id = ? limit 1", [run]).fetchone():
            raise ExportError(f"the archive holds no capture of crawl run {run}")
        where.append("c.run_id = ?")
        params.append(run)
    folder = warc_dir(db_path)
    read = open_reader(db)
    written_payloads = set()  # the payloads this file holds a response of (one hash a body: bounded)
    n, last = 0, -1
    try:
        fh = open(out, "xb")
    except OSError as e:
        raise ExportError(f"cannot write {out}: {e.strerror or e}") from None
    with fh:
        writer = warc._writer(fh)
        writer.write_record(writer.create_warcinfo_record(pathlib.Path(out).name, {
            "software": warc.SOFTWARE, "format": "WARC File Format 1.1",
            "description": f"ogi-archive export of {db_path}" + (f", site {site}" if site else "")
                           + (f", crawl run {run}" if run is not None else "")}))
        while True:
            chunk = db.execute(
                "select c.id, c.url, c.final_url, c.sha256, c.fetched_at, c.warc_file, c.warc_offset, c.warc_length, "
                "c.warc_request_length, c.warc_type from captures c where c.id > ? "
                + "".join(f" and {w}" for w in where) + " order by c.id limit 500", [last, *params]).fetchall()
            if not chunk:
                break
            for cid, url, final_url, sha, fetched, file, offset, length, request_length, kind in chunk:
                last = cid
                if file is None:
                    continue
                if kind == "response" or sha in written_payloads:
                    fh.write(record_bytes(folder, file, offset, length + (request_length or 0)))
                else:  # a revisit of a response this file lacks: written as a response
                    capture = read(cid)
                    request = _request_headers(folder, file, offset + length, request_length)
                    record, req = warc.records(writer, {"url": url, "final_url": final_url, "body": capture.body,
                                                        "status": capture.status, "fetched_at": fetched,
                                                        "http_headers": capture.headers, "request_headers": request},
                                               sha)
                    writer.write_record(record)
                    writer.write_record(req)
                written_payloads.add(sha)
                n += 1
    return n


def _request_headers(folder, file, offset, length):
    if not length:
        return []
    _, http, _ = read_record(folder, file, offset, length)
    return [(k, v) for k, v in http.headers if k.lower() != "host"] if http is not None else []

