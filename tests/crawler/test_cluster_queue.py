"""The shared frontier's parts on a real Redis, without worker processes: the request codec
(tagged JSON, never pickles), the leased queue's scripts (seen set and page budget, lease, renew,
acknowledge, release, expired leases put back) and seeding with a seeds file's meta."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import redis
from scrapy import FormRequest, Request
from scrapy.utils.request import request_from_dict

from crawler.cluster import codec
from crawler.cluster.join import join, queue_seeds
from crawler.cluster.queue import LeasedQueue
from crawler.spiders.web import WebSpider
from crawler.wire import WireOutcome
from tests.crawler.conftest import UNIT_RUNS


@pytest.fixture
def spider() -> WebSpider:
    return WebSpider(urls=["http://h0.test/"])


def run_key() -> str:
    return f"{UNIT_RUNS}{uuid.uuid4().hex[:8]}"


def test_requests_round_trip_through_tagged_json(spider: WebSpider) -> None:
    request = Request(
        "http://h0.test/p?q=1",
        method="POST",
        body=b"\x00\xffbytes",
        headers={"X-Thing": "v"},
        priority=-3,
        dont_filter=True,
        meta={
            "depth": 2,
            "pair": ("a", 1),
            "by_number": {1: "one"},
            "looks_tagged": {"$b": "not base64"},
            "wire": WireOutcome("http://h0.test/a", 301, "http://h0.test/p", None),
        },
    )
    data = codec.dumps(request.to_dict(spider=spider))
    assert b"pickle" not in data
    back = request_from_dict(codec.loads(data), spider=spider)
    assert (back.url, back.method, back.body, back.priority) == (
        request.url, "POST", b"\x00\xffbytes", -3,
    )  # fmt: skip
    assert back.dont_filter
    assert back.headers.get("X-Thing") == b"v"
    assert back.meta == request.meta
    assert isinstance(back.meta["wire"], WireOutcome)


def test_requests_are_encoded_as_scrapy_encodes_them(spider: WebSpider) -> None:
    """The codec names callbacks without Scrapy's inspection of the whole spider: same dict."""
    for request in (
        Request("http://h0.test/a"),
        Request("http://h0.test/b", callback=spider.parse, errback=spider.dropped),
        Request("http://h0.test/c", errback=spider.dropped, cb_kwargs={"k": 1}, flags=["f"]),
        FormRequest("http://h0.test/d", formdata={"q": "1"}),
    ):
        assert codec.request_to_dict(request, spider) == request.to_dict(spider=spider)
    with pytest.raises(ValueError, match="not an instance method"):
        codec.request_to_dict(Request("http://h0.test/", callback=print), spider)


def test_a_value_json_cannot_hold_is_refused_not_pickled(spider: WebSpider) -> None:
    request = Request("http://h0.test/", meta={"thing": object()})
    with pytest.raises(ValueError, match="cannot be kept in the shared frontier"):
        codec.dumps(request.to_dict(spider=spider))
    with pytest.raises(ValueError, match="cannot be kept in the shared frontier"):
        codec.dumps({"meta": {"big": 1 << 70}})


def test_seen_set_and_page_budget_are_checked_as_requests_are_queued(
    redis_client: redis.Redis, spider: WebSpider
) -> None:
    queue = LeasedQueue(redis_client, spider, run_key(), worker="w1")
    first = queue.push_new(Request("http://h0.test/1"), "f1", budget=2)
    assert first > 0
    assert queue.push_new(Request("http://h0.test/1"), "f1", budget=2) == 0  # seen
    assert queue.push_new(Request("http://h0.test/2"), "f2", budget=2) > 0
    assert queue.push_new(Request("http://h0.test/3"), "f3", budget=2) == -1  # over budget
    # A follow-up of an attempt (not counted) still goes in, unfiltered too (a retry).
    assert queue.push_new(Request("http://h0.test/4"), "f4", counted=False, budget=2) > 0
    again = Request("http://h0.test/1", dont_filter=True)
    assert queue.push_new(again, "f1", filtered=False, counted=False, budget=2) > 0
    assert queue.push_new(again, "f1", filtered=False, budget=2) == -1  # a new page: counted
    assert len(queue) == 4


def test_a_pop_is_a_lease_acknowledged_released_or_put_back_when_it_expires(
    redis_client: redis.Redis, spider: WebSpider
) -> None:
    key = run_key()
    one = LeasedQueue(redis_client, spider, key, worker="w1", lease_ms=60_000)
    two = LeasedQueue(redis_client, spider, key, worker="w2", lease_ms=60_000)
    for n in range(3):
        one.push_new(Request(f"http://h0.test/{n}", priority=-n), f"f{n}")
    got = one.pop()
    assert got is not None
    lease, request = got
    assert request.url == "http://h0.test/0"  # the highest priority first
    assert (len(one), one.leased()) == (2, 1)
    assert two.renew([lease]) == 1  # not w2's
    assert one.renew([lease]) == 0
    two.ack([lease])  # not w2's: nothing happens
    assert one.leased() == 1
    one.ack([lease])
    assert (len(one), one.leased()) == (2, 0)
    got = two.pop()
    assert got is not None
    assert two.release([got[0]]) == 1  # given back at once
    assert (len(two), two.leased()) == (2, 0)
    short = LeasedQueue(redis_client, spider, key, worker="w3", lease_ms=30)
    got = short.pop()
    assert got is not None
    deadline = time.monotonic() + 10
    while one.leased() and time.monotonic() < deadline:  # until Redis's clock passes 30 ms
        one.reap()
        time.sleep(0.01)
    assert (len(one), one.leased()) == (2, 0)  # w3 stopped renewing: back in the queue
    assert int(redis_client.get(f"heed:{{{key}}}:requeued") or 0) >= 1
    assert short.renew([got[0]]) == 1  # lost


def test_seeds_keep_the_meta_of_a_seeds_file(redis_client: redis.Redis) -> None:
    entries: list[dict[str, Any]] = [
        {"url": "http://h0.test/a", "meta": {"source": "list-1"}},
        {"url": "http://h0.test/b"},
    ]
    arguments = {"urls": [e["url"] for e in entries], "scope": "all"}
    shared, spec, created = join(redis_client, run_key(), arguments)
    assert created
    assert queue_seeds(redis_client, shared, spec, entries) == 2
    queue = LeasedQueue(redis_client, WebSpider(**spec), shared.run, worker="w1")
    popped = [queue.pop() for _ in range(2)]
    metas = {got[1].url: got[1].meta for got in popped if got is not None}
    assert metas["http://h0.test/a"]["source"] == "list-1"
    assert "source" not in metas["http://h0.test/b"]
