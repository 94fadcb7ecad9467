"""Links the scheduler already has are not requested again (crawler/spiders/known_links.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler

from crawler.spiders.known_links import KnownLinks, filters_by_url
from crawler.spiders.web import WebSpider
from tests.crawler.crawlrun import run_crawl
from tests.support.virtualweb import Response, VirtualWeb

PAGES = ("/", "/a", "/b", "/c", "/d")


def _nav_page(name: str) -> Response:
    """A page whose navigation links every page of the site, twice (header and footer)."""
    nav = "".join(f'<a href="{p}">{p}</a>' for p in PAGES)
    body = f"<html><head><title>{name}</title></head><body>{nav}<p>text</p>{nav}</body></html>"
    return Response(body=body, content_type="text/html; charset=utf-8")


def test_repeated_navigation_is_not_requested_again(
    virtual_web: VirtualWeb, tmp_path: Path
) -> None:
    """Every page is crawled once; the links already scheduled are counted, not requested."""
    virtual_web.site("nav.test", {p: _nav_page(p) for p in PAGES})
    out = run_crawl(virtual_web, tmp_path, ["http://nav.test/"], follow=True)
    assert out.item_urls() == {f"http://nav.test{p}" for p in PAGES}
    for p in PAGES:
        assert virtual_web.requested(f"http://nav.test{p}") == 1
    # 5 pages x 10 links = 50 links: most are known by the time their page is parsed; the
    # duplicate filter sees the rest (pages parsed while their links were still in flight).
    known = out.stats.get("web/links/known", 0)
    filtered = out.stats.get("dupefilter/filtered", 0)
    assert known > 0
    assert known + filtered == 50 - (len(PAGES) - 1)


def test_only_plain_gets_count() -> None:
    """A request the duplicate filter would not judge by its URL alone is not noted."""
    known = KnownLinks(limit=3)
    known.add(Request("http://a.test/1"))
    known.add(Request("http://a.test/2", dont_filter=True))
    known.add(Request("http://a.test/3", method="POST"))
    known.add(Request("http://a.test/4", body=b"x"))
    assert "http://a.test/1" in known
    assert len(known) == 1
    for n in range(5, 8):
        known.add(Request(f"http://a.test/{n}"))
    assert len(known) <= 3  # bounded: emptied when full


@pytest.mark.parametrize(
    ("settings", "used"),
    [
        ({}, True),
        ({"JOBDIR": "job"}, True),  # the frontier's duplicate filter
        ({"DUPEFILTER_CLASS": "scrapy.dupefilters.BaseDupeFilter"}, False),
        ({"SCHEDULER": "tests.crawler.test_known_links.NotAScheduler"}, False),
        ({"SCHEDULER": "crawler.cluster.scheduler.ClusterScheduler"}, True),  # the run's seen set
        (
            {
                "SCHEDULER": "crawler.cluster.scheduler.ClusterScheduler",
                "REQUEST_FINGERPRINTER_CLASS": "tests.crawler.test_known_links.Fingerprinter",
            },
            False,
        ),
        ({"REQUEST_FINGERPRINTER_CLASS": "tests.crawler.test_known_links.Fingerprinter"}, False),
    ],
)
def test_used_only_where_the_scheduler_filters_by_url(
    settings: dict[str, str], used: bool, tmp_path: Path
) -> None:
    """The cache is used with Scrapy's or Heed's scheduler, an RFPDupeFilter and Scrapy's own
    fingerprinter; with anything else the spider requests every link (the scheduler decides)."""
    if "JOBDIR" in settings:
        settings = {"JOBDIR": str(tmp_path / "job")}
    base = {"SCHEDULER": "crawler.frontier.scheduler.FrontierScheduler"}
    crawler = get_crawler(WebSpider, base | settings)
    assert filters_by_url(crawler) is used


class NotAScheduler:
    """A scheduler of another family (scrapy-redis's, say)."""


class Fingerprinter:
    """A fingerprinter that may tell two requests of one URL apart."""

    def fingerprint(self, request: Request) -> bytes:
        return (request.url + str(sorted(request.headers.items()))).encode()
