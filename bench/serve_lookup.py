"""Benchmark: ``heed serve`` domain look-ups on a database of many decisions, 8 clients at once.

    .venv/bin/python bench/serve_lookup.py [--decisions N] [--domains D] [--clients C]
                                           [--queries Q] [--db FILE] [--no-sqlite]
                                           [--pg URL [--pg-keep-schema NAME]]
                                           [--workers N [N ...]]

Builds the database as bench/audit_status.py does (through ``AuditStore``: every site has a
robots.txt and a tdmrep.json reserving ``/blog/*``, so every look-up also finds the items kept
after a reservation; half the stored decisions get an item), then, for each ``--workers`` value
in turn (default 1, then 2), starts a real ``heed serve --workers N`` on a free local port and
sends ``GET /api/v1/domains/site<n>.com`` for random domains from C client threads (one
keep-alive connection each, bench/serve_common.py); prints p50 / p95 / max of the whole HTTP
round trip and the throughput, then of :func:`audit.domain_view` alone. The issue's target:
10M decisions, p95 ≤ 50 ms with 8 clients, on SQLite and on PostgreSQL. ``--db FILE`` keeps the
SQLite file and reuses it when it already holds the requested decisions (building 10M takes a
long while: run it once); ``--pg-keep-schema`` does the same on PostgreSQL.

Figures on the issue's 2-core machine, 10M decisions over 50,000 domains (200 decisions a
domain), 3,000 look-ups from 8 clients on the same two cores, worker counts interleaved:

    SQLite               1 worker    p95 46-54 ms   p50 29-32 ms   230-258 look-ups/s
                         2 workers   p95 32-42 ms   p50 16-21 ms   310-400 look-ups/s
    PostgreSQL 15        1 worker    p95 52-62 ms   p50 31-41 ms   185-235 look-ups/s
    (as installed,       2 workers   p95 41-50 ms   p50 22-27 ms   260-290 look-ups/s
    shared_buffers 128 MB)

Since the look-up also lists the reservations registry's entries (a sixth statement),
PostgreSQL with 2 workers gave p95 43-50 ms. One run in eight strayed above those ranges (a
neighbour on the virtual machine, or the first run after VACUUM: 50-55 ms, once 69 ms). On
PostgreSQL the database's own processes spend about 3.3 ms of CPU per look-up on the same two
cores (heed's worker 2.7 ms); on SQLite that work is done in the worker (4.4 ms in all).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve_common import arguments, each_database, each_server, summary

from audit import domain_view, open_reader


def measure(db: str, domains: int, clients: int, queries: int, workers: list[int]) -> None:
    """Time *queries* look-ups of random domains from *clients* threads, then in-process."""
    rng = random.Random(11)
    names = [f"site{rng.randrange(domains)}.com" for _ in range(queries)]
    paths = [(f"/api/v1/domains/{name}", {}) for name in names]
    each_server(db, [paths[i::clients] for i in range(clients)], workers)
    engine = open_reader(db)
    sizes = []
    alone = []
    for name in names[: min(len(names), 300)]:
        started = time.perf_counter()
        view = domain_view(engine, name)
        alone.append((time.perf_counter() - started) * 1000)
        sizes.append(view.total.decisions)
    engine.dispose()
    print(f"  {statistics.mean(sizes):.0f} decisions per domain on average (max {max(sizes)})")
    print(summary("domain_view alone", alone))


def main() -> None:
    """Build the databases and print the figures."""
    args = arguments(__doc__, queries=2_000)
    each_database(
        args, lambda db: measure(db, args.domains, args.clients, args.queries, args.workers)
    )


if __name__ == "__main__":
    main()
