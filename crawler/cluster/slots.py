"""ClusterSlots: an origin's delay between requests kept by the whole cluster, not per worker.

Scrapy enforces ``DOWNLOAD_DELAY`` and the Crawl-delay Heed applies (crawler/middleware.py) per
download slot, that is per worker: three workers would request an origin three times as often
as its robots.txt asks. Here each origin with a delay has a slot in Redis (``slot:ORIGIN``)
holding the earliest time the next request may start. A request takes a turn with one atomic
script — ``start = max(now, slot); slot = start + delay`` on Redis's clock — and waits until its
start: turns are handed out in order, ``delay`` apart, whichever worker asks. An origin without
a delay costs nothing here. Redis not answering is :class:`ClusterUnavailable`: the request
is not sent (fail closed).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from crawler.cluster.keys import REDIS_ERRORS, ClusterUnavailable, RunKeys

if TYPE_CHECKING:
    from redis import Redis

# KEYS: slot; ARGV: delay_ms. Returns the milliseconds to wait before starting.
_TAKE_TURN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local start = tonumber(redis.call('GET', KEYS[1]) or '0')
if start < now then start = now end
local delay = tonumber(ARGV[1])
redis.call('SET', KEYS[1], start + delay, 'PX', (start - now) + delay + 1000)
return start - now
"""


class ClusterSlots:
    """Per-origin turns ``delay`` apart across every worker of a run; see the module."""

    def __init__(self, server: Redis, run: str) -> None:
        self.server = server
        self.keys = RunKeys(run)
        self._take_turn = server.register_script(_TAKE_TURN)

    def turn(self, origin: str, delay: float) -> float:
        """Take *origin*'s next turn for a request; return the seconds to wait for it."""
        try:
            wait_ms = self._take_turn(keys=[self.keys.slot(origin)], args=[int(delay * 1000)])
        except REDIS_ERRORS as exc:
            raise ClusterUnavailable(f"Redis unavailable: {exc}") from exc
        return int(wait_ms) / 1000

    async def wait_turn(self, origin: str, delay: float) -> float:
        """Take *origin*'s next turn and wait for it; return the seconds waited."""
        wait = self.turn(origin, delay)
        if wait > 0:
            await asyncio.sleep(wait)
        return wait
