"""The bridge between Scrapy and optout/: responses and failures become FetchResult values.

:class:`DocumentFetcher` retrieves site-level documents (robots.txt, tdmrep.json, ai.txt, RSL
licences) through Scrapy's own engine, like Scrapy's RobotsTxtMiddleware, but with the semantics
of ``heed check`` (heed/livecheck.py): no retries (an error is the answer: DEFER), redirects
followed by hand and counted (robots.txt: ``Policy.robots_max_redirects``, 5 by default, even
across authorities; more ⇒ ``too_many_redirects``), the body read up to a size cap and marked
``truncated`` there (the rest is never downloaded), no cookies, no HTTP cache, the crawler's one
User-Agent, a timeout of its own, and never to a denylisted host (``refuse``: a redirect
there ends the retrieval with the error ``refused``, so robots.txt DEFERs).

Also the access-restriction heuristics (Code of Practice Measure 1.2(1)(a)), which read a
response or a redirect target and say whether the content sits behind a login, a payment or a
challenge. They are deliberately few and conservative: a status that says so (401/402/403), a
Cloudflare challenge header, schema.org ``isAccessibleForFree: false`` (the paywall markup
publishers give search engines), and a redirect to a login or subscription URL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urljoin
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

from optout.document import FetchResult, HeaderPairs

if TYPE_CHECKING:
    from scrapy.core.downloader import Downloader
    from scrapy.crawler import Crawler
    from scrapy.http import Response

#: Bytes of an HTML body searched for paywall markup (it sits in the head or near the top).
_SCAN_BYTES = 512 * 1024
_PAYWALL = re.compile(
    rb"isaccessibleforfree[\"']?\s*(?::|content\s*=)\s*[\"']?\s*false", re.IGNORECASE
)
#: A redirect to one of these paths is a login wall or a paywall, not the content.
_LOGIN_PATH = re.compile(
    r"(?:^|/)(?:log-?in|sign-?in|sign_in|signon|sso|auth|authenticate|account/log-?in|"
    r"subscribe|subscription|paywall|register)(?:[/.?;#]|$)",
    re.IGNORECASE,
)


def now_iso() -> str:
    """Return the current UTC time in ISO 8601 (seconds): the ``fetched_at`` of a retrieval."""
    return datetime.now(UTC).isoformat(timespec="seconds")


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
        error="truncated" if "dataloss" in response.flags else None,
        redirects=redirects,
        final_url=response.url,
        fetched_at=fetched_at or now_iso(),
        truncated=truncated,
    )


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


def login_redirect(url: str) -> bool:
    """Return True if a redirect to *url* leads to a login, registration or subscription page."""
    path = url.split("://", 1)[-1].partition("/")[2]
    return bool(_LOGIN_PATH.search("/" + path))


def access_restriction(response: Response, content_type: str) -> str | None:
    """Return why *response* is access-restricted (a short phrase), or None if it is not."""
    status = response.status
    if status in (401, 402, 403):
        return f"HTTP {status}"
    challenge = response.headers.get(b"cf-mitigated")
    if challenge is not None and _text(challenge).strip().lower() == "challenge":
        return "challenge page (cf-mitigated: challenge)"
    html = content_type in ("text/html", "application/xhtml+xml", "")
    if html and 200 <= status < 300 and _PAYWALL.search(response.body[:_SCAN_BYTES]):
        return "paywall (schema.org isAccessibleForFree: false)"
    return None


@dataclass(slots=True)
class _Budget:
    cap: int
    received: int = 0


class DocumentFetcher:
    """Fetch one site-level document through the engine (the SiteCache ``fetch`` function)."""

    #: Redirect hops followed for documents other than robots.txt (as ``heed check``).
    MAX_REDIRECTS = 5

    def __init__(
        self,
        crawler: Crawler,
        *,
        user_agent: str,
        robots_cap: int,
        robots_max_redirects: int,
        document_cap: int,
        timeout: float,
        refuse: Callable[[str], bool] | None = None,
    ) -> None:
        self.crawler = crawler
        #: True for a URL that must not be contacted (a denylisted host behind a redirect).
        self.refuse = refuse
        self.user_agent = user_agent
        self.robots_cap = robots_cap
        self.robots_max_redirects = robots_max_redirects
        self.document_cap = document_cap
        self.timeout = timeout
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
        """Return the retrieval of *url* (``robots`` or another document kind); never raise."""
        robots = kind == "robots"
        cap = self.robots_cap if robots else self.document_cap
        max_redirects = self.robots_max_redirects if robots else self.MAX_REDIRECTS
        hops, current = 0, url
        while True:
            if self.refuse is not None and self.refuse(current):
                self._count(f"optout/documents/{kind}/error/refused")
                return FetchResult(
                    url=url,
                    error="refused",
                    redirects=hops,
                    final_url=current,
                    fetched_at=now_iso(),
                )
            try:
                request = self._request(current, cap)
                response = await self.crawler.engine.download_async(request)
            except Exception as exc:  # noqa: BLE001 - every failure is an answer (DEFER)
                failed = failure_result(url, exc, redirects=hops, final_url=current)
                self._count(f"optout/documents/{kind}/error/{failed.error}")
                return failed
            self._count(f"optout/documents/{kind}/status/{response.status}")
            location = response.headers.get(b"Location")
            if 300 <= response.status < 400 and location:
                target = urljoin(current, _text(location).strip())
                if hops >= max_redirects:
                    return FetchResult(
                        url=url,
                        status=response.status,
                        headers=header_pairs(response),
                        error="too_many_redirects",
                        redirects=hops + 1,
                        final_url=current,
                        fetched_at=now_iso(),
                    )
                if not target.startswith(("http://", "https://")):
                    return FetchResult(
                        url=url,
                        status=response.status,
                        error="invalid_redirect",
                        redirects=hops + 1,
                        final_url=target,
                        fetched_at=now_iso(),
                    )
                current, hops = target, hops + 1
                continue
            return fetch_result(response, url=url, redirects=hops, cap=cap)

    def _count(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)

    def _request(self, url: str, cap: int) -> Request:
        request = Request(
            url,
            headers={"User-Agent": self.user_agent},
            callback=NO_CALLBACK,
            dont_filter=True,
            meta={
                "dont_redirect": True,  # counted by hand above
                "dont_retry": True,  # an error is an answer (DEFER), retried after the TTL
                "dont_cache": True,
                "dont_merge_cookies": True,
                "handle_httpstatus_all": True,
                "download_timeout": self.timeout,
                # Bounds a declared length and the decompressed size; the body itself stops at
                # the cap in bytes_received, keeping what arrived.
                "download_maxsize": 32 * cap,
                "download_warnsize": 0,
            },
        )
        self._internal[request] = _Budget(cap)
        return request
