"""The bare Scrapy crawl the crawl benchmark compares with: the same list pages and report
pages, the same settings, but nothing done with what is downloaded (no pipelines).  A report
page that links a PDF is fetched with its PDF; the PDF is the item, as in the full crawl."""
import re

import scrapy


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, start_urls="", *a, **kw):
        super().__init__(*a, **kw)
        self.start_urls = start_urls.split(",")

    def parse(self, response):
        for href in response.css("li a::attr(href)").getall():
            yield response.follow(href, callback=self.report)
        m = re.search(r"countPage\s*=\s*(\d+)", response.text)
        if m and response.url.endswith("/index.html"):
            base = response.url.rsplit("/", 1)[0]
            for n in range(1, int(m.group(1))):
                yield scrapy.Request(f"{base}/index_{n}.html", callback=self.parse)

    def report(self, response):
        attachments = response.css("a[href$='.pdf']::attr(href)").getall()
        for href in attachments:
            yield response.follow(href, callback=self.attachment)
        if not attachments:
            yield {"url": response.url, "size": len(response.body)}

    def attachment(self, response):
        yield {"url": response.url, "size": len(response.body)}
