"""A failed fetch, described: what kind of failure, the HTTP status or exception, and a
reason in one line that is never empty — for the log, and for ``fetch_failures``.

Kinds (``KINDS``): ``http`` (an error status), ``timeout``, ``network`` (DNS, refused,
reset, cut short), ``too_large`` (over DOWNLOAD_MAXSIZE), ``redirect`` (a loop, or too
many), ``challenge`` (an anti-bot page instead of the document), ``empty`` (a 200 with no
body), ``refused`` (not fetched on purpose: robots.txt, another host, a scheme other than
http/https), ``error`` (anything else).  The next run asks again for every failure but
``refused`` (``archive.store.NOT_RETRIED``).
"""
from http import HTTPStatus

KINDS = ("http", "timeout", "network", "too_large", "redirect", "challenge", "empty", "refused", "error")
# statuses that say the document is not there (a broken link), not that the server failed
GONE = (404, 410)


def _status_text(status):
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def describe(failure, maxsize=None):
    """``(kind, status, exception name, reason)`` of a Twisted failure from a request's errback."""
    return describe_exception(failure.value, getattr(failure, "request", None), maxsize)


def describe_exception(exc, request=None, maxsize=None):
    """``(kind, status, exception name, reason)`` of an exception raised for ``request``."""
    from scrapy.exceptions import (CannotResolveHostError, DownloadCancelledError, DownloadConnectionRefusedError,
                                   DownloadFailedError, DownloadTimeoutError, IgnoreRequest, ResponseDataLossError)
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.internet import error as tx
    from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

    from .middlewares import Refused, RedirectLoop, UrlPolicyMiddleware

    name = type(exc).__name__
    message = " ".join(str(exc).split())
    timeout = (request.meta.get("download_timeout") if request is not None else None) or "the download timeout"
    if isinstance(exc, HttpError):
        status = exc.response.status
        location = exc.response.headers.get("Location", b"").decode("latin-1")
        if 300 <= status < 400 and location:
            scheme = location.split(":", 1)[0].lower() if ":" in location.split("/", 1)[0] else "http"
            if scheme not in UrlPolicyMiddleware.SCHEMES:
                return "refused", status, name, f"{_status_text(status)} to {location}: not followed (http and https only)"
            return "redirect", status, name, f"{_status_text(status)} to {location}: not followed"
        return "http", status, name, _status_text(status)
    if isinstance(exc, Refused):
        return "refused", None, name, message
    if isinstance(exc, RedirectLoop):
        return "redirect", None, name, message
    if isinstance(exc, IgnoreRequest):
        if "redirections" in message:
            hops = len(request.meta.get("redirect_urls", [])) if request is not None else 0
            return "redirect", None, name, f"too many redirects: still redirected after {hops} hops"
        if "DOWNLOAD_MAXSIZE" in message or "max size" in message:  # a compressed body that inflates past it
            return "too_large", None, name, message.split(" because ")[-1] if " because " in message else message
        if "robots.txt" in message:
            return "refused", None, name, "forbidden by robots.txt"
        return "refused", None, name, message or "ignored"
    if isinstance(exc, (DownloadTimeoutError, tx.TimeoutError, tx.ConnectingCancelledError)):
        return "timeout", None, name, f"no answer within {timeout} s"
    if isinstance(exc, DownloadCancelledError):
        if "max size" in message:
            return "too_large", None, name, message.split(" in request ")[0]
        limit = (request.meta.get("download_maxsize") if request is not None else None) or maxsize
        return "too_large", None, name, ("the answer grew past the download size limit"
                                         + (f" ({limit:,} bytes)" if limit else "") + ": cancelled")
    if isinstance(exc, (CannotResolveHostError, tx.DNSLookupError)):
        return "network", None, name, f"the host's name could not be resolved: {message or name}"
    if isinstance(exc, (DownloadConnectionRefusedError, tx.ConnectionRefusedError)):
        return "network", None, name, "connection refused"
    if isinstance(exc, ResponseDataLossError) or "PotentialDataLoss" in message or "DataLoss" in name:
        return "network", None, name, "the answer was cut short (fewer bytes than its Content-Length)"
    if isinstance(exc, (ResponseFailed, ResponseNeverReceived)):
        inner = "; ".join(sorted({type(r.value).__name__ + (f": {r.value}" if str(r.value) else "")
                                  for r in getattr(exc, "reasons", [])}))
        what = "the connection failed before an answer" if isinstance(exc, ResponseNeverReceived) \
            else "the connection failed during the answer"
        return "network", None, name, f"{what}{': ' + inner if inner else ''}"
    if isinstance(exc, DownloadFailedError):
        return "network", None, name, f"the download failed: {message[:300] or name}"
    if isinstance(exc, ValueError) and "url" in message.lower():  # a redirect to javascript:, a broken URL
        return "refused", None, name, f"an unusable URL: {message[:300]}"
    if isinstance(exc, (tx.ConnectionLost, tx.ConnectionDone, tx.ConnectError)):
        return "network", None, name, f"connection lost{': ' + message if message else ''}"
    return "error", None, name, f"{name}: {message}" if message else name
