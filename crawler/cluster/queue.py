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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy_redis.queue import Base

from crawler.cluster import codec
from crawler.cluster.keys import RunKeys

if TYPE_CHECKING:
    from collections.abc import Iterable

    from redis import Redis
    from scrapy import Request, Spider


@dataclass(frozen=True, slots=True)
class Push:
    """A request to queue: its JSON, fingerprint (hex; "" for none) and priority, whether it
    counts against the page budget, and whether the seen set filters it."""

    data: bytes
    fingerprint: str
    priority: int
    counted: bool = True
    filtered: bool = True

    def arguments(self) -> list[str | bytes | int]:
        filtered = self.filtered and bool(self.fingerprint)
        return [self.fingerprint, self.data, int(self.priority), int(self.counted), int(filtered)]


# KEYS: queue req prio seq seen pages leased owner; ARGV: worker lease_ms pop_count budget
# (-1: none), then per request to queue: fp data priority counted(0/1) filtered(0/1).
# Queues each request unless its fingerprint was seen (0) or the page budget is spent (-1),
# else gives it a new id; then leases up to pop_count requests, the first in the queue.
# Returns the result of each push, then the id and data of each request leased.
_EXCHANGE = """
local budget = tonumber(ARGV[4])
local out = {}
for i = 5, #ARGV, 5 do
  local fp, priority = ARGV[i], tonumber(ARGV[i + 2])
  local counted, filtered = ARGV[i + 3] == '1', ARGV[i + 4] == '1'
  local result
  if filtered and redis.call('SISMEMBER', KEYS[5], fp) == 1 then
    result = 0
  elseif counted and budget >= 0 and tonumber(redis.call('GET', KEYS[6]) or '0') >= budget then
    result = -1
  else
    if counted then redis.call('INCR', KEYS[6]) end
    if fp ~= '' then redis.call('SADD', KEYS[5], fp) end
    result = redis.call('INCR', KEYS[4])
    redis.call('HSET', KEYS[2], result, ARGV[i + 1])
    redis.call('HSET', KEYS[3], result, priority)
    redis.call('ZADD', KEYS[1], -priority * 1e10 + result, result)
  end
  table.insert(out, result)
end
local wanted = tonumber(ARGV[3])
if wanted > 0 then
  local ids = redis.call('ZRANGE', KEYS[1], 0, wanted - 1)
  if #ids > 0 then
    local t = redis.call('TIME')
    local deadline = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2])
    redis.call('ZREM', KEYS[1], unpack(ids))
    for _, id in ipairs(ids) do
      redis.call('ZADD', KEYS[7], deadline, id)
      redis.call('HSET', KEYS[8], id, ARGV[1])
      table.insert(out, id)
      table.insert(out, redis.call('HGET', KEYS[2], id))
    end
  end
end
return out
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
        self._exchange_script = server.register_script(_EXCHANGE)
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
        push = Push(self._encode_request(request), fingerprint, request.priority, counted, filtered)
        return self.exchange([push], 0, budget)[0][0]

    def pop(self, timeout: int = 0) -> tuple[str, Request] | None:
        """Lease the first request; return ``(id, request)``, or None when the queue is empty."""
        leased = self.exchange([], 1)[1]
        return leased[0] if leased else None

    def exchange(
        self, pushes: list[Push], pop_count: int, budget: int | None = None
    ) -> tuple[list[int], list[tuple[str, Request]]]:
        """Queue *pushes* (see :data:`_EXCHANGE`), then lease up to *pop_count* requests, in
        one round trip; return each push's result and the ``(id, request)`` leased."""
        k = self.keys.key
        keys = [self._queue, self._req, self._prio, k("seq"), k("seen"), k("pages"), self._leased]
        keys.append(self._owner)
        args: list[str | bytes | int] = [
            self.worker, self.lease_ms, pop_count, -1 if budget is None else budget,
        ]  # fmt: skip
        for push in pushes:
            args += push.arguments()
        found = self._exchange_script(keys=keys, args=args)
        n = len(pushes)
        results = [int(r) for r in found[:n]]
        leased = [
            (raw_id.decode(), self._decode_request(data))
            for raw_id, data in zip(found[n::2], found[n + 1 :: 2], strict=True)
        ]
        return results, leased

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

    def _encode_request(self, request: Request) -> bytes:
        return codec.dumps(codec.request_to_dict(request, self.spider))

    def encode(self, request: Request) -> bytes:
        """Return *request* as kept in the queue; ValueError if it cannot be."""
        return self._encode_request(request)

    def clear(self) -> None:
        """Never: a shared run's frontier is deleted with ``heed cluster`` only."""
