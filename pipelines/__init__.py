"""Pure functions that turn a captured document into a parsed report.

Nothing in this package imports Scrapy except ``scrapy_pipelines``, the thin
adapters the crawler turns on; the same code serves a crawl, ``ogi-archive
parse`` and a later re-parse of stored captures.
"""
