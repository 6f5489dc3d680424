"""Pure functions that turn a captured document into a parsed report.

Nothing in this package imports Scrapy except ``scrapy_pipelines``, the thin
adapters the crawler turns on; the same code serves a crawl, ``ogi-archive
parse`` and a later re-parse of stored captures.
"""


_VERSION = []


def parser_version():
    """The parser's version: the package's, and a digest of this package's code (so two
    builds of one release that parse differently are told apart), e.g. ``0.1.0+3f9a1c2e``."""
    if not _VERSION:
        import hashlib
        import pathlib
        from importlib.metadata import PackageNotFoundError, version

        try:
            release = version("ogi-archive")
        except PackageNotFoundError:
            release = "0"
        code = hashlib.sha256()
        for path in sorted(pathlib.Path(__file__).parent.glob("*.py")):
            code.update(path.read_bytes())
        _VERSION.append(f"{release}+{code.hexdigest()[:8]}")
    return _VERSION[0]
