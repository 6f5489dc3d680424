"""The shared spider: list pages → annual-report links → report pages and attachments.

A CMS family only says how its list pages hold their items and their pages;
everything else (which links are reports, attachments, the items) is here.
"""
import re
from urllib.parse import urljoin, urlparse

import scrapy

from pipelines.document import ATTACHMENT_EXT
from pipelines.script import to_simplified

from ..registry import Site, load_sites

# A report title, in either script (tested on the simplified form, spaces removed): it
# names the year and ends with the report, so notices *about* the reports are not taken
REPORT_TITLE = re.compile(
    r"((?:19|20)\d\d|[〇零○一二三四五六七八九]{4})年度?.{0,40}?(?:政府信息公开|政务公开|信息公开)(?:工作)?(?:年度)?(?:报告|年报)"
    r"(?:[(（][^)）]{1,8}[)）])?$"
)
DATE_NEAR = re.compile(r"((?:19|20)\d\d)[-/.年](\d{1,2})[-/.月](\d{1,2})")


def _age_days(iso):
    from datetime import datetime, timezone

    try:
        return (datetime.now(timezone.utc) - datetime.fromisoformat(iso)).total_seconds() / 86400
    except (TypeError, ValueError):
        return float("inf")


def is_report_title(title):
    return bool(title and REPORT_TITLE.search(to_simplified(re.sub(r"\s+", "", title))))


class ReportSpider(scrapy.Spider):
    name = "generic"
    cms = "generic"
    max_list_pages = 50  # a pagination trap stops here
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
        self.list_pages_seen = 0

    async def start(self):
        self.known = self._known_documents()
        for url in self.start_urls:
            yield scrapy.Request(url, callback=self.parse, cb_kwargs={"depth": 0})

    def _known_documents(self):
        """What the archive already holds of this site: url → validators and time of fetch."""
        path = self.crawler.settings.get("OGI_ARCHIVE_DB") if self.crawler else None
        if not path or self.crawler.settings.getbool("OGI_REFETCH"):
            return {}
        import os

        if not os.path.exists(path):
            return {}
        from archive.db import open_archive
        from archive.store import known_documents

        db = open_archive(path)
        try:
            return known_documents(db, self.site.id)
        finally:
            db.close()

    def follow_document(self, response, url, callback, cb_kwargs):
        """A request for a report page or file, or a 'seen' mark for one already archived.

        An archived document is revalidated with a conditional request (ETag /
        Last-Modified, answered 304 when unchanged); one whose server gave no
        validators is not fetched again until OGI_RECHECK_DAYS have passed.
        """
        from archive.store import url_key

        known = getattr(self, "known", {}).get(url_key(url))
        if known is None:
            return response.follow(url, callback=callback, cb_kwargs=cb_kwargs)
        headers = {}
        if known["etag"]:
            headers["If-None-Match"] = known["etag"]
        if known["last_modified"]:
            headers["If-Modified-Since"] = known["last_modified"]
        if not headers and _age_days(known["fetched_at"]) < self.crawler.settings.getfloat("OGI_RECHECK_DAYS", 30):
            return self.seen(url, **cb_kwargs)
        return response.follow(url, callback=callback, cb_kwargs=cb_kwargs, headers=headers)

    def seen(self, url, listing=None, page=None):
        """An item saying an archived report is still listed on its site, unchanged."""
        meta = listing or page or {}
        return {"site_id": self.site.id, "url": meta.get("page_url") or url, "role": "seen"}

    # ---- list pages --------------------------------------------------------------

    def parse(self, response, depth=0):
        self.list_pages_seen += 1
        yield self.capture(response, role="list")
        for url, title, date in self.list_items(response):
            if not is_report_title(title):
                continue
            meta = {"list_title": title, "list_date": date}
            if ATTACHMENT_EXT.search(url):
                yield self.follow_document(response, url, self.parse_attachment, {"page": meta})
            else:
                yield self.follow_document(response, url, self.parse_report, {"listing": meta})
        if self.list_pages_seen < self.max_list_pages:
            for url in self.next_pages(response):
                yield response.follow(url, callback=self.parse, cb_kwargs={"depth": depth + 1})

    def list_items(self, response):
        """(absolute url, title, date or None) for each link of a list page."""
        for a in response.css("a"):
            title = a.attrib.get("title") or " ".join(a.css("::text").getall()).strip()
            href = a.attrib.get("href")
            if not href or href.startswith(("javascript:", "#", "mailto:")):
                continue
            yield response.urljoin(href), title.strip(), self._date_near(a)

    def _date_near(self, a):
        around = " ".join(a.xpath("following-sibling::*[1]//text() | following-sibling::text()[1] | ../*//text()").getall())
        m = DATE_NEAR.search(around)
        return "-".join((m.group(1), m.group(2).zfill(2), m.group(3).zfill(2))) if m else None

    def next_pages(self, response):
        """Links to the column's further list pages: 下一页 links, index_N pages."""
        here = urlparse(response.url).path.rsplit("/", 1)[0]
        for a in response.css("a"):
            text = "".join(a.css("::text").getall()).strip()
            href = a.attrib.get("href") or ""
            url = response.urljoin(href)
            if (text in ("下一页", "下页", "下一頁", "后页", ">")) and urlparse(url).path.startswith(here):
                yield url

    # ---- reports -----------------------------------------------------------------

    def parse_report(self, response, listing):
        """A report page; a short page that only points at an attachment yields the attachment too."""
        if response.status == 304:
            yield self.seen(response.url, listing=listing)
            return
        attachments = [response.urljoin(h) for h in response.css("a::attr(href)").getall() if ATTACHMENT_EXT.search(h)]
        body_text = " ".join(response.css("body *:not(script):not(style)::text").getall())
        has_tables = "本年新收" in body_text or "本年新收" in to_simplified(body_text) or "申请" in body_text and len(body_text) > 3000
        if attachments and not has_tables:
            yield self.capture(response, role="page", **listing)
            for url in attachments:
                yield self.follow_document(response, url, self.parse_attachment, {"page": {**listing, "page_url": response.url}})
        else:
            yield self.capture(response, role="report", **listing)

    def parse_attachment(self, response, page):
        if response.status == 304:
            yield self.seen(response.url, page=page)
            return
        yield self.capture(response, role="report", **page)

    def capture(self, response, role, **extra):
        headers = response.headers
        return {
            "site_id": self.site.id,
            "site_region": self.site.region_code,
            "url": response.request.url,
            "final_url": response.url,
            "status": response.status,
            "content_type": (headers.get("Content-Type") or b"").decode("latin-1"),
            "etag": (headers.get("ETag") or b"").decode("latin-1") or None,
            "last_modified": (headers.get("Last-Modified") or b"").decode("latin-1") or None,
            "body": response.body,
            "role": role,
            **extra,
        }
