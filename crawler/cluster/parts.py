"""The parts of a worker of a shared crawl that its components build from the settings."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.cluster.keys import REDIS_ERRORS, RunKeys, connect
from crawler.cluster.scheduler import worker_name
from crawler.cluster.sites import SharedSites
from crawler.cluster.slots import ClusterSlots

if TYPE_CHECKING:
    from redis import Redis
    from scrapy.settings import BaseSettings

    from crawler.config import OptoutConfig

#: Sequential retrievals, at most, in one load of an origin's documents (robots.txt; tdmrep.json
#: and ai.txt together; a licence's own robots.txt; the licence): a worker waits for another's
#: load for twice their timeouts (and a minute) before it gives the request up.
_LOAD_STEPS = 4


def shared_parts(
    settings: BaseSettings, config: OptoutConfig, on_event: Callable[[str], None]
) -> tuple[SharedSites | None, ClusterSlots | None]:
    """Return the run's shared site documents and politeness slots (None, None: not shared)."""
    url, run = settings.get("HEED_REDIS_URL"), settings.get("HEED_RUN_KEY")
    if not url or not run:
        return None, None
    server = connect(url)
    sites = SharedSites(
        server,
        run,
        worker=worker_name(),
        lock_ttl=settings.getfloat("HEED_CLUSTER_LEASE", 60.0),
        max_wait=_LOAD_STEPS * config.document_timeout * 2 + 60.0,
        on_event=on_event,
    )
    return sites, ClusterSlots(server, run)


class DatasetMarks:
    """The decision ids whose dataset line a worker of the run has written (Redis set
    ``written``), asked only about pages fetched again after their worker died.

    A line is written, then marked. So a worker killed between its commit and its write leaves
    nothing marked, and the worker that fetches the page again writes it: no line is lost. The
    lines one audit commit hands on are written in one turn of the event loop and marked
    together right after it, in one round trip (one per commit, not per page: a round trip
    costs more CPU than the rest of a shared crawl's overhead). A worker killed in those few
    milliseconds leaves its lines unmarked, and the pages are written again by the next worker:
    the two lines carry the same decision and item id, and ``heed dataset export`` keeps one.
    Redis not answering: the marks are not made (the same case).
    """

    def __init__(self, server: Redis, key: str) -> None:
        self.server, self.key = server, key
        self._pending: list[int] = []

    def written(self, decision_id: int) -> bool:
        """Return True if a worker of the run wrote *decision_id*'s line already."""
        try:
            return bool(self.server.sismember(self.key, str(decision_id)))
        except REDIS_ERRORS:
            return False

    def mark(self, decision_id: int) -> None:
        """Note that *decision_id*'s line is written: marked at the end of this turn of the
        event loop (at once without a running loop)."""
        self._pending.append(decision_id)
        if len(self._pending) > 1:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
        else:
            loop.call_soon(self.flush)

    def flush(self) -> None:
        """Mark the lines written since the last flush."""
        ids, self._pending = self._pending, []
        if ids:
            with contextlib.suppress(*REDIS_ERRORS):
                self.server.sadd(self.key, *ids)


def dataset_place(settings: BaseSettings, out: str) -> tuple[Path, DatasetMarks | None]:
    """Return where this process writes its dataset, and the run's marks of the lines written.

    Locally: ``out`` itself, no marks. A worker of a shared run: a directory of its own in
    ``out`` (workers on one machine may share it), and the run's ``written`` set.
    """
    url, run = settings.get("HEED_REDIS_URL"), settings.get("HEED_RUN_KEY")
    if not url or not run:
        return Path(out), None
    return Path(out) / f"worker-{worker_name()}", DatasetMarks(
        connect(url), RunKeys(run).key("written")
    )
