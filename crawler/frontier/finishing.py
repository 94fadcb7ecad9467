"""FinishSignals: when a request a scheduler handed out comes to an end, for both frontiers.

The crash-safe frontier (:mod:`crawler.frontier.scheduler`) and a shared crawl's
(:mod:`crawler.cluster.scheduler`) tag each request they hand out with :data:`TOKEN_META` and
keep it in ``_out`` by token; what "finished" then means to each is its :meth:`finish`. A request
comes to an end when a follow-up of it is scheduled (a redirect hop, retry or canonical
replacement: a request of its own), when it is decided without going on to the spider (not
sent, withheld, failed), or when the spider has processed its response entirely
(:data:`crawler.signals.request_processed`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy import signals

from crawler import signals as heed_signals
from optout.action import Action

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from optout.decision import Decision

#: Request meta key: the token of a request the scheduler handed out (copied into its redirect
#: hop, retry or canonical replacement, which is how the scheduler recognises a follow-up).
TOKEN_META = "heed_frontier_token"
#: Actions after which the response goes on to the spider: the attempt is not over yet.
PASSED_ON = frozenset({Action.FETCHED_STORED, Action.FETCHED_NOT_KEPT, Action.REDIRECTED})


class FinishSignals:
    """Call :meth:`finish` for a handed-out request once it has come to an end; see the module."""

    #: token → (the request handed out, what the scheduler keeps about it).
    _out: dict[int, tuple[Request, Any]]

    def finish(self, request: Request) -> None:
        """Note that *request*, handed out by this scheduler, came to an end."""
        raise NotImplementedError

    def connect_finish_signals(self, crawler: Crawler) -> None:
        """Follow *crawler*'s signals that end a handed-out request."""
        crawler.signals.connect(self._scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(self._decided, signal=heed_signals.optout_decided)
        crawler.signals.connect(self._processed, signal=heed_signals.request_processed)

    def _scheduled(self, request: Request, spider: Spider) -> None:
        """A follow-up of a request handed out ends that request: it is a request of its own
        (sent before the scheduler accepts it)."""
        token = request.meta.pop(TOKEN_META, None)
        if token is not None and token in self._out:
            self.finish(self._out[token][0])

    def _decided(
        self,
        decision: Decision,
        action: Action,
        request: Request,
        response: Response | None,
        spider: Spider,
    ) -> None:
        """A request dropped with its decision (not sent, withheld, failed) is finished."""
        if action not in PASSED_ON:
            self.finish(request)

    def _processed(self, request: Request, spider: Spider) -> None:
        self.finish(request)
