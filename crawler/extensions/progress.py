"""The progress line: every few seconds, pages/s, items stored and attempts skipped by reason.

Counted from the crawl's stats (``optout/action/*`` from the rights-reservation middleware,
``item_scraped_count`` from Scrapy: items that passed the dataset pipeline, i.e. durable and
written), logged at INFO through the ``crawler.extensions.progress`` logger.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

from optout.action import Action

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.utils.asyncio import AsyncioLoopingCall
    from twisted.internet.task import LoopingCall

logger = logging.getLogger(__name__)


#: Skip reasons in the progress line, by action.
SKIP_LABELS = {
    Action.SKIPPED_ROBOTS: "robots",
    Action.SKIPPED_RESERVATION: "reservation",
    Action.FETCHED_EXCLUDED: "excluded",
    Action.DEFERRED: "deferred",
    Action.ACCESS_RESTRICTED: "restricted",
    Action.DENYLISTED: "denylisted",
    Action.ERROR: "error",
}


def progress_counts(stats: dict[str, Any]) -> tuple[int, int, dict[str, int]]:
    """Return (decisions, items stored, skipped attempts by reason) from crawl stats."""
    skipped = {
        label: int(stats.get(f"optout/action/{action.value}", 0))
        for action, label in SKIP_LABELS.items()
    }
    stored = int(stats.get("item_scraped_count", 0))
    return int(stats.get("optout/decisions", 0)), stored, skipped


class ProgressExtension:
    """Log a progress line every ``HEED_PROGRESS_INTERVAL`` seconds (0: off).

    ``Heed: 1,234 decided (205.3 pages/s), 1,100 stored, 134 skipped (robots 50, …)``
    """

    def __init__(self, crawler: Crawler) -> None:
        self.interval = crawler.settings.getfloat("HEED_PROGRESS_INTERVAL", 5.0)
        if self.interval <= 0:
            raise NotConfigured("HEED_PROGRESS_INTERVAL is 0")
        self.crawler = crawler
        self._task: AsyncioLoopingCall | LoopingCall | None = None
        self._last = self._start = (time.monotonic(), 0)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Return the extension for *crawler* (Scrapy's component constructor)."""
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        """Start the timer."""
        self._last = self._start = (time.monotonic(), 0)
        self._task = create_looping_call(self.log)
        self._task.start(self.interval, now=False)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Stop the timer and log the final line."""
        if self._task is not None and self._task.running:
            self._task.stop()
        self.log(final=True)

    def log(self, final: bool = False) -> None:
        """Log one progress line."""
        if self.crawler.stats is None:
            return
        decided, stored, skipped = progress_counts(self.crawler.stats.get_stats())
        now = time.monotonic()
        # The final line's rate is the whole crawl's, not the last interval's.
        then, before = self._start if final else self._last
        rate = (decided - before) / (now - then) if now > then else 0.0
        self._last = (now, decided)
        detail = ", ".join(f"{label} {n:,}" for label, n in skipped.items() if n)
        logger.info(
            "Heed%s: %s decided (%.1f pages/s), %s stored, %s skipped%s",
            " (final)" if final else "",
            f"{decided:,}",
            rate,
            f"{stored:,}",
            f"{sum(skipped.values()):,}",
            f" ({detail})" if detail else "",
            extra={"spider": self.crawler.spider},
        )
