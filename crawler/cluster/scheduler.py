"""ClusterScheduler: the scheduler of a worker of a shared crawl (``heed crawl --redis``).

scrapy-redis's ``Scheduler`` with its queue replaced by :class:`~crawler.cluster.queue.
LeasedQueue` and what a compliance crawl cannot accept changed:

* a request handed out is leased, not popped; it is acknowledged only when everything that came
  of it is durable — its decision and item committed to the audit database (the same test as the
  crash-safe frontier's, :meth:`AuditExtension.commit_recorded`), its links in the queue
  (:class:`~crawler.frontier.spidermw.FrontierSpiderMiddleware` says when) — so a worker killed
  at any moment loses nothing: its leases expire and any worker puts them back;
* the duplicate filter and the page budget are checked in the script that queues (atomic);
* requests are JSON (:mod:`crawler.cluster.codec`), never pickles; one that cannot be encoded
  stays in this worker's memory, counted (``heed/cluster/unshareable``) and warned about;
* the queue is never flushed when a worker closes (scrapy-redis's default deletes it: the first
  worker to finish would wipe the others' frontier);
* Redis not answering stops this worker fetching (fail closed): no request is taken, links and
  acknowledgements wait in memory, the spider is kept open; all resumes when Redis answers;
* the audit database not answering stops this worker fetching too: it hands out nothing and
  keeps its leases until the database answers (:mod:`crawler.extensions.auditoutage`);
* a worker closes when the run is finished — nothing queued, nothing leased by any worker — or
  when the run is stopped (``heed cluster status --stop``).

Every ``HEED_CLUSTER_TICK`` seconds the worker acknowledges what is durable, renews its leases,
puts expired leases back, writes its heartbeat and looks for a stop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections import deque
from itertools import count
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.asyncio import create_looping_call
from scrapy_redis.scheduler import Scheduler

from crawler import signals as heed_signals
from crawler.cluster import codec
from crawler.cluster.exchange import PREFETCH, Exchange
from crawler.cluster.keys import REDIS_ERRORS, ClusterError, connect, describe
from crawler.cluster.queue import LeasedQueue, Push
from crawler.cluster.run import ClusterRun
from crawler.frontier.finishing import TOKEN_META, FinishSignals
from crawler.wire import continues_attempt

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.utils.asyncio import AsyncioLoopingCall
    from twisted.internet.task import LoopingCall

    from crawler.extensions.audit import AuditExtension

logger = logging.getLogger(__name__)

#: Seconds an empty queue (or its counted length) is believed before Redis is asked again.
_QUIET = 0.05
#: Fingerprints, at most, kept in a worker's shortcut of the run's seen set (16 bytes each).
_SEEN_HERE_MAX = 2_000_000

#: The close reason of a worker whose run was stopped with ``heed cluster status --stop``.
STOPPED_REASON = "cluster_stopped"


def worker_name() -> str:
    """Return this process's name among a run's workers: host and process id."""
    return f"{socket.gethostname()}-{os.getpid()}"


class ClusterScheduler(FinishSignals, Scheduler):  # type: ignore[misc]  # scrapy-redis is untyped
    """The scheduler of one worker of a shared run; see the module."""

    queue: LeasedQueue
    #: A plain GET whose URL the run has seen is dropped (the spider's known links rely on it).
    drops_seen_urls = True

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Return the scheduler of ``HEED_RUN_KEY`` on the Redis at ``HEED_REDIS_URL``."""
        settings = crawler.settings
        url, run = settings.get("HEED_REDIS_URL"), settings.get("HEED_RUN_KEY")
        if not url or not run:
            raise ClusterError("a shared crawl needs HEED_REDIS_URL and HEED_RUN_KEY")
        scheduler = cls(server=connect(url), persist=True, queue_key=run, serializer=codec)
        scheduler._attach(crawler, url, run)
        return scheduler

    def _attach(self, crawler: Crawler, url: str, run: str) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.url = url
        self.run = ClusterRun(self.server, run)
        self.worker = worker_name()
        self.lease_ms = int(settings.getfloat("HEED_CLUSTER_LEASE", 60.0) * 1000)
        self.tick_interval = max(settings.getfloat("HEED_CLUSTER_TICK", 0.5), 0.02)
        self.fingerprint = crawler.request_fingerprinter.fingerprint
        self.max_pages: int | None = None
        #: Pages scheduled in the whole run, as of this worker's last look.
        self.pages_scheduled = 0
        #: Requests handed out: token → (request, lease id); and request → token.
        self._out: dict[int, tuple[Request, str]] = {}
        self._tokens: dict[Request, int] = {}
        self._next_token = count(1)
        #: Lease ids finished and waiting for the audit commit before they are acknowledged.
        self._finished: list[tuple[str, float]] = []
        #: Requests to queue once Redis answers again; requests that cannot be shared.
        self._held_back: deque[Request] = deque()
        self._local: deque[Request] = deque()
        self._unshareable = 0
        self.unavailable: str | None = None
        self.stopping = False
        self._last_beat = 0.0
        self._audit: AuditExtension | None = None
        self._tick: AsyncioLoopingCall | LoopingCall | None = None
        self._started = time.time()
        #: When a pop last found the queue empty, and the queue's length as last counted: the
        #: engine asks many times a second; the tick wakes it when other workers queue work.
        self._empty_at = -1.0
        self._counted_at, self._length = -1.0, 0
        #: Fingerprints this worker knows are in the run's seen set (which only grows): a link
        #: to one of them is a duplicate without a round trip to Redis.
        self._seen_here: set[bytes] = set()
        self.connect_finish_signals(crawler)
        crawler.signals.connect(self._released, signal=heed_signals.request_released)
        crawler.signals.connect(self._idle, signal=signals.spider_idle)

    # -- Scrapy's scheduler interface ----------------------------------------------------------

    def open(self, spider: Spider) -> None:
        """Open the run's queue in Redis and start the worker's tick."""
        self.spider = spider
        self.queue = LeasedQueue(
            self.server, spider, self.run.run, worker=self.worker, lease_ms=self.lease_ms
        )
        self.exchange = Exchange(self.queue)
        self.df = None
        max_pages = getattr(spider, "max_pages", None)
        self.max_pages = int(max_pages) if max_pages is not None else None
        setattr(spider, "shared_budget", self)  # noqa: B010 - the run's page budget, counted here
        from crawler.extensions.audit import AuditExtension  # SQLAlchemy: only when crawling

        assert self.crawler is not None
        self._audit = self.crawler.get_extension(AuditExtension)
        if self._audit is not None:
            self._audit.attempt_counter = self.next_attempt
        self._beat(force=True)
        logger.info(
            "Worker %s of run %s on %s: %d requests queued",
            self.worker,
            self.run.run,
            describe(self.url),
            len(self.queue),
            extra={"spider": spider},
        )
        self._tick = create_looping_call(self.tick)
        self._tick.start(self.tick_interval, now=False)

    def close(self, reason: str) -> None:
        """Acknowledge what is durable, give back the leases still held, say goodbye."""
        if self._tick is not None and self._tick.running:
            self._tick.stop()
        try:
            self._push_held_back()
            self._acknowledge(commit=True)
            held = [lease for _, lease in self._out.values()] + self.exchange.leases()
            released = self.queue.release(held)
            if released and self.stats is not None:
                self.stats.inc_value("heed/cluster/released", released)
            self._beat(force=True, state=f"closed ({reason})")
        except REDIS_ERRORS as exc:
            logger.warning(
                "Redis unavailable at close (%s): this worker's leases return to the queue "
                "when they expire",
                exc,
                extra={"spider": self.spider},
            )
        if self._local:
            logger.warning(
                "%d requests that could not be shared were not crawled",
                len(self._local),
                extra={"spider": self.spider},
            )

    def enqueue_request(self, request: Request) -> bool:
        """Queue *request* in the run unless it was seen or the page budget is spent."""
        request.meta.pop(TOKEN_META, None)
        if self.unavailable is not None:
            self._held_back.append(request)
            return True
        try:
            return self._push(request)
        except REDIS_ERRORS as exc:
            self._outage(exc)
            self._held_back.append(request)
            return True

    def _push(self, request: Request) -> bool:
        fingerprint = self.fingerprint(request)
        if not request.dont_filter and fingerprint in self._seen_here:
            self._inc("dupefilter/filtered")  # in the run's seen set: no need to ask Redis
            return False
        counted = not continues_attempt(request)
        try:
            data = self.queue.encode(request)
        except ValueError as exc:
            self._keep_local(request, exc)
            return True
        push = Push(data, fingerprint.hex(), request.priority, counted, not request.dont_filter)
        self._empty_at = self._counted_at = -1.0  # there may be work now
        self.exchange.outbox.append((request, push))
        if counted and not request.dont_filter and not request.meta.get("redirect_urls"):
            self._seen_known(fingerprint)  # a plain link waits for the next round trip
            if self.exchange.full():
                self._send()
            return True
        try:
            return self._send()[-1] > 0  # the engine must know now whether it was dropped
        except REDIS_ERRORS:
            self.exchange.outbox.pop()  # held back by the caller instead
            raise

    def _send(self, pop_count: int = 0) -> list[int]:
        """Queue the outbox (and take leases ahead); count what became of each request."""
        results = []
        for push, result in self.exchange.send(pop_count, self.max_pages):
            if result < 0:
                self._inc("heed/pages/over_budget")
            else:
                self._seen_known(bytes.fromhex(push.fingerprint))
                if result == 0:
                    self._inc("dupefilter/filtered")
                else:
                    self.pages_scheduled += push.counted
                    self._inc("scheduler/enqueued/redis")
            results.append(result)
        return results

    def _seen_known(self, fingerprint: bytes) -> None:
        if len(self._seen_here) >= _SEEN_HERE_MAX:
            self._seen_here.clear()  # only a shortcut: Redis's set stays the filter
        self._seen_here.add(fingerprint)

    def _keep_local(self, request: Request, exc: Exception) -> None:
        self._unshareable += 1
        self._inc("heed/cluster/unshareable")
        if self._unshareable == 1:
            logger.warning(
                "Not shared with the other workers: %s (%s); crawled by this worker only, and "
                "lost if it dies. Further ones are only counted",
                request,
                exc,
                extra={"spider": self.spider},
            )
        self._local.append(request)

    def next_request(self) -> Request | None:
        """Lease the run's next request (None while Redis is unavailable or the run stops)."""
        if self._audit_down():
            return None  # nothing fetched could be recorded: wait (crawler.extensions.auditoutage)
        if self._local:
            return self._local.popleft()
        if self.unavailable is not None or self.stopping:
            return None
        ready = self.exchange.ready
        if not ready:
            now = time.monotonic()
            if not self.exchange.outbox and now - self._empty_at < _QUIET:
                return None
            try:
                self._send(PREFETCH)
            except REDIS_ERRORS as exc:
                self._outage(exc)
                return None
            if not ready:
                self._empty_at = now
                return None
        lease, request = ready.popleft()
        token = next(self._next_token)
        request.meta[TOKEN_META] = token
        self._out[token] = (request, lease)
        self._tokens[request] = token
        self._inc("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        """Return True while the run has requests queued (or Redis cannot say)."""
        if self._local or self._held_back or self.exchange or self.unavailable is not None:
            return True
        if self.stopping:
            return False
        now = time.monotonic()
        if now - self._counted_at >= _QUIET:
            try:
                self._counted_at, self._length = now, len(self.queue)
            except REDIS_ERRORS as exc:
                self._outage(exc)
                return True
        return self._length > 0

    def __len__(self) -> int:
        return len(self.queue) + len(self._local) + len(self.exchange)

    # -- the run's attempt numbers --------------------------------------------------------------

    def next_attempt(self, request_key: str) -> int | None:
        """Return the next attempt number of *request_key* in the whole run (None: unknown)."""
        if self.unavailable is not None:
            return None
        try:
            return int(self.server.hincrby(self.run.keys.key("attempts"), request_key, 1))
        except REDIS_ERRORS as exc:
            self._outage(exc)
            return None

    # -- when a request is finished ------------------------------------------------------------

    def finish(self, request: Request) -> None:
        """Note that *request*, handed out here, came to an end: acknowledged once durable."""
        token = self._tokens.pop(request, None)
        if token is None:
            return
        request.meta.pop(TOKEN_META, None)
        _, lease = self._out.pop(token)
        self._finished.append((lease, time.monotonic()))

    def _released(self, request: Request, spider: Spider) -> None:
        """A request given up unsent (Redis or the audit database down): back in the queue now
        if Redis answers, else when its lease expires."""
        token = self._tokens.pop(request, None)
        if token is not None:
            _, lease = self._out.pop(token)
            if self.unavailable is None:
                try:
                    self.queue.release([lease])
                    self._empty_at = -1.0
                except REDIS_ERRORS as exc:
                    self._outage(exc)
        self._inc("heed/cluster/given_back")

    # -- the tick ------------------------------------------------------------------------------

    def tick(self) -> None:
        """Acknowledge, renew, reap, beat, look for a stop (and notice Redis coming back)."""
        try:
            if self.unavailable is not None:
                self.server.ping()
                self._recovered()
            self._push_held_back()
            self._acknowledge()
            self._beat()
            if not self.stopping and self.run.stopped():
                self._stop()
            elif len(self.queue) > 0:
                self._empty_at = self._counted_at = -1.0
                self._wake()
        except REDIS_ERRORS as exc:
            self._outage(exc)

    def _push_held_back(self) -> None:
        while self._held_back:
            self._push(self._held_back[0])
            self._held_back.popleft()

    def _acknowledge(self, *, commit: bool = False) -> None:
        """Acknowledge the finished requests whose rows are committed (*commit*: commit them
        now; else the audit store's own commits, every HEED_AUDIT_MAX_DELAY, are awaited)."""
        if self.exchange.outbox:
            self._send()  # a request is acknowledged only once its links are in the queue
        finished = self._finished
        if not finished:
            return
        audit = self._audit
        if (
            audit is None
            or (commit and audit.commit_recorded())
            or audit.durable_since(finished[-1][1])  # the usual case: all of them
        ):
            done = len(finished)
        else:  # finished in time order: those finished before the last commit was taken
            done = 0
            while done < len(finished) and audit.durable_since(finished[done][1]):
                done += 1
        if done:
            self.queue.ack(lease for lease, _ in finished[:done])
            del finished[:done]

    def _beat(self, *, force: bool = False, state: str = "crawling") -> None:
        now = time.monotonic()
        if not force and now - self._last_beat < self.lease_ms / 4000:
            return
        self._last_beat = now
        # Finished requests too: they stay leased until durable (an audit database outage).
        held = [lease for _, lease in self._out.values()] + [lease for lease, _ in self._finished]
        lost = self.queue.renew(held + self.exchange.leases())
        if lost:
            self._inc("heed/cluster/leases_lost", lost)
        requeued = self.queue.reap()
        if requeued:
            self._inc("heed/cluster/requeued", requeued)
            logger.info(
                "Put back %d requests whose worker stopped renewing them",
                requeued,
                extra={"spider": self.spider},
            )
        stats = self.stats.get_stats() if self.stats is not None else {}
        self.run.heartbeat(
            self.worker,
            {
                "state": self._state(state),
                "started": self._started,
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "interval": self.lease_ms / 4000,
                "requests": int(stats.get("scheduler/dequeued/redis", 0)),
                "pages": int(stats.get("optout/action/fetched-stored", 0))
                + int(stats.get("optout/action/fetched-not-kept", 0)),
                "decisions": int(stats.get("optout/decisions", 0)),
                "actions": {
                    k.removeprefix("optout/action/"): v
                    for k, v in stats.items()
                    if k.startswith("optout/action/")
                },
            },
        )
        self.pages_scheduled = self.run.figures()["pages"]

    def _state(self, state: str) -> str:
        if state != "crawling":
            return state
        if self.stopping:
            return "stopping"
        return "waiting for the audit database" if self._audit_down() else state

    def _idle(self, spider: Spider) -> None:
        """Keep the worker open until the run is finished: nothing queued, nothing leased."""
        if self.stopping:
            return
        if self.unavailable is not None or self._held_back or self._audit_down():
            raise DontCloseSpider
        try:
            self._acknowledge(commit=True)
            figures = self.run.figures()
        except REDIS_ERRORS as exc:
            self._outage(exc)
            raise DontCloseSpider from None
        if figures["stopped"]:
            self._stop()
            return
        if figures["queued"] or figures["leased"] or self._finished:
            raise DontCloseSpider

    def _stop(self) -> None:
        self.stopping = True
        logger.info("Run %s was stopped: finishing", self.run.run, extra={"spider": self.spider})
        engine = self.crawler.engine if self.crawler is not None else None
        if engine is not None and engine.spider is not None:
            task = asyncio.ensure_future(engine.close_spider_async(reason=STOPPED_REASON))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())

    def _wake(self) -> None:
        # Work queued by other workers: let the engine ask for it now rather than at its next
        # heartbeat (5 s). Scrapy has no public call for this.
        engine = self.crawler.engine if self.crawler is not None else None
        slot = getattr(engine, "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None:
            nextcall.schedule()

    # -- Redis outages -------------------------------------------------------------------------

    def _outage(self, exc: BaseException) -> None:
        if self.unavailable is None:
            self.unavailable = str(exc) or type(exc).__name__
            self._inc("heed/cluster/outages")
            logger.error(
                "Redis at %s unavailable (%s): not fetching until it answers",
                describe(self.url),
                self.unavailable,
                extra={"spider": self.spider},
            )

    def _recovered(self) -> None:
        logger.warning(
            "Redis at %s answers again: resuming", describe(self.url), extra={"spider": self.spider}
        )
        self.unavailable = None
        self._beat(force=True)  # renew this worker's leases before any are put back
        self._wake()

    def _audit_down(self) -> bool:
        return self._audit is not None and self._audit.outage.active

    def _inc(self, key: str, n: int = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(key, n)
