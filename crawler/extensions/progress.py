"""Progress: pages/s, items stored, attempts skipped by reason, the queue and the time elapsed.

Counted from the crawl's stats (``optout/action/*`` from the rights-reservation middleware,
``item_scraped_count`` from Scrapy: items that passed the dataset pipeline, i.e. durable and
written) and the scheduler's length. Shown one of two ways (``HEED_PROGRESS``):

* ``live`` — on a terminal, one line redrawn in place every ``HEED_PROGRESS_REFRESH`` seconds
  (:mod:`crawler.liveline`), its rate over the last few seconds; log records appear above it;
* ``log`` — a line logged at INFO through the ``crawler.extensions.progress`` logger every
  ``HEED_PROGRESS_INTERVAL`` seconds, its rate since the line before;

``auto`` (the default) is ``live`` when stderr is a terminal, else ``log``; ``off`` shows nothing.
Either way the last line, when the crawl closes, gives the whole crawl's rate.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

from crawler.config import OptoutConfigError
from crawler.liveline import LiveLine, fit, is_terminal
from optout.action import Action

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.utils.asyncio import AsyncioLoopingCall
    from twisted.internet.task import LoopingCall

logger = logging.getLogger(__name__)

#: Values of ``HEED_PROGRESS``.
PROGRESS_MODES = ("auto", "live", "log", "off")
#: Seconds over which the live line's rate is measured.
RATE_WINDOW = 5.0

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


def progress_counts(stats: Mapping[str, Any]) -> tuple[int, int, dict[str, int]]:
    """Return (decisions, items stored, skipped attempts by reason) from crawl stats."""
    skipped = {
        label: int(stats.get(f"optout/action/{action.value}", 0))
        for action, label in SKIP_LABELS.items()
    }
    stored = int(stats.get("item_scraped_count", 0))
    return int(stats.get("optout/decisions", 0)), stored, skipped


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """Where a crawl stands."""

    decided: int
    stored: int
    #: Attempts skipped, by reason (:data:`SKIP_LABELS`).
    skipped: Mapping[str, int]
    #: Decisions per second (recent, or the whole crawl's on the last line).
    rate: float
    #: Seconds since the crawl opened.
    elapsed: float
    #: Requests waiting in the scheduler (None: unknown, or the crawl is over).
    queued: int | None = None
    #: The crawl is over: this is the last line.
    final: bool = False

    @property
    def skipped_total(self) -> int:
        """Return the attempts skipped, all reasons together."""
        return sum(self.skipped.values())

    def skipped_detail(self) -> str:
        """Return ``robots 50, reservation 3`` (the reasons counted, in a fixed order)."""
        return ", ".join(f"{label} {n:,}" for label, n in self.skipped.items() if n)


def format_elapsed(seconds: float) -> str:
    """Return *seconds* as ``H:MM:SS``."""
    whole = max(int(seconds), 0)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def log_line(progress: Progress) -> str:
    """Return the progress line of a log.

    ``Heed: 1,234 decided (205.3 pages/s), 1,100 stored, 134 skipped (robots 50, …), 312 queued,
    0:01:23 elapsed``
    """
    p = progress
    detail = p.skipped_detail()
    queued = f", {p.queued:,} queued" if p.queued is not None else ""
    return (
        f"Heed{' (final)' if p.final else ''}: {p.decided:,} decided ({p.rate:.1f} pages/s), "
        f"{p.stored:,} stored, {p.skipped_total:,} skipped{f' ({detail})' if detail else ''}"
        f"{queued}, {format_elapsed(p.elapsed)} elapsed"
    )


def live_line(progress: Progress, width: int) -> str:
    """Return the live line on a terminal *width* columns wide (never longer, plain ASCII).

    ``Heed 0:01:23 | 205.3 pages/s | 1,234 decided | 1,100 stored | 312 queued | 134 skipped:
    robots 50, reservation 31``; what does not fit is cut, the reasons first.
    """
    p = progress
    parts = [
        f"Heed{' (final)' if p.final else ''} {format_elapsed(p.elapsed)}",
        f"{p.rate:.1f} pages/s",
        f"{p.decided:,} decided",
        f"{p.stored:,} stored",
    ]
    if p.queued is not None:
        parts.append(f"{p.queued:,} queued")
    detail = p.skipped_detail()
    parts.append(f"{p.skipped_total:,} skipped{f': {detail}' if detail else ''}")
    return fit(" | ".join(parts), width)


def queue_size(crawler: Crawler) -> int | None:
    """Return the number of requests waiting in the crawl's scheduler (None: unknown)."""
    engine = crawler.engine
    if engine is None:
        return None
    # ExecutionEngine.scheduler is public from Scrapy 2.19; before, it is the slot's.
    scheduler = getattr(engine, "scheduler", None)
    if scheduler is None:
        scheduler = getattr(getattr(engine, "_slot", None), "scheduler", None)
    try:
        return len(scheduler)  # type: ignore[arg-type]
    except TypeError:  # no scheduler (yet), or one without a length
        return None


class RecentRate:
    """Decisions per second over the last *window* seconds (from the start, at first)."""

    def __init__(self, start: float, window: float = RATE_WINDOW) -> None:
        self.window = window
        self._samples: deque[tuple[float, int]] = deque([(start, 0)])

    def add(self, now: float, count: int) -> float:
        """Record *count* decisions at *now*; return the rate since the window's start."""
        samples = self._samples
        while len(samples) > 1 and samples[1][0] <= now - self.window:
            samples.popleft()
        then, before = samples[0]
        samples.append((now, count))
        return (count - before) / (now - then) if now > then else 0.0


def progress_mode(crawler: Crawler) -> str:
    """Return how *crawler* shows its progress: ``live``, ``log`` or ``off``."""
    settings = crawler.settings
    mode = str(settings.get("HEED_PROGRESS") or "auto").strip().lower()
    if mode not in PROGRESS_MODES:
        raise OptoutConfigError(
            f"HEED_PROGRESS {settings.get('HEED_PROGRESS')!r}: one of {', '.join(PROGRESS_MODES)}"
        )
    if mode == "auto" or (mode == "live" and sys.stderr is None):  # None: no stderr at all
        mode = "live" if is_terminal(sys.stderr) else "log"
    return mode


class ProgressExtension:
    """Show the crawl's progress on a live line or in the log (``HEED_PROGRESS``)."""

    def __init__(self, crawler: Crawler) -> None:
        self.mode = progress_mode(crawler)
        setting = "HEED_PROGRESS_REFRESH" if self.mode == "live" else "HEED_PROGRESS_INTERVAL"
        self.interval = crawler.settings.getfloat(setting, 0.5 if self.mode == "live" else 5.0)
        if self.mode == "off" or self.interval <= 0:
            raise NotConfigured(f"HEED_PROGRESS is {self.mode}, {setting} {self.interval}")
        self.crawler = crawler
        self._task: AsyncioLoopingCall | LoopingCall | None = None
        self._live: LiveLine | None = None
        self._start = time.monotonic()
        self._last = (self._start, 0)
        self._recent = RecentRate(self._start)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Return the extension for *crawler* (Scrapy's component constructor)."""
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        """Start the clock, and the live line."""
        self._start = time.monotonic()
        self._last = (self._start, 0)
        self._recent = RecentRate(self._start)
        if self.mode == "live":
            self._live = LiveLine(sys.stderr)
            self._live.attach()
        self._task = create_looping_call(self.show)
        self._task.start(self.interval, now=self._live is not None)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Stop the clock; show the last line, with the whole crawl's rate."""
        if self._task is not None and self._task.running:
            self._task.stop()
        self.show(final=True)

    def progress(self, final: bool = False) -> Progress | None:
        """Return where the crawl stands now (None before it has stats)."""
        if self.crawler.stats is None:
            return None
        stats = self.crawler.stats.get_stats()
        decided, stored, skipped = progress_counts(stats)
        now = time.monotonic()
        elapsed = now - self._start
        if final:  # the whole crawl's rate, not the last seconds'
            # Scrapy's own measure (CoreStats, which closes first): the summary's, so one rate.
            whole = stats.get("elapsed_time_seconds")
            if isinstance(whole, int | float) and whole > 0:
                elapsed = float(whole)
            rate = decided / elapsed if elapsed > 0 else 0.0
        elif self._live is not None:
            rate = self._recent.add(now, decided)
        else:  # since the line before
            then, before = self._last
            rate = (decided - before) / (now - then) if now > then else 0.0
        self._last = (now, decided)
        return Progress(
            decided=decided,
            stored=stored,
            skipped=skipped,
            rate=rate,
            elapsed=elapsed,
            queued=None if final else queue_size(self.crawler),
            final=final,
        )

    def show(self, final: bool = False) -> None:
        """Redraw the live line, or log a progress line."""
        progress = self.progress(final)
        live = self._live
        if live is not None:
            if progress is None:
                text = None
            else:
                text = live_line(progress, max(live.columns() - 1, 1))
            if final:
                live.close(text)
                self._live = None
            elif text is not None:
                live.show(text)
        elif progress is not None:
            logger.info("%s", log_line(progress), extra={"spider": self.crawler.spider})
