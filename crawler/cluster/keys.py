"""Where a shared crawl lives in Redis, and how Heed connects to it.

Every key of run ``K`` starts with ``heed:{K}:`` (the braces make it one hash slot, so that the
Lua scripts touching several keys also work on a Redis Cluster). ``heed:runs`` lists the runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import redis

if TYPE_CHECKING:
    from redis import Redis

#: The set of every run key seeded on this Redis.
RUNS_KEY = "heed:runs"
#: Seconds to connect, and to wait for an answer, before Redis counts as unavailable.
CONNECT_TIMEOUT = 3.0
ANSWER_TIMEOUT = 5.0


class ClusterUnavailable(RuntimeError):
    """Redis did not answer: nothing that depends on it may be fetched (fail closed)."""


class ClusterError(ValueError):
    """A shared crawl cannot be used as asked (no such run, a different run, a stopped run)."""


@dataclass(frozen=True, slots=True)
class RunKeys:
    """The Redis keys of one shared run."""

    run: str

    def key(self, name: str) -> str:
        """Return the key *name* of this run."""
        return f"heed:{{{self.run}}}:{name}"

    def site(self, origin: str) -> str:
        """Return the key of *origin*'s shared site documents."""
        return self.key(f"site:{origin}")

    def site_lock(self, origin: str) -> str:
        """Return the key of the lock held by the worker fetching *origin*'s documents."""
        return self.key(f"sitelock:{origin}")

    def last_good(self, origin: str) -> str:
        """Return the key of *origin*'s last usable robots.txt (kept through an outage)."""
        return self.key(f"lastgood:{origin}")

    def slot(self, origin: str) -> str:
        """Return the key of *origin*'s politeness slot: the next time a request may start."""
        return self.key(f"slot:{origin}")


def check_url(url: str) -> str:
    """Return *url* if it names a Redis server (``redis://``, ``rediss://``, ``unix://``)."""
    scheme = urlsplit(url).scheme
    if scheme not in ("redis", "rediss", "unix"):
        raise ClusterError(f"not a Redis URL (redis://host:port/db): {url!r}")
    return url


def connect(url: str) -> Redis:
    """Return a client of the Redis at *url*, with short timeouts (an outage is an answer).

    One connection, kept (a worker calls Redis from its event loop's thread only): a
    connection pool's checkout and return cost a third of a round trip's CPU (measured). Such
    a client connects at once; if Redis does not answer now, the client returned is one that
    connects when used (and raises then), as before.
    """
    options: dict[str, Any] = {
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "socket_timeout": ANSWER_TIMEOUT,
        "retry_on_timeout": False,
    }
    try:
        return redis.Redis.from_url(check_url(url), single_connection_client=True, **options)
    except REDIS_ERRORS:
        return redis.Redis.from_url(url, **options)


def describe(url: str) -> str:
    """Return *url* without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return parts._replace(netloc=user + netloc).geturl()


#: The errors of a Redis that is down, restarting or unreachable.
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
