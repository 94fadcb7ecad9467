"""Exchange: a worker's traffic with its run's queue, batched into few round trips to Redis.

A worker used to make a round trip per request it took and per link it queued (3 or more a
page, each costing the worker 0.1–0.2 ms of CPU on the benchmark's machine, and as much again
in the caches the switch to Redis and back evicts). Now:

* **links wait in an outbox** and go to Redis together, with the next lease taken, at the tick,
  before any acknowledgement (a request is acknowledged only once its links are in the queue),
  or when the outbox is full. Only plain links wait: a redirect hop, a retry or a request that
  does not count as a page is queued at once, because the engine must hear at once whether the
  scheduler dropped it (:meth:`crawler.extensions.audit.AuditExtension.request_dropped`);
* **leases are taken :data:`PREFETCH` at a time** and handed to the engine one by one. They are
  renewed with the others and given back when the worker closes.

A link the run has seen already is still told "scheduled" to the engine, and then dropped by the
queue's script: a plain link has no listener that needs the difference (the spider's known
links and page counting do not apply to a shared crawl's budget, which the script keeps).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy import Request

    from crawler.cluster.queue import LeasedQueue, Push

#: Leases taken per round trip.
PREFETCH = 8
#: Links, at most, waiting in the outbox.
OUTBOX_MAX = 200


class Exchange:
    """The leases taken ahead and the links waiting to be queued; see the module."""

    def __init__(self, queue: LeasedQueue) -> None:
        self.queue = queue
        #: ``(lease id, request)`` taken ahead, in the queue's order.
        self.ready: deque[tuple[str, Request]] = deque()
        #: Requests waiting to be queued, with what the queue's script needs of them.
        self.outbox: list[tuple[Request, Push]] = []

    def __len__(self) -> int:
        return len(self.ready) + len(self.outbox)

    def full(self) -> bool:
        return len(self.outbox) >= OUTBOX_MAX

    def send(self, pop_count: int = 0, budget: int | None = None) -> list[tuple[Push, int]]:
        """Queue the outbox and take up to *pop_count* leases, in one round trip; return each
        queued request's push with its result. A Redis error leaves the outbox as it was."""
        pushes = [push for _, push in self.outbox]
        results, leased = self.queue.exchange(pushes, pop_count, budget)
        self.outbox = []
        self.ready.extend(leased)
        return list(zip(pushes, results, strict=True))

    def leases(self) -> list[str]:
        """Return the ids of the leases taken ahead."""
        return [lease for lease, _ in self.ready]
