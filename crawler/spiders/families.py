"""The CMS families.  Each overrides only how its list pages are read."""
import re

from parsel import Selector

from .base import ReportSpider


class TrsSpider(ReportSpider):
    """TRS WCM: ``index.html``, ``index_1.html`` … with ``countPage`` in an inline script."""

    name = "trs"
    cms = "trs"

    def next_pages(self, response):
        yield from super().next_pages(response)
        m = re.search(r"countPage\s*=\s*(\d+)", response.text)
        if m and re.search(r"/index\.s?html?$|/$", response.url):
            ext = re.search(r"\.(s?html?)$", response.url)
            ext = ext.group(1) if ext else "html"
            base = response.url.rsplit("/", 1)[0]
            for n in range(1, min(int(m.group(1)), self.max_list_pages)):
                yield f"{base}/index_{n}.{ext}"


class HanwebSpider(ReportSpider):
    """Hanweb JCMS: the list sits in ``<datastore><record><![CDATA[…]]>`` inside the column page."""

    name = "hanweb"
    cms = "hanweb"

    def list_items(self, response):
        records = re.findall(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", response.text, re.S)
        if not records:
            yield from super().list_items(response)
            return
        for html in records:
            sel = Selector(text=html)
            for a in sel.css("a"):
                title = a.attrib.get("title") or " ".join(a.css("::text").getall()).strip()
                if a.attrib.get("href"):
                    yield response.urljoin(a.attrib["href"]), title.strip(), self._date_near(a)


class CatalogSpider(ReportSpider):
    """信息公开目录 platforms (开普/UCAP and the like): plain lists, detail pages with 索引号 tables."""

    name = "catalog"
    cms = "catalog"


SPIDERS = {cls.cms: cls for cls in (ReportSpider, TrsSpider, HanwebSpider, CatalogSpider)}
