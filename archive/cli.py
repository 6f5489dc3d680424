"""ogi-archive: crawl government sites for OGI annual reports, parse them, archive them in SQLite."""
import json
import pathlib
import sys

import click

EXIT_BAD_INPUT = 2  # a file or option the command cannot use
EXIT_SITE_FAILED = 3  # a crawl ran, but one or more sites failed
EXIT_LOCKED = 4  # another run holds the archive's lock


@click.group()
@click.version_option(package_name="ogi-archive")
def cli():
    """Crawl, parse and archive 政府信息公开工作年度报告 into SQLite for Datasette."""


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=pathlib.Path))
@click.option("--url", help="The URL the file was captured from (a date in it is a candidate).")
@click.option("--full", is_flag=True, help="Also print the texts and every date candidate.")
def parse(path, url, full):
    """Print the parsed report (report-schema JSON) for a captured file: HTML, text/Markdown or PDF.

    Example:

        ogi-archive parse report.pdf
    """
    from pipelines.report import SCHEMA_FIELDS, parse_bytes

    try:
        body = path.read_bytes()
    except OSError as e:
        click.echo(f"ogi-archive parse: cannot read {path}: {e.strerror}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    ctype = {".md": "text/markdown", ".txt": "text/plain"}.get(path.suffix.lower())
    report = parse_bytes(body, content_type=ctype, url=url)
    if not full:
        report = {k: report[k] for k in SCHEMA_FIELDS}
    click.echo(json.dumps(report, ensure_ascii=False, indent=1))
