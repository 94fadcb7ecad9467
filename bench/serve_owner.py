"""Benchmark: the verified owner's decisions page (100 rows) on a database of many decisions.

    .venv/bin/python bench/serve_owner.py [--decisions N] [--domains D] [--clients C]
                                          [--queries Q] [--db FILE]
                                          [--pg URL [--pg-keep-schema NAME]] [--no-sqlite]
                                          [--workers N [N ...]]

Builds the database as bench/serve_lookup.py does (bench/audit_status.py's ``build``), issues a
credential per domain (audit/owners.py, as a successful check would), starts a real ``heed
serve --workers N`` (each ``--workers`` value in turn) on a free local port and sends ``GET /api/v1/domains/site<n>.com/decisions?limit=100``
with the domain's credential, at a random cursor position half the time, from C client threads;
prints p50 / p95 / max of the HTTP round trip and of :func:`audit.owner_decisions` alone. The
issue's target: p95 ≤ 100 ms (10M decisions).

Figures on the issue's 2-core machine, 10M decisions, 1,600 pages from 8 clients on the same
two cores, worker counts interleaved:

    SQLite                          1 worker    p95 80-92 ms   p50 41-43 ms   165-170 pages/s
                                    2 workers   p95 41-72 ms   p50 20-32 ms   200-325 pages/s
    PostgreSQL 15 (as installed)    1 worker    p95 63-72 ms   p50 40-43 ms   170-180 pages/s
                                    2 workers   p95 45-59 ms   p50 26-34 ms   195-250 pages/s
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve_common import Request, arguments, each_database, each_server, summary

from audit import open_publisher, owner_decisions, record_check, start_verification
from heed.serve.owners import encode_cursor


def measure(db: str, domains: int, clients: int, queries: int, workers: list[int]) -> None:
    """Print the page's timings over *queries* requests from *clients* threads."""
    engine = open_publisher(db)
    rng = random.Random(7)
    picked = [f"site{rng.randrange(domains)}.com" for _ in range(min(domains, 200))]
    creds = {}
    for domain in picked:
        v, _ = start_verification(engine, domain, valid_for=dt.timedelta(hours=1))
        token = record_check(engine, v.id, method="dns", error=None, valid_for=dt.timedelta(days=1))
        assert token is not None
        creds[domain] = token
    direct = []
    for domain in picked:
        started = time.perf_counter()
        rows = owner_decisions(engine, domain, limit=100)
        direct.append((time.perf_counter() - started) * 1000)
        assert rows
    engine.dispose()
    work: list[list[Request]] = []
    for n in range(clients):
        r = random.Random(n)
        mine: list[Request] = []
        for _ in range(queries // clients):
            domain = r.choice(picked)
            params = {"limit": "100"}
            if r.random() < 0.5:  # half the pages from a cursor, as paging through does
                params["cursor"] = encode_cursor(r.randrange(1, 1000))
            path = f"/api/v1/domains/{domain}/decisions?{urllib.parse.urlencode(params)}"
            mine.append((path, {"Authorization": f"Bearer {creds[domain]}"}))
        work.append(mine)
    each_server(db, work, workers)
    print(summary("owner_decisions alone", direct))


def main() -> None:
    """Build the database and print the figures."""
    args = arguments(__doc__, queries=800)
    each_database(
        args, lambda db: measure(db, args.domains, args.clients, args.queries, args.workers)
    )


if __name__ == "__main__":
    main()
