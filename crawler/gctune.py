"""Garbage-collector tuning for a long crawl (``HEED_GC_TUNING``).

Measured on Heed's crawl benchmark (bench/crawl_overhead.py): CPython's cyclic collector took about
a quarter of the crawl's CPU time, most of it in full (generation 2) collections that re-scan every
object created at start-up — modules, Scrapy's components, the SQLAlchemy engine, compiled
policies — although none of them ever becomes garbage. At ``spider_opened`` this extension moves
those objects to the permanent generation (:func:`gc.freeze`) and raises the generation-0
threshold (``HEED_GC_THRESHOLD``, CPython's default is 700), so collections run less often over
fewer objects. The price is memory: cyclic garbage (Twisted failures, Deferred chains) lives a
little longer before it is collected — tens of MB at most on the benchmark. Everything is
restored at ``spider_closed``. Reference counting, which frees almost everything, is untouched.
"""

from __future__ import annotations

import gc
import logging
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class GcTuningExtension:
    """Freeze start-up objects out of the collector and collect less often; see the module."""

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("HEED_GC_TUNING", True):
            raise NotConfigured("HEED_GC_TUNING is False")
        self.threshold = crawler.settings.getint("HEED_GC_THRESHOLD", 10_000)
        self._saved: tuple[int, int, int] | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Return the extension for *crawler* (Scrapy's component constructor)."""
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        """Freeze what exists now; raise the generation-0 threshold."""
        gc.collect()
        gc.freeze()
        self._saved = gc.get_threshold()
        _, gen1, gen2 = self._saved
        gc.set_threshold(max(self.threshold, 1), gen1, gen2)
        logger.debug(
            "GC tuned: %d start-up objects frozen, generation-0 threshold %d",
            gc.get_freeze_count(),
            self.threshold,
            extra={"spider": spider},
        )

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Restore the collector as it was."""
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None
        gc.unfreeze()
