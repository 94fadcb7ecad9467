"""Joining and seeding a shared run: what ``heed crawl --redis`` and ``heed cluster seed`` do
before any worker starts.

* With seeds: the run (``--run KEY``, else a new key) is created with the spider arguments, or
  joined if it exists with the same ones; another run's arguments are refused.
* Without: the run named, or the only run on that Redis, is joined with the arguments it was
  seeded with.

A stopped run is refused (``heed cluster status --resume`` first). Redis not answering is a
:class:`ClusterError` with the URL (password hidden).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from crawler.cluster.keys import REDIS_ERRORS, ClusterError, connect, describe
from crawler.cluster.queue import LeasedQueue
from crawler.cluster.run import SPEC_ARGUMENTS, ClusterRun, run_keys

if TYPE_CHECKING:
    from redis import Redis


def reach(url: str) -> Redis:
    """Return a client of the Redis at *url* once it answered; ClusterError if it does not."""
    server = connect(url)
    try:
        server.ping()
    except REDIS_ERRORS as exc:
        raise ClusterError(f"Redis at {describe(url)} does not answer: {exc}") from None
    return server


def join(
    server: Redis, run: str | None, arguments: dict[str, Any] | None
) -> tuple[ClusterRun, dict[str, Any], bool]:
    """Return the run to work on, its spider arguments, and whether it was created now.

    *arguments* (with their ``urls``) seed the run; None joins an existing one.
    """
    if arguments is not None:
        shared = ClusterRun(server, run or uuid.uuid4().hex[:12])
        created = shared.create(arguments)
    else:
        key = run or only_run(server)
        shared = ClusterRun(server, key)
        created = False
    spec = shared.spec()
    if spec is None:
        raise ClusterError(
            f"no run {shared.run} on this Redis: seed it first (heed cluster seed --run "
            f"{shared.run} URL…, or heed crawl --redis … --run {shared.run} URL…)"
        )
    if shared.stopped():
        raise ClusterError(
            f"run {shared.run} was stopped; to go on: heed cluster status --run {shared.run} "
            "--resume"
        )
    return shared, {name: spec.get(name) for name in SPEC_ARGUMENTS}, created


def only_run(server: Redis) -> str:
    runs = run_keys(server)
    if len(runs) == 1:
        return runs[0]
    if not runs:
        raise ClusterError("no run on this Redis: give seed URLs (or heed cluster seed)")
    raise ClusterError(f"{len(runs)} runs on this Redis; choose one with --run: {', '.join(runs)}")


def queue_seeds(
    server: Redis,
    shared: ClusterRun,
    arguments: dict[str, Any],
    entries: list[dict[str, Any]] | None = None,
) -> int:
    """Queue the run's seed requests, as its spider makes them; return how many were new.

    *entries*: the seeds as read (with the ``meta`` of a JSON-lines seeds file; the run's spec
    keeps their URLs only); by default, the spec's URLs.
    """
    from scrapy.utils.request import RequestFingerprinter

    from crawler.spiders.web import WebSpider  # Scrapy: only when seeding

    spider = WebSpider(**arguments)
    fingerprint = RequestFingerprinter().fingerprint
    queue = LeasedQueue(server, spider, shared.run)
    max_pages = arguments.get("max_pages")
    queued = 0
    for entry in spider.seed_entries if entries is None else entries:
        request = spider.seed_request(entry)
        result = queue.push_new(request, fingerprint(request).hex(), budget=max_pages)
        queued += result > 0
    return queued
