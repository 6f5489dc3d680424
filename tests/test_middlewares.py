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
