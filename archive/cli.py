"""ogi-archive: crawl government sites for OGI annual reports, parse them, archive them in SQLite."""
import json
import pathlib
import sys
import tempfile

import click

EXIT_BAD_INPUT = 2  # a file or option the command cannot use
EXIT_SITE_FAILED = 3  # a crawl ran, but one or more sites failed
EXIT_LOCKED = 4  # another run holds the archive's lock
EXIT_NOT_PARSED = 5  # parse: the file was read but could not be parsed (scanned, unreadable, unsupported)
EXIT_ARCHIVE = 6  # the archive (or its lock, or its log folder) cannot be opened or written: full, read-only
EXIT_REDIS = 7  # OGI_REDIS_URL names no Redis that answers (or --join found no run to join)
EXIT_NO_OCR = 8  # reparse --ocr: the OCR extra (ogi-archive[ocr]) is not installed


@click.group()
@click.version_option(package_name="ogi-archive")
def cli():
    """Crawl, parse and archive 政府信息公开工作年度报告 into SQLite for Datasette."""


def main():
    """The ``ogi-archive`` command.  A crawl's own process never needs numpy (see
    :func:`crawler.without_numpy`); every other command may (OCR in ``parse`` and ``reparse``
    workers forked from this process)."""
    if len(sys.argv) > 1 and sys.argv[1] in ("crawl", "demo"):
        from crawler import without_numpy

        without_numpy()
    cli()


def _quiet():
    """A parse worker's own output goes nowhere: what a reader that aborts prints is not the
    command's one line of reason."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


# what a file's extension claims it is (a claim: its bytes decide; see pipelines.document.sniff_kind)
_CLAIMED_TYPE = {".html": "text/html", ".htm": "text/html", ".shtml": "text/html", ".md": "text/markdown", ".txt": "text/plain", ".pdf": "application/pdf",
                 ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 ".xls": "application/vnd.ms-excel", ".doc": "application/msword", ".wps": "application/msword"}


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=pathlib.Path))
@click.option("--url", help="The URL the file was captured from (a date in it is a candidate).")
@click.option("--full", is_flag=True, help="Also print the texts and every date candidate.")
@click.option("--seconds", default=60.0, show_default=True, help="Time the parse may take.")
@click.option("--memory-mb", default=3072, show_default=True, help="Memory (address space) the parse may use.")
def parse(path, url, full, seconds, memory_mb):
    """Print the parsed report (report-schema JSON) for a captured file: HTML, text/Markdown,
    PDF, DOCX, XLSX/XLS, DOC/WPS.

    The file is parsed in a worker process under the same budget as in a crawl, so a
    hostile file ends as a status, never a crash.  Exits 0 when the report was parsed;
    5 (the JSON still printed, the reason on stderr) when it was not: needs OCR or
    conversion, too large (over a limit of size, pages, cells, time or memory) or
    unreadable; 2, with one line and no JSON, when the file cannot be opened, is empty, or is
    binary data in no format it reads.

    Example:

        ogi-archive parse report.pdf
    """
    from crawler.archiver import outcome_parse
    from crawler.pool import Budget, ParsePool
    from pipelines.report import SCHEMA_FIELDS, parse_capture

    try:
        body = path.read_bytes()
    except OSError as e:
        click.echo(f"ogi-archive parse: cannot read {path}: {e.strerror}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    ctype = _CLAIMED_TYPE.get(path.suffix.lower())
    unusable = _unusable(body, ctype, path.name)
    if unusable:
        click.echo(f"ogi-archive parse: {path}: {unusable}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    pool = ParsePool(1, Budget(seconds=seconds, memory_mb=memory_mb, retries=0, niceness=0), context="fork",
                     initializer=_quiet)
    try:  # the parser is imported here, before the fork: the worker starts with it
        report = outcome_parse(pool.run(parse_capture, (body,), {"content_type": ctype, "url": url}))
    finally:
        pool.close()
    status = report["parse_status"]
    reason = (report.get("parse_error") or next(iter(report.get("warnings") or []), None) or status).splitlines()[0]
    if not full:
        report = {k: report.get(k) for k in SCHEMA_FIELDS}
    click.echo(json.dumps(report, ensure_ascii=False, indent=1))
    if status != "ok":
        click.echo(f"ogi-archive parse: {path}: {status}: {reason}", err=True)
        sys.exit(EXIT_NOT_PARSED)
    if not report.get("cells"):
        why = next((w for w in report.get("warnings") or [] if w.startswith("not an annual report")),
                   "none of the report's statistics tables was found")
        click.echo(f"ogi-archive parse: {path}: no cells: {why}", err=True)


def _unusable(body, content_type, name):
    """Why a file is no document at all (empty, or bytes of no format and no text), or None."""
    from pipelines.document import sniff_kind

    if not body.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        return "empty file (no document to parse)" if not body else "blank file (only whitespace)"
    if sniff_kind(body[:65536], content_type, name) == "unreadable":
        return f"binary data in no format this parser reads (it starts {body[:8].hex(' ')})"
    return None


NEEDS_OCR = "select count(*) from reports where parse_status = 'needs_ocr'"
READ_BY_OCR = "select count(*) from reports where extracted_by = 'ocr'"
PARSE_ERRORS = "select count(*) from reports where parse_status = 'error'"
TOO_LARGE = "select count(*) from reports where parse_status = 'too_large'"
OPEN_FAILURES = "select count(*) from fetch_failures where resolved_at is null and kind != 'refused'"


def _summary(db_path, result):
    from .db import archive_errors, open_archive

    with archive_errors(db_path):
        return _summary_lines(open_archive(db_path), result)


def _summary_lines(db, result):
    one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    # from the reports' own counts: scanning cells and checks would grow with the archive
    with_tables, n_cells, n_failed, failing = db.execute(
        "select count(*) filter (where n_cells > 0), coalesce(sum(n_cells), 0), coalesce(sum(n_checks_failed), 0), "
        "count(*) filter (where n_checks_failed > 0) from reports").fetchone()
    lines = [
        f"sites:          {len(result['sites'])} crawled"
        + (f", FAILED: {', '.join(result['failed'])}" if result["failed"] else ""),
        f"this run:       {result['totals']['pages']} documents downloaded, "
        f"{result['totals']['reports_removed']} reports no longer listed (marked removed)",
        f"reports:        {one('select count(*) from reports')} in the archive "
        f"({result['totals']['reports_new']} new, {result['totals']['reports_changed']} changed, "
        f"{result['totals']['reports_unchanged']} unchanged this run)",
        f"tables parsed:  {with_tables} reports with tables, {n_cells} cells",
        f"checks failed:  {n_failed} (in {failing} reports)",
        f"needs OCR:      {one(NEEDS_OCR)}; read by OCR: {one(READ_BY_OCR)}; too large to parse: {one(TOO_LARGE)}; "
        f"parse errors: {one(PARSE_ERRORS)}",
        f"failed URLs:    {result['totals']['failures']} recorded this run ({result['totals']['refused']} refused); "
        f"{one(OPEN_FAILURES)} still to fetch (table fetch_failures)"
        + (f"; discovery stopped at the page budget on {result['totals']['budget_spent']} sites"
           if result["totals"]["budget_spent"] else ""),
        f"time taken:     {result['seconds']:.1f} s (log: {result['log_file']})",
    ]
    if len(result.get("crawlers") or {}) > 1:  # a distributed run: who fetched what
        lines.append("crawlers:       " + "; ".join(f"{name}: {n} documents" for name, n in result["crawlers"].items()))
    db.close()
    return "\n".join(lines)


def _run(sites, db, settings):
    from crawler.runner import Locked, run_crawl

    bad = [s for s in settings if "=" not in s]
    if bad:
        click.echo(f"ogi-archive: -s takes NAME=VALUE, not {bad[0]!r}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    import logging

    from .db import ArchiveError

    from crawler.runner import BadSetting, checked_overrides

    try:
        overrides = checked_overrides(dict(s.split("=", 1) for s in settings))
    except BadSetting as e:
        click.echo(f"ogi-archive: bad setting {e}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    logging.raiseExceptions = False  # a log that cannot be written (a full disk) is no traceback
    from crawler.transport import RedisUnusable

    try:
        result = run_crawl(sites, db, overrides=overrides)
        summary = _summary(db, result)
    except RedisUnusable as e:
        _exit(f"ogi-archive: {e}", EXIT_REDIS)
    except Locked as e:
        click.echo(f"ogi-archive: {e}", err=True)
        sys.exit(EXIT_LOCKED)
    except ArchiveError as e:
        result = getattr(e, "result", None)
        if result is not None:
            for site_id, reason in result["failed"].items():
                if site_id != "(archive)":
                    click.echo(f"site failed: {site_id}: {reason}", err=True)
        click.echo(f"ogi-archive: the archive cannot be written: {e}", err=True)
        sys.exit(EXIT_ARCHIVE)
    click.echo(summary)
    return result


def _settings_option(f):
    return click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE",
                        help="A Scrapy setting, as with scrapy crawl -s.")(f)


@cli.command()
@click.option("--db", default="archive.db", show_default=True, type=click.Path(dir_okay=False), help="The archive.")
@click.option("--site", "site_ids", multiple=True, help="Only this registry site (repeatable).")
@click.option("--sites", "registry", type=click.Path(exists=True), help="A registry file or folder instead of the shipped one.")
@click.option("--start-url", "start_urls", multiple=True, metavar="URL",
              help="Crawl this site ad hoc, with no registry entry: its home page or its 年报 column (repeatable).")
@click.option("--join", is_flag=True, help="Join the run that a crawl with the same OGI_REDIS_URL coordinates "
              "(no archive here; see the README's 'Crawling on several machines').")
@click.option("--wait", default=600.0, show_default=True, help="With --join: seconds to wait for a run to start.")
@_settings_option
def crawl(db, site_ids, registry, start_urls, settings, join, wait):
    """Crawl registered sites for annual reports and archive them.

    Exits 0 when every site was crawled, 2 on bad input, 3 when a site failed (each
    named on stderr with the reason), 4 when another crawl holds the archive, 7 when
    OGI_REDIS_URL names no Redis that answers (or --join found no run in time).

    Examples:

        ogi-archive crawl --db /srv/ogi/archive.db --site js_shuyang

        ogi-archive crawl --start-url http://www.example.gov.cn/ --db adhoc.db

        OGI_REDIS_URL=redis://10.0.0.5:6379/0 ogi-archive crawl --join
    """
    from crawler.registry import RegistryError, adhoc_site, load_sites

    if join:
        _join(settings, wait)
        return

    try:
        sites = [adhoc_site(u) for u in start_urls] if start_urls else load_sites(registry)
    except RegistryError as e:
        click.echo(f"ogi-archive crawl: bad {'start URL' if start_urls else 'registry entry'}: {e}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if site_ids:
        unknown = set(site_ids) - {s.id for s in sites}
        if unknown:
            click.echo(f"ogi-archive crawl: no such site(s): {', '.join(sorted(unknown))}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        sites = [s for s in sites if s.id in site_ids]
    result = _run(sites, db, settings)
    if result["failed"]:
        for site_id, reason in result["failed"].items():
            click.echo(f"site failed: {site_id}: {reason}", err=True)
        sys.exit(EXIT_SITE_FAILED)


def _exit(message, code):
    """One line on stderr, and the exit code that says what kind of trouble it is."""
    click.echo(message, err=True)
    sys.exit(code)


def _join(settings, wait):
    """``crawl --join``: crawl with a coordinating process's run until it is done."""
    import os

    from crawler.distributed import join
    from crawler.transport import RedisUnusable

    url = next((s.split("=", 1)[1] for s in settings if s.startswith("OGI_REDIS_URL=")),
               os.environ.get("OGI_REDIS_URL"))
    if not url:
        _exit("ogi-archive crawl --join: OGI_REDIS_URL is not set (the Redis of the run to join)", EXIT_BAD_INPUT)
    try:
        done = join(url, wait_seconds=wait)
    except RedisUnusable as e:
        _exit(f"ogi-archive crawl --join: {e}", EXIT_REDIS)
    if done is None:
        _exit(f"ogi-archive crawl --join: no run started at {url} in {wait:g} s", EXIT_REDIS)
    click.echo(f"joined run {done['run_id']} as {done['sender']}: {done['documents']} documents downloaded "
               f"over {done['sites']} sites in {done['seconds']:.1f} s (log: {done['log_file']})")


@cli.command()
@click.option("--db", default="archive.db", show_default=True, type=click.Path(dir_okay=False), help="The archive.")
@_settings_option
def demo(db, settings):
    """Serve the bundled demo mirror on 127.0.0.1 and crawl it into an archive.

    Each demo site keeps a fixed URL of its own (http://<site>.demo.ogi-archive.invalid/…,
    a name that resolves nowhere): the crawl reaches it through the mirror's local server,
    and the archive stores those URLs, which `ogi-archive serve` answers from the archive.

    Example:

        ogi-archive demo --db archive.db && ogi-archive serve archive.db
    """
    from crawler.demo import REGISTRY, serve_mirror
    from crawler.registry import load_sites

    sites = load_sites(REGISTRY)
    server, proxy = serve_mirror(sites)
    click.echo(f"demo mirror: {len(sites)} sites (http://<site>.demo.ogi-archive.invalid/), served on {proxy}")
    settings = ("AUTOTHROTTLE_ENABLED=False", "DOWNLOAD_DELAY=0", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
                f"OGI_DEMO_PROXY={proxy}") + tuple(settings)
    try:
        result = _run(sites, db, settings)
    finally:
        server.shutdown()
    click.echo(f"open it:        {pathlib.Path(sys.argv[0])} serve {db}")
    if result["failed"]:
        for site_id, reason in result["failed"].items():
            click.echo(f"site failed: {site_id}: {reason}", err=True)
        sys.exit(EXIT_SITE_FAILED)


# Datasette's settings for the archive (ogi-archive serve; the tests serve it so too)
DATASETTE_SETTINGS = {
    "sql_time_limit_ms": 3000,  # a LIKE over every report's text: 0.9 s on 20,000 reports
    # no suggested facets: Datasette tries every column of a table for them, each try up to
    # 50 ms; measured on 20,000 reports (benchmarks/bench_search.py --reports 20000), the
    # reports table's page took 1.0 s with them and 0.13 s without, a search in it 1.6 s and
    # 0.16 s, report_figures 4.7 s and 0.16 s.  The tables' own facets stay, and any column
    # can be faceted from its menu ("Facet by this")
    "suggest_facets": "off",
    "truncate_cells_html": 400,  # a table's texts cut short (the row's page shows them whole)
}


@cli.command()
@click.argument("db", default="archive.db", type=click.Path(path_type=pathlib.Path))
@click.option("-p", "--port", default=8001, show_default=True)
@click.option("-h", "--host", default="127.0.0.1", show_default=True)
@click.option("--sql-time-limit-ms", default=DATASETTE_SETTINGS["sql_time_limit_ms"], show_default=True,
              type=click.IntRange(min=1),
              help="Time a query may take before Datasette stops it.")
@click.option("--live", is_flag=True, help="Serve an archive a crawl writes to while it is served: read-only, "
              "not immutable, so each run's reports show as they are committed.")
@click.option("--open", "open_browser", is_flag=True, help="Open a browser.")
def serve(db, port, host, sql_time_limit_ms, live, open_browser):
    """Datasette on the archive, read-only and immutable, with the project's metadata, canned
    queries and plugin.

    Immutable: Datasette reads the file as one that does not change (counts once, caches), so
    no crawl may write it while it is served: while a crawl or re-parse holds the archive,
    one line and exit 4.  What a killed writer left in the archive's -wal (which immutable
    reading would not see) is first written into the file.  --live serves an archive that a
    crawl writes to (read-only, not immutable).  A file that is no archive (missing, a
    folder, empty, truncated, something else) is one line and exit 2.

    Example:

        ogi-archive serve archive.db --port 8001
    """
    import os

    from .db import archive_problem

    problem = archive_problem(db)
    if problem:
        hint = "; run 'ogi-archive demo' or 'ogi-archive crawl' first" if problem.startswith("no archive") else ""
        _exit(f"ogi-archive serve: {problem}{hint}", EXIT_BAD_INPUT)
    if not live:
        _still(db)
    # the project's plugin (archive.datasette.plugin) is registered as a datasette entry point;
    # the metadata names the database by its file's stem, as Datasette does
    meta_path = pathlib.Path(tempfile.mkdtemp(prefix="ogi-archive-")) / "metadata.json"
    meta_path.write_text(json.dumps(datasette_metadata(db.stem), ensure_ascii=False), encoding="utf-8")
    args = [sys.executable, "-m", "datasette", "serve", *([str(db)] if live else ["-i", str(db)]),
            "-m", str(meta_path), "--port", str(port), "--host", host,
            *(a for name, value in {**DATASETTE_SETTINGS, "sql_time_limit_ms": sql_time_limit_ms}.items()
              for a in ("--setting", name, str(value)))]
    if open_browser:
        args.append("--open")
    os.execvp(args[0], args)


def _still(db):
    """Before an immutable serve: no crawl is writing the archive, and its -wal holds nothing
    that immutable reading would miss (written into the file here, under the archive's lock);
    else one line and exit 4 (or 6 when the -wal cannot be written into the file)."""
    import sqlite3

    from crawler.runner import ArchiveLock, Locked

    from .db import ArchiveError

    wal = pathlib.Path(f"{db}-wal")
    pending = wal.exists() and wal.stat().st_size > 0
    busy = f"ogi-archive serve: {db} is being written"
    try:
        with ArchiveLock(db):
            if pending:
                conn = sqlite3.connect(db, timeout=10)
                try:
                    blocked = conn.execute("pragma wal_checkpoint(truncate)").fetchone()[0]
                finally:
                    conn.close()
                if blocked:
                    _exit(f"{busy} (another process holds it open): serve it when that is over, or with --live",
                          EXIT_LOCKED)
    except Locked:
        _exit(f"{busy} (a crawl or re-parse holds it): serve it when that is over, or with --live", EXIT_LOCKED)
    except (ArchiveError, sqlite3.DatabaseError, OSError) as e:
        if pending:  # no lock can be taken beside it (a read-only folder): no crawl writes it either
            _exit(f"ogi-archive serve: {db}-wal holds changes not yet in {db}, and they cannot be written into it "
                  f"({e}): serve it with --live", EXIT_ARCHIVE)


def datasette_metadata(db_name="archive"):
    """The project's Datasette metadata, for a database named ``db_name``."""
    import yaml

    meta = yaml.safe_load((pathlib.Path(__file__).parent / "datasette" / "metadata.yaml").read_text(encoding="utf-8"))
    meta["databases"] = {db_name: meta["databases"]["archive"]}
    for board in meta.get("plugins", {}).get("datasette-dashboards", {}).values():
        for chart in board.get("charts", {}).values():
            if chart.get("db") == "archive":
                chart["db"] = db_name
    return meta


@cli.command("schema-doc")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when the page is not what it would write.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=pathlib.Path),
              help="The page to write  [default: docs/schema.md of this checkout]")
def schema_doc(check, out):
    """Write docs/schema.md: every table, view and column of the archive from the Datasette
    metadata (archive/datasette/metadata.yaml), every key of cells with the template's
    wording from pipelines/formats.py.

    Exits 2, writing nothing, when the metadata leaves a table or column of a fresh archive
    undescribed, or describes one it does not have; with --check, 1 when the page is not
    what it would write.

    Example:

        ogi-archive schema-doc --check
    """
    from . import schema_doc as doc

    out = out or doc.DOC
    try:
        if check:
            wrong = doc.check(out)
            if wrong:
                _exit(f"ogi-archive schema-doc: {wrong}", 1)
            click.echo(f"{out} is up to date")
        else:
            click.echo(f"{out} {'written' if doc.write(out) else 'was up to date'}")
    except doc.SchemaDocError as e:
        _exit(f"ogi-archive schema-doc: {e}", EXIT_BAD_INPUT)
    except OSError as e:
        _exit(f"ogi-archive schema-doc: cannot write {out}: {e.strerror or e}", EXIT_BAD_INPUT)


@cli.command()
@click.option("--db", default="archive.db", show_default=True, type=click.Path(), help="The archive.")
@click.option("--since", metavar="DATE", help="Only reports whose capture was fetched on or after this date (YYYY-MM-DD).")
@click.option("--site", help="Only this site's reports.")
@click.option("--status", type=click.Choice(["all", "ok", "error", "needs_ocr", "too_large"]), default="all",
              show_default=True, help="Only reports whose parse ended so.")
@click.option("--workers", type=int, help="Parse worker processes (default: one a core).")
@click.option("--seconds", default=60.0, show_default=True, help="Time one report's parse may take.")
@click.option("--memory-mb", default=3072, show_default=True, help="Memory (address space) one parse may use.")
@click.option("--ocr", is_flag=True, help="Read the reports that need OCR (parse_status needs_ocr) by OCR: their page "
              "images, scanned PDF pages or DOCX pictures (needs the extra: pip install 'ogi-archive[ocr]').")
def reparse(db, since, site, status, workers, seconds, memory_mb, ocr):
    """Parse the archived captures again, with no network (after upgrading ogi-archive).

    Reports whose parse comes out different get a new parse version; the cells and
    checks they had stay in cells_previous and checks_previous (see prune-parses).
    Prints what changed: reports whose cells changed, checks newly failing.  Exits 2 on
    bad input, 4 when a crawl holds the archive, 6 when the archive cannot be written, 8
    when --ocr is asked for and the OCR extra is not installed.

    Reports whose figures are in images are read by OCR whenever the extra is installed;
    without it they stay needs_ocr (and reports read by OCR before are left as they are).

    Example:

        ogi-archive reparse --db archive.db --status error
        ogi-archive reparse --db archive.db --ocr
    """
    import re

    from crawler.pool import Budget
    from crawler.runner import Locked

    from .db import ArchiveError
    from .reparse import ReparseError, reparse as run_reparse, terminal_progress

    _archive_file(db, "reparse").close()
    if since and not re.match(r"^\d{4}-\d{2}-\d{2}", since):
        click.echo(f"ogi-archive reparse: --since takes a date as YYYY-MM-DD, not {since!r}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if workers is not None and workers < 1:
        click.echo("ogi-archive reparse: --workers takes a whole number of 1 or more", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if ocr:
        from pipelines.ocr import MISSING, available

        if not available():
            click.echo(f"ogi-archive reparse: --ocr: {MISSING}", err=True)
            sys.exit(EXIT_NO_OCR)
    progress = terminal_progress if sys.stderr.isatty() else None
    try:
        run = run_reparse(db, workers=workers, since=since, site=site, status=status, progress=progress,
                          budget=Budget(seconds=seconds, memory_mb=memory_mb, niceness=0), ocr=ocr)
    except ReparseError as e:
        click.echo(f"ogi-archive reparse: {e}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except Locked as e:
        click.echo(f"ogi-archive reparse: {e}", err=True)
        sys.exit(EXIT_LOCKED)
    except ArchiveError as e:
        click.echo(f"ogi-archive reparse: the archive cannot be written: {e}", err=True)
        sys.exit(EXIT_ARCHIVE)
    if progress:
        sys.stderr.write("\r\033[K")
    click.echo(reparse_summary(db, run))


def reparse_summary(db_path, run):
    """What a re-parse did, in lines: its counts, then the reports it changed (the first 20)."""
    from .db import read_only

    rate = run["reports"] / run["seconds"] if run["seconds"] else 0
    lines = [
        f"reparse {run['id']}:      {run['reports']} reports in {run['seconds']:.1f} s ({rate:.1f} reports/s, "
        f"{run['workers']} workers, parser {run['parser']})",
        f"changed:        {run['changed']} reports got a new parse; {run['cells_changed']} of them with cells changed",
        f"checks:         {run['checks_newly_failing']} newly failing",
        f"parse errors:   {run['errors']}",
    ]
    conn = read_only(db_path)
    shown = conn.execute(
        "select r.id, coalesce(r.title, r.url), x.cells_added, x.cells_removed, x.cells_changed, "
        "x.checks_newly_failing from reparse_changes x join reports r on r.id = x.report_id where x.reparse_id = ? "
        "and (x.cells_added + x.cells_removed + x.cells_changed + x.checks_newly_failing) > 0 order by r.id limit 20",
        [run["id"]]).fetchall()
    for rid, title, added, removed, changed, failing in shown:
        lines.append(f"  {rid}  +{added} -{removed} ~{changed} cells, {failing} checks newly failing  {title}")
    if run["changed"]:
        lines.append(f"(every change: select * from reparse_changes where reparse_id = {run['id']})")
    conn.close()
    return "\n".join(lines)


@cli.command("prune-parses")
@click.option("--db", default="archive.db", show_default=True, type=click.Path(), help="The archive.")
@click.option("--before", metavar="DATE", help="Only parses made before this date (YYYY-MM-DD).")
def prune_parses(db, before):
    """Drop the cells and checks of parses that a re-parse replaced (cells_previous and
    checks_previous); the parses themselves stay listed, marked pruned.

    Example:

        ogi-archive prune-parses --db archive.db --before 2026-01-01
    """
    from crawler.runner import Locked

    from .reparse import prune

    _archive_file(db, "prune-parses").close()
    try:
        n = prune(db, before=before)
    except Locked as e:
        click.echo(f"ogi-archive prune-parses: {e}", err=True)
        sys.exit(EXIT_LOCKED)
    click.echo(f"pruned: the cells and checks of {n} replaced parses")


@cli.group()
def export():
    """Export the archive: its captures as WARC, its figures as CSV."""


def _archive_file(db, command):
    """A read-only connection to the archive at ``db``; one line and exit 2 when there is
    none, or the file is not an archive (a folder, empty, truncated, something else)."""
    from .db import archive_problem, read_only

    problem = archive_problem(db)
    if problem:
        _exit(f"ogi-archive {command}: {problem}", EXIT_BAD_INPUT)
    return read_only(db)


@export.command("warc")
@click.option("--db", default="archive.db", show_default=True, type=click.Path(), help="The archive.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The WARC file to write (.warc.gz).")
@click.option("--site", help="Only this site's captures.")
@click.option("--run", "run_id", type=int, help="Only the captures of this crawl run (crawl_runs.id).")
def export_warc(db, out, site, run_id):
    """The captures (requests and responses, as archived) in one WARC 1.1 file.

    Example:

        ogi-archive export warc --db archive.db --site js_shuyang --out shuyang.warc.gz
    """
    from .export import ExportError, export_warc as write
    from .warc import WarcError

    conn = _archive_file(db, "export warc")
    if pathlib.Path(out).exists():
        click.echo(f"ogi-archive export warc: {out} exists; an export never overwrites a file", err=True)
        sys.exit(EXIT_BAD_INPUT)
    try:
        n = write(conn, db, out, site=site, run=run_id)
    except (ExportError, WarcError) as e:
        pathlib.Path(out).unlink(missing_ok=True)
        click.echo(f"ogi-archive export warc: {e}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(f"{out}: {n} captures")


@export.command("csv")
@click.option("--db", default="archive.db", show_default=True, type=click.Path(), help="The archive.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="The folder to write the CSV files in.")
def export_csv(db, out):
    """cells.csv (every figure, with its report) and reports.csv (a row per report with its
    headline figures), UTF-8 with a byte-order mark for spreadsheet programs.

    Example:

        ogi-archive export csv --db archive.db --out export/
    """
    from .export import ExportError, export_csv as write

    conn = _archive_file(db, "export csv")
    try:
        written = write(conn, out)
    except ExportError as e:
        click.echo(f"ogi-archive export csv: {e}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    for path, n in written.items():
        click.echo(f"{path}: {n} rows")


@cli.group()
def sites():
    """The site registry."""


@sites.command("list")
@click.option("--sites", "registry", type=click.Path(exists=True), help="A registry file or folder.")
def sites_list(registry):
    """Print the registered sites.

    Example:

        ogi-archive sites list
    """
    from crawler.registry import RegistryError, load_sites

    try:
        entries = load_sites(registry)
    except RegistryError as e:
        click.echo(f"ogi-archive sites: bad registry entry: {e}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    from pipelines.region import region_of

    groups = {}
    for s in entries:
        province = region_of(s.region_code)["province"] if s.region_code and s.region_code != "000000" else "中央 (central)"
        groups.setdefault(province or "(no region)", []).append(s)
    for province in sorted(groups, key=lambda p: min(s.region_code or "" for s in groups[p])):
        click.echo(f"{province} ({len(groups[province])})")
        for s in sorted(groups[province], key=lambda s: (s.region_code or "", s.id)):
            click.echo(f"  {s.id:26} {s.region_code or '-':7} {s.cms:8} {s.name}  {s.start_urls[0]}")
    click.echo(f"{len(entries)} sites")


@sites.command("check")
@click.option("--sites", "registry", type=click.Path(exists=True), help="A registry file or folder.")
@click.option("--site", "site_ids", multiple=True, help="Only this site (repeatable).")
@click.option("--timeout", default=15.0, show_default=True, help="Seconds for each start page.")
def sites_check(registry, site_ids, timeout):
    """Fetch each site's start page: reachable, moved (redirected elsewhere), blocked or unreachable.

    Exits 3 when any start page is not reachable, so it can watch the registry from cron.

    Example:

        ogi-archive sites check --site js_shuyang
    """
    from crawler.registry import RegistryError, check_site, load_sites

    try:
        entries = [s for s in load_sites(registry) if not site_ids or s.id in site_ids]
    except RegistryError as e:
        click.echo(f"ogi-archive sites: bad registry entry: {e}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda s: (s, check_site(s, timeout)), entries))
    counts = {}
    for site, (state, detail) in results:
        counts[state] = counts.get(state, 0) + 1
        click.echo(f"{state:12} {site.id:26} {detail}")
    click.echo(", ".join(f"{n} {state}" for state, n in sorted(counts.items())))
    if any(state != "reachable" for _, (state, _) in results):
        sys.exit(EXIT_SITE_FAILED)
