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
# http and https only: Scrapy's file, ftp, s3 and data handlers are not even loaded (a page
# linking file:///etc/passwd must never make the crawler read this machine's disk)
DOWNLOAD_HANDLERS = {"file": None, "ftp": None, "s3": None, "data": None}
DOWNLOADER_MIDDLEWARES = {
    # the one place that decides what may be fetched (scheme, host), for every request and
    # redirect; it replaces Scrapy's offsite filter, which drops requests without a word
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawler.middlewares.UrlPolicyMiddleware": 50,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,  # where Scrapy's retry stands, with backoff
    # after decompression (590): the page's text in the charset its bytes are in
    "crawler.middlewares.CharsetMiddleware": 585,
    # Scrapy's redirects, but a loop is a recorded failure (its duplicate filter hid them)
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.LoopAwareMetaRefreshMiddleware": 580,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.middlewares.LoopAwareRedirectMiddleware": 600,
    # before Scrapy's proxy middleware (750) reads request.meta["proxy"]: the demo's hosts
    # through the demo's local server (only with OGI_DEMO_PROXY set: ogi-archive demo)
    "crawler.middlewares.DemoProxyMiddleware": 740,
}
# Breadth first: a site's shallow list pages before deep ones, so that a trap of nested
# sub-columns cannot spend the list-page budget (OGI_MAX_LIST_PAGES) before the real column
DEPTH_PRIORITY = 1
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"
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

SPIDER_MIDDLEWARES = {
    # nearest the spider: what a callback raises on a page becomes that page's failure, recorded
    "crawler.middlewares.SpiderErrorsMiddleware": 950,
}

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
# (at least one: a document is never parsed in a process it could take down)
OGI_PARSE_WORKERS = 2
# What one document's parse may take: seconds, and megabytes of address space in its worker.
# Over either, the capture is archived with parse_status = too_large and the reason.
OGI_PARSE_SECONDS = 60
OGI_PARSE_MEMORY_MB = 3072
# Document limits checked before and while reading (pipelines/limits.py): a JSON object of
# markup_bytes, unzipped_bytes, xml_bytes, ratio, pages, cells, columns; {} keeps the defaults
OGI_LIMITS = {}
# List, column and portal pages a site's crawl may ask for: a trap of endless sub-columns,
# pagers or calendars stops there (recorded as a 'budget' failure)
OGI_MAX_LIST_PAGES = 200
# Report pages and files a site's crawl may ask for in a run (a list that links one report
# under endless query strings stops there)
OGI_MAX_DOCUMENTS = 2000
# The bundled demo's local server (http://127.0.0.1:PORT), through which requests to the
# demo's hosts (*.demo.ogi-archive.invalid) go; set by `ogi-archive demo`.  None: no proxy.
OGI_DEMO_PROXY = None
# Distributed crawling (crawler/distributed.py): the Redis that the run's crawl processes
# share, as redis://[:password@]host:6379/0; the environment variable of the same name
# sets it too.  None: one process, no Redis.
OGI_REDIS_URL = None
# With OGI_REDIS_URL: how many crawl processes that join (crawl --join) the coordinator waits
# for, up to two minutes, before it crawls; others may join later all the same
OGI_JOINERS = 0
