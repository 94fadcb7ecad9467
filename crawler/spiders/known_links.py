"""Links the scheduler has already seen, so that the spider does not request them again.

A site repeats its navigation, header and footer on every page: on the benchmark's realistic web
about 9 links in 10 lead to a page already scheduled (bench/crawl_overhead.py). Each such link
used to become a ``Request`` that went through the spider middlewares, the ``request_scheduled``
signal and its receivers (Scrapy's offsite check among them), a fingerprint (a canonicalised
URL and a hash) and the duplicate filter, only to be dropped, with a ``request_dropped`` signal
besides: more than half of a crawl's CPU time (plain Scrapy with
the same spider: 11.8 -> 4.7 CPU ms per page). The spider now skips a link whose URL is here.

Only a cache: the scheduler's duplicate filter stays the authority. A URL is added when its
request reaches the scheduler (``request_scheduled``, once the page budget let it through), so a
request dropped before (by a depth limit, say) is not taken for seen; and only a plain GET
without ``dont_filter`` counts, the requests the spider itself makes. The cache is used only
where the scheduler is known to drop a request whose URL it has seen: Scrapy's scheduler or
Heed's (crawler/frontier/), with an ``RFPDupeFilter``, or a shared crawl's (its run's seen set:
``drops_seen_urls``), and Scrapy's own request fingerprinter (a custom one may tell two requests
of one URL apart). Bounded: emptied when full, which costs
only a few repeated requests that the duplicate filter then drops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.core.scheduler import Scheduler
from scrapy.dupefilters import RFPDupeFilter
from scrapy.utils.job import job_dir
from scrapy.utils.misc import load_object
from scrapy.utils.request import RequestFingerprinter

from crawler.frontier.scheduler import FrontierScheduler

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

#: URLs kept at most (about 150 bytes each).
LIMIT = 50_000


class KnownLinks:
    """URLs of GET requests the scheduler has been given (see the module)."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._urls: set[str] = set()

    def __contains__(self, url: str) -> bool:
        return url in self._urls

    def __len__(self) -> int:
        return len(self._urls)

    def add(self, request: Request) -> None:
        """Note *request*'s URL, if it is a request the duplicate filter judges by its URL."""
        if request.dont_filter or request.method != "GET" or request.body:
            return
        if len(self._urls) >= self.limit:
            self._urls.clear()
        self._urls.add(request.url)


def filters_by_url(crawler: Crawler) -> bool:
    """Return True if *crawler*'s scheduler drops a plain GET whose URL it has already seen."""
    settings = crawler.settings
    scheduler = load_object(settings["SCHEDULER"])
    if not isinstance(scheduler, type):
        return False
    if getattr(scheduler, "drops_seen_urls", False):  # a shared crawl's (crawler/cluster/)
        return type(getattr(crawler, "request_fingerprinter", None)) is RequestFingerprinter
    if not issubclass(scheduler, Scheduler):
        return False
    if issubclass(scheduler, FrontierScheduler) and job_dir(settings):
        dupefilter: object = RFPDupeFilter  # the frontier's own, an RFPDupeFilter
    else:
        dupefilter = load_object(settings["DUPEFILTER_CLASS"])
    if not (isinstance(dupefilter, type) and issubclass(dupefilter, RFPDupeFilter)):
        return False
    return type(getattr(crawler, "request_fingerprinter", None)) is RequestFingerprinter
