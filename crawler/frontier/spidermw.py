"""FrontierSpiderMiddleware: tell the frontier when a response is fully processed.

A page is done, for a resumed crawl, only when everything that came of it is durable: the links
its callback yielded are in the frontier, and its item is in the dataset (which waits for the
audit commit). Scrapy sends no signal at that moment, so this middleware — the one nearest the
engine (``SPIDER_MIDDLEWARES`` order 10) — follows each response's output: it schedules the
requests itself (what Scrapy's scraper would do next, ``engine.crawl``), so that they are in the
scheduler when the callback's output ends; it counts the items and waits for each to leave the
item pipelines (``item_scraped``, ``item_dropped``, ``item_error``). Then it sends
:data:`crawler.signals.request_processed`. A callback that raises is processed too (what it
yielded before is kept; sending it again would raise again); one abandoned by a forced shutdown
is not, and stays pending (docs/architecture.md#resuming-a-crawl).

Only with ``JOBDIR``, or in a shared crawl (``HEED_REDIS_URL``: the run's queue acknowledges a
request on it); ``NotConfigured`` otherwise: nothing is resumed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.job import job_dir

from crawler import signals as heed_signals
from crawler.frontier.finishing import TOKEN_META

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Iterator
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response


class _Output:
    """What a response's output still owes: items in the pipelines, and whether it has ended."""

    __slots__ = ("ended", "items")

    def __init__(self) -> None:
        self.items = 0
        self.ended = False


class FrontierSpiderMiddleware:
    """Send ``request_processed`` once a response's requests are scheduled and its items are
    through the pipelines; see the module."""

    def __init__(self, crawler: Crawler) -> None:
        if not job_dir(crawler.settings) and not crawler.settings.get("HEED_REDIS_URL"):
            # No message: Scrapy logs a disabled component with a reason as a WARNING, and a
            # crawl without JOBDIR is the ordinary case, not something to warn about.
            raise NotConfigured
        self.crawler = crawler
        self._outputs: dict[Response, _Output] = {}
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(self._item_done, signal=signal)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Return the middleware for *crawler* (Scrapy's component constructor)."""
        return cls(crawler)

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        """Schedule the requests of *result*, pass its items on, note when it ends."""
        output = self._begin(response)
        try:
            for element in result:
                if self._passes(element, output):
                    yield element
        except Exception:
            self._end(response, output)
            raise
        self._end(response, output)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        """Schedule the requests of *result*, pass its items on, note when it ends."""
        output = self._begin(response)
        try:
            async for element in result:
                if self._passes(element, output):
                    yield element
        except Exception:
            self._end(response, output)
            raise
        self._end(response, output)

    def _begin(self, response: Response) -> _Output:
        # The token marks follow-ups of a request (a redirect hop copies it); a child request
        # whose meta was copied from the response must not look like one.
        if response.request is not None:
            response.request.meta.pop(TOKEN_META, None)
        output = self._outputs[response] = _Output()
        return output

    def _passes(self, element: Any, output: _Output) -> bool:
        if isinstance(element, Request):
            element.meta.pop(TOKEN_META, None)
            engine = self.crawler.engine
            assert engine is not None
            engine.crawl(element)
            return False
        if element is not None:
            output.items += 1
        return True

    def _end(self, response: Response, output: _Output) -> None:
        output.ended = True
        self._settle(response, output)

    def _item_done(self, item: Any, response: Response | None, **kwargs: Any) -> None:
        output = self._outputs.get(response) if response is not None else None
        if output is not None:
            output.items -= 1
            self._settle(response, output)

    def _settle(self, response: Response | None, output: _Output) -> None:
        if not output.ended or output.items > 0 or response is None:
            return
        del self._outputs[response]
        self.crawler.signals.send_catch_log(
            heed_signals.request_processed, request=response.request, spider=self.crawler.spider
        )
