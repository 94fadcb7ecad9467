"""RightsReservationMiddleware: every request checked against robots.txt and TDM opt-outs.

A Scrapy downloader middleware (priority 100, in place of Scrapy's RobotsTxtMiddleware, whose
deviations docs/protocols.md#scrapys-robots-middleware lists) that does I/O and wiring only;
every rule is optout/'s.

Before a request (``process_request``) — nothing leaves unless all of these pass:

1. the URL is http(s) and its host is not on the denylist (Code of Practice Measure 1.2(1)(b));
   a denylisted origin gets no request at all, not even for robots.txt;
2. a redirect hop is within ``OPTOUT_MAX_PAGE_REDIRECTS`` and does not lead to a login or
   subscription page (a login wall: recorded, never followed);
3. the origin's documents are loaded (:mod:`crawler.sitecache`; the request waits for them) and
   :meth:`optout.site.Site.before_request` allows crawling and knows no reservation for the URL
   (a download whose content could not be used is skipped), and no signal source of the origin
   is unreadable (DEFER: the request is dropped, recorded ``deferred``, and not re-scheduled —
   a later crawl retries it once the documents' short error TTL has passed).

Every redirect hop comes back through ``process_request`` (Scrapy reschedules it), so each hop's
origin is checked before the hop is requested (F14). Crawl-delay is applied to the request's
Scrapy downloader slot (one per host; a ``download_slot`` set by a spider is ignored for such
an origin): the slot's delay is raised to the origin's Crawl-delay, capped at
``OPTOUT_CRAWL_DELAY_MAX`` (a capped delay is counted and logged), and its jitter set to 0 so
the random variation never goes below the delay.

After a response (``process_response``): headers, HTML meta and PDF/EPUB/XMP metadata through
:meth:`optout.site.Site.after_response` (redirect hops' tdmrep.json files included). **Only a
response whose use is not reserved reaches the spider**, with its decision in
``response.meta["optout_decision"]``: a reserved or undecidable response is recorded
``fetched-excluded`` and dropped with :class:`~crawler.exceptions.RightsReserved` (or
``OptoutDeferred``) — the spider never sees its body, links included; 401/402/403, challenge
pages and paywall markup are ``access-restricted``; other non-2xx responses are ``error``.

Every attempt's decision is sent through :data:`crawler.signals.optout_decided` exactly once
(the contract is in crawler/signals.py) and counted in Scrapy stats under ``optout/``. The
crawler has one User-Agent (set on every request here), sends no cookies, and never retries an
access restriction (crawler/config.py refuses settings that would).
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, NoReturn
from weakref import WeakSet

from scrapy import signals
from scrapy.exceptions import CloseSpider, IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.asyncio import is_asyncio_available

from crawler import signals as optout_signals
from crawler.adapters import (
    DocumentFetcher,
    failure_result,
    fetch_result,
    raise_slot_delay,
    redirect_count,
)
from crawler.cluster.keys import ClusterUnavailable
from crawler.cluster.parts import shared_parts
from crawler.config import OptoutConfig
from crawler.denylist import Denylist
from crawler.documents import DocumentLimits
from crawler.exceptions import (
    EXCEPTION_FOR_ACTION,
    OptoutConfigError,
    OptoutDeferred,
    OptoutIgnoreRequest,
    RightsReserved,
)
from crawler.registry import RegistryUnavailable, load_registry
from crawler.sitecache import SiteCache
from crawler.wire import WIRE_META, WireOutcome
from optout.access import login_redirect
from optout.action import Action, after_action, before_action, unchecked, with_note
from optout.decision import Crawl, Decision, Use
from optout.registry import Registry
from optout.url import InvalidURL, host_of, origin_of, parse_url

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

    from optout.site import Site, SiteDocuments

logger = logging.getLogger(__name__)

#: Request meta key holding the Decision of a response handed to the spider.
DECISION_META = "optout_decision"
#: Request meta key set on a usable response that the crawl keeps nowhere (no item is made).
NOT_KEPT_META = "optout_not_kept"
#: Request meta key holding the URL as a link spelled it, on its canonical replacement.
SPELLED_META = "optout_spelled_url"


class RightsReservationMiddleware:
    """Decide every request and response against the origin's opt-out signals; see the module."""

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("OPTOUT_ENABLED", True):
            raise NotConfigured("OPTOUT_ENABLED is False")
        if not is_asyncio_available():
            raise OptoutConfigError("RightsReservationMiddleware needs Scrapy's asyncio support")
        self.crawler = crawler
        self.config = config = OptoutConfig.from_settings(crawler.settings)
        self.policy = config.policy
        self.denylist: Denylist | None = config.load_denylist()
        #: Why the reservations registry could not be read (the crawl then stops when the
        #: spider opens, before any request, as for an audit database that cannot be opened).
        self.registry_error: str | None = None
        try:
            self.registry: Registry = load_registry(crawler.settings)
        except RegistryUnavailable as exc:
            self.registry, self.registry_error = Registry([]), str(exc)
        self.fetcher = DocumentFetcher(
            crawler,
            user_agent=config.user_agent,
            limits=DocumentLimits.from_config(config),
            refuse=lambda url: self._denylisted(url) is not None,
        )
        # A worker of a shared crawl (heed crawl --redis): documents and delays of the run.
        shared, self.slots = shared_parts(
            crawler.settings, config, lambda name: self._inc(f"optout/cache/{name}")
        )
        #: Says why nothing may be sent now (a worker's audit database outage), or None.
        self.holds: Callable[[], str | None] | None = None
        self.download_delay = crawler.settings.getfloat("DOWNLOAD_DELAY", 0.0)
        self.cache = SiteCache.from_config(
            self.fetcher,
            config,
            on_event=lambda name: self._inc(f"optout/cache/{name}"),
            on_loaded=self._site_loaded,
            registry=self.registry,
            shared=shared,
        )
        #: Requests that passed process_request and await their response or error.
        self._sent: WeakSet[Request] = WeakSet()
        self._slot_delays: dict[str, float] = {}
        crawler.signals.connect(self.fetcher.bytes_received, signal=signals.bytes_received)
        crawler.signals.connect(self._spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Return the middleware for *crawler* (Scrapy's component constructor)."""
        return cls(crawler)

    # -- before the request -----------------------------------------------------------------

    async def process_request(self, request: Request) -> Request | None:
        """Let *request* go only if it may be crawled and its content could be used.

        A request whose URL is not in canonical form (:mod:`optout.url`: dot segments, escapes,
        backslashes) is replaced by one that is, rescheduled: only the canonical URL is decided
        and sent, so the path checked is the path the server sees.
        """
        if self.fetcher.is_internal(request):
            return None
        request.headers["User-Agent"] = self.config.user_agent  # one identity, never another
        earlier = self.wire_decision(request)
        if earlier is not None:
            await self._emit(*earlier)
        url = request.url
        try:
            parsed = parse_url(url)
        except InvalidURL as exc:
            await self._drop(
                request, unchecked(url, f"invalid URL: {exc}", self.policy), Action.ERROR
            )
        canonical = str(parsed)
        if canonical != url.partition("#")[0]:
            if SPELLED_META in request.meta:  # a canonical URL is a fixed point: never loops
                why = f"URL not requestable in canonical form ({canonical})"
                await self._drop(request, unchecked(url, why, self.policy), Action.ERROR)
            self._inc("optout/canonicalised")
            replacement = request.replace(url=canonical, meta={**request.meta, SPELLED_META: url})
            # The original passed the duplicate filter: a replacement with the same fingerprint
            # (Scrapy's fingerprint already resolves most spellings) must not be filtered out.
            fingerprint = self.crawler.request_fingerprinter.fingerprint
            if fingerprint(replacement) == fingerprint(request):
                replacement.dont_filter = True
            return replacement
        origin = parsed.origin
        hops = request.meta.get("redirect_urls") or []
        listed = self.denylist.match(parsed.host) if self.denylist is not None else None
        if listed is not None and self.denylist is not None:
            note = self.denylist.note(listed)
            await self._drop(request, unchecked(url, note, self.policy), Action.DENYLISTED)
        if len(hops) > self.config.max_page_redirects:
            note = f"more than {self.config.max_page_redirects} redirects from {hops[0]}"
            await self._drop(request, unchecked(url, note, self.policy, Crawl.DEFER), Action.ERROR)
        try:
            site = await self.cache.get(origin)
        except ClusterUnavailable as exc:
            self._release(request, exc)
        decision = site.before_request(url)
        action = before_action(decision, self.policy)
        if hops:
            decision = with_note(decision, f"redirect hop from {hops[-1]}")
            if action is None and login_redirect(url):
                note = "access restricted: redirect to a login or subscription page"
                decision, action = with_note(decision, note), Action.ACCESS_RESTRICTED
        if action is not None:
            await self._drop(request, decision, action)
        self._apply_crawl_delay(request, site)
        if self.slots is not None:
            await self._take_turn(request, site)
        held = self.holds() if self.holds is not None else None
        if held is not None:  # the last moment before the wire: it cannot be recorded now
            self._release(request, f"audit database unavailable: {held}", "audit_unavailable")
        self._sent.add(request)
        return None

    def _release(
        self, request: Request, why: ClusterUnavailable | str, stat: str = "unavailable"
    ) -> NoReturn:
        """Give *request* up unsent: the run's shared state or its audit database did not
        answer (fail closed); its scheduler puts it back in the run's queue."""
        self._inc(f"optout/cluster/{stat}")
        self.crawler.signals.send_catch_log(
            optout_signals.request_released, request=request, spider=self.crawler.spider
        )
        raise IgnoreRequest(f"not sent: {why}")

    async def _take_turn(self, request: Request, site: Site) -> None:
        """Wait for the origin's next turn across the cluster, if it has a delay."""
        wanted = site.crawl_delay or 0.0
        delay = max(min(wanted, self.config.crawl_delay_max), self.download_delay)
        if delay <= 0:
            return
        assert self.slots is not None
        try:
            waited = await self.slots.wait_turn(site.docs.origin, delay)
        except ClusterUnavailable as exc:
            self._release(request, exc)
        if waited:
            self._inc("optout/cluster/turn_waits")

    def wire_decision(
        self, request: Request
    ) -> tuple[Request, Decision, Action, Response | None] | None:
        """Return the decision of the wire request *request* follows up (a redirect hop's source,
        or a retried attempt), from the note :class:`crawler.wire.WireRecorder` left; or None.

        Returned as ``(request, decision, action, response)`` for :meth:`_emit`: a stand-in
        request for the earlier wire request (its URL, its place in the chain) and a body-less
        response with its status and Location.
        """
        wire = request.meta.pop(WIRE_META, None)
        if not isinstance(wire, WireOutcome):
            return None
        meta = request.meta
        hops = list(meta.get("redirect_urls") or ())
        retries = int(meta.get("retry_times") or 0)
        if hops and hops[-1] == wire.url and wire.url != request.url:
            earlier = request.replace(url=wire.url, meta={**meta, "redirect_urls": hops[:-1]})
            note, action = f"{wire.describe()}: redirected to {request.url}", Action.REDIRECTED
        elif retries and wire.url == request.url:
            earlier = request.replace(meta={**meta, "retry_times": retries - 1})
            note, action = f"{wire.describe()}: retried as attempt {retries + 1}", Action.ERROR
        else:
            return None  # a note copied along with a spider's meta: not a follow-up
        site = None
        with contextlib.suppress(InvalidURL):
            site = self.cache.peek(origin_of(wire.url))
        decision = (
            site.before_request(wire.url)
            if site is not None
            else unchecked(wire.url, "site documents no longer cached", self.policy, Crawl.ALLOW)
        )
        decision = with_note(decision, note)
        if len(hops) > 1 and action is Action.REDIRECTED:
            decision = with_note(decision, f"redirect hop from {hops[-2]}")
        response = None
        if wire.status is not None:
            headers = {"Location": wire.location} if wire.location else {}
            response = Response(wire.url, status=wire.status, headers=headers, request=earlier)
        return earlier, decision, action, response

    def _denylisted(self, url: str) -> str | None:
        """Return the denylist entry covering *url*'s host, or None."""
        if self.denylist is None:
            return None
        try:
            return self.denylist.match(host_of(url))
        except InvalidURL:
            return None  # nothing is requested from a URL without a usable host

    def _apply_crawl_delay(self, request: Request, site: Site) -> None:
        wanted = site.crawl_delay
        if not wanted or wanted <= 0:
            return
        delay = min(wanted, self.config.crawl_delay_max)
        downloader = self.crawler.engine.downloader
        # A spider-chosen slot would let an origin's requests run in parallel slots, each
        # waiting the delay: an origin with a Crawl-delay stays in its host's slot.
        request.meta.pop(downloader.DOWNLOAD_SLOT, None)
        key = downloader.get_slot_key(request)
        if self._slot_delays.get(key, 0.0) < delay:
            self._slot_delays[key] = delay
            self._inc("optout/crawl_delay/applied")
            if wanted > delay:
                self._inc("optout/crawl_delay/capped")
                logger.warning(
                    "Crawl-delay %.1fs of %s capped at OPTOUT_CRAWL_DELAY_MAX %.1fs",
                    wanted,
                    site.docs.origin,
                    delay,
                    extra={"spider": self.crawler.spider},
                )
        raise_slot_delay(downloader, key, self._slot_delays[key])

    # -- after the request --------------------------------------------------------------------

    async def process_response(self, request: Request, response: Response) -> Response:
        """Hand *response* to the spider only if its content may be used; else record and drop."""
        if self.fetcher.is_internal(request):
            return response
        self._sent.discard(request)
        url = request.url
        try:
            site = await self._site_after(origin_of(url))
            via = await self._via(request)
        except InvalidURL as exc:
            await self._drop(
                request, unchecked(url, f"invalid URL: {exc}", self.policy), Action.ERROR
            )
        except ClusterUnavailable as exc:  # fail closed: nothing unread is taken as allowed
            note = f"site documents unavailable after the response: {exc}"
            decision = unchecked(url, note, self.policy, Crawl.DEFER)
            await self._drop(request, decision, Action.DEFERRED)
        fetched = fetch_result(response, url=url, redirects=redirect_count(request))
        decision = site.after_response(url, fetched, via=via)
        decision, action = after_action(decision, fetched)
        if action is Action.FETCHED_STORED:
            request.meta[DECISION_META] = decision  # the spider makes its item from it
            if not self.config.keeps_dataset:
                action = Action.FETCHED_NOT_KEPT  # usable, but nothing keeps it: not "stored"
                request.meta[NOT_KEPT_META] = True
            await self._emit(request, decision, action, response)
            return response
        await self._drop(request, decision, action, response)

    async def process_exception(self, request: Request, exception: Exception) -> None:
        """Record a failed download of a checked request (Scrapy then handles it as usual)."""
        if isinstance(exception, OptoutIgnoreRequest) or request not in self._sent:
            return  # our own drop (already recorded), or a request that never passed the gate
        self._sent.discard(request)
        url = request.url
        failed = failure_result(url, exception, redirects=redirect_count(request))
        try:
            site = await self._site_after(origin_of(url))
            via = await self._via(request)
        except ClusterUnavailable as exc:
            note = f"download failed; site documents unavailable: {exc}"
            decision = unchecked(url, note, self.policy, Crawl.DEFER)
            await self._emit(request, decision, Action.ERROR, None)
            return
        decision = site.after_response(url, failed, via=via)
        decision, action = after_action(decision, failed)  # "download failed: …", error
        await self._emit(request, decision, action, None)

    async def _via(self, request: Request) -> list[tuple[Site, str]]:
        via = []
        for hop in request.meta.get("redirect_urls") or ():
            try:
                via.append((await self._site_after(origin_of(hop)), hop))
            except InvalidURL:
                continue
        return via

    async def _site_after(self, origin: str) -> Site:
        """Return *origin*'s site for a response: the shared one, or — Redis not answering —
        the copy the request was checked against (ClusterUnavailable when there is none)."""
        try:
            return await self.cache.get(origin)
        except ClusterUnavailable:
            site = self.cache.peek(origin)
            if site is None:
                raise
            self._inc("optout/cluster/kept_site")
            return site

    # -- recording ----------------------------------------------------------------------------

    async def _drop(
        self,
        request: Request,
        decision: Decision,
        action: Action,
        response: Response | None = None,
    ) -> NoReturn:
        await self._emit(request, decision, action, response)
        cls: type[OptoutIgnoreRequest]
        if action is Action.FETCHED_EXCLUDED:
            cls = RightsReserved if decision.use is Use.RESERVED else OptoutDeferred
        else:
            cls = EXCEPTION_FOR_ACTION[action]
        logger.debug(
            "%(action)s: %(request)s (%(reason)s)",
            {"action": action.value, "request": request, "reason": "; ".join(decision.reasons)},
            extra={"spider": self.crawler.spider},
        )
        raise cls(decision, action)

    async def _emit(
        self, request: Request, decision: Decision, action: Action, response: Response | None
    ) -> None:
        spelled = request.meta.get(SPELLED_META)
        if spelled is not None and str(parse_url(spelled)) == request.url:  # not a later hop
            decision = with_note(decision, f"requested in canonical form; the link said {spelled}")
        self._inc("optout/decisions")
        self._inc(f"optout/action/{action.value}")
        self._inc(f"optout/crawl/{decision.crawl.value}")
        self._inc(f"optout/use/{decision.use.value}")
        for sig in decision.signals:
            self._inc(f"optout/protocol/{sig.protocol.value}/{sig.verdict}")
        await self.crawler.signals.send_catch_log_async(
            signal=optout_signals.optout_decided,
            decision=decision,
            action=action,
            request=request,
            response=response,
            spider=self.crawler.spider,
        )

    async def _site_loaded(self, origin: str, docs: SiteDocuments, site: Site, stale: bool) -> None:
        ro = site.robots_outcome
        state = ro.crawl_all.value if ro.crawl_all is not None else "rules"
        self._inc(f"optout/robots/{state}")
        if stale:
            logger.warning(
                "robots.txt of %s unreachable: keeping the last good copy",
                origin,
                extra={"spider": self.crawler.spider},
            )
        await self.crawler.signals.send_catch_log_async(
            signal=optout_signals.optout_site_loaded,
            origin=origin,
            documents=docs,
            site=site,
            stale=stale,
            spider=self.crawler.spider,
        )

    def _inc(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)

    def _spider_opened(self, spider: Spider) -> None:
        if self.registry_error is not None:
            logger.error("%s, not crawling", self.registry_error, extra={"spider": spider})
            raise CloseSpider("audit_unavailable")
        stats = self.crawler.stats
        if stats is not None:
            stats.set_value("optout/policy_digest", self.policy.digest())
            if self.denylist is not None:
                stats.set_value("optout/denylist/version", self.denylist.version)
                stats.set_value("optout/denylist/entries", len(self.denylist.domains))
            stats.set_value("optout/registry/version", self.registry.version)
            stats.set_value("optout/registry/entries", len(self.registry))
        if self.denylist is None:
            logger.warning(
                "No OPTOUT_DENYLIST configured: no infringing-site denylist is applied",
                extra={"spider": spider},
            )
        logger.info(
            "Heed rights-reservation checks on: token %s, purpose %s, policy %s",
            self.config.token,
            self.policy.purpose.value,
            self.policy.digest()[:12],
            extra={"spider": spider},
        )
