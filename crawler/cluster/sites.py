"""SharedSites: one fetch of an origin's site documents for every worker of a shared crawl.

Without it each worker fetches every origin's robots.txt (and tdmrep.json, ai.txt, licences)
itself, workers disagree during a refresh, and a failed fetch in one says nothing to the others.
Here the documents of an origin — raw bytes, status, headers, fetch time — live in Redis
(``site:ORIGIN``) for the TTL :class:`crawler.sitecache.SiteCache` computes, whatever it is:
a usable robots.txt's lifetime, or the short TTL of an unreachable or unreadable one (shared
too: one worker's failed fetch defers the origin for all). Each worker compiles them itself.

One worker fetches at a time: it takes ``sitelock:ORIGIN`` (``SET NX`` with a short timeout,
extended every quarter of it while the fetch goes on, so that a worker that dies holding it
frees it within that timeout); the others wait for the documents to appear, polling with a
growing interval, and take the lock themselves if it is freed without them. Only the
fetching worker records the documents in the audit trail: once per TTL for the whole run.
The last usable robots.txt (``lastgood:ORIGIN``) is shared as well, so that keep-last-good
(RFC 9309 §2.4) holds across workers. Redis not answering is :class:`ClusterUnavailable`:
nothing of the origin is requested (fail closed).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from crawler.cluster.codec import (
    documents_from_json,
    documents_to_json,
    fetch_from_dict,
    fetch_to_dict,
)
from crawler.cluster.keys import REDIS_ERRORS, ClusterUnavailable, RunKeys

if TYPE_CHECKING:
    from redis import Redis

    from optout.document import FetchResult
    from optout.site import SiteDocuments

#: How long the last usable robots.txt of an origin is kept for keep-last-good, in seconds.
LAST_GOOD_TTL = 7 * 24 * 3600
#: First and longest wait between two looks at documents another worker is fetching.
_POLL_FIRST, _POLL_MAX = 0.01, 0.2

# KEYS: lock; ARGV: worker. Deletes the lock only if this worker still holds it.
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# KEYS: lock; ARGV: worker ttl_ms. Extends the lock only if this worker still holds it.
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

#: ``build(last_good)``: fetch the documents; return ``(documents, stale, ttl, last_good)``,
#: the last being the robots.txt retrieval to keep as last usable (None: forget it).
Build = Callable[
    ["FetchResult | None"],
    Awaitable[tuple["SiteDocuments", bool, float, "FetchResult | None"]],
]


class SharedSites:
    """Origins' site documents shared through Redis, fetched by one worker at a time."""

    def __init__(
        self,
        server: Redis,
        run: str,
        *,
        worker: str,
        lock_ttl: float,
        max_wait: float,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self.server = server
        self.keys = RunKeys(run)
        self.worker = worker
        self.lock_ttl = lock_ttl
        #: Seconds a worker waits, at most, for documents another worker is fetching.
        self.max_wait = max_wait
        self._on_event = on_event
        self._unlock = server.register_script(_UNLOCK)
        self._extend = server.register_script(_EXTEND)

    async def obtain(self, origin: str, build: Build) -> tuple[SiteDocuments, bool, float, bool]:
        """Return *origin*'s documents, whether robots.txt is a stale copy, the seconds they
        stay fresh, and whether this worker fetched them (with *build*) — else another did."""
        try:
            return await self._obtain(origin, build)
        except REDIS_ERRORS as exc:
            raise ClusterUnavailable(f"Redis unavailable: {exc}") from exc

    async def _obtain(self, origin: str, build: Build) -> tuple[SiteDocuments, bool, float, bool]:
        lock = self.keys.site_lock(origin)
        deadline = time.monotonic() + self.max_wait
        wait, waited = _POLL_FIRST, False
        while True:
            shared = self._read(origin)
            if shared is not None:
                self._event("shared_hit" if not waited else "shared_waited")
                return (*shared, False)
            if self.server.set(lock, self.worker, nx=True, px=int(self.lock_ttl * 1000)):
                keeper = asyncio.ensure_future(self._keep(lock))
                try:
                    # Another worker may have stored them and let the lock go since the look
                    # above: look again, holding the lock, before fetching.
                    shared = self._read(origin)
                    if shared is not None:
                        self._event("shared_waited")
                        return (*shared, False)
                    docs, stale, ttl = await self._fetch(origin, build)
                finally:
                    keeper.cancel()
                    self._unlock(keys=[lock], args=[self.worker])
                self._event("shared_fetched")
                return docs, stale, ttl, True
            if time.monotonic() > deadline:
                raise ClusterUnavailable(
                    f"the documents of {origin} did not come from the worker fetching them "
                    f"within {self.max_wait:.0f} s"
                )
            waited = True
            await asyncio.sleep(wait)
            wait = min(wait * 2, _POLL_MAX)

    async def _keep(self, lock: str) -> None:
        """Extend *lock* every quarter of its timeout while this worker fetches."""
        ttl_ms = int(self.lock_ttl * 1000)
        while True:
            await asyncio.sleep(self.lock_ttl / 4)
            try:
                self._extend(keys=[lock], args=[self.worker, ttl_ms])
            except REDIS_ERRORS:
                return  # the fetch goes on; its result cannot be shared anyway

    def _read(self, origin: str) -> tuple[SiteDocuments, bool, float] | None:
        pipe = self.server.pipeline(transaction=False)
        key = self.keys.site(origin)
        pipe.get(key)
        pipe.pttl(key)
        data, pttl = pipe.execute()
        if data is None or pttl is None or pttl <= 0:
            return None
        docs, stale = documents_from_json(data)
        return docs, stale, pttl / 1000

    async def _fetch(self, origin: str, build: Build) -> tuple[SiteDocuments, bool, float]:
        last_key = self.keys.last_good(origin)
        kept = self.server.get(last_key)
        last_good = fetch_from_dict(json.loads(kept)) if kept is not None else None
        docs, stale, ttl, keep = await build(last_good)
        pipe = self.server.pipeline(transaction=True)
        pipe.set(self.keys.site(origin), documents_to_json(docs, stale=stale), px=int(ttl * 1000))
        if keep is None:
            pipe.delete(last_key)
        elif keep is not last_good:
            pipe.set(last_key, json.dumps(fetch_to_dict(keep)), ex=LAST_GOOD_TTL)
        pipe.execute()
        return docs, stale, ttl

    def _event(self, name: str) -> None:
        if self._on_event is not None:
            self._on_event(name)
