"""The Scrapy project: settings, the site registry, one spider per CMS family."""


def without_numpy():
    """Keep numpy out of this process: called first by the two long-lived processes of a crawl
    that never use it (the crawl itself and its archiver; parsing and OCR run in worker
    processes with interpreters of their own).  sqlite-utils imports numpy whenever it is
    installed (it is, for the OCR extra), only to map numpy's number types to SQLite's: 15 MB
    of each process's memory for nothing.  A no-op once sqlite-utils or numpy is imported."""
    import sys

    if "sqlite_utils" not in sys.modules:
        sys.modules.setdefault("numpy", None)  # ``import numpy`` raises ImportError here
