"""The CMS families.  Each overrides only what is peculiar to its CMS."""
import re

import scrapy
from parsel import Selector

from .base import ReportSpider


class TrsSpider(ReportSpider):
    """TRS WCM: ``index.html``, ``index_1.html`` … with ``countPage`` in an inline script."""

    name = "trs"
    cms = "trs"

    def next_pages(self, response, depth):
        yield from super().next_pages(response, depth)
        m = re.search(r"countPage\s*=\s*(\d+)", response.text)
        if m and re.search(r"/index\.s?html?$|/$", response.url):
            ext = re.search(r"\.(s?html?)$", response.url)
            ext = ext.group(1) if ext else "html"
            base = response.url.rsplit("/", 1)[0]
            for n in range(1, min(int(m.group(1)), self.max_list_pages)):
                yield scrapy.Request(f"{base}/index_{n}.{ext}", callback=self.parse, cb_kwargs={"depth": depth},
                                     errback=self.failed)


HANWEB_PARAMS = ("col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid", "webname",
                 "permissiontype")


class HanwebSpider(ReportSpider):
    """Hanweb JCMS: the list sits in ``<datastore><record><![CDATA[…]]>`` inside the column
    page; later records come from POST ``dataproxy.jsp`` (startrecord/endrecord/perpage)."""

    name = "hanweb"
    cms = "hanweb"

    def list_items(self, response):
        records = re.findall(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", response.text, re.S)
        if not records:
            yield from super().list_items(response)
            return
        for html in records:
            yield from self.link_items(response, Selector(text=html).root)

    def next_pages(self, response, depth):
        yield from super().next_pages(response, depth)
        text = response.text
        total = re.search(r"totalRecord\s*[:=]\s*['\"]?(\d+)", text)
        shown = len(re.findall(r"<record>", text))
        proxy = re.search(r"proxyUrl\s*[:=]\s*['\"]([^'\"]+dataproxy\.jsp)", text)
        if not total or not proxy or "<datastore>" not in text or response.meta.get("hanweb_page"):
            return
        per = int((re.search(r"perPage\s*[:=]\s*['\"]?(\d+)", text, re.I) or [0, 15])[1])
        form = {k: m.group(1) for k in HANWEB_PARAMS
                if (m := re.search(r"['\"]?%s['\"]?\s*:\s*['\"]?([^,'\"}]*)" % k, text))}
        for start in range(shown + 1, min(int(total.group(1)), per * self.max_list_pages) + 1, per * 3):
            end = start + per * 3 - 1
            url = response.urljoin(f"{proxy.group(1)}?startrecord={start}&endrecord={end}&perpage={per}")
            yield scrapy.FormRequest(url, formdata={k: str(v) for k, v in form.items()}, callback=self.parse,
                                     cb_kwargs={"depth": depth}, meta={"hanweb_page": True}, errback=self.failed)


class CatalogSpider(ReportSpider):
    """信息公开目录 platforms (开普/UCAP and the like): plain lists, per-year sub-lists,
    detail pages with 索引号 tables.  The shared spider reads them as they are."""

    name = "catalog"
    cms = "catalog"


class GenericSpider(HanwebSpider, TrsSpider):
    """A site of unknown CMS (and ``crawl --start-url``): every family's list forms are
    tried — Hanweb records and its POST pager, TRS countPage pagers, plain links."""

    name = "generic"
    cms = "generic"


SPIDERS = {cls.cms: cls for cls in (GenericSpider, TrsSpider, HanwebSpider, CatalogSpider)}
