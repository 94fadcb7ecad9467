"""The live check behind ``heed check``: the crawl's own site loader, fetching with httpx.

``heed check`` asks the engine the crawl asks, in the same way (docs/architecture.md):

* the same settings (:func:`crawler.run.project_settings`, so ``--config`` and ``-s`` work as
  for ``heed crawl``) read into the same :class:`crawler.config.OptoutConfig`;
* the same site loader (:meth:`crawler.sitecache.SiteCache.from_config`) and document rules
  (:func:`crawler.documents.fetch_document`): robots.txt first; tdmrep.json, ai.txt and RSL
  licences only when some URL of the origin may be crawled; the same caps and redirect limits;
* the same decisions before and after the request (:func:`optout.action.before_action`,
  :func:`optout.action.after_action`), the same denylist, the same redirect checks: every hop is
  decided before it is requested, and a login or subscription target is access-restricted.

A page is requested only when a crawl would request it, so each result also says what a crawl
would have done with the URL (:class:`optout.action.Action`). The differences are deliberate and
conservative: ``--timeout`` bounds each request (a timeout defers, never allows), and nothing is
recorded. Clients honour ``HTTP_PROXY`` / ``HTTPS_PROXY`` (httpx ``trust_env``).
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from typing import Protocol
from urllib.parse import urljoin

import httpx

from crawler.config import OptoutConfig
from crawler.denylist import Denylist
from crawler.documents import DocumentLimits, fetch_document, now_iso
from crawler.sitecache import OnLoaded, SiteCache
from optout.access import login_redirect
from optout.action import Action, after_action, before_action, unchecked, with_note
from optout.decision import Crawl, Decision
from optout.document import FetchResult, normalize_headers
from optout.registry import Registry
from optout.site import Site
from optout.url import URL, InvalidURL, parse_url

#: An origin's documents must load within this many requests' time (``--timeout`` each).
ORIGIN_REQUESTS = 4

#: The statuses Scrapy's RedirectMiddleware follows (with a Location), so the check follows them too.
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def error_kind(exc: Exception) -> str:
    """Return the short machine-readable cause of an httpx failure (FetchResult.error)."""
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "truncated" if "incomplete" in str(exc).lower() else "protocol_error"
    if isinstance(exc, httpx.ConnectError):
        text = str(exc).lower()
        return "dns" if "name" in text and "resolution" in text else "connection"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return "connection_reset"
    if isinstance(exc, httpx.DecodingError):
        return "decoding_error"
    return type(exc).__name__


class StreamingClient(Protocol):
    """What the check needs of an HTTP client: httpx's ``stream`` (an AsyncClient, or one
    that picks a client per origin, as ``heed recheck`` does)."""

    def stream(
        self, method: str, url: str, *, timeout: float
    ) -> AbstractAsyncContextManager[httpx.Response]:
        """Send a request; yield the response with its body unread."""
        ...


class HttpxGet:
    """One GET through httpx, redirects not followed, at most *cap* bytes kept; never raises."""

    def __init__(self, client: StreamingClient, *, timeout: float) -> None:
        self.client = client
        self.timeout = timeout

    async def __call__(self, url: str, cap: int) -> FetchResult:
        """Return the response to GET *url* (``truncated`` past *cap* bytes), or the failure.

        *timeout* bounds the whole exchange, not just each read: a server that trickles a
        byte a second is cut off like one that never answers (a timeout defers).
        """
        try:
            async with asyncio.timeout(self.timeout):
                return await self._get(url, cap)
        except TimeoutError:
            return FetchResult(url=url, error="timeout", final_url=url, fetched_at=now_iso())

    async def _get(self, url: str, cap: int) -> FetchResult:
        try:
            async with self.client.stream("GET", url, timeout=self.timeout) as resp:
                body = bytearray()
                truncated = False
                async for chunk in resp.aiter_bytes():
                    body += chunk
                    if len(body) > cap:  # one byte past the cap: there was more
                        truncated = True
                        break
                return FetchResult(
                    url=url,
                    status=resp.status_code,
                    headers=normalize_headers(resp.headers.multi_items()),
                    body=bytes(body[:cap]),
                    final_url=url,
                    fetched_at=now_iso(),
                    truncated=truncated,
                )
        except (httpx.HTTPError, OSError, ValueError) as exc:
            return FetchResult(url=url, error=error_kind(exc), final_url=url, fetched_at=now_iso())


@dataclass
class CheckResult:
    """One URL's answer: the decision, and what a crawl would have done with the URL."""

    url: str
    decision: Decision
    #: What a crawl records for this URL (``fetched-stored``, ``skipped-robots``, …).
    action: Action
    final_url: str | None = None
    page_status: int | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """Return the ``--json`` line object."""
        data = self.decision.to_dict()
        data["url"] = self.url
        data["action"] = self.action.value
        data["final_url"] = self.final_url
        data["page_status"] = self.page_status
        return data


class LiveChecker:
    """Checks URLs against live servers, loading each origin's documents once."""

    def __init__(
        self,
        client: StreamingClient,
        config: OptoutConfig,
        *,
        denylist: Denylist | None = None,
        registry: Registry | None = None,
        timeout: float = 10.0,
        page_maxsize: int = 2 * 1024 * 1024,
        on_loaded: OnLoaded | None = None,
    ) -> None:
        """Check with *client*; *on_loaded* is called with each origin's documents as loaded
        (``heed recheck`` records them)."""
        self.config = config
        self.policy = config.policy
        self.denylist = denylist
        self.page_maxsize = page_maxsize
        self._get = HttpxGet(client, timeout=timeout)
        limits = DocumentLimits.from_config(config)
        limits = replace(limits, timeout=min(limits.timeout, timeout))

        async def fetch(url: str, kind: str) -> FetchResult:
            return await fetch_document(self._get, url, kind, limits, refuse=self._refused)

        self.cache = SiteCache.from_config(fetch, config, registry=registry, on_loaded=on_loaded)

    def _listed(self, host: str) -> str | None:
        return self.denylist.match(host) if self.denylist is not None else None

    def _refused(self, url: str) -> bool:
        try:
            return self._listed(parse_url(url).host) is not None
        except InvalidURL:
            return False

    def gate(self, url: str) -> tuple[Decision, Action] | URL:
        """Return why *url* may not be requested (decision, action), or its canonical form."""
        try:
            parsed = parse_url(url)
        except InvalidURL as exc:
            return unchecked(url, f"invalid URL: {exc}", self.policy), Action.ERROR
        listed = self._listed(parsed.host)
        if listed is not None and self.denylist is not None:
            return unchecked(url, self.denylist.note(listed), self.policy), Action.DENYLISTED
        return parsed

    async def get_page(self, url: str) -> FetchResult:
        """Return the response to one GET of the page *url* (redirects not followed; a body
        over the page size limit is ``too_large``, as Scrapy cancels it)."""
        response = await self._get(url, self.page_maxsize)
        if response.truncated:
            response = replace(response, error="too_large", status=None)
        return response

    async def check(self, url: str) -> CheckResult:
        """Return the decision for *url*, requesting it only where a crawl would.

        Only the canonical form of a URL (:mod:`optout.url`) is decided and requested, as in a
        crawl; the result keeps the URL as given.
        """
        gate = self.gate(url)
        if not isinstance(gate, URL):
            return CheckResult(url=url, decision=gate[0], action=gate[1])
        site = await self.site(gate.origin, url)
        if not isinstance(site, Site):
            return CheckResult(url=url, decision=site, action=Action.DEFERRED)
        result = await self._check(str(gate), site)
        if gate.spelled is not None:
            result.notes.insert(0, f"requested in canonical form {gate}")
        return replace(result, url=url)

    async def site(self, origin: str, url: str) -> Site | Decision:
        """Return *origin*'s site, or *url*'s DEFER decision when its documents took longer than
        the per-origin deadline (:data:`ORIGIN_REQUESTS` requests' time: robots.txt, the
        signal files and a licence with its own robots.txt, each bounded by ``--timeout``,
        but redirect hops could add more)."""
        deadline = ORIGIN_REQUESTS * self._get.timeout
        try:
            async with asyncio.timeout(deadline):
                return await self.cache.get(origin)
        except TimeoutError:
            why = f"site documents of {origin} not loaded within {deadline:g} s: deferred"
            return unchecked(url, why, self.policy, Crawl.DEFER)

    async def _check(self, url: str, site: Site) -> CheckResult:
        decision = site.before_request(url)
        action = before_action(decision, self.policy)
        if action is not None:
            return CheckResult(url=url, decision=decision, action=action)
        via: list[tuple[Site, str]] = []
        current, current_site = url, site
        while True:
            response = await self._get(current, self.page_maxsize)
            if response.truncated:  # Scrapy cancels a download over DOWNLOAD_MAXSIZE
                response = replace(response, error="too_large", status=None)
            location = next(iter(response.header("location")), "").strip()
            if not (response.status in REDIRECT_STATUSES and location):
                decision = current_site.after_response(current, response, via=via)
                decision, action = after_action(decision, response)
                return CheckResult(
                    url=url,
                    decision=decision,
                    action=action,
                    final_url=current,
                    page_status=response.status,
                )
            if len(via) >= self.config.max_page_redirects:
                why = f"more than {self.config.max_page_redirects} redirects from {url}"
                decision = unchecked(current, why, self.policy, Crawl.DEFER)
                return CheckResult(url=url, decision=decision, action=Action.ERROR)
            via.append((current_site, current))
            hop = await self._hop(urljoin(current, location), current)
            if isinstance(hop, CheckResult):
                return replace(hop, url=url)
            current, current_site = hop

    async def _hop(self, url: str, source: str) -> tuple[str, Site] | CheckResult:
        """Return the canonical URL and site of redirect target *url* if it may be requested,
        else the result."""
        gate = self.gate(url)
        if not isinstance(gate, URL):
            return CheckResult(url=url, decision=gate[0], action=gate[1], final_url=url)
        site = await self.site(gate.origin, url)
        if not isinstance(site, Site):
            return CheckResult(url=url, decision=site, action=Action.DEFERRED, final_url=url)
        url = str(gate)
        decision = with_note(site.before_request(url), f"redirect hop from {source}")
        action = before_action(decision, self.policy)
        if action is None and login_redirect(url):
            note = "access restricted: redirect to a login or subscription page"
            decision, action = with_note(decision, note), Action.ACCESS_RESTRICTED
        if action is not None:
            return CheckResult(url=url, decision=decision, action=action, final_url=url)
        return url, site
