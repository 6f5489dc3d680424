"""Scrapy settings for ogi-archive.  Polite by default; every value can be overridden with -s.

Priority numbers are spaced by 100 and chosen here, in one place.
"""
BOT_NAME = "ogi-archive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# ASCII only: a header is bytes, and a non-ASCII one breaks on GBK sites
USER_AGENT = "ogi-archive/0.1 (+https://github.com/ogi-archive/ogi-archive; research archive of government open-information annual reports)"
ROBOTSTXT_OBEY = True

CONCURRENT_REQUESTS = 16
# Scrapy starts this many tasks for every callback's output; our callbacks yield a few
# items each, and the default (100) made task creation a tenth of the crawl's CPU
CONCURRENT_ITEMS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = 100 * 1024 * 1024  # reports with scanned pages run to tens of MB
DOWNLOAD_WARNSIZE = 30 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_BACKOFF_BASE = 2.0  # seconds before the first retry; doubled for each next one
RETRY_BACKOFF_MAX = 60.0
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,  # where Scrapy's retry stands, with backoff
}
CLOSESPIDER_ERRORCOUNT = 50
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy re-reads each callback's source, once per site's crawler, to warn about a return
# value in a generator; ours have none (and the tests run them)
WARN_ON_GENERATOR_RETURN_VALUE = False
# a batch job from cron needs no console and no remote control: not even loaded
# (every crawl process runs one crawler a site, and each would load them)
EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    "scrapy.extensions.remote_control.RemoteControl": None,
    "scrapy.extensions.memdebug.MemoryDebugger": None,
}
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

ITEM_PIPELINES = {
    "pipelines.scrapy_pipelines.CapturePipeline": 100,  # sha256, size, time of the raw capture
    # to the archiver process: parsed in its workers, written by its one writer to SQLite
    "pipelines.scrapy_pipelines.ArchivePipeline": 900,
}

# Where the archive lives; `ogi-archive crawl --db` sets it
OGI_ARCHIVE_DB = "archive.db"
# Which registry entries the spiders may load (a TOML file or a folder of them)
OGI_SITES = None
# Incremental runs: a report page or file archived less than this many days ago and still
# listed under the same title is not requested again; older ones are revalidated with a
# conditional request (ETag / Last-Modified → 304), or fetched again without validators
OGI_RECHECK_DAYS = 7
# Fetch every report again, ignoring what the archive holds
OGI_REFETCH = False
# Sites crawled at once in a run (each with its own per-domain politeness); the next starts
# as one finishes, so a registry of thousands never has thousands of crawlers open
OGI_CONCURRENT_SITES = 32
# Processes that normalise and parse reports beside the crawl, at a lower priority than it
# (0: the archiver process parses them itself, one at a time)
OGI_PARSE_WORKERS = 2
