"""The bridge between Scrapy and optout/: responses and failures become FetchResult values.

:class:`DocumentFetcher` retrieves site-level documents (robots.txt, tdmrep.json, ai.txt, RSL
licences) through Scrapy's own engine, like Scrapy's RobotsTxtMiddleware, but with the semantics
shared with ``heed check`` (:mod:`crawler.documents`: redirects followed by hand and counted,
size caps, no retries, never to a denylisted host), no cookies, no HTTP cache, the crawler's one
User-Agent and a timeout of its own. The body stops downloading at the cap (the rest is never
downloaded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from scrapy import Request
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
    StopDownload,
)
from scrapy.http.request import NO_CALLBACK
from twisted.internet import error as txerror
from twisted.web.client import ResponseFailed

from crawler.compression import FLAG_PREFIX
from crawler.documents import DocumentLimits, Refuse, fetch_document, now_iso
from optout.document import FetchResult, HeaderPairs

if TYPE_CHECKING:
    from scrapy.core.downloader import Downloader
    from scrapy.crawler import Crawler
    from scrapy.http import Response


def header_pairs(response: Response) -> HeaderPairs:
    """Return the response headers as lower-cased ``(name, value)`` pairs, repeats kept."""
    pairs: list[tuple[str, str]] = []
    for name, values in response.headers.items():
        key = _text(name).strip().lower()
        pairs.extend((key, _text(v).strip()) for v in values)
    return tuple(pairs)


def _text(raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # HTTP's historical header charset: never fails


def fetch_result(
    response: Response,
    *,
    url: str | None = None,
    redirects: int = 0,
    cap: int | None = None,
    fetched_at: str | None = None,
) -> FetchResult:
    """Return *response* as a FetchResult.

    A body Heed stopped at its *cap* is ``truncated`` (what arrived is kept); a body the network
    cut short (Scrapy's ``dataloss`` flag) is an error, ``truncated``, as ``heed check`` reports
    an incomplete read: its signals cannot be trusted.
    """
    body = response.body
    truncated = "download_stopped" in response.flags
    if cap is not None and len(body) > cap:
        body, truncated = body[:cap], True
    return FetchResult(
        url=url or response.url,
        status=response.status,
        headers=header_pairs(response),
        body=body,
        error=_flagged_error(response),
        redirects=redirects,
        final_url=response.url,
        fetched_at=fetched_at or now_iso(),
        truncated=truncated,
    )


def _flagged_error(response: Response) -> str | None:
    """Return the error a response's flags carry: a cut read, or a body Heed refused."""
    if "dataloss" in response.flags:
        return "truncated"
    for flag in response.flags:
        if flag.startswith(FLAG_PREFIX):
            return flag.removeprefix(FLAG_PREFIX)
    return None


def failure_result(
    url: str, exc: BaseException, *, redirects: int = 0, final_url: str | None = None
) -> FetchResult:
    """Return the FetchResult of a retrieval that ended in *exc* (no response)."""
    return FetchResult(
        url=url,
        error=error_kind(exc),
        redirects=redirects,
        final_url=final_url or url,
        fetched_at=now_iso(),
    )


def error_kind(exc: BaseException) -> str:
    """Return the short machine-readable cause of a download failure (FetchResult.error)."""
    kinds: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...] = (
        ((DownloadTimeoutError, txerror.TimeoutError), "timeout"),
        ((CannotResolveHostError, txerror.DNSLookupError), "dns"),
        ((DownloadConnectionRefusedError, txerror.ConnectionRefusedError), "connection"),
        ((ResponseDataLossError,), "truncated"),
        ((DownloadCancelledError,), "too_large"),
        (
            (DownloadFailedError, ResponseFailed, txerror.ConnectionLost, txerror.ConnectionDone),
            "connection_reset",
        ),
        ((txerror.ConnectError,), "connection"),
        ((IgnoreRequest,), "ignored"),
    )
    for types, kind in kinds:
        if isinstance(exc, types):
            return kind
    return type(exc).__name__


def raise_slot_delay(downloader: Downloader, key: str, delay: float) -> None:
    """Make Scrapy's downloader slot *key* wait at least *delay* seconds between requests.

    The jitter goes to 0 so that the random variation never dips below the delay; the slot
    settings are updated too, so a slot Scrapy garbage-collects is re-created with the delay.
    """
    slot_settings = downloader.per_slot_settings.setdefault(key, {})
    slot_settings["delay"] = max(delay, float(slot_settings.get("delay", 0.0)))
    slot_settings["jitter"] = 0.0
    slot = downloader.slots.get(key)
    if slot is not None:
        slot.delay, slot.jitter = max(slot.delay, delay), 0.0


def redirect_count(request: Request) -> int:
    """Return how many redirect hops led to *request*."""
    return len(request.meta.get("redirect_urls") or ())


@dataclass(slots=True)
class _Budget:
    cap: int
    received: int = 0


class DocumentFetcher:
    """Fetch one site-level document through the engine (the SiteCache ``fetch`` function).

    The retrieval rules (redirects, caps, refusals) are :func:`crawler.documents.fetch_document`'s,
    shared with ``heed check``; this class supplies one hop through Scrapy's engine.
    """

    def __init__(
        self,
        crawler: Crawler,
        *,
        user_agent: str,
        limits: DocumentLimits,
        refuse: Refuse | None = None,
    ) -> None:
        self.crawler = crawler
        #: True for a URL that must not be contacted (a denylisted host behind a redirect).
        self.refuse = refuse
        self.user_agent = user_agent
        self.limits = limits
        #: Heed's own requests, by identity: only objects created here are ever in it, so no
        #: meta key a spider could copy makes a request pass unchecked.
        self._internal: WeakKeyDictionary[Request, _Budget] = WeakKeyDictionary()

    def is_internal(self, request: Request) -> bool:
        """Return True if *request* is one of this fetcher's own document requests."""
        return request in self._internal

    def bytes_received(self, data: bytes, request: Request) -> None:
        """Stop a document download at its cap (connected to Scrapy's ``bytes_received``)."""
        budget = self._internal.get(request)
        if budget is None:
            return
        budget.received += len(data)
        if budget.received > budget.cap:
            # fail=False: the response arrives with the bytes so far, flagged download_stopped.
            raise StopDownload(fail=False)

    async def __call__(self, url: str, kind: str) -> FetchResult:
        """Return the retrieval of *url* (a :mod:`crawler.documents` kind); never raise."""
        return await fetch_document(
            self._get_once, url, kind, self.limits, refuse=self.refuse, count=self._count
        )

    async def _get_once(self, url: str, cap: int) -> FetchResult:
        try:
            response = await self.crawler.engine.download_async(self._request(url, cap))
        except Exception as exc:  # noqa: BLE001 - every failure is an answer (DEFER)
            return failure_result(url, exc)
        return fetch_result(response, url=url, cap=cap)

    def _count(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"optout/documents/{key}")

    def _request(self, url: str, cap: int) -> Request:
        request = Request(
            url,
            headers={"User-Agent": self.user_agent},
            callback=NO_CALLBACK,
            dont_filter=True,
            meta={
                "dont_redirect": True,  # followed and counted by fetch_document
                "dont_retry": True,  # an error is an answer (DEFER), retried after the TTL
                "dont_cache": True,
                "dont_merge_cookies": True,
                "handle_httpstatus_all": True,
                "download_timeout": self.limits.timeout,
                # Bounds a declared length and the decompressed size; the body itself stops at
                # the cap in bytes_received, keeping what arrived.
                "download_maxsize": 32 * cap,
                "download_warnsize": 0,
            },
        )
        self._internal[request] = _Budget(cap)
        return request
