"""The shared spider: list pages → annual-report links → report pages and attachments.

Every CMS family's list pages are read here: plain links, links only in ``onclick``,
Hanweb ``<datastore>`` records, TRS ``countPage`` pagers, 下一页 links, per-year
sub-columns and redirect shells.  A start URL may be a column or a home page: from a
home page the 年报 column is found by its link text.  Family classes only say what
is peculiar to their CMS.
"""
import functools
import itertools
import re
from datetime import datetime, timezone
from typing import NamedTuple
from urllib.parse import urlparse

import scrapy
import scrapy.spidermiddlewares.httperror
from scrapy.http import TextResponse
from lxml import etree

from pipelines import limits
from pipelines.document import ATTACHMENT_EXT, is_file_format
from pipelines.script import to_simplified
from pipelines.tables import squash

from ..failures import GONE, describe
from ..registry import Site, load_sites

# A report title, in either script (tested on the simplified form, spaces removed): it
# names the year and ends with the report, so notices *about* the reports are not taken
REPORT_TITLE = re.compile(
    r"((?:19|20)\d\d|[〇零○一二三四五六七八九]{4})年度?.{0,40}?(?:政府信息公开|政务公开|信息公开)(?:工作)?(?:年度)?(?:报告|年报)"
    r"(?:[(（][^)）]{1,8}[)）])?$"
)
# The annual-report column, by its link text; and per-year sub-columns inside it
COLUMN_TEXT = re.compile(r"^[\u4e00-\u9fff]{0,10}?(?:信息公开|政务公开)(?:工作)?(?:年度报告|年报)(?:专栏|栏目)?$|^(?:公开)?年报$|^年度报告$")
YEAR_COLUMN = re.compile(r"^(?:19|20)\d\d\s*年?度?(?:政府信息公开)?(?:年度报告|年报)?$")
# Portal pages that lead to the column (followed from a home page only)
PORTAL_TEXT = re.compile(r"^(?:政府信息公开|信息公开|政务公开|政府信息公开专栏|信息公开目录|政府信息公开目录)$")
NEXT_TEXT = {"下一页", "下页", "下一頁", "后页", "後頁", ">", "›", "»"}
# bounded, so that a page of 200,000 unclosed "<a " costs a linear scan, not a quadratic one
HREF = re.compile(r"""<a\s[^>]{0,500}?href\s*=\s*["']([^"'#][^"'<>]{0,2000})["']""", re.I)
DATE_NEAR = re.compile(r"((?:19|20)\d\d)[-/.年](\d{1,2})[-/.月](\d{1,2})")
ONCLICK_URL = re.compile(r"""['"]((?:https?://[^'"\s]+|/[^'"\s]*|\.{1,2}/[^'"\s]*)\.(?:s?html?|jsp|pdf|docx?|xlsx?|wps|et|rtf|ofd))['"]""")
# what a list's link text adds to a file's title: its name's extension (….pdf), a date
# printed inside the link (…年度报告 2024-01-18)
TITLE_TAIL = re.compile(r"(?:\.(?:pdf|docx?|wps|xlsx?|et|rtf|ofd)|\s*[\[(（【]?(?:19|20)\d\d[-/.]\d{1,2}[-/.]\d{1,2}[\])）】]?)\s*$",
                        re.I)
JS_REDIRECT = re.compile(r"""(?:window\.|document\.|top\.)?location(?:\.href)?\s*=\s*['"]([^'"]+)['"]|location\.replace\(\s*['"]([^'"]+)['"]""")
META_REFRESH = re.compile(r"""<meta[^>]+http-equiv=["']?refresh["']?[^>]+content=["']?\d+\s*;\s*url=([^"'>\s]+)""", re.I)
# read from the page's element tree directly (a parsel Selector for every link costs more)
_TEXTS = etree.XPath("descendant-or-self::text()", smart_strings=False)  # what parsel's a::text gives
_PARENT_TEXT = etree.XPath("../*//text()", smart_strings=False)
PICTURE_WORDS = re.compile(r"图片版|圖片版|扫描版|掃描版")
MAX_PAGE_IMAGES = 40  # page images fetched for one report
REPORT_BODY = re.compile(r"总体情况|总体情況|總體情況|主动公开政府信息情况|收到和处理|本年新收|行政复议|信息公开.{0,6}情况|公开工作.{0,4}情况")


def _age_days(iso):
    try:
        return (datetime.now(timezone.utc) - datetime.fromisoformat(iso)).total_seconds() / 86400
    except (TypeError, ValueError):
        return float("inf")


def is_report_title(title):
    if title and len(title) <= 200:  # a title, not a page's worth of text in one unclosed <a>
        return _is_report_title(title)
    return bool(title and REPORT_TITLE.search(to_simplified(squash(title))))


@functools.lru_cache(maxsize=4096)  # a site's lists repeat their titles (sidebars, pagers, both scripts)
def _is_report_title(title):
    return bool(REPORT_TITLE.search(to_simplified(squash(title))))


def _without_tail(text):
    text = text.strip()
    return text[:-40] + TITLE_TAIL.sub("", text[-40:]) if text else ""


class Link(NamedTuple):
    """A link of a list page."""
    url: str
    title: str  # what names the report it links, if any (see link_title)
    date: str  # the date printed beside it (YYYY-MM-DD), or None
    row: object  # the list item it is in (<li>, <tr>…), or None: what its other links are beside
    plain: str  # its title= or else its text, as it is: what says whether a page is a list


def link_title(a):
    """``(title, plain)`` of a list link: its ``title=`` when that names a report, else its
    text when that does (``title="点击下载"`` over the report's name, a text cut short with
    its whole title in ``title=``), else whichever it has, without the file extension or
    date a link to a file may print after the title (….pdf, … 2024-01-18); and its
    ``title=`` or else its text, as they are."""
    attr = (a.get("title") or "").strip()
    if not attr:
        plain = " ".join(_TEXTS(a)).strip()
        return _without_tail(plain), plain
    title = _without_tail(attr)
    if is_report_title(title):
        return title, attr
    # its first texts only: a link with a title= was not read whole before (nor need it be)
    text = _without_tail(" ".join(itertools.islice(a.itertext(), 50)))
    return (text if is_report_title(text) else title), attr


ROW_TAGS = frozenset(("li", "tr", "dd", "dt", "p"))


def list_row(a):
    """The list item a link is in: the nearest <li>, <tr>, <dd>, <dt> or <p> up to three
    levels up, else its parent when that holds a dozen children at most (not a <div> of a
    whole list's links); None when there is none."""
    el = parent = a.getparent()
    for _ in range(3):
        if el is None:
            break
        if el.tag in ROW_TAGS:
            return el
        el = el.getparent()
    if parent is not None and sum(1 for _ in itertools.islice(parent.iterchildren(), 13)) <= 12:
        return parent
    return None


# what anti-bot walls (瑞数, 加速乐, 阿里云 WAF, Cloudflare…) put in the page they answer with
CHALLENGE_MARKERS = re.compile(r"__jsl_clearance|acw_sc__v2|\$_ts\s*=|cdn-cgi/challenge|challenge-platform|_waf_|"
                               r"滑动验证|安全验证|人机验证|访问验证|请开启\s*JavaScript|enable JavaScript", re.I)
_VISIBLE = etree.XPath("//text()[not(ancestor::script) and not(ancestor::style)]", smart_strings=False)


def not_a_document(response):
    """``(kind, reason)`` when a 200 answer is not the document asked for — an empty body,
    or an anti-bot challenge (script and no text) — else None."""
    body = response.body
    if not body.strip():
        return "empty", f"an empty answer (HTTP {response.status}, {len(body)} bytes)"
    if len(body) > 200_000 or is_file_format(body) or not isinstance(response, TextResponse):
        return None  # (a file's bytes are not decoded as text: Scrapy makes a PDF a TextResponse)
    html = response.text
    visible = squash(" ".join(_VISIBLE(response.selector.root))) if hasattr(response, "selector") else html
    scripted = re.search(r"<script", html, re.I)
    if scripted and len(visible) < 20:
        return "challenge", (f"an anti-bot challenge: HTTP {response.status}, {len(body):,} bytes of script "
                             f"and {len(visible)} characters of text")
    m = CHALLENGE_MARKERS.search(html)
    if m and len(visible) < 200:
        return "challenge", f"an anti-bot challenge page (it says {m.group(0)!r}; {len(visible)} characters of text)"
    return None


# a page's URL as an attribute's whole value (tagname="/…/cb473d96-2.html"), not "[HOMEPAGE]" or a style
ATTR_PAGE_URL = re.compile(r"(?:https?://|/|\.{1,2}/)[^\s'\"<>]*\.(?:s?html?|jsp)(?:\?[^\s'\"<>]*)?")


def pager_target(a):
    """Where a pager anchor leads: its ``href``; for a pager written as script (no href, or
    ``javascript:``), the page URL in its ``onclick`` (慧点/huilan eportal
    ``queryArticleByCondition(this,'/…/be842d3c-2.shtml')``), else the first other attribute
    whose whole value is a page URL (the same pager's ``tagname="/…/cb473d96-2.html"``);
    None when it names none."""
    href = (a.get("href") or "").strip()
    if href and not href.startswith("javascript") and href != "#":
        return href
    m = ONCLICK_URL.search(a.get("onclick") or "")
    if m:
        return m.group(1)
    for name, value in a.attrib.items():
        if name not in ("href", "onclick", "style", "class") and ATTR_PAGE_URL.fullmatch(value.strip()):
            return value.strip()
    return None


def is_column_link(text):
    """区属部门政府信息公开年报, 信息公开年报, 2019年度: a column, not a report (no year, or only a year)."""
    t = to_simplified(squash(text))
    return len(t) <= 24 and bool((COLUMN_TEXT.match(t) and not re.search(r"(?:19|20)\d\d", t)) or YEAR_COLUMN.match(t))


# Report pages and files are fetched before further list pages: the crawl holds only the
# documents of the list pages it has read, not a request for every report of the site (a
# TRS list's first page names all its pages at once), so its memory is flat with size
DOCUMENT_PRIORITY = 50


class ReportSpider(scrapy.Spider):
    """The shared behaviour; the runnable spiders are the families in families.py."""

    name = None  # not a spider of its own (Scrapy lists only named spiders)
    cms = None
    max_list_pages = 50  # pagination traps and calendars stop here
    max_depth = 4  # home → portal → column → year sub-column → …
    handle_httpstatus_list = [304]  # a conditional request answered "not modified"

    def __init__(self, site=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if isinstance(site, str):  # from `scrapy crawl trs -a site=ID`
            matches = [s for s in load_sites(kwargs.get("sites")) if s.id == site]
            if not matches:
                raise ValueError(f"no site {site!r} in the registry")
            site = matches[0]
        if not isinstance(site, Site):
            raise ValueError("a site is required: scrapy crawl <family> -a site=ID")
        self.site = site
        self.start_urls = list(site.start_urls)
        self.allowed_domains = sorted({urlparse(u).hostname for u in site.start_urls} | set(site.allowed_domains))
        self.allowed_ports = {80, 443} | {urlparse(u).port for u in site.start_urls if urlparse(u).port}
        self.list_pages_seen = 0
        self.discovered = 0  # list, column and portal pages asked for (OGI_MAX_LIST_PAGES)
        self.list_urls = set()
        self.documents = 0  # report pages and files asked for (OGI_MAX_DOCUMENTS)
        self.budget_spent = False
        self.known = {}

    async def start(self):
        self.known, retry = await self._from_archive()
        # what failed last time is asked for first: a report announced and not archived
        # stays pending until it is (its page is not 'known' either, see known_documents).
        # All of them go into the scheduler at once, not yielded one by one: the engine takes
        # start() lazily, so a retried list page's reports (pages found after it) could be sent
        # before the retries not yet taken (seen under load in tests/test_faults.py)
        for failure in retry:
            request = self.retry_request(failure)
            if request is not None:
                self.crawler.engine.crawl(request)
        for url in self.start_urls:
            self.discovered += 1
            yield scrapy.Request(url, callback=self.parse, cb_kwargs={"depth": 0}, errback=self.failed)

    # ---- what the archive already has ------------------------------------------------

    async def _from_archive(self):
        """What the archive holds of this site: (url key → validators and time of fetch of
        each archived report page and file, the open failures to ask for again), as the
        archiver answers (the crawl never opens the archive)."""
        from archive.db import ArchiveError
        from crawler.archiver import ArchiverClient, ArchiverDied

        if self.crawler is None:
            return {}, []
        client = ArchiverClient.for_settings(self.crawler.settings)
        try:
            return await client.ask(("known", self.site.id, self.crawler.settings.getbool("OGI_REFETCH")))
        except (ArchiverDied, ArchiveError) as e:  # its documents cannot be archived either: the pipeline says so
            self.logger.error("what the archive holds of %s is not known: %s", self.site.id, e)
            return {}, []
        finally:
            client.release()

    def retry_request(self, failure):
        """A request for a URL that failed in an earlier run, made as it was made then.  A page
        image that failed is asked for again with its report: the report page, and every image
        of it, read anew (``ogi_images_retry``: the archive parses it again even where the
        page's own bytes have not changed)."""
        asked = failure.get("request") or {}
        role, url, meta = failure["fetch_role"], failure["url"], {}
        if role == "image" and asked.get("page_url"):
            role, url, meta = "report", asked["page_url"], {"ogi_images_retry": True}
        callback = {"list": self.parse, "report": self.parse_report, "attachment": self.parse_attachment}.get(role)
        if callback is None:
            return None
        depth = asked.get("depth") if isinstance(asked.get("depth"), int) else 0
        if role == "list":
            kwargs = {"depth": depth}
            self.discovered += 1
        elif role == "report":
            kwargs = {"listing": asked.get("listing") or {"list_title": None, "list_date": None}, "depth": depth}
        else:
            kwargs = {"page": asked.get("page") or {"list_title": None, "list_date": None}}
        return scrapy.Request(url, callback=callback, cb_kwargs=kwargs, errback=self.failed, priority=100, meta=meta)

    def follow_document(self, response, url, callback, cb_kwargs):
        """A request for a report page or file, or a 'seen' mark for one already archived.

        A document archived less than OGI_RECHECK_DAYS ago, still listed under the same
        title, is not requested: the list page says it is there.  Older ones are
        revalidated with a conditional request (ETag / Last-Modified, answered 304 when
        unchanged), or fetched again when their server gave no validators.
        """
        from archive.store import url_key

        try:
            known = self.known.get(url_key(url))
        except ValueError as e:  # a malformed link: refused, recorded; the page's other links go on
            return self.follow(response, url, callback=callback, cb_kwargs=cb_kwargs, error=e)
        if known is None:
            return self.document_request(response, url, callback, cb_kwargs)
        listing = cb_kwargs.get("listing") or cb_kwargs.get("page") or {}
        same_title = known.get("list_title") in (None, listing.get("list_title"))
        if same_title and _age_days(known["fetched_at"]) < self.crawler.settings.getfloat("OGI_RECHECK_DAYS", 7):
            return self.seen(url, **{k: v for k, v in cb_kwargs.items() if k in ("listing", "page")})
        headers = {}
        if known["etag"]:
            headers["If-None-Match"] = known["etag"]
        if known["last_modified"]:
            headers["If-Modified-Since"] = known["last_modified"]
        return self.document_request(response, url, callback, cb_kwargs, headers=headers)

    def document_request(self, response, url, callback, cb_kwargs, **kw):
        """A request for a report page or file, within the site's budget of documents a run
        (OGI_MAX_DOCUMENTS): a list that links one report under endless query strings stops
        there, once, with a warning (and its reports are not marked removed)."""
        limit = self.crawler.settings.getint("OGI_MAX_DOCUMENTS", 2000)
        if self.documents >= limit:
            if not self.budget_spent:
                self.budget_spent = True
                self.crawler.stats.inc_value("ogi/budget_spent")
                self.logger.warning("stopped at %d report pages and files (OGI_MAX_DOCUMENTS); first not "
                                    "followed: %s", limit, url)
            return None
        self.documents += 1
        kw.setdefault("priority", DOCUMENT_PRIORITY)
        return self.follow(response, url, callback=callback, cb_kwargs=cb_kwargs, **kw)

    def not_modified(self, response, role, listing=None, page=None):
        """A 304: the archived document is unchanged — if a conditional request was made for
        one the archive holds; else the server said nothing of use, and that is a failure."""
        from archive.store import url_key

        asked = response.request.headers
        if (asked.get("If-None-Match") or asked.get("If-Modified-Since")) and url_key(response.url) in self.known:
            return self.seen(response.url, listing=listing, page=page)
        self.crawler.stats.inc_value("ogi/errors")
        reason = "HTTP 304 Not Modified to a request that had no validators: the document was never sent"
        self.logger.error("failed: %s: %s", response.request.url, reason)
        return self.failure_item(self.asked_url(response), role, "http", reason, status=304,
                                 request={"listing": listing} if role == "report" else {"page": page})

    def seen(self, url, listing=None, page=None):
        """An item saying archived reports are still listed on their site, unchanged
        (``urls``: the pages that announce them)."""
        meta = listing or page or {}
        return {"site_id": self.site.id, "urls": [meta.get("page_url") or url], "role": "seen"}

    FETCH_ROLES = {"parse": "list", "parse_report": "report", "parse_attachment": "attachment",
                   "parse_page_image": "image"}

    def failed(self, failure):
        """A request that failed for good (after retries), or was refused: counted against
        this site, logged with its reason, and recorded in the archive (``fetch_failures``).

        Refused on purpose (robots.txt, another host, a scheme other than http/https) is
        counted as refused; a report link that is gone (404, 410) as a broken link; any
        other failure is an error of the site's crawl, and asked for again next run."""
        kind, status, exception, reason = describe(failure, self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        request = failure.request
        first = request.meta.get("ogi_from") or (request.meta.get("redirect_urls") or [request.url])[0]
        if first != request.url:
            reason = f"{reason} (redirected from {first} to {request.url})"
        role = self.FETCH_ROLES.get(getattr(request.callback, "__name__", None), "other")
        if kind == "refused":
            self.crawler.stats.inc_value("ogi/refused")
            self.logger.info("not fetched: %s: %s", first, reason)
        elif status in GONE and role != "list":
            self.crawler.stats.inc_value("ogi/broken_links")
            self.logger.warning("broken report link: %s: %s", first, reason)
        else:
            self.crawler.stats.inc_value("ogi/errors")
            self.logger.error("failed: %s: %s", first, reason)
        return self.failure_item(first, role, kind, reason, status=status, exception=exception,
                                 attempts=1 + request.meta.get("retry_times", 0), request=request.cb_kwargs)

    def unreadable(self, response, exception):
        """What a callback that raised on ``response`` leaves: a report page or file is
        archived as it came (the parser will say what it makes of it); a list page is a
        failure with the reason."""
        role = self.FETCH_ROLES.get(getattr(response.request.callback, "__name__", None), "other")
        kwargs = response.request.cb_kwargs
        reason = f"the spider could not read it: {type(exception).__name__}: {exception}"[:500]
        if role in ("report", "attachment"):
            self.logger.warning("%s: %s; archived as it came", response.request.url, reason)
            return [self.capture(response, role="report", **(kwargs.get("listing") or kwargs.get("page") or {}))]
        self.crawler.stats.inc_value("ogi/errors")
        self.logger.error("failed: %s: %s", response.request.url, reason)
        return [self.failure_item(self.asked_url(response), role, "error", reason, status=response.status,
                                  request=kwargs)]

    def failure_item(self, url, role, kind, reason, status=None, exception=None, attempts=1, request=None):
        """An item recording a failed or refused fetch (the archive's ``fetch_failures``)."""
        self.crawler.stats.inc_value("ogi/failures")
        return {"site_id": self.site.id, "role": "failure", "url": url, "fetch_role": role, "kind": kind,
                "status": status, "exception": exception, "reason": reason, "attempts": attempts,
                "request": {k: v for k, v in (request or {}).items() if isinstance(v, (str, int, dict, type(None)))}}

    def challenged(self, response, role, request_kwargs):
        """A failure item if ``response`` is not the document (an anti-bot challenge, an
        empty body), else None."""
        found = not_a_document(response)
        if found is None:
            return None
        kind, reason = found
        self.crawler.stats.inc_value("ogi/errors")
        self.logger.error("failed: %s: %s", response.request.url, reason)
        return self.failure_item(response.request.url, role, kind, reason, status=response.status,
                                 request=request_kwargs)

    def discover(self, request):
        """A request for a list, column or portal page, within the site's page budget
        (OGI_MAX_LIST_PAGES): a trap of endless columns or calendars stops there, once,
        with a warning and the site's ``budget_spent`` count (its reports are then not
        marked removed: the crawl may not have seen them all)."""
        limit = self.crawler.settings.getint("OGI_MAX_LIST_PAGES", 200)
        if request.url in self.list_urls:
            return request  # asked for already: the duplicate filter drops it, the budget is not spent
        if self.discovered < limit:
            self.discovered += 1
            self.list_urls.add(request.url)
            return request
        if not self.budget_spent:
            self.budget_spent = True
            self.crawler.stats.inc_value("ogi/budget_spent")
            self.logger.warning("discovery stopped at %d list pages (OGI_MAX_LIST_PAGES); first not followed: %s",
                                limit, request.url)
        return None

    # ---- list pages --------------------------------------------------------------------

    @staticmethod
    def as_page(response):
        """``response`` as an HTML response when its bytes are a page or text, whatever its
        content type (application/json, octet-stream…); a file (a PDF, a Word file…) as a
        binary response, whatever its content type, so that nothing decodes its bytes as text
        (Scrapy makes a PDF a TextResponse, and its text would be a charset detector's guess)."""
        from scrapy.http import HtmlResponse, Response

        from pipelines.document import sniff_kind

        if sniff_kind(response.body[:4096]) not in ("html", "text"):
            if type(response) is Response:
                return response
            return Response(**{k: getattr(response, k) for k in Response.attributes})
        return response if isinstance(response, HtmlResponse) else response.replace(cls=HtmlResponse)

    def parse(self, response, depth=0):
        response = self.as_page(response)
        if not hasattr(response, "selector"):
            self.crawler.stats.inc_value("ogi/errors")
            reason = f"a list page that is not a page: {len(response.body):,} bytes of binary data"
            self.logger.error("failed: %s: %s", response.request.url, reason)
            yield self.failure_item(self.asked_url(response), "list", "error", reason, status=response.status,
                                    request={"depth": depth})
            return
        for out in self._parse_list(response, depth):
            if isinstance(out, scrapy.Request) and out.callback == self.parse:
                out = self.discover(out)
            if out is not None:
                yield out

    def _parse_list(self, response, depth):
        if len(response.body) > limits.LIMITS.markup_bytes:
            yield self.failure_item(response.request.url, "list", "too_large",
                                    f"a list page of {len(response.body):,} bytes, over the limit of "
                                    f"{limits.LIMITS.markup_bytes:,}", status=response.status, request={"depth": depth})
            return
        target = self.redirect_target(response)
        if target:
            yield self.capture(response, role="list")
            yield self.follow_shell(response, target, self.parse, {"depth": depth})
            return
        items = list(self.list_items(response))
        if not items:
            challenge = self.challenged(response, "list", {"depth": depth})
            if challenge is not None:
                yield challenge
                return
        if depth > 0 and not any(is_report_title(link.plain) for link in items) and self.looks_like_report(response):
            # a column link that led to a report itself
            yield from self.parse_report(response, {"list_title": None, "list_date": None}, depth=self.max_depth)
            return
        self.list_pages_seen += 1
        yield self.capture(response, role="list")
        found, seen = 0, None
        reports = [(link, bool(ATTACHMENT_EXT.search(link.url))) for link in items if is_report_title(link.title)]
        # a report linked both as its page and as its file in one list item (the title, and
        # [PDF下载] beside it) is taken by its page, which leads to the file: one report, not two
        paged = {(link.row, squash(link.title)) for link, is_file in reports if not is_file and link.row is not None}
        for link, is_file in reports:
            found += 1
            meta = {"list_title": link.title, "list_date": link.date}
            if not is_file:  # a page, or a file behind a URL that does not say so (download.jsp?fileId=…)
                out = self.follow_document(response, link.url, self.parse_report, {"listing": meta, "depth": depth})
            elif (link.row, squash(link.title)) not in paged:
                # a file linked straight from the list: the report itself, known by its own URL
                out = self.follow_document(response, link.url, self.parse_attachment, {"page": meta})
            else:
                continue
            if isinstance(out, dict) and out["role"] == "seen":  # archived, still listed: one item a page
                seen = out if seen is None else {**seen, "urls": seen["urls"] + out["urls"]}
            elif out is not None:
                yield out
        if seen is not None:
            yield seen
        if depth < self.max_depth:
            for url in self.column_links(response, portal=depth == 0 and not found):
                yield self.follow(response, url, callback=self.parse, cb_kwargs={"depth": depth + 1})
        if self.list_pages_seen < self.max_list_pages:
            for request in self.next_pages(response, depth):
                yield request

    def redirect_target(self, response):
        """Where a redirect shell (a page that is only a JS or meta-refresh redirect) points."""
        if not hasattr(response, "text") or len(response.body) > 4000:
            return None
        text = response.text
        visible = squash(re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", "", text, flags=re.S))
        if len(visible) > 80:
            return None
        m = META_REFRESH.search(text) or JS_REDIRECT.search(text)
        if not m:
            return None
        return response.urljoin(next(g for g in m.groups() if g))

    def page_root(self, response):
        """The page's element tree, whole: a page nested past the HTML parser's depth limit
        (thousands of unclosed <font> or <div>) is parsed again with its nesting taken out.
        (The last page's tree is kept: its links, columns and pagers are read one after another.)"""
        cached = getattr(self, "_root", None)
        if cached is not None and cached[0] is response:
            return cached[1]
        from pipelines.document import html_root, lost_nesting

        root = response.selector.root
        if lost_nesting(response.text, root):
            root = html_root(response.text)[0] or root
        self._root = (response, root)
        return root

    def list_items(self, response):
        """A :class:`Link` (absolute url, title, date…) for each link of a list page, onclick-only ones too."""
        yield from self.link_items(response, self.page_root(response))

    def link_items(self, response, root):
        for a in root.iter("a"):
            title, plain = link_title(a)
            href = a.get("href") or ""
            if href.startswith("javascript") or href in ("", "#"):
                m = ONCLICK_URL.search(a.get("onclick") or "")
                if not m:
                    continue
                href = m.group(1)
            if href.startswith(("#", "mailto:")):
                continue
            try:
                url = response.urljoin(href)
            except ValueError:
                url = href  # malformed (an unclosed IPv6 host…): follow() records it as refused
            yield Link(url, title, self._date_near(a), list_row(a), plain)

    @staticmethod
    def _date_near(a):
        # the text right after the link, and the next element's (walked in Python: the XPath
        # axes for it scan every following sibling, and a <div> of 20,000 links made that quadratic)
        near = [a.tail or ""]
        following = a.getnext()
        if following is not None:
            near.append(" ".join(_TEXTS(following))[:200])
        parent = a.getparent()
        # a <li> or a table row; not a <div> of 5,000 links (and counted up to 13 only: lxml's len()
        # walks every child, which for each of 20,000 links was quadratic)
        if parent is not None and sum(1 for _ in itertools.islice(parent.iterchildren(), 13)) <= 12:
            near += _PARENT_TEXT(a)
        m = DATE_NEAR.search(" ".join(near))
        el = a
        for _ in range(2):
            # the link alone in a wrapper (<font><a/></font><span>date</span>, <span><a/></span>
            # <span>date</span>): the date is after the wrapper, two levels up at most
            wrapper = el.getparent()
            if (m is not None or wrapper is None or wrapper.tag in ROW_TAGS or wrapper.tag in ("td", "th")
                    or sum(1 for _ in itertools.islice(wrapper.iterchildren(), 2)) > 1):
                break
            el = wrapper
            following = el.getnext()
            m = DATE_NEAR.search((el.tail or "") + " " + (
                " ".join(itertools.islice(following.itertext(), 20))[:200] if following is not None else ""))
        if m is None and parent is not None and parent.tag in ("td", "th"):
            # a table row: the date is in a cell after the link's (the next three, their first texts)
            cell = parent
            for _ in range(3):
                cell = cell.getnext()
                if cell is None:
                    break
                m = DATE_NEAR.search(" ".join(itertools.islice(cell.itertext(), 20))[:200])
                if m:
                    break
        return "-".join((m.group(1), m.group(2).zfill(2), m.group(3).zfill(2))) if m else None

    def column_links(self, response, portal=False):
        """Links to the annual-report column and its per-year sub-columns (and, from a
        home page with no reports on it, to the 信息公开 portal)."""
        for a in self.page_root(response).iter("a"):
            text = " ".join(_TEXTS(a)).strip() or a.get("title", "")
            href = a.get("href") or ""
            if not href or href.startswith(("javascript", "#", "mailto:")) or ATTACHMENT_EXT.search(href):
                continue
            if is_column_link(text) or (portal and PORTAL_TEXT.match(squash(to_simplified(text)))):
                try:
                    url = response.urljoin(href)
                    host = urlparse(url).hostname
                except ValueError:  # a malformed link is no column
                    continue
                if host in self.allowed_domains:
                    yield url

    def next_pages(self, response, depth):
        """Requests for the column's further list pages: 下一页 links inside the column,
        wherever the anchor names its target (see pager_target)."""
        here = urlparse(response.url).path.rsplit("/", 1)[0]
        for a in self.page_root(response).iter("a"):
            text = "".join(_TEXTS(a)).strip()
            if text not in NEXT_TEXT:
                continue
            href = pager_target(a)
            if href is None:
                continue
            try:
                url = response.urljoin(href)
                path = urlparse(url).path
            except ValueError:
                continue
            if path.startswith(here) and url != response.url:
                yield scrapy.Request(url, callback=self.parse, cb_kwargs={"depth": depth}, errback=self.failed)

    # ---- reports -----------------------------------------------------------------------

    def parse_report(self, response, listing, depth=0):
        """A report page.  A short page that only points at an attachment yields the
        attachment; a page that turns out to be a list (a sub-column titled like a
        report, 2019年政府信息公开年报) is read as one."""
        response = self.as_page(response)
        if response.status == 304:
            yield self.not_modified(response, "report", listing=listing)
            return
        if len(response.body) > limits.LIMITS.markup_bytes:  # archived as it came; the archiver says too_large
            yield self.capture(response, role="report", **listing)
            return
        target = self.redirect_target(response)
        if target:  # a shell that only redirects to the report
            yield self.follow_shell(response, target, self.parse_report, {"listing": listing, "depth": depth})
            return
        reportish = self.looks_like_report(response)
        # a page that speaks of a report's sections is no challenge: only the others are looked at
        challenge = None if reportish and response.body.strip() else self.challenged(
            response, "report", {"listing": listing, "depth": depth})
        if challenge is not None:
            yield challenge
            return
        if not reportish and depth < self.max_depth and any(
                is_report_title(link.plain) and link.url != response.url for link in self.list_items(response)):
            yield from self.parse(response, depth=depth + 1)
            return
        # links found in the markup directly: building a selector for every report page costs more
        attachments = [response.urljoin(h) for h in HREF.findall(response.text) if ATTACHMENT_EXT.search(h)
                       and not re.search(r"\.(zip|rar)(?:$|\?)", h, re.I)] if hasattr(response, "text") else []
        # 本年新收 is written alike in both scripts: no conversion needed to look for it
        if attachments and not ("本年新收" in response.text or len(squash(self.body_text(response))) > 3000):
            yield self.capture(response, role="page", **listing)
            for url in attachments:
                yield self.follow_document(response, url, self.parse_attachment,
                                           {"page": {**listing, "page_url": response.url}})
        else:
            images = self.page_images(response, listing)
            report = self.capture(response, role="report", **listing)
            if response.meta.get("ogi_images_retry"):
                report["parse_anew"] = True
            if images:  # a report of page images: they are fetched, in order, and go with it
                yield self.next_image(report, images, [])
            else:
                yield report

    # ---- reports published as page images ---------------------------------------------

    def page_images(self, response, listing):
        """The page images of a report page whose figures are in images (its article is page
        scans, or its title is marked 图片版), in order; [] for any other page.  Read from the
        markup only where it shows an image or says 图片版, and prints no table in text: most
        report pages cost nothing."""
        if not hasattr(response, "text"):
            return []
        text = response.text
        # a page that prints the requests table's first row has its figures in text
        if "本年新收" in text or ("<img" not in text and "<IMG" not in text and not PICTURE_WORDS.search(text)):
            return []
        from pipelines.document import html_document, image_report

        doc = html_document(text, response.url)
        if not doc.images or not image_report(doc, listing.get("list_title")):
            return []
        self.crawler.stats.inc_value("ogi/image_reports")
        return doc.images[:MAX_PAGE_IMAGES]

    def next_image(self, report, todo, got):
        """The request for the next page image of ``report``; the report itself (its images
        with it) once every image has been fetched or has failed."""
        if not todo:
            return {**report, "images": got}
        return scrapy.Request(todo[0], callback=self.parse_page_image, errback=self.page_image_failed,
                              dont_filter=True, priority=1, meta={"ogi_page_image": True},
                              cb_kwargs={"report": report, "todo": todo[1:], "got": got})

    def parse_page_image(self, response, report, todo, got):
        """A page image: its capture (None in its place when the site sent none)."""
        ok = response.status == 200 and response.body
        got.append(self.capture(response, role="image", page_url=report["url"]) if ok else None)
        yield self.next_image(report, todo, got)

    def page_image_failed(self, failure):
        """A page image that could not be fetched: a failure item saying so, None in its place
        (the parse says which image is missing); the report goes on with the others."""
        kw = failure.request.cb_kwargs
        item = self.failed(failure)
        report = kw["report"]  # (not the report's bytes: where it is, and how its list named it)
        item["request"] = {"page_url": report["url"], "listing": {k: report.get(k) for k in ("list_title", "list_date")}}
        yield item
        yield self.next_image(kw["report"], kw["todo"], kw["got"] + [None])

    @staticmethod
    def body_text(response):
        if not hasattr(response, "text"):
            return ""
        return " ".join(response.css("body *:not(script):not(style)::text").getall())

    def looks_like_report(self, response):
        """A page carrying a report: its body speaks of the report's sections, or it is a file.

        Read from the page's markup, not its parsed text: this runs on every report page."""
        if not hasattr(response, "text"):
            return True
        body = response.text
        at = body.find("<body")
        body = body[at if at > 0 else 0:]
        # most pages are in simplified script: convert only when the markup as it is says nothing
        return bool(REPORT_BODY.search(body) or REPORT_BODY.search(to_simplified(body)))

    def parse_attachment(self, response, page):
        if response.status == 304:
            yield self.not_modified(response, "attachment", page=page)
            return
        challenge = self.challenged(response, "attachment", {"page": page})
        if challenge is not None:
            yield challenge
            return
        yield self.capture(response, role="report", **page)

    def follow(self, response, url, error=None, **kw):
        """A request for a link of ``response``, or, for a URL no request can be made of (a
        malformed IPv6 host, a port out of range: ``error``), a failure item saying so."""
        enc = (getattr(response, "encoding", None) or "utf-8").lower().replace("_", "-")
        try:  # a UTF-16 page's encoding would encode the request's header names too
            if error is not None:
                raise error
            return response.follow(url, errback=self.failed, encoding="utf-8" if enc.startswith("utf-16") or
                                   enc.startswith("utf-32") else enc, **kw)
        except ValueError as e:
            callback = kw.get("callback")
            role = self.FETCH_ROLES.get(getattr(callback, "__name__", None), "other")
            self.crawler.stats.inc_value("ogi/refused")
            self.logger.info("not fetched: %s: a malformed URL (%s)", url, e)
            return self.failure_item(str(url)[:2000], role, "refused", f"a malformed URL: {e}",
                                     request=kw.get("cb_kwargs"))

    MAX_SHELLS = 5

    def follow_shell(self, response, target, callback, cb_kwargs):
        """Where a redirect shell points, followed like a redirect: even to a URL this crawl
        has asked for (else the duplicate filter would drop it without a word), the URL the
        site gave kept for the record, and at most MAX_SHELLS shells in a row."""
        hops = response.request.meta.get("ogi_shells", 0) + 1
        if hops > self.MAX_SHELLS:
            return self.failure_item(self.asked_url(response), self.FETCH_ROLES.get(callback.__name__, "other"),
                                     "redirect", f"{hops - 1} redirect shells in a row (the last points to {target})",
                                     request=cb_kwargs)
        return self.follow(response, target, callback=callback, cb_kwargs=cb_kwargs, dont_filter=True,
                               meta={"ogi_from": self.asked_url(response), "ogi_shells": hops})

    @staticmethod
    def asked_url(response):
        """The URL the site gave for what ``response`` answers (before redirects and shells)."""
        meta = response.request.meta
        return meta.get("ogi_from") or (meta.get("redirect_urls") or [response.request.url])[0]

    def capture(self, response, role, **extra):
        headers = response.headers
        return {
            "site_id": self.site.id,
            "site_region": self.site.region_code,
            "url": response.request.url,
            "asked_url": self.asked_url(response),
            "final_url": response.url,
            "status": response.status,
            "content_type": (headers.get("Content-Type") or b"").decode("latin-1"),
            "etag": (headers.get("ETag") or b"").decode("latin-1") or None,
            "last_modified": (headers.get("Last-Modified") or b"").decode("latin-1") or None,
            "body": response.body,
            # for the WARC records: the response's headers as received, and the request's
            "http_headers": [(k.decode("latin-1"), v.decode("latin-1")) for k, vs in headers.items() for v in vs],
            "protocol": response.protocol,
            "method": response.request.method,
            "request_headers": [(k.decode("latin-1"), v.decode("latin-1"))
                                for k, vs in response.request.headers.items() for v in vs],
            "role": role,
            **extra,
        }
