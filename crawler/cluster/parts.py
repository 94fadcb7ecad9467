"""The parts of a worker of a shared crawl that its components build from the settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.cluster.keys import REDIS_ERRORS, RunKeys, connect
from crawler.cluster.scheduler import worker_name
from crawler.cluster.sites import SharedSites
from crawler.cluster.slots import ClusterSlots

if TYPE_CHECKING:
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


def dataset_place(settings: BaseSettings, out: str) -> tuple[Path, Callable[[int], bool] | None]:
    """Return where this process writes its dataset, and the run-wide claim of a page's line.

    Locally: ``out`` itself, no claim. A worker of a shared run: a directory of its own in
    ``out`` (workers on one machine may share it), and a claim in the run's ``written`` set. A
    claim Redis cannot answer is granted: a line is never lost for it. It can be written twice
    only if another worker fetched the page again meanwhile, which needs this worker's lease to
    have expired: a worker cut off from a Redis the others still reach, for longer than the
    lease.
    """
    url, run = settings.get("HEED_REDIS_URL"), settings.get("HEED_RUN_KEY")
    if not url or not run:
        return Path(out), None
    server, key = connect(url), RunKeys(run).key("written")

    def claim(decision_id: int) -> bool:
        try:
            return bool(server.sadd(key, decision_id))
        except REDIS_ERRORS:
            return True

    return Path(out) / f"worker-{worker_name()}", claim
