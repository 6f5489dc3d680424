"""Downloader middlewares of the project."""
import asyncio
import time

from scrapy.downloadermiddlewares.retry import RetryMiddleware


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, but each waits longer before it goes: RETRY_BACKOFF_BASE seconds,
    then twice that, … up to RETRY_BACKOFF_MAX (a WAF that blocks for a minute, or an
    overloaded server, gets time to recover instead of three quick knocks)."""

    def __init__(self, settings):
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", 2.0)
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)

    def _retry(self, request, reason):
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
