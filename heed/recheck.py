"""The re-check behind ``heed recheck``: the items crawls kept, against the signals of *now*.

Per origin with kept items, the site-level documents are loaded once through the crawl's own
site loader and rules (:class:`heed.livecheck.LiveChecker`: robots.txt first; tdmrep.json,
ai.txt and licences only where robots.txt lets this crawler fetch them; the same caps, timeouts
and redirect checks; the denylist before every request), and the reservations registry of the
audit database applies as in a crawl. Every kept URL is decided with
:meth:`optout.site.Site.before_request`, as a crawl decides before its request, so a URL
robots.txt now disallows is never requested. With ``pages``, a kept page that may still be
used is requested again (one GET, redirects not followed, at most one request per origin per
``page_delay`` seconds or its Crawl-delay) and decided on its current headers and HTML meta:
reserved there, it is ``rechecked-reserved``; gone, failing, moved or behind a login, it is
``rechecked-unknown``. Either way the item's one decision records the request.

Each item gets a decision in a run of kind ``recheck`` (audit/recheck.py), keyed
``item:<id>``, with the action:

* ``rechecked-usable`` — it may still be crawled and its use is not reserved;
* ``rechecked-reserved`` — robots.txt now disallows it, a signal or registry entry reserves its
  use, or its host is on the denylist;
* ``rechecked-unknown`` — a source could not be read (robots.txt unreachable, a 5xx signal
  file, the origin's deadline passed): the fail-closed answer, never "usable".

The documents read are recorded with the run, exact bytes included, as a crawl records them.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Self

import httpx

from audit import AuditStore
from audit.recheck import ITEM_KEY, KeptItem
from crawler.config import OptoutConfig
from crawler.denylist import Denylist
from crawler.extensions.audit import site_documents
from heed.checkrun import client_for
from heed.livecheck import REDIRECT_STATUSES, LiveChecker, StreamingClient
from optout.action import Action, after_action, before_action, unchecked, with_note
from optout.decision import Decision
from optout.registry import Registry
from optout.site import Site, SiteDocuments
from optout.url import InvalidURL, origin_of

#: Origins re-checked at once.
CONCURRENCY = 16
#: Seconds between two page requests to one origin with ``--pages`` (at least).
PAGE_DELAY = 1.0


@dataclass(slots=True)
class RecheckReport:
    """What a re-check found, in counts (the decisions are in the audit database)."""

    run_key: str = ""
    origins: int = 0
    usable: int = 0
    reserved: int = 0
    unknown: int = 0
    #: Origins whose documents could not all be read (their items are ``unknown``).
    unreachable: list[str] = field(default_factory=list)

    @property
    def items(self) -> int:
        """Return how many items were re-checked."""
        return self.usable + self.reserved + self.unknown


def recheck_action(decision: Decision, config: OptoutConfig) -> Action:
    """Return the re-check action of a kept item's decision before its (re)request."""
    before = before_action(decision, config.policy)
    if before is None:
        return Action.RECHECKED_USABLE
    if before is Action.DEFERRED:
        return Action.RECHECKED_UNKNOWN
    return Action.RECHECKED_RESERVED


class OriginClients:
    """An httpx client per origin, made when the origin is first asked and closed when its
    re-check is done.

    One shared client is slower by half here: httpx's pool looks through all its connections
    for every request queued (with 64 origins in flight, 40 % of the run's time, measured),
    while a re-check asks each origin two to four times and never again. The TLS context is
    made once and shared.
    """

    def __init__(self, config: OptoutConfig, timeout: float) -> None:
        self._config = config
        self._timeout = timeout
        self._tls = ssl.create_default_context()
        self._clients: dict[str, httpx.AsyncClient] = {}

    def _client(self, url: str) -> httpx.AsyncClient:
        try:
            origin = origin_of(url)
        except InvalidURL:
            origin = ""
        client = self._clients.get(origin)
        if client is None:
            client = client_for(
                self._config,
                None,
                self._timeout,
                limits=httpx.Limits(max_connections=4),
                verify=self._tls,
            )
            self._clients[origin] = client
        return client

    def stream(
        self, method: str, url: str, *, timeout: float
    ) -> AbstractAsyncContextManager[httpx.Response]:
        """Send a request through the client of *url*'s origin."""
        return self._client(url).stream(method, url, timeout=timeout)

    async def release(self, origin: str) -> None:
        """Close the client of *origin* (its re-check is done)."""
        client = self._clients.pop(origin, None)
        if client is not None:
            await client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        for client in list(self._clients.values()):
            await client.aclose()
        self._clients.clear()


class Rechecker:
    """Re-checks the kept items of many origins, recording each item's decision in *store*."""

    def __init__(
        self,
        client: StreamingClient,
        config: OptoutConfig,
        store: AuditStore,
        run_id: int,
        *,
        denylist: Denylist | None = None,
        registry: Registry | None = None,
        timeout: float = 10.0,
        pages: bool = False,
        page_delay: float = PAGE_DELAY,
    ) -> None:
        """Record into *store*'s run *run_id*; with *pages*, request the kept pages robots.txt
        still allows, at most one per *page_delay* seconds per origin (or its Crawl-delay)."""
        self.config = config
        self.pages = pages
        self.page_delay = page_delay
        self._next_page: dict[str, float] = {}
        self.store = store
        self.run_id = run_id
        self.checker = LiveChecker(
            client,
            config,
            denylist=denylist,
            registry=registry,
            timeout=timeout,
            on_loaded=self._loaded,
        )
        self._registries: set[str] = set()
        self.report = RecheckReport()

    async def _page(self, site: Site, url: str) -> tuple[Decision, Action, int | None]:
        """Request the kept page *url* again (robots.txt allows it: the caller checked) after
        the origin's delay, and decide it with its current headers and HTML meta."""
        delay = max(self.page_delay, min(site.crawl_delay or 0.0, self.config.crawl_delay_max))
        now = time.monotonic()
        wait = self._next_page.get(site.docs.origin, now) - now
        if wait > 0:
            await asyncio.sleep(wait)  # politeness, as the crawl's download slots
        self._next_page[site.docs.origin] = time.monotonic() + delay
        response = await self.checker.get_page(url)
        location = next(iter(response.header("location")), "").strip()
        if response.status in REDIRECT_STATUSES and location:
            note = f"moved to {location}: redirects are not followed by a re-check"
            decision = with_note(site.before_request(url), note)
            return decision, Action.RECHECKED_UNKNOWN, response.status
        decision, crawl_action = after_action(site.after_response(url, response), response)
        if crawl_action is Action.FETCHED_STORED:
            return decision, Action.RECHECKED_USABLE, response.status
        if crawl_action is Action.FETCHED_EXCLUDED:
            return decision, Action.RECHECKED_RESERVED, response.status
        # Gone, failing, or behind a login now: what the page says cannot be read.
        return decision, Action.RECHECKED_UNKNOWN, response.status

    def _loaded(self, origin: str, docs: SiteDocuments, site: Site, stale: bool) -> None:
        """Record an origin's documents as they were read (as the crawl's audit extension)."""
        for kind, doc in site_documents(docs, site, self._registries):
            for hop in doc.hops:
                self.store.record_document(hop, kind=kind, run_id=self.run_id)
            self.store.record_document(doc, kind=kind, run_id=self.run_id)

    async def origin(self, origin: str, items: Sequence[KeptItem]) -> None:
        """Re-check the kept *items* of *origin* and record their decisions."""
        first = items[0].url
        gate = self.checker.gate(first)
        site: Site | Decision
        if isinstance(gate, tuple):  # denylisted (or not a URL): no request at all
            site = gate[0]
        else:
            site = await self.checker.site(origin, first)
        if not isinstance(site, Site):
            self.report.unreachable.append(origin)
        self.report.origins += 1
        for item in items:
            status: int | None = None
            if isinstance(site, Site):
                decision = site.before_request(item.url)
            else:  # the gate's or the deadline's decision, for this item's URL
                decision = unchecked(item.url, site.notes[0], self.config.policy, site.crawl)
            action = recheck_action(decision, self.config)
            if self.pages and isinstance(site, Site) and action is Action.RECHECKED_USABLE:
                decision, action, status = await self._page(site, item.url)
            self.store.record_decision(
                self.run_id,
                decision,
                action,
                request_key=f"{ITEM_KEY}{item.item_id}",
                http_status=status,
            )
            if action is Action.RECHECKED_USABLE:
                self.report.usable += 1
            elif action is Action.RECHECKED_RESERVED:
                self.report.reserved += 1
            else:
                self.report.unknown += 1


async def recheck(
    kept: Mapping[str, Sequence[KeptItem]],
    config: OptoutConfig,
    store: AuditStore,
    run_id: int,
    *,
    denylist: Denylist | None = None,
    registry: Registry | None = None,
    timeout: float = 10.0,
    concurrency: int = CONCURRENCY,
    progress: Callable[[RecheckReport, int], None] | None = None,
    pages: bool = False,
    page_delay: float = PAGE_DELAY,
) -> RecheckReport:
    """Re-check every origin of *kept*, *concurrency* at a time; return the counts."""
    async with OriginClients(config, timeout) as client:
        rechecker = Rechecker(
            client,
            config,
            store,
            run_id,
            denylist=denylist,
            registry=registry,
            timeout=timeout,
            pages=pages,
            page_delay=page_delay,
        )
        gate = asyncio.Semaphore(concurrency)
        total = len(kept)
        last = time.monotonic()

        async def one(origin: str, items: Sequence[KeptItem]) -> None:
            nonlocal last
            async with gate:
                try:
                    await rechecker.origin(origin, items)
                finally:
                    await client.release(origin)
            if progress is not None and time.monotonic() - last >= 1.0:
                last = time.monotonic()
                progress(rechecker.report, total)

        await asyncio.gather(*(one(origin, items) for origin, items in kept.items()))
    return rechecker.report
