"""Per-client rate limits: a token bucket per client address, in this process.

A look-up reads the audit database, so one client must not be able to keep it busy for
everyone. Each client (an IPv4 address, or an IPv6 /64: one subscriber's whole prefix) has a
bucket of ``burst`` tokens refilled at ``rate`` per second; a request takes one, and a client
with none left gets 429 with ``Retry-After``. The client address is the connection's, or, behind
a configured reverse proxy, the one it forwards (uvicorn's ``forwarded_allow_ips``): a client
cannot pick its own bucket with a header unless the operator trusts where it came from.

The table is bounded: when it is full, the buckets that have filled up again (clients that
went quiet) are dropped, and if none has, the oldest half; a flood of addresses can cost a
client its history, never the server its memory. Each process holds its own table: with
``heed serve --workers N`` every worker gets 1/N of the rate and of the burst, so that a client
never gets more than the configured limits in all (one whose connections all reach one worker
gets less), and no shared store is needed.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Callable

#: Buckets kept at most.
MAX_CLIENTS = 100_000


class RateLimited(Exception):
    """The client has no token left; retry after :attr:`retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        """Say how long the client should wait, in whole seconds."""
        super().__init__(f"rate limit: retry after {retry_after} s")
        self.retry_after = retry_after


class TokenBucket:
    """Token buckets per client key."""

    def __init__(
        self,
        per_minute: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        """Allow *per_minute* requests per client on average, *burst* at once."""
        if per_minute <= 0 or burst < 1.0:
            raise ValueError("a rate limit needs a positive rate and a burst of at least 1")
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> None:
        """Take a token for *client*; raise :class:`RateLimited` when there is none."""
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                raise RateLimited(max(1, math.ceil((1.0 - tokens) / self.rate)))
            if client not in self._buckets and len(self._buckets) >= self.max_clients:
                self._evict(now)
            self._buckets[client] = (tokens - 1.0, now)

    def _evict(self, now: float) -> None:
        full = [
            k
            for k, (t, then) in self._buckets.items()
            if t + (now - then) * self.rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_clients:
            for key in list(self._buckets)[: len(self._buckets) // 2]:
                del self._buckets[key]


def client_key(host: str | None) -> str:
    """Return the bucket key of a client address: itself, or its /64 for IPv6."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
