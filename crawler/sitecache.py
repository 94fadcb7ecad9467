"""The one site loader: per-origin cache of site-level documents, compiled into
:class:`optout.site.Site` objects, for the crawl and for ``heed check`` alike (each plugs in its
own ``fetch``: Scrapy's engine, or httpx; :mod:`crawler.documents` holds their shared rules).

docs/protocols.md#site-documents and docs/protocols.md#robotstxt-caching, RFC 9309 §2.3-2.4:

* key: the origin, scheme + host + port (F12) — ``http://a``, ``https://a`` and ``https://a:8443``
  are three entries;
* in-flight sharing: concurrent requests to one origin wait for one load (one robots.txt fetch);
  the load runs in its own task, so a cancelled waiter never cancels it for the others;
* order: robots.txt first; ``/.well-known/tdmrep.json``, ``/ai.txt`` and the RSL licences robots.txt
  names are fetched only when some URL of the origin may be crawled (never after a complete
  disallow or an unreachable robots.txt: nothing else is requested from such an origin), and
  each only if robots.txt lets this crawler request its own path (else it counts as unreadable:
  its signal DEFERs);
* TTL: :func:`optout.robots_fetch.outcome`'s (max-age capped at 24 h), shortened by the other
  documents' max-age; an unreachable robots.txt or unreadable document is retried after
  ``defer_ttl`` (or robots.txt's Retry-After), never cached as "allow"; ``min_ttl`` is a floor so that
  ``Cache-Control: no-store`` does not mean one robots.txt request per page;
* keep-last-good: when a refresh finds robots.txt unreachable, the last usable copy is kept and
  flagged ``stale`` (:func:`optout.robots_fetch.keep_last_good`, F11; X08, X09). tdmrep.json and
  the others are always the fresh fetch: an unreadable one DEFERs (the conservative side);
* bounded LRU of ``max_size`` origins; an origin being loaded is never evicted;
* shared (``heed crawl --redis``): with a :class:`crawler.cluster.sites.SharedSites`, the documents
  are fetched by one worker of the run at a time and kept in Redis for the same TTL; every worker
  compiles them itself, and only the one that fetched them reports them (``on_loaded``: the audit
  record is written once). Redis not answering raises :class:`crawler.cluster.keys.
  ClusterUnavailable` from :meth:`SiteCache.get`.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from crawler.documents import AI_TXT, LICENCE, ROBOTS, TDMREP, now_iso
from optout import tdmrep
from optout.decision import Crawl, Policy
from optout.document import FetchResult
from optout.registry import Registry
from optout.robots_fetch import MAX_TTL, RobotsOutcome, cache_ttl, keep_last_good, outcome
from optout.site import Site, SiteDocuments
from optout.url import InvalidURL, origin_of

if TYPE_CHECKING:
    from crawler.cluster.sites import SharedSites
    from crawler.config import OptoutConfig

#: ``FetchResult.error`` of a signal file robots.txt forbids this crawler to request.
ROBOTS_DISALLOWED = "disallowed_by_robots_txt"

#: ``fetch(url, kind)``: retrieve one document; never raise, a failure is a FetchResult.
Fetch = Callable[[str, str], Awaitable[FetchResult]]
#: ``on_loaded(origin, documents, site, stale)``: called after each load, before any use.
OnLoaded = Callable[[str, SiteDocuments, Site, bool], Awaitable[None] | None]


@dataclass(slots=True)
class _Entry:
    site: Site | None = None
    expires: float = 0.0
    loading: asyncio.Task[Site] | None = None
    #: The last usable robots.txt outcome and the retrieval it came from (keep-last-good).
    last_good: tuple[RobotsOutcome, FetchResult] | None = None


def unreadable(doc: FetchResult) -> bool:
    """Return True if *doc* exists but could not be read (its signal DEFERs)."""
    status = doc.status
    return doc.error is not None or status is None or status >= 500 or status == 429


class SiteCache:
    """Origins' compiled documents, loaded once, shared while loading, refreshed after their TTL."""

    def __init__(
        self,
        fetch: Fetch,
        *,
        token: str,
        policy: Policy,
        max_size: int = 10_000,
        defer_ttl: float = 600.0,
        min_ttl: float = 60.0,
        fetch_ai_txt: bool = True,
        max_licences: int = 3,
        clock: Callable[[], float] = time.monotonic,
        on_event: Callable[[str], None] | None = None,
        on_loaded: OnLoaded | None = None,
        registry: Registry | None = None,
        shared: SharedSites | None = None,
    ) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._fetch = fetch
        self.token = token
        self.policy = policy
        self.max_size = max_size
        self.defer_ttl = defer_ttl
        self.min_ttl = min_ttl
        self.fetch_ai_txt = fetch_ai_txt
        self.max_licences = max_licences
        self._clock = clock
        self._on_event = on_event
        self._on_loaded = on_loaded
        #: The reservations registry every compiled site applies (crawler/registry.py).
        self.registry = registry
        #: The run's shared documents (a worker of a shared crawl), else None.
        self.shared = shared
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    @classmethod
    def from_config(
        cls,
        fetch: Fetch,
        config: OptoutConfig,
        *,
        on_event: Callable[[str], None] | None = None,
        on_loaded: OnLoaded | None = None,
        registry: Registry | None = None,
        shared: SharedSites | None = None,
    ) -> SiteCache:
        """Return the cache the ``OPTOUT_*`` settings in *config* describe, loading with *fetch*.

        Every front door builds its cache here — the crawl with Scrapy's engine, ``heed check``
        with httpx — so that both load the same documents in the same order under the same
        limits and policy.
        """
        return cls(
            fetch,
            token=config.token,
            policy=config.policy,
            max_size=config.cache_size,
            defer_ttl=config.defer_ttl,
            min_ttl=config.min_ttl,
            fetch_ai_txt=config.fetch_ai_txt,
            max_licences=config.max_licences,
            on_event=on_event,
            on_loaded=on_loaded,
            registry=registry,
            shared=shared,
        )

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, origin: object) -> bool:
        return origin in self._entries

    def _event(self, name: str) -> None:
        if self._on_event is not None:
            self._on_event(name)

    def peek(self, origin: str) -> Site | None:
        """Return the site cached for *origin* (fresh or not), without loading anything."""
        entry = self._entries.get(origin)
        return entry.site if entry is not None else None

    def expires_in(self, origin: str) -> float | None:
        """Return the seconds until *origin*'s entry must be refreshed (None if not cached)."""
        entry = self._entries.get(origin)
        if entry is None or entry.site is None:
            return None
        return entry.expires - self._clock()

    async def get(self, origin: str) -> Site:
        """Return *origin*'s site, loading or refreshing its documents when needed."""
        entry = self._entries.get(origin)
        if entry is None:
            entry = self._entries[origin] = _Entry()
            self._event("miss")
        else:
            self._entries.move_to_end(origin)
            if entry.loading is not None:
                self._event("shared")
                return await asyncio.shield(entry.loading)
            if entry.site is not None and self._clock() < entry.expires:
                self._event("hit")
                return entry.site
            self._event("refresh")
        task = asyncio.ensure_future(self._load(origin, entry))
        task.add_done_callback(_consume)
        entry.loading = task
        self._evict()  # after marking the entry as loading: it is not a candidate
        return await asyncio.shield(task)

    def _evict(self) -> None:
        while len(self._entries) > self.max_size:
            victim = next((k for k, e in self._entries.items() if e.loading is None), None)
            if victim is None:
                return  # every entry is being loaded: over the bound until one finishes
            del self._entries[victim]
            self._event("evicted")

    async def _load(self, origin: str, entry: _Entry) -> Site:
        try:
            if self.shared is None:
                site, docs, stale, ttl = await self._build(origin, entry)
                await self._loaded(origin, docs, site, stale)
            else:
                site, ttl = await self._load_shared(origin, entry, self.shared)
            entry.site, entry.expires = site, self._clock() + ttl
            return site
        finally:
            entry.loading = None

    async def _loaded(self, origin: str, docs: SiteDocuments, site: Site, stale: bool) -> None:
        if self._on_loaded is not None:
            result = self._on_loaded(origin, docs, site, stale)
            if inspect.isawaitable(result):
                await result

    async def _load_shared(
        self, origin: str, entry: _Entry, shared: SharedSites
    ) -> tuple[Site, float]:
        """Return *origin*'s site from the run's shared documents (fetching them here when no
        other worker has or is), and how long it stays fresh."""
        built: list[Site] = []

        async def build(
            last_good: FetchResult | None,
        ) -> tuple[SiteDocuments, bool, float, FetchResult | None]:
            entry.last_good = (outcome(last_good, self.policy), last_good) if last_good else None
            site, docs, stale, ttl = await self._build(origin, entry)
            await self._loaded(origin, docs, site, stale)
            built.append(site)
            return docs, stale, ttl, entry.last_good[1] if entry.last_good else None

        docs, stale, ttl, fetched_here = await shared.obtain(origin, build)
        if fetched_here:
            return built[0], ttl
        chosen = outcome(docs.robots, self.policy)
        if stale:  # the fetching worker kept the last usable copy (keep_last_good)
            chosen = replace(chosen, flags=(*chosen.flags, "stale"))
        return self._compile(docs, chosen), ttl

    async def _build(self, origin: str, entry: _Entry) -> tuple[Site, SiteDocuments, bool, float]:
        robots = await self._fetch(origin + "/robots.txt", ROBOTS)
        fresh = outcome(robots, self.policy)
        chosen, robots_doc, stale = fresh, robots, False
        if entry.last_good is not None:
            kept = keep_last_good(entry.last_good[0], fresh)
            if kept is not fresh:
                chosen, robots_doc, stale = kept, entry.last_good[1], True
                self._event("stale")
        if fresh.crawl_all is not Crawl.DEFER:
            # A definite answer replaces the kept copy; a complete disallow (401/403, redirect
            # loop) must not be forgotten in favour of an older "allow" at the next outage.
            entry.last_good = (fresh, robots) if fresh.usable else None
        docs = SiteDocuments(origin=origin, robots=robots_doc)
        gate = self._compile(docs, chosen)  # robots.txt alone: which documents may be fetched
        if not gate.crawls_anything:
            return gate, docs, stale, self._ttl(fresh, docs)
        jobs = [self._document(gate, origin + tdmrep.WELL_KNOWN_PATH, TDMREP)]
        if self.fetch_ai_txt:
            jobs.append(self._document(gate, origin + "/ai.txt", AI_TXT))
        found = await asyncio.gather(*jobs)
        ai_txt = found[1] if self.fetch_ai_txt else None
        docs = SiteDocuments(origin=origin, robots=robots_doc, tdmrep=found[0], ai_txt=ai_txt)
        site = self._compile(docs, chosen)
        urls = site.license_urls[: self.max_licences]
        if urls:
            found_licences = await asyncio.gather(*(self._licence(gate, u) for u in urls))
            docs = SiteDocuments(
                origin=origin,
                robots=docs.robots,
                tdmrep=docs.tdmrep,
                ai_txt=docs.ai_txt,
                licenses={u: doc for u, (doc, _) in zip(urls, found_licences, strict=True)},
                licence_robots={
                    r.url.removesuffix("/robots.txt"): r for _, r in found_licences if r
                },
            )
            site = self._compile(docs, chosen)
        return site, docs, stale, self._ttl(fresh, docs)

    async def _document(self, gate: Site, url: str, kind: str) -> FetchResult:
        """Fetch the *kind* document at *url* if robots.txt (*gate*) lets this crawler request it.

        A signal file robots.txt forbids is not requested; it counts as unreadable (its signal
        DEFERs: nothing it could reserve is used), the conservative reading of a file whose
        reservation could not be read (docs/architecture.md, "Signal files obey robots.txt").
        """
        if gate.robots_allows(url):
            return await self._fetch(url, kind)
        self._event("document_disallowed")
        return FetchResult(url=url, error=ROBOTS_DISALLOWED, final_url=url, fetched_at=now_iso())

    async def _licence(self, gate: Site, url: str) -> tuple[FetchResult, FetchResult | None]:
        """Fetch an RSL licence as :meth:`_document` does, under its own origin's robots.txt.

        A licence on another origin needs that origin's robots.txt first (fetched for it, and
        returned to be kept as evidence); when it is unusable, the licence is not requested.
        """
        try:
            other = origin_of(url)
        except InvalidURL:
            return FetchResult(url=url, error="invalid_url", fetched_at=now_iso()), None
        if other == gate.docs.origin:
            return await self._document(gate, url, LICENCE), None
        robots = await self._fetch(other + "/robots.txt", ROBOTS)
        other_gate = self._compile(
            SiteDocuments(origin=other, robots=robots), outcome(robots, self.policy)
        )
        return await self._document(other_gate, url, LICENCE), robots

    def _compile(self, docs: SiteDocuments, robots: RobotsOutcome) -> Site:
        return Site(
            docs,
            token=self.token,
            policy=self.policy,
            robots_outcome=robots,
            registry=self.registry,
        )

    def _ttl(self, fresh: RobotsOutcome, docs: SiteDocuments) -> float:
        """Return how long *docs* may be used: the shortest lifetime any of them allows."""
        if fresh.crawl_all is Crawl.DEFER:
            ttl = fresh.retry_after or self.defer_ttl
        else:
            ttl = fresh.ttl
            others = [docs.tdmrep, docs.ai_txt, *docs.licenses.values()]
            for doc in others:
                if doc is None:
                    continue
                if unreadable(doc) or doc.truncated:
                    ttl = min(ttl, self.defer_ttl)
                elif doc.status is not None and 200 <= doc.status < 300:
                    ttl = min(ttl, cache_ttl(doc.headers))
        return min(MAX_TTL, max(self.min_ttl, ttl))


def _consume(task: asyncio.Task[Site]) -> None:
    # Retrieve a failed load's exception even when every waiter has gone away, so asyncio does
    # not log "exception was never retrieved"; the waiters that remain still receive it.
    if not task.cancelled():
        task.exception()
