"""Downloader middlewares of the project."""
import asyncio
import time
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured

from .demo import DEMO_DOMAIN


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, but each waits longer before it goes: RETRY_BACKOFF_BASE seconds,
    then twice that, … up to RETRY_BACKOFF_MAX (a WAF that blocks for a minute, or an
    overloaded server, gets time to recover instead of three quick knocks)."""

    def __init__(self, settings):
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", 2.0)
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)

    def _retry(self, request, reason):
        if isinstance(reason, Exception) and not str(reason).strip():
            # Scrapy logs the reason as it is: many network exceptions say nothing at all
            from .failures import describe_exception

            reason = f"{type(reason).__name__}: {describe_exception(reason, request)[3]}"
        retry = super()._retry(request, reason)
        if retry is not None:
            n = retry.meta.get("retry_times", 1)
            retry.meta["ogi_backoff"] = min(self.base * 2 ** (n - 1), self.cap)
            retry.meta["ogi_not_before"] = time.monotonic() + retry.meta["ogi_backoff"]
        return retry

    async def process_request(self, request):
        wait = request.meta.get("ogi_not_before", 0) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        return None


class Refused(IgnoreRequest):
    """A request the crawl will not make, with the reason (a line)."""


def host_allowed(host, allowed):
    """``host`` is one of the ``allowed`` hosts or a subdomain of one."""
    host = (host or "").lower().rstrip(".")
    return bool(host) and any(host == d or host.endswith("." + d) for d in allowed)


class UrlPolicyMiddleware:
    """The one place that decides what may be fetched: http or https only, on the site's
    own hosts (and their subdomains), on ports 80 and 443 or a port of its start URLs.  Every request passes here, a redirect's, a meta
    refresh's and a JS redirect's included, so a page linking ``file:///etc/passwd`` (or
    ``file://<the site's host>/…``), ``ftp://`` or another host is refused with a reason
    the spider records — never read from this machine's disk, never fetched elsewhere.
    (Scrapy's own offsite filter, replaced by this, drops requests without a word.)"""

    SCHEMES = ("http", "https")

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        url = urlsplit(request.url)
        if url.scheme.lower() not in self.SCHEMES:
            raise Refused(f"scheme {url.scheme or '(none)'!r} is not fetched (http and https only)")
        try:
            port = url.port or (443 if url.scheme.lower() == "https" else 80)
        except ValueError as e:
            raise Refused(f"a malformed URL: {e}") from None
        spider = self.crawler.spider
        allowed = getattr(spider, "allowed_domains", None)
        if allowed and not host_allowed(url.hostname, allowed):
            raise Refused(f"off-site: host {url.hostname!r} is not one of the site's ({', '.join(allowed)})")
        ports = getattr(spider, "allowed_ports", None)
        if ports and port not in ports:
            # another service on the site's host (an admin console, an internal API) is not the site
            raise Refused(f"off-site: port {port} is not one of the site's ({', '.join(map(str, sorted(ports)))})")
        return None


class DemoProxyMiddleware:
    """The bundled demo's sites, whose hosts (under ``crawler.demo.DEMO_DOMAIN``, a
    ``.invalid`` name) resolve nowhere, are fetched through the demo's local server
    (``OGI_DEMO_PROXY``, set by ``ogi-archive demo``), so that the archive keeps their
    fixed URLs.  Only those hosts' requests: any other goes as it would without this.
    Switched off (not loaded) when OGI_DEMO_PROXY is not set."""

    def __init__(self, proxy):
        self.proxy = proxy

    @classmethod
    def from_crawler(cls, crawler):
        proxy = crawler.settings.get("OGI_DEMO_PROXY")
        if not proxy:
            raise NotConfigured
        return cls(proxy)

    def process_request(self, request):
        if host_allowed(urlsplit(request.url).hostname, [DEMO_DOMAIN]):
            request.meta["proxy"] = self.proxy
        return None


class CharsetMiddleware:
    """A page's text in the charset its bytes are in, not the one its header claims: a
    GBK page served as UTF-8 (or the reverse) would give the spider mojibake titles and
    hide its reports.  The same rule as the parser's (pipelines.document.charset_of)."""

    def process_response(self, request, response, spider=None):
        from scrapy.http import TextResponse

        from pipelines.document import charset_of, declared_charsets, is_file_format

        # (Scrapy makes a PDF a TextResponse: guessing its "charset" is a charset detector's
        # pass over its bytes)
        if not isinstance(response, TextResponse) or response.body.isascii() or is_file_format(response.body):
            return response
        declared = declared_charsets(response.body, response.headers.get("Content-Type", b"").decode("latin-1"))
        found = charset_of(response.body, declared)
        if found is None or found == response.encoding.lower().replace("_", "-"):
            return response
        return response.replace(encoding=found)


class RedirectLoop(IgnoreRequest):
    """A redirect back to a URL of its own chain."""


class _FollowedRedirects:
    """Redirects followed to the end or refused with a reason: a redirect to a URL this
    crawl has seen is still followed (Scrapy's duplicate filter would drop it without a
    word, and a loop would vanish), a loop is refused as soon as it closes, and the
    chain stays bounded by REDIRECT_MAX_TIMES."""

    def _redirect(self, redirected, request, reason):
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if redirected.url in chain:
            raise RedirectLoop(f"a redirect loop: back to {redirected.url} after {len(chain)} hops")
        out = super()._redirect(redirected, request, reason)
        out.dont_filter = True
        return out


class LoopAwareRedirectMiddleware(_FollowedRedirects, RedirectMiddleware):
    """Scrapy's 3xx redirects, loops refused with a reason."""


class LoopAwareMetaRefreshMiddleware(_FollowedRedirects, MetaRefreshMiddleware):
    """Scrapy's <meta http-equiv=refresh> redirects, loops refused with a reason."""


class SpiderErrorsMiddleware:
    """A callback that raises on a page costs that page only, and says so: its report is
    archived as it came, or its list page becomes a failure with the reason (the spider's
    ``unreadable``).  Without it Scrapy drops what the page held, and nothing is recorded."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_spider_exception(self, response, exception, spider=None):
        from scrapy.http import Response

        unreadable = getattr(self.crawler.spider, "unreadable", None)
        if unreadable is None or not isinstance(response, Response):
            return None
        return unreadable(response, exception)
