"""The ``web`` spider: start from seeds, follow links in scope, yield one item per usable page.

No compliance logic lives here: the rights-reservation middleware decides every request, and
only responses it hands over (not reserved) reach :meth:`WebSpider.parse`, each with its
decision in ``response.meta["optout_decision"]`` and the audit id of that decision in
``response.meta["heed_decision_id"]``.

Arguments (``scrapy crawl web -a name=value``; ``heed crawl`` passes the same):

* ``seeds`` — a file of start URLs, one per line (``#`` comments), or JSON lines
  ``{"url": ..., "meta": {...}}``;
* ``urls`` — start URLs separated by spaces (or commas before a scheme);

  a bad seed (:mod:`crawler.seeds`) is skipped with a warning ``FILE:LINE: reason`` (or
  ``argument N: reason``), counted in the stats (``web/seeds/invalid``), and the others are
  crawled; when seeds were given but none is valid, the spider refuses to start (ValueError);
* ``scope`` — ``seeds`` (default): follow links within the registrable domains of the seeds
  (``news.example.co.uk`` → ``example.co.uk``); ``all``: follow every http(s) link;
* ``depth`` — link depth followed from the seeds (``0``: the seeds only; default: no limit);
  ``follow=0`` is the same as ``depth=0``;
* ``max_pages`` — page requests scheduled at most (seeds, links and sitemap entries; redirect hops
  and retries belong to their attempt and are not counted); the rest are not requested;
* ``sitemaps`` — ``1`` to also read the sitemaps that robots.txt lists (in scope only).

What the items keep (text and/or body) is the ``HEED_STORE`` setting.
"""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from audit.urls import registrable_domain
from crawler import signals as optout_signals
from crawler.items import STORE_MODES, PageItem, page_tree, release_tree
from crawler.middleware import DECISION_META, NOT_KEPT_META
from crawler.seeds import read_seeds
from crawler.spiders.known_links import KnownLinks, filters_by_url
from crawler.text import TEXT_MODES
from crawler.wire import continues_attempt
from optout.url import InvalidURL, host_of

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

    from optout.site import Site, SiteDocuments

SCOPES = ("seeds", "all")
#: Sitemap documents read per origin named in robots.txt, at most.
MAX_SITEMAPS = 10
#: A comma that separates two URLs (not one inside a URL): followed by a scheme.
_URL_SEPARATOR = re.compile(r"\s+|,(?=[A-Za-z][A-Za-z0-9+.-]*://)")
_TRUE = ("1", "true", "yes", "on")


def _flag(value: object) -> bool:
    return value is True or str(value).strip().lower() in _TRUE


class WebSpider(scrapy.Spider):
    """Crawl from seeds, following links in scope; one item per page the middleware lets through."""

    name = "web"

    def __init__(
        self,
        seeds: str | None = None,
        urls: str | list[str] | None = None,
        follow: str | bool | None = None,
        scope: str = "seeds",
        depth: str | int | None = None,
        max_pages: str | int | None = None,
        sitemaps: str | bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        given = _URL_SEPARATOR.split(urls) if isinstance(urls, str) else list(urls or ())
        self.seeds = read_seeds(seeds, given)
        self.seed_entries: list[dict[str, Any]] = self.seeds.entries
        if self.seeds.problems and not self.seed_entries:
            raise ValueError(no_valid_seed(self.seeds.problems))
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
        self.scope = scope
        self.max_depth: int | None = None if depth in (None, "") else int(depth)
        if follow is not None and not _flag(follow):
            self.max_depth = 0
        self.max_pages: int | None = None if max_pages in (None, "") else int(max_pages)
        if (self.max_depth is not None and self.max_depth < 0) or (
            self.max_pages is not None and self.max_pages < 0
        ):
            raise ValueError("depth and max_pages must not be negative")
        self.sitemaps = _flag(sitemaps) if sitemaps is not None else False
        self.domains = {registrable_domain(h) for h in map(_host, self.seed_entries) if h}
        #: Scrapy's persistent spider state; with JOBDIR the crawl frontier keeps it with each of
        #: its commits (crawler/frontier/), so that a resumed crawl keeps its page budget.
        self.state: dict[str, Any] = {}
        self.pages_scheduled = 0
        self._sitemap_origins: set[str] = set()
        #: The arguments as recorded with the audit run (a resumed run must repeat them).
        self.run_arguments = {
            "seeds": [e["url"] for e in self.seed_entries],
            "scope": self.scope,
            "depth": self.max_depth,
            "max_pages": self.max_pages,
            "sitemaps": self.sitemaps,
        }

    #: The run's page budget when a shared crawl's scheduler keeps it (crawler/cluster/).
    shared_budget: Any = None

    @property
    def pages_scheduled(self) -> int:
        """Return the page requests scheduled so far (in every run of a resumed crawl; in a
        shared crawl, by every worker, as the scheduler last saw)."""
        if self.shared_budget is not None:
            return int(self.shared_budget.pages_scheduled)
        return int(self.state.get("pages_scheduled", 0))

    @pages_scheduled.setter
    def pages_scheduled(self, value: int) -> None:
        self.state["pages_scheduled"] = value

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        """Build the spider and connect the page budget and the sitemap reader."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(spider._dropped, signal=signals.request_dropped)
        if spider.sitemaps:
            crawler.signals.connect(spider._site_loaded, signal=optout_signals.optout_site_loaded)
        store = crawler.settings.get("HEED_STORE") or "text"
        if store not in STORE_MODES:
            raise ValueError(f"HEED_STORE must be one of {STORE_MODES}, got {store!r}")
        spider.store = store
        text_mode = crawler.settings.get("HEED_TEXT") or "main"
        if text_mode not in TEXT_MODES:
            raise ValueError(f"HEED_TEXT must be one of {TEXT_MODES}, got {text_mode!r}")
        spider.text_mode = text_mode
        return spider

    store = "text"
    text_mode = "main"
    #: Links the scheduler already has (crawler/spiders/known_links.py); None: not used.
    known_links: KnownLinks | None = None

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """Yield one request per valid seed, once the invalid ones are logged and counted."""
        if filters_by_url(self.crawler):  # known once the crawler has its fingerprinter
            self.known_links = KnownLinks()
        if self.seeds.problems:
            for problem in self.seeds.listed_problems():
                self.logger.warning("%s (seed skipped)", problem)
            if self.crawler.stats is not None:
                self.crawler.stats.set_value("web/seeds/invalid", len(self.seeds.problems))
        for entry in self.seed_entries:
            yield self.seed_request(entry)

    def seed_request(self, entry: dict[str, Any]) -> scrapy.Request:
        """Return the request of seed *entry* (one of :attr:`seed_entries`)."""
        # Filtered like links (unlike Scrapy's default start requests): a link back to a seed is
        # not fetched twice, and a crawl resumed from JOBDIR (or joined) does not refetch seeds.
        return scrapy.Request(
            entry["url"], meta=dict(entry.get("meta") or {}), errback=self.dropped
        )

    # -- pages -----------------------------------------------------------------------------------

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        """Yield the page's item, then requests for its links in scope and depth."""
        item = None
        if not response.meta.get(NOT_KEPT_META):  # fetched-not-kept: the crawl keeps no dataset
            item = PageItem.from_response(
                response,
                response.meta.get(DECISION_META),
                store=self.store,
                text_mode=self.text_mode,
            )
        hrefs: list[str] = []
        if isinstance(response, TextResponse) and self._may_follow(response):
            hrefs = _hrefs(response)
        # The page's parse is released before the item is handed on: the item may wait for its
        # decision to be durable (up to HEED_AUDIT_MAX_DELAY), and a tree is ~10x the page.
        release_tree(response)
        if item is not None:
            yield item
        known, repeated = self.known_links, 0
        for href in hrefs:
            url = response.urljoin(href.strip())
            if known is not None and url in known:
                repeated += 1  # the scheduler has it: a request would only be dropped
            elif self.in_scope(url):
                yield scrapy.Request(url, callback=self.parse, errback=self.dropped)
        if repeated and self.crawler.stats is not None:
            self.crawler.stats.inc_value("web/links/known", repeated)

    def _may_follow(self, response: Response) -> bool:
        if self.max_depth is not None and response.meta.get("depth", 0) >= self.max_depth:
            return False
        return self.max_pages is None or self.pages_scheduled < self.max_pages

    def in_scope(self, url: str) -> bool:
        """Return True if a link to *url* may be followed under the spider's scope."""
        domain = link_domain(url)
        if domain is None:
            return False
        return self.scope == "all" or domain in self.domains

    def dropped(self, failure: Failure) -> None:
        """Count a request that failed or that the middleware dropped, by exception class."""
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"web/dropped/{type(failure.value).__name__}")

    # -- page budget -----------------------------------------------------------------------------

    @property
    def _counts_pages(self) -> bool:
        # A shared crawl's scheduler checks the budget as it queues (atomically, for the run).
        return self.max_pages is not None and self.shared_budget is None

    def _scheduled(self, request: scrapy.Request, spider: scrapy.Spider) -> None:
        if self._counts_pages and not continues_attempt(request):
            if self.pages_scheduled >= (self.max_pages or 0):
                if self.crawler.stats is not None:
                    self.crawler.stats.inc_value("heed/pages/over_budget")
                raise IgnoreRequest("page budget (max_pages) reached")  # dropped, unlogged
            self.pages_scheduled += 1
        if self.known_links is not None:
            self.known_links.add(request)  # the scheduler has it now (or drops it as seen)

    def _dropped(self, request: scrapy.Request, spider: scrapy.Spider) -> None:
        if self._counts_pages and not continues_attempt(request):
            self.pages_scheduled -= 1  # a duplicate the scheduler refused: not a page

    # -- sitemaps --------------------------------------------------------------------------------

    def _site_loaded(
        self, origin: str, documents: SiteDocuments, site: Site, stale: bool, spider: scrapy.Spider
    ) -> None:
        if origin in self._sitemap_origins or not self.in_scope(origin + "/"):
            return
        self._sitemap_origins.add(origin)
        for url in site.sitemaps[:MAX_SITEMAPS]:
            if self.in_scope(url):
                request = scrapy.Request(url, callback=self.parse_sitemap, errback=self.dropped)
                self.crawler.engine.crawl(request)

    def parse_sitemap(self, response: Response, **kwargs: Any) -> Iterator[scrapy.Request]:
        """Yield requests for a sitemap's pages (or nested sitemaps) in scope."""
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gunzip(body, max_size=50 * 1024 * 1024)
            except OSError:
                return
        try:
            sitemap = Sitemap(body)
        except Exception:  # noqa: BLE001 - not a sitemap: nothing to follow
            return
        nested = sitemap.type == "sitemapindex"
        for entry in sitemap:
            url = entry.get("loc", "").strip()
            if not self.in_scope(url):
                continue
            if nested:
                yield scrapy.Request(url, callback=self.parse_sitemap, errback=self.dropped)
            elif self.max_pages is None or self.pages_scheduled < self.max_pages:
                yield scrapy.Request(url, callback=self.parse, errback=self.dropped)


@functools.lru_cache(maxsize=1 << 16)
def link_domain(url: str) -> str | None:
    """Return the registrable domain of *url*'s host, None if it has none.

    Cached: a site's navigation repeats the same links on every page (about 9 in 10 links of
    the benchmark's realistic web), and the URL model's full parse of each costs ~5 µs.
    """
    try:
        return registrable_domain(host_of(url))
    except InvalidURL:
        return None


def _hrefs(response: TextResponse) -> list[str]:
    """Return the ``href`` of every ``<a>`` of *response*, from the tree its text came from."""
    root = page_tree(response)
    if root is None:
        return response.css("a::attr(href)").getall()  # XML and other text types
    return [href for a in root.iter("a") if (href := a.get("href")) is not None]


def no_valid_seed(problems: list[str]) -> str:
    """Return the one line refusing a crawl whose seeds were all skipped as *problems*."""
    if len(problems) == 1:
        return f"no valid seed: {problems[0]}"
    return f"no valid seed: all {len(problems)} were skipped; the first: {problems[0]}"


def _host(entry: dict[str, Any]) -> str | None:
    try:
        return host_of(str(entry["url"]))
    except InvalidURL:
        return None
