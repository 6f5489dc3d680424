"""The parser, set up once in the parse workers' fork server (``crawler.archiver`` preloads
this module), before any worker is forked from it.

A worker's first parse imports what the parser loads lazily (dateparser's languages, OpenCC's
dictionaries, the PDF and Office readers) and compiles its patterns: about 40 MB a worker,
each worker its own copy.  Done here, the workers forked afterwards share those pages with the
server (copy-on-write), and ``gc.freeze()`` keeps the collector from writing to them (and so
copying them) in every worker.  Measured on a 10,000-report crawl (half PDF): two workers
161 -> 119 MB, the fork server 17 -> 35 MB.

It must not import ``crawler.archiver``: the fork server runs that module afterwards as the
parent's main module, and finding it imported already, Python warns.
"""
import gc
import importlib

from pipelines.report import warm_up

warm_up()
for reader in ("docx", "pdfplumber", "pypdfium2", "python_calamine"):  # a first PDF, DOCX or sheet's imports
    importlib.import_module(reader)
gc.freeze()
