"""Garbage-collector tuning for a long crawl (``HEED_GC_TUNING``).

Measured on Heed's crawl benchmark (bench/crawl_overhead.py): CPython's cyclic collector took about
a quarter of the crawl's CPU time, most of it in full (generation 2) collections that re-scan every
object created at start-up — modules, Scrapy's components, the SQLAlchemy engine, compiled
policies — and every request waiting in the scheduler, although none of them is garbage. At
``spider_opened`` this extension moves the start-up objects to the permanent generation
(:func:`gc.freeze`) and sets the collector's thresholds to ``HEED_GC_THRESHOLDS`` (CPython's
default is ``700, 10, 10``; Heed's ``700, 10, 100`` keeps young collections as they are and makes
full ones ten times rarer). Measured on 5,000 pages: collector time 9.7 s → 2.1 s, about 20% less
CPU in all, 35 MB more peak memory (cyclic garbage that reached the old generation waits longer:
Scrapy responses hold a reference cycle through their cached selector). Everything is restored
at ``spider_closed``. Reference counting, which frees almost everything, is untouched.
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
    """Freeze start-up objects out of the collector; make full collections rarer (see module)."""

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("HEED_GC_TUNING", True):
            raise NotConfigured("HEED_GC_TUNING is False")
        values = crawler.settings.getlist("HEED_GC_THRESHOLDS", [700, 10, 100])
        try:
            gen0, gen1, gen2 = (max(int(v), 1) for v in values)
        except ValueError:
            raise NotConfigured(
                f"HEED_GC_THRESHOLDS: three whole numbers, got {values!r}"
            ) from None
        self.thresholds = (gen0, gen1, gen2)
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
        gc.set_threshold(*self.thresholds)
        logger.debug(
            "GC tuned: %d start-up objects frozen, thresholds %s",
            gc.get_freeze_count(),
            self.thresholds,
            extra={"spider": spider},
        )

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Restore the collector as it was."""
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None
        gc.unfreeze()
