"""WireRecorder: notes what each request on the wire got, before Scrapy turns it into a follow-up.

Scrapy's RedirectMiddleware (priority 600) and RetryMiddleware (550) consume a 3xx response, a
retryable status or a download error and schedule a new request in its place, so the response
never reaches the rights-reservation middleware (100) — yet it was a request on the wire, and
Heed answers for every one (issue 11: "every request on the wire has a decision").

This middleware sits just outside them (priority 610): it sees every raw response and download
error first and notes it in the request's meta (:data:`WIRE_META`), which Scrapy copies into the
redirect hop or the retry it creates. When that follow-up reaches the rights-reservation
middleware, it records the earlier wire request's own decision — ``redirected`` with its status
and Location, or ``error`` with the status or error that was retried — before deciding the
follow-up itself. A response that goes on to the spider carries the note harmlessly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from crawler.adapters import error_kind

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

#: Request meta key: the :class:`WireOutcome` of the last wire request of this chain.
WIRE_META = "optout_wire"


class WireOutcome(NamedTuple):
    """What one request on the wire got: a status (and Location), or a download error."""

    url: str
    status: int | None
    location: str | None
    error: str | None

    def describe(self) -> str:
        """Return the outcome in words: ``HTTP 301 to …``, ``HTTP 503``, ``download failed: …``."""
        if self.status is None:
            return f"download failed: {self.error}"
        return f"HTTP {self.status}" + (f" to {self.location}" if self.location else "")


class WireRecorder:
    """Note each raw response and download error on its request (see the module)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Return the recorder for *crawler* (Scrapy's component constructor)."""
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        """Note the status and Location of *response*; pass it on unchanged."""
        location = response.headers.get(b"Location")
        request.meta[WIRE_META] = WireOutcome(
            request.url,
            response.status,
            location.decode("latin-1") if location else None,
            None,
        )
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Note the download error of *request*; let the other middlewares handle it."""
        request.meta[WIRE_META] = WireOutcome(request.url, None, None, error_kind(exception))


def continues_attempt(request: Request) -> bool:
    """Return True for a redirect hop or a retry: part of an attempt already counted (as a page
    of the budget, or a page scheduled)."""
    meta = request.meta
    return bool(meta.get("redirect_urls") or meta.get("retry_times"))
