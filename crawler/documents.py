"""Retrieving one site-level document: the rules every front door shares.

robots.txt, ``/.well-known/tdmrep.json``, ``/ai.txt`` and RSL licences are retrieved by the crawl
(through Scrapy's engine, :class:`crawler.adapters.DocumentFetcher`) and by ``heed check``
(through httpx, :mod:`heed.livecheck`). Both plug a one-hop ``GET`` into :func:`fetch_document`,
which owns what must not differ between them:

* redirects are followed by hand and counted: robots.txt up to ``Policy.robots_max_redirects``
  (5 by default, even across authorities), other documents up to 5; one more ⇒
  ``too_many_redirects``; a redirect to something that is not http(s) ⇒ ``invalid_redirect``;
* a URL the caller refuses (a denylisted host, even behind a redirect) is never requested:
  the error ``refused``;
* the body is read up to a size cap (robots.txt: ``OPTOUT_ROBOTS_MAXSIZE`` plus one byte, so that
  the parser sees the cut; others: ``OPTOUT_DOCUMENT_MAXSIZE``) and marked ``truncated`` there;
* no retries: an error is the answer (the signal DEFERs and is retried after the cache's TTL).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from optout.document import FetchResult

if TYPE_CHECKING:
    from crawler.config import OptoutConfig

#: Document kinds; each has its own size cap and redirect limit.
ROBOTS, TDMREP, AI_TXT, LICENCE = "robots", "tdmrep", "ai_txt", "licence"
#: Redirect hops followed for documents other than robots.txt.
DOCUMENT_MAX_REDIRECTS = 5

#: ``get_once(url, cap)``: one GET of *url*, redirects not followed, at most *cap* bytes kept
#: (``truncated`` when there were more); never raises — a failure is a FetchResult with an error.
GetOnce = Callable[[str, int], Awaitable[FetchResult]]
#: ``refuse(url)``: True for a URL that must not be contacted.
Refuse = Callable[[str], bool]
#: ``count(key)``: a statistic such as ``robots/status/200`` or ``tdmrep/error/timeout``.
Count = Callable[[str], None]


def now_iso() -> str:
    """Return the current UTC time in ISO 8601 (seconds): the ``fetched_at`` of a retrieval."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentLimits:
    """Size caps, redirect limits and the timeout of document retrievals."""

    robots_cap: int
    document_cap: int
    robots_max_redirects: int
    timeout: float
    document_max_redirects: int = DOCUMENT_MAX_REDIRECTS

    @classmethod
    def from_config(cls, config: OptoutConfig) -> DocumentLimits:
        """Return the limits the ``OPTOUT_*`` settings in *config* set."""
        return cls(
            robots_cap=config.robots_maxsize + 1,  # one byte more: the parser sees the cut
            document_cap=config.document_maxsize,
            robots_max_redirects=config.policy.robots_max_redirects,
            timeout=config.document_timeout,
        )

    def cap(self, kind: str) -> int:
        """Return the bytes of a *kind* document kept."""
        return self.robots_cap if kind == ROBOTS else self.document_cap

    def max_redirects(self, kind: str) -> int:
        """Return the redirect hops followed for a *kind* document."""
        return self.robots_max_redirects if kind == ROBOTS else self.document_max_redirects


async def fetch_document(
    get_once: GetOnce,
    url: str,
    kind: str,
    limits: DocumentLimits,
    *,
    refuse: Refuse | None = None,
    count: Count | None = None,
) -> FetchResult:
    """Return the retrieval of the *kind* document at *url*, redirects followed; never raise."""
    cap, max_redirects = limits.cap(kind), limits.max_redirects(kind)
    hops, current = 0, url
    earlier: list[FetchResult] = []  # the redirect responses followed, each a wire request
    while True:
        if refuse is not None and refuse(current):
            if count is not None:
                count(f"{kind}/error/refused")
            return FetchResult(
                url=url,
                error="refused",
                redirects=hops,
                final_url=current,
                fetched_at=now_iso(),
                hops=tuple(earlier),
            )
        hop = await get_once(current, cap)
        if hop.status is None:
            if count is not None:
                count(f"{kind}/error/{hop.error}")
            return replace(hop, url=url, redirects=hops, final_url=current, hops=tuple(earlier))
        if count is not None:
            count(f"{kind}/status/{hop.status}")
        location = next(iter(hop.header("location")), "").strip()
        if 300 <= hop.status < 400 and location:
            target = urljoin(current, location)
            if hops >= max_redirects:
                return FetchResult(
                    url=url,
                    status=hop.status,
                    headers=hop.headers,
                    error="too_many_redirects",
                    redirects=hops + 1,
                    final_url=current,
                    fetched_at=hop.fetched_at,
                    hops=tuple(earlier),
                )
            if not target.startswith(("http://", "https://")):
                return FetchResult(
                    url=url,
                    status=hop.status,
                    error="invalid_redirect",  # the Location header names the target
                    redirects=hops + 1,
                    final_url=current,
                    fetched_at=hop.fetched_at,
                    hops=tuple(earlier),
                )
            earlier.append(hop)
            current, hops = target, hops + 1
            continue
        return replace(hop, url=url, redirects=hops, final_url=current, hops=tuple(earlier))
