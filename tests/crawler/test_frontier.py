"""The crash-safe frontier (crawler/frontier/): what a commit makes durable, and what not.

A "crash" here is a scheduler dropped without closing: whatever it did not commit is gone, as
after ``kill -9``. The end-to-end kills are in test_crash_resume.py.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.frontier.dupefilter import FrontierDupeFilter
from crawler.frontier.scheduler import FrontierScheduler
from crawler.frontier.spidermw import FrontierSpiderMiddleware
from crawler.frontier.store import FRONTIER_FILE, FrontierError, FrontierStore
from crawler.signals import optout_decided, request_processed
from optout.action import Action, unchecked
from optout.decision import DEFAULT_POLICY

# -- the store -------------------------------------------------------------------------------------


def test_store_keeps_only_what_was_committed(tmp_path: Path) -> None:
    """Pending with its request, done without; uncommitted changes are lost with the process."""
    store = FrontierStore(tmp_path / FRONTIER_FILE)
    store.add(b"a", {"url": "http://x.test/a"})
    store.add(b"b", {"url": "http://x.test/b"})
    store.commit()
    store.done(b"a")
    store.add(b"c", {"url": "http://x.test/c"})
    store.close()  # no commit: a crash
    store = FrontierStore(tmp_path / FRONTIER_FILE)
    assert store.fingerprints() == {b"a", b"b"}
    assert store.pending() == [
        (b"a", {"url": "http://x.test/a"}),
        (b"b", {"url": "http://x.test/b"}),
    ]
    store.done(b"a")
    store.commit()
    assert store.pending() == [(b"b", {"url": "http://x.test/b"})]
    assert store.done_count() == 1
    store.close()


def test_store_holds_done_marks_back_until_allowed(tmp_path: Path) -> None:
    """commit(done=False) writes what became pending and keeps the done marks for later; a
    request scheduled and done between two commits is written once, as done."""
    store = FrontierStore(tmp_path / FRONTIER_FILE)
    store.add(b"a", {"url": "http://x.test/a"})
    store.add(b"b", {"url": "http://x.test/b"})
    store.done(b"b")
    store.commit(done=False)
    assert store.fingerprints() == {b"a"}
    assert store.changed
    store.commit()
    assert store.fingerprints() == {b"a", b"b"}
    assert [fp for fp, _ in store.pending()] == [b"a"]
    assert not store.changed
    store.close()


def test_store_keeps_the_spider_state(tmp_path: Path) -> None:
    """The spider's state is written with a commit, when it changed."""
    store = FrontierStore(tmp_path / FRONTIER_FILE)
    assert store.load_state() is None
    store.set_state({"pages_scheduled": 3})
    assert store.changed
    store.commit()
    store.set_state({"pages_scheduled": 3})
    assert not store.changed
    store.close()
    assert FrontierStore(tmp_path / FRONTIER_FILE).load_state() == {"pages_scheduled": 3}


def test_store_refuses_what_it_cannot_use(tmp_path: Path) -> None:
    """Another schema version, a file that is not SQLite, or a frontier another crawl has open is
    refused; so is a request that cannot be pickled (it could not be resumed)."""
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("PRAGMA user_version=7")
    with pytest.raises(FrontierError, match="schema 7"):
        FrontierStore(other)
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(FrontierError, match="not a usable frontier"):
        FrontierStore(garbage)
    store = FrontierStore(tmp_path / FRONTIER_FILE)
    with pytest.raises(FrontierError, match="being used by another crawl"):
        FrontierStore(tmp_path / FRONTIER_FILE)
    with pytest.raises(ValueError, match="pickle"):
        store.add(b"a", {"meta": {"lock": threading.Lock()}})
    store.close()


# -- the scheduler ---------------------------------------------------------------------------------


def in_loop(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run the async *test* on a fresh event loop (the scheduler's commit timer needs one)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


class Job:
    """A scheduler on a real (unstarted) crawler with a JOBDIR; :meth:`crash` drops it."""

    def __init__(self, jobdir: Path) -> None:
        settings = {
            "JOBDIR": str(jobdir),
            "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.ScrapyPriorityQueue",
            "SPIDER_MIDDLEWARES": {"crawler.frontier.spidermw.FrontierSpiderMiddleware": 10},
        }
        self.crawler: Crawler = get_crawler(Spider, settings)
        self.spider = self.crawler._create_spider("job")
        self.crawler.spider = self.spider
        self.scheduler = FrontierScheduler.from_crawler(self.crawler)
        self.scheduler.open(self.spider)

    def next(self) -> Request:
        """Return the next request handed out."""
        request = self.scheduler.next_request()
        assert request is not None
        return request

    def queued(self) -> set[str]:
        """Empty the queue; return its URLs."""
        urls = set()
        while (request := self.scheduler.next_request()) is not None:
            urls.add(request.url)
        return urls

    def send(self, signal: object, **kwargs: Any) -> None:
        """Send *signal* as the crawl would."""
        self.crawler.signals.send_catch_log(signal, spider=self.spider, **kwargs)

    def schedule(self, request: Request) -> bool:
        """Offer *request* as the engine does: signal, then enqueue."""
        from scrapy import signals

        self.send(signals.request_scheduled, request=request)
        return self.scheduler.enqueue_request(request)

    def crash(self) -> None:
        """Drop the scheduler as kill -9 would: nothing more is committed."""
        assert self.scheduler.store is not None
        self.scheduler.store.close()


def test_without_jobdir_it_is_scrapys_scheduler() -> None:
    """No JOBDIR: no frontier, Scrapy's own duplicate filter."""
    crawler = get_crawler(Spider, {})
    scheduler = FrontierScheduler.from_crawler(crawler)
    assert scheduler.store is None
    assert not isinstance(scheduler.df, FrontierDupeFilter)


@in_loop
async def test_a_crash_loses_nothing_that_was_not_done(tmp_path: Path) -> None:
    """A page finished but not committed is pending again after a crash; the links it led to,
    never committed, are not taken for duplicates: its new fetch finds them again."""
    job = Job(tmp_path)
    assert job.schedule(Request("http://x.test/a"))
    assert job.schedule(Request("http://x.test/b"))
    job.scheduler.commit()
    a = job.next()
    assert job.schedule(Request("http://x.test/c"))
    job.send(request_processed, request=a)
    job.crash()

    job = Job(tmp_path)
    assert job.queued() == {"http://x.test/a", "http://x.test/b"}
    assert job.schedule(Request("http://x.test/c"))  # not seen: its insert was never committed
    assert not job.schedule(Request("http://x.test/b"))  # seen, and pending


@in_loop
async def test_a_committed_done_is_never_sent_again(tmp_path: Path) -> None:
    """Once committed, a finished request stays a duplicate and is not re-queued; the spider's
    state comes back with the frontier."""
    job = Job(tmp_path)
    job.schedule(Request("http://x.test/a"))
    a = job.next()
    job.schedule(Request("http://x.test/c"))
    job.send(request_processed, request=a)
    job.spider.state["pages_scheduled"] = 2  # type: ignore[attr-defined]
    job.scheduler.commit()
    job.crash()

    job = Job(tmp_path)
    assert job.spider.state == {"pages_scheduled": 2}  # type: ignore[attr-defined]
    assert job.queued() == {"http://x.test/c"}
    assert not job.schedule(Request("http://x.test/a"))


@in_loop
async def test_a_follow_up_finishes_the_request_it_follows(tmp_path: Path) -> None:
    """A redirect hop (its meta copied from the request) ends that request and is a pending
    request of its own; a decision that passes the response on ends nothing, one that drops
    the request ends it."""
    job = Job(tmp_path)
    job.schedule(Request("http://x.test/a"))
    job.schedule(Request("http://x.test/b"))
    job.scheduler.commit()
    a, b = sorted((job.next(), job.next()), key=lambda r: r.url)
    hop = a.replace(url="http://x.test/a2", meta={**a.meta, "redirect_urls": [a.url]})
    assert job.schedule(hop)
    decision = unchecked(b.url, "test", DEFAULT_POLICY)
    job.send(
        optout_decided, decision=decision, action=Action.FETCHED_STORED, request=b, response=None
    )
    # A stand-in for an earlier wire request (a copy carrying the same token) ends nothing.
    job.send(
        optout_decided, decision=decision, action=Action.ERROR, request=b.copy(), response=None
    )
    job.scheduler.commit()
    job.crash()

    job = Job(tmp_path)
    assert job.queued() == {"http://x.test/a2", "http://x.test/b"}

    job.crash()
    job = Job(tmp_path)
    _, b = sorted((job.next(), job.next()), key=lambda r: r.url)
    job.send(
        optout_decided, decision=decision, action=Action.SKIPPED_ROBOTS, request=b, response=None
    )
    job.scheduler.commit()
    job.crash()
    assert Job(tmp_path).queued() == {"http://x.test/a2"}


# -- the spider middleware -------------------------------------------------------------------------


@in_loop
async def test_a_response_is_processed_once_its_links_are_scheduled_and_its_items_left(
    tmp_path: Path,
) -> None:
    """request_processed comes after the callback's output ended and after its last item left
    the pipelines, not before; the links are scheduled as they come, without the token a copied
    meta would carry."""
    job = Job(tmp_path)
    mw = FrontierSpiderMiddleware.from_crawler(job.crawler)
    crawled: list[Request] = []
    job.crawler.engine = type("Engine", (), {"crawl": staticmethod(crawled.append)})()  # type: ignore[assignment]
    processed: list[Request] = []
    job.crawler.signals.connect(
        lambda request, spider: processed.append(request), signal=request_processed, weak=False
    )
    job.schedule(Request("http://x.test/a"))
    a = job.next()
    response = HtmlResponse(a.url, body=b"<html></html>", request=a)
    child = Request("http://x.test/b", meta=dict(a.meta))
    items = [{"n": 1}, {"n": 2}]
    passed = list(mw.process_spider_output(response, [items[0], child, items[1]]))
    assert passed == items
    assert crawled == [child]
    assert "heed_frontier_token" not in child.meta
    from scrapy import signals

    job.send(signals.item_scraped, item=items[0], response=response)
    assert processed == []
    job.send(signals.item_dropped, item=items[1], response=response, exception=Exception())
    assert processed == [a]


def test_a_damaged_frontier_stops_the_crawl_before_it_starts(tmp_path: Path) -> None:
    """A JOBDIR whose frontier file is not one is refused in one line, before Scrapy starts."""
    from crawler.run import CrawlConfigError, CrawlOptions, prepare

    job = tmp_path / "job"
    job.mkdir()
    (job / FRONTIER_FILE).write_bytes(b"not a database at all" * 100)
    options = CrawlOptions(seeds=["http://x.test/"], db=str(tmp_path / "heed.db"), jobdir=str(job))
    with pytest.raises(CrawlConfigError, match="not a usable frontier file"):
        prepare(options)
