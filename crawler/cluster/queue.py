"""LeasedQueue: the shared frontier of a run, where no request is lost when a worker dies.

scrapy-redis's queues pop destructively: a request handed to a worker that is then killed is
gone. Here a pop *leases* the request: it moves from the queue to a set of leases with a deadline
(Redis's own clock, so workers' clocks never matter). Its worker renews the lease while the
request is in flight and acknowledges it once everything that came of it is durable (its
decision and item committed, its links pushed); a lease not renewed in time — its worker was
killed, or cut off — is put back in the queue by any worker (:meth:`LeasedQueue.reap`).

The duplicate filter is the run's set of request fingerprints, checked and added in the same
script that queues the request, together with the page budget (``max_pages``): a worker killed
between the two could otherwise mark a link seen that is in no queue. Each script is atomic.

Keys (:class:`crawler.cluster.keys.RunKeys`): ``queue`` (sorted set of ids by priority, then
arrival), ``req`` (id → the request as JSON), ``prio``, ``seq``, ``seen`` (fingerprints),
``leased`` (id → deadline, ms), ``owner`` (id → worker), ``pages`` (pages scheduled),
``requeued`` (leases put back).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy_redis.queue import Base

from crawler.cluster import codec
from crawler.cluster.keys import RunKeys

if TYPE_CHECKING:
    from collections.abc import Iterable

    from redis import Redis
    from scrapy import Request, Spider

#: Priorities are spread this far apart in the queue's score; arrival order breaks ties.
_PRIORITY_SCALE = 1e10

# KEYS: queue req prio seq seen pages; ARGV: fp data priority budget(-1: none) counted(0/1)
# filtered(0/1). Returns the new id, 0 for a duplicate, -1 over the page budget.
_PUSH = """
if ARGV[6] == '1' and redis.call('SISMEMBER', KEYS[5], ARGV[1]) == 1 then return 0 end
local budget = tonumber(ARGV[4])
if ARGV[5] == '1' and budget >= 0 then
  local used = tonumber(redis.call('GET', KEYS[6]) or '0')
  if used >= budget then return -1 end
  redis.call('INCR', KEYS[6])
elseif ARGV[5] == '1' then
  redis.call('INCR', KEYS[6])
end
if ARGV[1] ~= '' then redis.call('SADD', KEYS[5], ARGV[1]) end
local id = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[2], id, ARGV[2])
redis.call('HSET', KEYS[3], id, ARGV[3])
redis.call('ZADD', KEYS[1], -tonumber(ARGV[3]) * 1e10 + id, id)
return id
"""

# KEYS: queue req leased owner; ARGV: worker lease_ms. Returns {id, data} or nil.
_POP = """
local first = redis.call('ZRANGE', KEYS[1], 0, 0)
if #first == 0 then return nil end
local id = first[1]
redis.call('ZREM', KEYS[1], id)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), id)
redis.call('HSET', KEYS[4], id, ARGV[1])
return {id, redis.call('HGET', KEYS[2], id)}
"""

# KEYS: leased owner; ARGV: worker lease_ms id... Renews the leases this worker still holds;
# returns how many it no longer holds (reaped while it was cut off).
_RENEW = """
local t = redis.call('TIME')
local deadline = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2])
local lost = 0
for i = 3, #ARGV do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[1] then
    redis.call('ZADD', KEYS[1], 'XX', deadline, ARGV[i])
  else
    lost = lost + 1
  end
end
return lost
"""

# KEYS: leased owner req prio; ARGV: worker id... Acknowledges finished requests.
_ACK = """
for i = 2, #ARGV do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[1] then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
    redis.call('HDEL', KEYS[3], ARGV[i])
    redis.call('HDEL', KEYS[4], ARGV[i])
  end
end
return 0
"""

# KEYS: leased owner queue prio requeued; ARGV: worker ('' = any holder, expired only) id...
# With a worker: give its leases back now (a clean stop). Without: put back every expired lease.
_RELEASE = """
local ids = {}
if ARGV[1] == '' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 1000)
else
  for i = 2, #ARGV do
    if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[1] then table.insert(ids, ARGV[i]) end
  end
end
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
  local p = tonumber(redis.call('HGET', KEYS[4], id) or '0')
  redis.call('ZADD', KEYS[3], -p * 1e10, id)
end
if ARGV[1] == '' and #ids > 0 then redis.call('INCRBY', KEYS[5], #ids) end
return #ids
"""


class LeasedQueue(Base):  # type: ignore[misc]  # scrapy-redis is untyped
    """A run's shared priority queue with leases; see the module."""

    def __init__(
        self,
        server: Redis,
        spider: Spider,
        key: str,
        serializer: Any = codec,
        *,
        worker: str = "",
        lease_ms: int = 60_000,
    ) -> None:
        super().__init__(server, spider, key, serializer=serializer)
        self.keys = RunKeys(key)
        self.worker = worker
        self.lease_ms = lease_ms
        k = self.keys.key
        self._queue, self._req, self._prio = k("queue"), k("req"), k("prio")
        self._leased, self._owner = k("leased"), k("owner")
        self._push_script = server.register_script(_PUSH)
        self._pop_script = server.register_script(_POP)
        self._renew_script = server.register_script(_RENEW)
        self._ack_script = server.register_script(_ACK)
        self._release_script = server.register_script(_RELEASE)

    def __len__(self) -> int:
        """Return the requests waiting in the queue (not those leased)."""
        return int(self.server.zcard(self._queue))

    def leased(self) -> int:
        """Return the requests leased to workers."""
        return int(self.server.zcard(self._leased))

    def push(self, request: Request) -> int:  # scrapy-redis's interface: not filtered
        """Queue *request* whatever it is; return its id."""
        return self.push_new(request, "", filtered=False, counted=False)

    def push_new(
        self,
        request: Request,
        fingerprint: str,
        *,
        filtered: bool = True,
        counted: bool = True,
        budget: int | None = None,
    ) -> int:
        """Queue *request* unless its *fingerprint* was seen (0) or the page budget is spent
        (-1); return its id. ValueError if it cannot be encoded."""
        data = self._encode_request(request)
        k = self.keys.key
        keys = [self._queue, self._req, self._prio, k("seq"), k("seen"), k("pages")]
        args = [
            fingerprint,
            data,
            int(request.priority),
            -1 if budget is None else budget,
            int(counted),
            int(filtered and bool(fingerprint)),
        ]
        return int(self._push_script(keys=keys, args=args))

    def pop(self, timeout: int = 0) -> tuple[str, Request] | None:
        """Lease the first request; return ``(id, request)``, or None when the queue is empty."""
        found = self._pop_script(
            keys=[self._queue, self._req, self._leased, self._owner],
            args=[self.worker, self.lease_ms],
        )
        if not found:
            return None
        raw_id, data = found
        return raw_id.decode(), self._decode_request(data)

    def renew(self, ids: Iterable[str]) -> int:
        """Extend the leases of *ids*; return how many this worker no longer holds."""
        ids = list(ids)
        if not ids:
            return 0
        keys = [self._leased, self._owner]
        return int(self._renew_script(keys=keys, args=[self.worker, self.lease_ms, *ids]))

    def ack(self, ids: Iterable[str]) -> None:
        """Forget the finished requests *ids* (only those this worker holds)."""
        ids = list(ids)
        if ids:
            keys = [self._leased, self._owner, self._req, self._prio]
            self._ack_script(keys=keys, args=[self.worker, *ids])

    def release(self, ids: Iterable[str]) -> int:
        """Put the requests *ids* this worker holds back in the queue now; return how many."""
        ids = list(ids)
        if not ids:
            return 0
        return self._release(self.worker, ids)

    def reap(self) -> int:
        """Put every expired lease, of any worker, back in the queue; return how many."""
        return self._release("", [])

    def _release(self, worker: str, ids: list[str]) -> int:
        keys = [self._leased, self._owner, self._queue, self._prio, self.keys.key("requeued")]
        return int(self._release_script(keys=keys, args=[worker, *ids]))

    def clear(self) -> None:
        """Never: a shared run's frontier is deleted with ``heed cluster`` only."""
