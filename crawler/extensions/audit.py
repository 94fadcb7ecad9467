"""The audit extension: the audit trail of every decision, document and stored item.

:class:`AuditExtension` is the crawler's one door to :class:`audit.AuditStore`
(docs/development.md#package-layout; docs/regulation.md AC-03, AC-20):

* ``spider_opened`` — open the database (``HEED_DB``, else ``$HEED_DB``, else ``heed.db``) and start
  the run, or resume it: the run key is ``HEED_RUN_KEY``, else the one kept in ``JOBDIR`` (written
  when the run starts, so that it survives a crash), else a new one. A database that cannot be
  opened stops the crawl before any request is sent (``CloseSpider("audit_unavailable")``);
* ``optout_site_loaded`` — record the site-level documents (robots.txt, tdmrep.json, ai.txt, RSL
  licences) with their exact bytes, before any decision that used them;
* ``optout_decided`` — record the decision of every request attempt; its id goes into
  ``request.meta["heed_decision_id"]``, where the spider finds it for the page's item;
* ``request_dropped`` — a redirect whose next hop the scheduler dropped as a duplicate ends its
  attempt there, without reaching the middleware: it is recorded too, with a note (the hop's
  verdict when robots.txt or a site-level reservation rules it out, else action ``error``), so
  that every URL the crawler requested has a decision;
* :meth:`AuditExtension.item_durable` — record a stored item and resolve once the item *and its
  decision* are committed: the pipeline hands the item to the dataset only then;
* ``spider_closed`` — flush, end the run (signing a checkpoint of the audit log with the key
  ``HEED_LOG_KEY`` names, as the store does every ``HEED_LOG_CHECKPOINT_INTERVAL`` seconds; a key
  that cannot be used stops the crawl at ``spider_opened``: :mod:`crawler.extensions.logsigning`),
  close.

A failure of the store is never silent: it is logged, counted (``heed/audit/failed``), every item
waiting for durability is dropped, and the spider is closed (reason ``audit_failed``). A worker of
a shared crawl waits out a database that stopped answering instead, fetching nothing meanwhile
(:mod:`crawler.extensions.auditoutage`; counted ``heed/audit/outages``).

Rows are committed in batches every ``HEED_AUDIT_MAX_DELAY`` seconds (or ``HEED_AUDIT_BATCH_SIZE``
decisions); a timer flushes an idle store, so that an item never waits much longer than that.
When the pages waiting for durability reach ``HEED_AUDIT_MAX_WAITING`` bytes, they are committed
at once (stat ``heed/audit/commit_waiting_bytes``): each holds its response in memory until then.
When the engine has nothing in flight — no request downloading, none scheduled — an item waiting
for durability is committed at once (checked when it arrives and every ``IDLE_CHECK`` seconds):
nothing else would come to share the commit, so waiting would only idle the crawl (the last pages
of a crawl, a one-page crawl). So is one when Scrapy's scraper is full (its responses over
``SCRAPER_SLOT_MAX_ACTIVE_SIZE``, as a few large pages waiting for durability make it): the
downloader takes no new response until the waiting items are committed.
With ``HEED_AUDIT_BACKGROUND`` a writer process commits the batches while the crawl goes on
(:mod:`audit.background`); the same timer then also collects finished commits.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import CloseSpider, DropItem, NotConfigured
from scrapy.utils.asyncio import create_looping_call

from audit import AuditStore, estimate_tokens
from audit.engine import describe, is_outage, resolve_url
from crawler import signals as optout_signals
from crawler.config import OptoutConfig
from crawler.extensions.auditoutage import AuditOutage
from crawler.extensions.auditrun import request_key, resolve_run_key, run_config
from crawler.extensions.logsigning import LogKeyError, log_signing
from crawler.items import DECISION_ID_META, PageItem
from crawler.middleware import RightsReservationMiddleware
from crawler.registry import registry_document
from optout.action import Action, before_action
from optout.decision import DEFAULT_POLICY, Crawl, Decision, Policy, combine
from optout.url import InvalidURL, origin_of

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.utils.asyncio import AsyncioLoopingCall
    from twisted.internet.task import LoopingCall

    from optout.document import FetchResult
    from optout.site import Site, SiteDocuments

logger = logging.getLogger(__name__)

#: The note on the decision of a redirect hop the scheduler dropped as a duplicate.
#: Seconds between two looks at whether the engine is quiet while items wait for durability.
IDLE_CHECK = 0.05

#: Attempt numbers a worker of a shared crawl gives while Redis does not answer start here.
OUTAGE_ATTEMPTS = 1_000_000

DUPLICATE_HOP_NOTE = (
    "not requested: the redirect leads to a URL this run already scheduled (a duplicate), "
    "decided under that attempt"
)


def site_documents(
    documents: SiteDocuments, site: Site, registries: set[str]
) -> list[tuple[str, FetchResult]]:
    """Return ``(kind, document)`` of every site-level document to record for an origin, and
    the registry snapshot its signals name when not in *registries* yet (then added to it)."""
    found = [("robots.txt", documents.robots)]
    if documents.tdmrep is not None:
        found.append(("tdmrep.json", documents.tdmrep))
    if documents.ai_txt is not None:
        found.append(("ai.txt", documents.ai_txt))
    found.extend(("rsl-licence", doc) for doc in documents.licenses.values())
    found.extend(("robots.txt", doc) for doc in documents.licence_robots.values())
    registry = site.registry
    if registry and registry.sha256 not in registries:
        # The snapshot the site's registry signals name by their sha256, recorded before any
        # decision that applies it (heed evidence SHA256 prints it).
        registries.add(registry.sha256)
        found.append(("registry", registry_document(registry)))
    return found


class AuditExtension:
    """Record every decision, document and stored item in the audit database; see the module."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("HEED_AUDIT_ENABLED", True):
            raise NotConfigured("HEED_AUDIT_ENABLED is False")
        if not settings.getbool("OPTOUT_ENABLED", True):
            raise NotConfigured("OPTOUT_ENABLED is False: no decisions to record")
        self.crawler = crawler
        self.db: str | None = settings.get("HEED_DB") or None
        #: The reservations-registry snapshots already recorded in this run, by sha256.
        self._registries: set[str] = set()
        self.batch_size = settings.getint("HEED_AUDIT_BATCH_SIZE", 20_000)
        self.max_delay = settings.getfloat("HEED_AUDIT_MAX_DELAY", 1.0)
        self.max_waiting = settings.getint("HEED_AUDIT_MAX_WAITING", 1 << 20)
        self.background = settings.getbool("HEED_AUDIT_BACKGROUND", False)
        self.store: AuditStore | None = None
        self.run_id: int | None = None
        self.run_key: str | None = None
        self.failed: str | None = None
        #: A worker of a shared crawl waits out an audit database outage (see the module).
        self.waits_outages = bool(settings.get("HEED_REDIS_URL"))
        self.outage = AuditOutage()
        #: A commit that failed inside a record call, other than an outage: failed at the tick.
        self._commit_error: BaseException | None = None
        self.denylist_version: str | None = None
        self._mw: RightsReservationMiddleware | None = None
        self._policy: Policy | None = None
        self._attempts: dict[str, int] = {}
        #: ``counter(request_key)``: the run's next attempt number (a shared crawl), or None.
        self.attempt_counter: Callable[[str], int | None] | None = None
        #: Items waiting for durability, with the size of their pages, and the sum of those.
        self._waiting: dict[asyncio.Future[PageItem], int] = {}
        self._waiting_bytes = 0
        self._last_call = time.monotonic()
        self._tick: AsyncioLoopingCall | LoopingCall | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.decided, signal=optout_signals.optout_decided)
        crawler.signals.connect(self.site_loaded, signal=optout_signals.optout_site_loaded)
        crawler.signals.connect(self.request_dropped, signal=signals.request_dropped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Return the extension for *crawler* (Scrapy's component constructor)."""
        return cls(crawler)

    # -- run -----------------------------------------------------------------------------------

    def spider_opened(self, spider: Spider) -> None:
        """Open the store and start (or resume) the run; stop the crawl if that fails."""
        crawler = self.crawler
        config = OptoutConfig.from_settings(crawler.settings)
        self._policy = config.policy
        self._mw = crawler.get_downloader_middleware(RightsReservationMiddleware)
        if self._mw is not None and self._mw.denylist is not None:
            listed = self._mw.denylist
            # The column holds 100 characters: the exact digest is what matters.
            self.denylist_version = listed.version if len(listed.version) <= 100 else listed.digest
        try:
            signing = log_signing(crawler.settings)
        except LogKeyError as exc:  # never a crawl taken for signed that is not
            logger.error("%s: not crawling (HEED_LOG_KEY)", exc, extra={"spider": spider})
            self.failed = str(exc)
            raise CloseSpider("audit_unavailable") from None
        try:
            self.store = AuditStore.open(
                self.db,
                batch_size=self.batch_size,
                max_delay=self.max_delay,
                background=self.background,
            )
            self.run_key = resolve_run_key(crawler.settings)
            self.run_id = self.store.start_run(
                crawler_name=f"{crawler.settings.get('BOT_NAME')}/{spider.name}",
                product_token=config.token,
                user_agent=config.user_agent,
                config=run_config(crawler, spider),
                policy=config.policy,
                run_key=self.run_key,
            )
        except Exception as exc:
            logger.error(
                "Audit database %s unavailable, not crawling: %s",
                self.db or "(default)",
                exc,
                extra={"spider": spider},
            )
            self._discard_store()
            self.failed = f"audit database unavailable: {exc}"
            raise CloseSpider("audit_unavailable") from exc
        if signing.key is not None:
            self.store.signer = signing.key.signer
            self.store.checkpoint_interval = signing.interval
        logger.info("%s", signing.describe(), extra={"spider": spider})
        if self.waits_outages:
            self.store.on_commit_error = self._commit_failed
            if self._mw is not None:
                self._mw.holds = self.unavailable
        stats = crawler.stats
        if stats is not None:
            stats.set_value("heed/audit/db", describe(resolve_url(self.db)))
            stats.set_value("heed/audit/run_id", self.run_id)
            stats.set_value("heed/audit/run_key", self.run_key)
        logger.info(
            "Audit trail: %s, run %s (key %s)",
            describe(resolve_url(self.db)),
            self.run_id,
            self.run_key,
            extra={"spider": spider},
        )
        self._tick = create_looping_call(self._flush_idle)
        self._tick.start(min(max(self.max_delay, 0.01), IDLE_CHECK), now=False)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Flush every row, record the end of the run and close the store."""
        if self._tick is not None and self._tick.running:
            self._tick.stop()
        store, self.store = self.store, None
        if store is None or self.run_id is None:
            return
        try:
            store.end_run(self.run_id)
        except Exception:
            logger.exception("Audit: could not end run %s", self.run_id, extra={"spider": spider})
            self._fail_waiting("audit store failed at close")
        finally:
            try:
                store.close()
            except Exception:
                logger.exception("Audit: closing the store failed", extra={"spider": spider})
        self._fail_waiting("the crawl closed before the item was durable")

    # -- rows ----------------------------------------------------------------------------------

    def site_loaded(
        self, origin: str, documents: SiteDocuments, site: Site, stale: bool, spider: Spider
    ) -> None:
        """Record an origin's site-level documents, exact bytes included."""
        store = self.store
        if store is None:
            return
        found = site_documents(documents, site, self._registries)
        try:
            for kind, doc in found:
                for hop in doc.hops:  # each redirect on the way was a request of its own
                    store.record_document(hop, kind=kind, run_id=self.run_id)
                store.record_document(doc, kind=kind, run_id=self.run_id)
        except Exception as exc:  # noqa: BLE001 - _fail logs it and stops the crawl
            self._fail(exc)
        self._last_call = time.monotonic()

    def decided(
        self,
        decision: Decision,
        action: Action,
        request: Request,
        response: Response | None,
        spider: Spider,
    ) -> None:
        """Record one request attempt's decision; put its id in the request's meta."""
        store, run_id = self.store, self.run_id
        if store is None or run_id is None:
            return
        key = request_key(request)
        attempt = 1
        if request.dont_filter:  # only these can be attempted twice in one run
            attempt = self._attempt(key)
        try:
            decision_id = store.record_decision(
                run_id,
                decision,
                action,
                request_key=key,
                attempt=attempt,
                http_status=response.status if response is not None else None,
                denylist_version=self.denylist_version,
            )
        except Exception as exc:  # noqa: BLE001 - _fail logs it and stops the crawl
            self._fail(exc)
            return
        self._last_call = time.monotonic()
        request.meta[DECISION_ID_META] = decision_id

    def _attempt(self, key: str) -> int:
        """Return the attempt number of a request that may be attempted again under *key*.

        In a shared crawl the run counts them in Redis (a retry may go to another worker); when
        Redis does not answer, the worker's own count is placed in a range of its process id,
        above any the run hands out, so that two workers never give the same number.
        """
        local = self._attempts[key] = self._attempts.get(key, 0) + 1
        if self.attempt_counter is None:
            return local
        shared = self.attempt_counter(key)
        if shared is not None:
            return shared
        return OUTAGE_ATTEMPTS + (os.getpid() % 1000) * 1000 + local % 1000

    def request_dropped(self, request: Request, spider: Spider) -> None:
        """Decide a redirect chain whose next hop the scheduler dropped as a duplicate.

        The chain's earlier hops were requested, so the attempt needs its decision; it is sent
        as ``optout_decided`` (recorded by :meth:`decided`, seen by every other listener), so
        that the signal's "once per attempt" holds for such chains too.
        """
        if not request.meta.get("redirect_urls"):
            return  # a plain duplicate: never an attempt of its own
        earlier = self._mw.wire_decision(request) if self._mw is not None else None
        if earlier is not None:  # the redirect that led here was on the wire: its own decision
            self._send_decided(*earlier, spider=spider)
        decision = self._known_decision(request.url)
        # The hop's own verdict when the site says it may not be fetched; otherwise the chain
        # simply ends here (its content is the earlier attempt's): recorded as an error.
        action = before_action(decision, decision.policy) or Action.ERROR
        notes = (DUPLICATE_HOP_NOTE, f"redirect hop from {request.meta['redirect_urls'][-1]}")
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("heed/redirect_to_duplicate")
        decision = replace(decision, notes=notes + decision.notes)
        self._send_decided(request, decision, action, None, spider=spider)

    def _send_decided(
        self,
        request: Request,
        decision: Decision,
        action: Action,
        response: Response | None,
        *,
        spider: Spider,
    ) -> None:
        """Send ``optout_decided`` for a decision made here, counted as the middleware counts."""
        stats = self.crawler.stats
        if stats is not None:  # counted with the middleware's decisions: one per attempt
            stats.inc_value("optout/decisions")
            stats.inc_value(f"optout/action/{action.value}")
        self.crawler.signals.send_catch_log(
            signal=optout_signals.optout_decided,
            decision=decision,
            action=action,
            request=request,
            response=response,
            spider=spider,
        )

    def _known_decision(self, url: str) -> Decision:
        site = None
        if self._mw is not None:
            try:
                site = self._mw.cache.peek(origin_of(url))
            except InvalidURL:
                site = None
        if site is not None:
            return site.before_request(url)
        unchecked = combine(url, (), policy=self._policy or DEFAULT_POLICY, complete=False)
        return replace(unchecked, crawl=Crawl.DEFER)

    async def item_durable(self, item: PageItem) -> PageItem:
        """Record *item* as stored; return it once it and its decision are committed.

        Its ``decision_id`` becomes the stored decision's id (a resumed run maps a re-recorded
        request to the decision stored first) and ``item_id`` the stored item's. Raise DropItem
        if it cannot be recorded: it must not reach the dataset.
        """
        store = self.store
        if store is None:
            raise DropItem(f"not stored: {self.failed or 'no audit run open'} ({item.url})")
        if item.decision_id is None:
            raise DropItem(f"not stored: no audit decision for {item.url}")
        future: asyncio.Future[PageItem] = asyncio.get_running_loop().create_future()
        self._wait(future, item.size)
        recorded = item.decision_id

        def durable(item_id: int) -> None:
            # Runs inside a store call, after the commit: only hand the item on from here.
            self._done_waiting(future)
            if not future.done():
                item.item_id = item_id
                item.decision_id = store.resolve(recorded)
                item.redone = item.decision_id != recorded
                future.set_result(item)

        tokens = estimate_tokens(len(item.text)) if item.text is not None else None
        try:
            store.record_item(
                recorded,
                url=item.url,
                content_type=item.content_type or "application/octet-stream",
                size=item.size,
                tokens=tokens,
                content_sha256=item.sha256,
                on_durable=durable,
            )
        except ValueError as exc:
            self._done_waiting(future)
            raise DropItem(f"not stored: {exc} ({item.url})") from exc
        except Exception as exc:
            self._done_waiting(future)
            self._fail(exc)
            raise DropItem(f"not stored: audit store failed ({item.url})") from exc
        self._last_call = time.monotonic()
        if self._waiting_bytes >= self.max_waiting:
            # Pages enough are held in memory (their responses with them): commit them now.
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value("heed/audit/commit_waiting_bytes")
            self.flush()
        elif self._engine_quiet():
            self.flush()  # nothing else is coming to share the commit: do not wait for it
        return await future

    def commit_recorded(self) -> bool:
        """Commit every row recorded so far; return False if the audit trail has failed or is
        unavailable, when nothing recorded may be taken as durable (the crawl frontier's done
        marks wait on it)."""
        if self.failed is not None or self.outage.active:
            return False
        self.flush()
        return self.failed is None and not self.outage.active

    def durable_since(self, when: float) -> bool:
        """Return True if every row recorded before *when* (``time.monotonic()``) is committed;
        commits nothing (the store commits every ``HEED_AUDIT_MAX_DELAY`` seconds anyway)."""
        store = self.store
        if store is None or self.failed is not None or self.outage.active:
            return False
        try:
            store.poll()  # a background commit that finished
        except Exception as exc:  # noqa: BLE001 - _fail logs it and stops the crawl
            self._fail(exc)
            return False
        return store.durable_since(when)

    def unavailable(self) -> str | None:
        """Return why nothing may be fetched now (an audit database outage), or None."""
        return self.outage.reason

    def flush(self) -> None:
        """Commit every pending row now (and hand waiting items on); while the database is
        unavailable only the retries at the tick commit."""
        if self.store is not None and not self.outage.active:
            try:
                self.store.flush()
            except Exception as exc:  # noqa: BLE001 - _fail logs it and stops the crawl
                self._fail(exc)

    # -- internals -----------------------------------------------------------------------------

    def _flush_idle(self) -> None:
        store = self.store
        if store is None:
            return
        if self.outage.active:
            if self.outage.due():
                self._retry(store)
            return
        if self._commit_error is not None:
            exc, self._commit_error = self._commit_error, None
            self._fail(exc)
            return
        try:
            store.poll()  # a background commit that finished: hand its items on
        except Exception as exc:  # noqa: BLE001 - _fail logs it and stops the crawl
            self._fail(exc)
            return
        if not store.pending:
            return
        if time.monotonic() - self._last_call >= self.max_delay or (
            self._waiting and self._engine_quiet()
        ):
            # Nothing called the store lately, or nothing is in flight: nothing else would
            # commit what waits.
            self.flush()
            self._last_call = time.monotonic()

    def _engine_quiet(self) -> bool:
        """Return True when the engine has no request downloading and none scheduled, or when
        its scraper is full (it takes no more responses until waiting items are committed)."""
        engine = self.crawler.engine
        if engine is None:
            return False
        slot = engine.scraper.slot
        if slot is not None and slot.needs_backout():
            return True
        if engine.downloader.active:
            return False
        scheduler = engine.scheduler
        return scheduler is None or not scheduler.has_pending_requests()

    def _commit_failed(self, exc: BaseException) -> None:
        """A commit inside a record call failed; its rows stay buffered (the store is held)."""
        if is_outage(exc):
            self._outage(exc)
        else:
            self._commit_error = exc

    def _outage(self, exc: BaseException) -> None:
        store = self.store
        assert store is not None
        store.held = True
        began = self.outage.begin(exc, describe(resolve_url(self.db)), store.pending)
        if began and self.crawler.stats is not None:
            self.crawler.stats.inc_value("heed/audit/outages")

    def _retry(self, store: AuditStore) -> None:
        pending = store.pending
        try:
            store.flush()
        except Exception as exc:  # noqa: BLE001 - an outage goes on; anything else fails
            if is_outage(exc):
                self.outage.still()
                return
            self.outage.reason = None
            self._fail(exc)
            return
        store.held = False
        self.outage.end(describe(resolve_url(self.db)), pending)
        self._last_call = time.monotonic()

    def _fail(self, exc: BaseException) -> None:
        if self.waits_outages and self.store is not None and is_outage(exc):
            self._outage(exc)
            return
        spider = self.crawler.spider
        logger.error(
            "Audit store failed, closing the spider: %s",
            exc,
            exc_info=exc,
            extra={"spider": spider},
        )
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("heed/audit/failed")
        self.failed = f"audit store failed: {exc}"
        self._fail_waiting(self.failed)
        self._discard_store()
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            task = asyncio.ensure_future(engine.close_spider_async(reason="audit_failed"))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())

    def _wait(self, future: asyncio.Future[PageItem], size: int) -> None:
        self._waiting[future] = size
        self._waiting_bytes += size

    def _done_waiting(self, future: asyncio.Future[PageItem]) -> None:
        self._waiting_bytes -= self._waiting.pop(future, 0)

    def _fail_waiting(self, why: str) -> None:
        waiting, self._waiting, self._waiting_bytes = self._waiting, {}, 0
        for future in waiting:
            if not future.done():
                future.set_exception(DropItem(f"not stored: {why}"))

    def _discard_store(self) -> None:
        store, self.store = self.store, None
        if store is None:
            return
        try:
            store.close()
        except Exception:  # already failing; the first error was logged
            logger.debug("Audit: closing a failed store raised", exc_info=True)
