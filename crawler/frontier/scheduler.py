"""FrontierScheduler: Scrapy's scheduler, resumable after a crash from a frontier in ``JOBDIR``.

Scrapy keeps a job's queue in ``JOBDIR`` but writes its state only when the crawl closes
cleanly, while its duplicate filter's ``requests.seen`` is appended as the crawl goes: after a
``kill -9`` or a second Ctrl-C the queue is lost and the seeds are filtered as already seen, so
the same command finds nothing to do. This scheduler keeps Scrapy's in-memory priority queues,
and with ``JOBDIR`` records every request it accepts in a :class:`~crawler.frontier.store.
FrontierStore` (``JOBDIR/heed-frontier.sqlite3``), marks it done once everything that came of it
is durable, and on start puts every request not done back in the queue. Its duplicate filter
knows only the fingerprints the frontier committed, so a request lost in a crash is not taken
for one already seen. How "done" is established is in docs/architecture.md#resuming-a-crawl.

Without ``JOBDIR`` it is Scrapy's scheduler with in-memory queues, unchanged.
"""

from __future__ import annotations

import logging
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.core.scheduler import Scheduler
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.conf import build_component_list
from scrapy.utils.job import job_dir
from scrapy.utils.misc import load_object
from scrapy.utils.request import request_from_dict

from crawler.frontier.dupefilter import FrontierDupeFilter
from crawler.frontier.finishing import TOKEN_META, FinishSignals
from crawler.frontier.store import FRONTIER_FILE, FrontierStore

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.utils.asyncio import AsyncioLoopingCall
    from twisted.internet.task import LoopingCall

    from crawler.extensions.audit import AuditExtension

logger = logging.getLogger(__name__)

#: The spider middleware that says when a response is processed (without it nothing is done).
_SPIDER_MIDDLEWARE = "crawler.frontier.spidermw.FrontierSpiderMiddleware"
#: Files of Scrapy's own JOBDIR queue (an earlier Heed wrote them), which a crash leaves unusable.
_SCRAPY_JOB_FILES = ("requests.seen", "requests.queue")


class FrontierScheduler(FinishSignals, Scheduler):
    """Scrapy's scheduler with a crash-safe frontier in ``JOBDIR``; see the module."""

    store: FrontierStore | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Return the scheduler: Scrapy's without ``JOBDIR``; with it, on the frontier there."""
        jobdir = job_dir(crawler.settings)
        if not jobdir:
            return super().from_crawler(crawler)
        settings = crawler.settings
        store = FrontierStore(Path(jobdir) / FRONTIER_FILE)
        scheduler = cls(
            dupefilter=FrontierDupeFilter(
                store.fingerprints(),
                debug=settings.getbool("DUPEFILTER_DEBUG"),
                fingerprinter=crawler.request_fingerprinter,
            ),
            jobdir=None,  # the frontier is the persistent queue; Scrapy's queues stay in memory
            mqclass=load_object(settings["SCHEDULER_MEMORY_QUEUE"]),
            logunser=settings.getbool("SCHEDULER_DEBUG"),
            stats=crawler.stats,
            pqclass=load_object(settings["SCHEDULER_PRIORITY_QUEUE"]),
            crawler=crawler,
        )
        scheduler._attach(store, crawler, jobdir)
        return scheduler

    def _attach(self, store: FrontierStore, crawler: Crawler, jobdir: str) -> None:
        self.store = store
        self.jobdir = jobdir
        self.interval = max(crawler.settings.getfloat("HEED_AUDIT_MAX_DELAY", 1.0), 0.05)
        self.fingerprint = crawler.request_fingerprinter.fingerprint
        #: Fingerprint → copies of the request queued or in progress (0: done, not kept).
        self._live: dict[bytes, int] = {}
        #: Requests handed out and not finished: token → (request, fingerprint), and back.
        self._out: dict[int, tuple[Request, bytes]] = {}
        self._tokens: dict[Request, int] = {}
        self._next_token = count(1)
        self._audit: AuditExtension | None = None
        self._tick: AsyncioLoopingCall | LoopingCall | None = None
        self._unserialisable = 0
        self.connect_finish_signals(crawler)

    # -- Scrapy's scheduler interface ------------------------------------------------------------

    def open(self, spider: Spider) -> Any:
        """Open the queues; with the frontier, restore the spider's state and re-queue every
        request not done."""
        opened = super().open(spider)
        store = self.store
        if store is None:
            return opened
        assert self.crawler is not None
        self._restore_state(spider, store.load_state())
        pending = store.pending()
        for fp, data in pending:
            self._mqpush(request_from_dict(data, spider=spider))
            self._live[fp] = self._live.get(fp, 0) + 1
        if self.stats is not None:
            self.stats.set_value("heed/frontier/resumed", len(pending))
        self._announce(spider, len(pending), store.done_count())
        from crawler.extensions.audit import AuditExtension  # SQLAlchemy: only when crawling

        self._audit = self.crawler.get_extension(AuditExtension)
        self._tick = create_looping_call(self.commit)
        self._tick.start(self.interval, now=False)
        return opened

    def _announce(self, spider: Spider, pending: int, done: int) -> None:
        extra = {"spider": spider}
        if pending or done:
            logger.info(
                "Resuming the crawl in %s: %d requests to go, %d done",
                self.jobdir,
                pending,
                done,
                extra=extra,
            )
        elif any((Path(self.jobdir) / name).exists() for name in _SCRAPY_JOB_FILES):
            logger.warning(
                "%s holds a queue from an earlier version, not resumable after a crash: "
                "starting over from the seeds (pages already fetched are requested again; "
                "their decisions and dataset lines are not written twice)",
                self.jobdir,
                extra=extra,
            )
        assert self.crawler is not None
        enabled = build_component_list(self.crawler.settings.getwithbase("SPIDER_MIDDLEWARES"))
        if _SPIDER_MIDDLEWARE not in enabled:
            logger.warning(
                "%s is not enabled: pages are never marked done, and a resumed crawl fetches "
                "them again",
                _SPIDER_MIDDLEWARE,
                extra=extra,
            )

    def close(self, reason: str) -> Any:
        """Commit the frontier a last time and close it (requests not done stay pending)."""
        store = self.store
        if store is not None:
            if self._tick is not None and self._tick.running:
                self._tick.stop()
            try:
                self.commit()
            finally:
                store.close()
            if reason == "finished" and self._live:
                logger.warning(
                    "%d requests were scheduled and never finished; a resumed crawl sends them",
                    len(self._live),
                    extra={"spider": self.spider},
                )
        return super().close(reason)

    def enqueue_request(self, request: Request) -> bool:
        """Queue *request* unless it is a duplicate; record it in the frontier as pending."""
        if not super().enqueue_request(request):
            return False
        store = self.store
        if store is None:
            return True
        fp = self.fingerprint(request)
        try:
            store.add(fp, request.to_dict(spider=self.spider))
        except ValueError as exc:
            self._unserialisable += 1
            if self.stats is not None:
                self.stats.inc_value("heed/frontier/unserialisable")
            if self._unserialisable == 1:
                logger.warning(
                    "Not resumable after a crash: %s (%s); further ones are only counted",
                    request,
                    exc,
                    extra={"spider": self.spider},
                )
            return True
        self._live[fp] = self._live.get(fp, 0) + 1
        return True

    def next_request(self) -> Request | None:
        """Return the next request, tagged so that its end (or its follow-up) is recognised."""
        request = super().next_request()
        if request is None or self.store is None:
            return request
        fp = self.fingerprint(request)
        if fp in self._live:
            token = next(self._next_token)
            request.meta[TOKEN_META] = token
            self._out[token] = (request, fp)
            self._tokens[request] = token
        return request

    # -- when a request is finished ----------------------------------------------------------

    def finish(self, request: Request) -> None:
        """Note that *request*, handed out by this scheduler, came to an end."""
        token = self._tokens.pop(request, None)
        if token is None:
            return
        request.meta.pop(TOKEN_META, None)
        _, fp = self._out.pop(token)
        left = self._live.get(fp, 1) - 1
        if left > 0:
            self._live[fp] = left
            return
        self._live.pop(fp, None)
        assert self.store is not None
        self.store.done(fp)

    # -- commits ---------------------------------------------------------------------------------

    def commit(self) -> None:
        """Commit the frontier's changes: what became pending, and — once the audit trail has
        committed every row recorded so far — what became done."""
        store = self.store
        if store is None:
            return
        state = getattr(self.spider, "state", None)
        if isinstance(state, dict):
            store.set_state(state)
        if not store.changed:
            return
        durable = self._audit is None or self._audit.commit_recorded()
        store.commit(done=durable)

    @staticmethod
    def _restore_state(spider: Spider, kept: dict[str, Any] | None) -> None:
        """Give *spider* its ``state`` as the last commit kept it (Scrapy's SpiderState
        extension, which keeps it only at a clean close, is switched off in the settings)."""
        state = getattr(spider, "state", None)
        if not isinstance(state, dict):
            state = {}
            setattr(spider, "state", state)  # noqa: B010 - Scrapy's Spider declares no state
        if kept:
            state.update(kept)
