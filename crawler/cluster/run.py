"""ClusterRun: one shared crawl in Redis — its arguments, its workers, its figures, its stop.

A run is created by seeding it (``heed cluster seed``, or the first ``heed crawl --redis … URL``):
its spider arguments (seeds, scope, depth, page budget, sitemaps) are kept as ``spec`` and every
worker crawls with those, so that the scope a worker follows never depends on which worker it is.
The audit run in PostgreSQL has the same key; its recorded configuration makes workers with other
settings or policy refuse to join (:meth:`audit.AuditStore.start_run`).

Workers write a heartbeat (``workers``: worker → JSON of its counts, every few seconds); one that
has not written for :data:`ALIVE_WITHIN` heartbeats counts as gone. ``stop`` set: every worker
finishes what it holds and stops; ``heed cluster status --resume`` clears it.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from crawler.cluster.keys import RUNS_KEY, ClusterError, RunKeys

if TYPE_CHECKING:
    from redis import Redis

#: A run key: letters, digits and ``._-`` (it is part of every Redis key of the run).
RUN_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
#: A worker is alive while its last heartbeat is within this many heartbeat intervals.
ALIVE_WITHIN = 3
#: The spider arguments a run fixes for all its workers.
SPEC_ARGUMENTS = ("urls", "scope", "depth", "max_pages", "sitemaps")


def check_run_key(key: str) -> str:
    """Return *key* if it can name a run; ClusterError otherwise."""
    if not RUN_KEY.match(key):
        raise ClusterError(f"run key must be letters, digits and ._- (at most 100): {key!r}")
    return key


class ClusterRun:
    """A shared run's arguments, workers, figures and stop flag in Redis; see the module."""

    def __init__(self, server: Redis, run: str) -> None:
        self.server = server
        self.run = check_run_key(run)
        self.keys = RunKeys(self.run)

    # -- the run ------------------------------------------------------------------------------

    def spec(self) -> dict[str, Any] | None:
        """Return the run's spider arguments, or None if no such run was seeded."""
        raw = self.server.get(self.keys.key("spec"))
        return None if raw is None else dict(json.loads(raw))

    def create(self, arguments: dict[str, Any]) -> bool:
        """Create the run with spider *arguments*; return False if it exists with the same ones.

        ClusterError if it exists with other arguments: the workers of a run crawl alike.
        """
        wanted = {name: arguments.get(name) for name in SPEC_ARGUMENTS}
        text = json.dumps(wanted, sort_keys=True)
        if self.server.set(self.keys.key("spec"), text, nx=True):
            self.server.sadd(RUNS_KEY, self.run)
            self.server.set(self.keys.key("created"), _now())
            return True
        kept = self.spec() or {}
        if kept != wanted:
            changed = ", ".join(sorted(k for k in wanted if kept.get(k) != wanted[k]))
            raise ClusterError(
                f"run {self.run} exists with other arguments ({changed}); its workers all crawl "
                "with the arguments it was seeded with: join it without seeds, or seed a new run"
            )
        return False

    def stopped(self) -> bool:
        """Return True if the run was asked to stop."""
        return bool(self.server.exists(self.keys.key("stop")))

    def stop(self) -> None:
        """Ask every worker of the run to stop cleanly."""
        self.server.set(self.keys.key("stop"), _now())

    def resume(self) -> None:
        """Let workers take the run's requests again."""
        self.server.delete(self.keys.key("stop"))

    # -- workers ------------------------------------------------------------------------------

    def heartbeat(self, worker: str, info: dict[str, Any]) -> None:
        """Record that *worker* is alive, with its counts."""
        record = {**info, "seen": time.time()}
        self.server.hset(self.keys.key("workers"), worker, json.dumps(record, sort_keys=True))

    def workers(self) -> dict[str, dict[str, Any]]:
        """Return every worker that joined the run, with its last heartbeat."""
        raw = self.server.hgetall(self.keys.key("workers"))
        return {_text(k): json.loads(v) for k, v in raw.items()}

    # -- figures ------------------------------------------------------------------------------

    def figures(self) -> dict[str, Any]:
        """Return the run's queue, leases, seen URLs, pages and re-queued leases."""
        k = self.keys.key
        pipe = self.server.pipeline(transaction=False)
        pipe.zcard(k("queue"))
        pipe.zcard(k("leased"))
        pipe.scard(k("seen"))
        pipe.get(k("pages"))
        pipe.get(k("requeued"))
        pipe.exists(k("stop"))
        queued, leased, seen, pages, requeued, stop = pipe.execute()
        return {
            "queued": int(queued),
            "leased": int(leased),
            "seen": int(seen),
            "pages": int(pages or 0),
            "requeued": int(requeued or 0),
            "stopped": bool(stop),
        }

    def delete(self) -> int:
        """Delete every key of the run; return how many there were."""
        pattern = self.keys.key("*")
        removed = 0
        for key in self.server.scan_iter(match=pattern, count=1000):
            removed += int(self.server.delete(key))
        self.server.srem(RUNS_KEY, self.run)
        return removed


def run_keys(server: Redis) -> list[str]:
    """Return the key of every run seeded on *server*, sorted."""
    return sorted(_text(k) for k in server.smembers(RUNS_KEY))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
