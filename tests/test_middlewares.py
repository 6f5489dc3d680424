import asyncio
import time

from scrapy import Request
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler.middlewares import BackoffRetryMiddleware
from crawler.spiders.families import GenericSpider


def middleware(**settings):
    crawler = get_crawler(GenericSpider, settings_dict={"RETRY_TIMES": 3, "RETRY_BACKOFF_BASE": 0.2, "RETRY_BACKOFF_MAX": 0.5, **settings})
    crawler.spider = crawler._create_spider(site=__import__("crawler.registry", fromlist=["adhoc_site"]).adhoc_site(
        "http://127.0.0.1/"))
    return BackoffRetryMiddleware.from_crawler(crawler)


def test_each_retry_waits_longer_up_to_the_cap():
    mw = middleware()
    req = Request("http://127.0.0.1/zfxxgknb/index.html")
    waits = []
    for _ in range(3):
        req = mw.process_response(req, Response(req.url, status=503))
        waits.append(req.meta["ogi_backoff"])
    assert waits == [0.2, 0.4, 0.5]


def test_a_retried_request_is_held_back_until_its_time():
    mw = middleware()
    req = mw.process_response(Request("http://127.0.0.1/a"), Response("http://127.0.0.1/a", status=503))
    t = time.monotonic()
    assert asyncio.run(mw.process_request(req)) is None
    assert time.monotonic() - t >= 0.15


def test_a_first_request_is_not_delayed():
    mw = middleware()
    t = time.monotonic()
    asyncio.run(mw.process_request(Request("http://127.0.0.1/b")))
    assert time.monotonic() - t < 0.05


# ---- what may be fetched: one place, for every request and redirect -----------------------

import pytest  # noqa: E402
from scrapy.exceptions import IgnoreRequest  # noqa: E402

from crawler.middlewares import UrlPolicyMiddleware  # noqa: E402
from crawler.runner import project_settings  # noqa: E402


def policy(start="http://www.example.gov.cn/zwgk/"):
    crawler = get_crawler(GenericSpider)
    crawler.spider = crawler._create_spider(site=__import__("crawler.registry", fromlist=["adhoc_site"]).adhoc_site(start))
    return UrlPolicyMiddleware.from_crawler(crawler)


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "file://www.example.gov.cn/etc/passwd", "ftp://www.example.gov.cn/nb.pdf",
    "s3://bucket/nb.pdf", "data:text/html,<title>2020年政府信息公开工作年度报告</title>",
    "http://www.example-offsite.invalid/nb.html", "https://example.gov.cn.evil.invalid/nb.html",
])
def test_only_http_and_https_on_the_sites_hosts_are_fetched(url):
    with pytest.raises(IgnoreRequest) as refused:
        policy().process_request(Request(url))
    assert str(refused.value)  # with its reason


@pytest.mark.parametrize("url", ["http://www.example.gov.cn/a.html", "https://www.example.gov.cn/b.pdf",
                                 "http://file.www.example.gov.cn/c.pdf"])
def test_the_sites_own_pages_pass(url):
    assert policy().process_request(Request(url)) is None


def test_no_handler_can_read_the_disk_or_ftp():
    handlers = project_settings().getdict("DOWNLOAD_HANDLERS")
    assert all(handlers.get(scheme, "x") is None for scheme in ("file", "ftp", "s3", "data"))
    mws = project_settings().getdict("DOWNLOADER_MIDDLEWARES")
    assert mws["scrapy.downloadermiddlewares.offsite.OffsiteMiddleware"] is None
    assert mws["crawler.middlewares.UrlPolicyMiddleware"] == 50


def test_every_failure_has_a_reason_even_when_its_exception_says_nothing():
    from scrapy.exceptions import DownloadCancelledError, ResponseDataLossError
    from twisted.internet import error as tx
    from twisted.web._newclient import ResponseFailed, ResponseNeverReceived
    from twisted.python.failure import Failure

    from crawler.failures import describe_exception

    req = Request("http://www.example.gov.cn/a.html", meta={"download_timeout": 60})
    for exc in (tx.TimeoutError(), tx.ConnectionRefusedError(), tx.DNSLookupError(), ResponseDataLossError(),
                DownloadCancelledError(), ResponseFailed([Failure(tx.ConnectionLost())]),
                ResponseNeverReceived([Failure(tx.ConnectionDone())]), tx.ConnectionLost(), ValueError()):
        kind, status, name, reason = describe_exception(exc, req, maxsize=1000)
        assert kind in ("timeout", "network", "too_large", "error") and reason.strip() and name, exc


def test_another_port_of_the_sites_host_is_not_the_site():
    mw = policy("http://127.0.0.1:8123/zwgk/")
    assert mw.process_request(Request("http://127.0.0.1:8123/a.html")) is None
    assert mw.process_request(Request("http://127.0.0.1/a.html")) is None  # 80 and 443 stay open
    with pytest.raises(IgnoreRequest, match="port 9"):
        mw.process_request(Request("http://127.0.0.1:9/admin"))


@pytest.mark.parametrize("declared", ["ISO8859_1", "iso_8859-1", "windows-1251", "koi8-r", "unicode_escape",
                                      "undefined", "utf_16_be"])
def test_a_charset_no_chinese_page_is_written_in_is_not_believed(declared):
    from pipelines.document import charset_of

    body = "平潭综合实验区2019年度政府信息公开工作年度报告".encode("gbk")
    assert charset_of(body, [declared]) == "gb18030"


def test_utf16_pages_are_read_as_text():
    from pipelines.document import decode, sniff_kind

    page = "<html><head><title>某县2020年政府信息公开工作年度报告</title></head><body>一、总体情况</body></html>"
    for body in (page.encode("utf-16"), page.encode("utf-16-le"), page.encode("utf-16-be")):
        assert sniff_kind(body) == "html" and "某县2020年" in decode(body)


@pytest.mark.parametrize("path", ["crawler/demo/mirror/js_hongze/uploadfiles/2025/02/2025021410352867.pdf",
                                  "tests/sites/list_files/_files/2024030100021.pdf"])
@pytest.mark.parametrize("content_type", ["application/pdf", "text/html", "application/octet-stream"])
def test_a_files_bytes_are_never_decoded_as_text_in_the_crawl(path, content_type):
    """Scrapy makes a PDF a TextResponse: guessing its charset (a detector's pass over every
    byte) and parsing it as HTML cost the crawl's one event loop milliseconds a file, for nothing."""
    import pathlib

    from scrapy.http import TextResponse
    from scrapy.responsetypes import responsetypes

    from crawler.middlewares import CharsetMiddleware
    from crawler.spiders.base import not_a_document

    body = (pathlib.Path(__file__).resolve().parent.parent / path).read_bytes()
    cls = responsetypes.from_args(headers={"Content-Type": content_type}, url="http://127.0.0.1/a.pdf", body=body)
    response = cls("http://127.0.0.1/a.pdf", body=body, headers={"Content-Type": content_type})
    assert CharsetMiddleware().process_response(None, response) is response
    assert not_a_document(response) is None
    if isinstance(response, TextResponse):
        assert response._cached_ubody is None and response._cached_selector is None
    # a file linked straight from a list is read by the report callback as bytes, not as a page
    from crawler.spiders.families import GenericSpider

    as_page = GenericSpider.as_page(response)
    assert not isinstance(as_page, TextResponse) and as_page.body == body
    assert GenericSpider.as_page(TextResponse("http://127.0.0.1/a", body="<p>年报</p>".encode())).text == "<p>年报</p>"
    # an HTML page still has its charset read, and an empty or scripted answer is still caught
    page = "<html><head><meta charset=utf-8></head><body><script>go()</script></body></html>".encode("gbk")
    assert not_a_document(TextResponse("http://127.0.0.1/a.pdf", body=page))[0] == "challenge"
    assert not_a_document(TextResponse("http://127.0.0.1/a.pdf", body=b" "))[0] == "empty"


# ---- the demo's hosts, and only they, through the demo's local server -----------------------

from scrapy.exceptions import NotConfigured  # noqa: E402

from crawler.middlewares import DemoProxyMiddleware  # noqa: E402


@pytest.mark.parametrize("url,proxied", [
    ("http://js-hongze.demo.ogi-archive.invalid/col/col52013/index.html", True),
    ("http://js-hongze.demo.ogi-archive.invalid/robots.txt", True),
    ("http://www.hongze.gov.cn/col/col52013/index.html", False),
    ("http://127.0.0.1:8123/zwgk/", False),
    ("http://demo.ogi-archive.invalid.example.gov.cn/", False),  # a name that only begins like it
    ("http://xdemo.ogi-archive.invalid/", False),
])
def test_only_the_demo_hosts_requests_go_through_the_demo_proxy(url, proxied):
    mw = DemoProxyMiddleware.from_crawler(get_crawler(GenericSpider, settings_dict={
        "OGI_DEMO_PROXY": "http://127.0.0.1:9999"}))
    request = Request(url)
    assert mw.process_request(request) is None
    assert request.meta.get("proxy") == ("http://127.0.0.1:9999" if proxied else None)


def test_without_the_demo_the_proxy_middleware_is_not_loaded():
    default = project_settings().get("OGI_DEMO_PROXY")
    assert default is None
    with pytest.raises(NotConfigured):
        DemoProxyMiddleware.from_crawler(get_crawler(GenericSpider, settings_dict={"OGI_DEMO_PROXY": default}))
