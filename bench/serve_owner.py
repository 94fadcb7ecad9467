"""Benchmark: the verified owner's decisions page (100 rows) on a database of many decisions.

    .venv/bin/python bench/serve_owner.py [--decisions N] [--domains D] [--clients C]
                                          [--queries Q] [--db FILE]
                                          [--pg URL [--pg-keep-schema NAME]] [--no-sqlite]

Builds the database as bench/serve_lookup.py does (bench/audit_status.py's ``build``), issues a
credential per domain (audit/owners.py, as a successful check would), starts a real ``heed
serve`` on a free local port and sends ``GET /api/v1/domains/site<n>.com/decisions?limit=100``
with the domain's credential, at a random cursor position half the time, from C client threads;
prints p50 / p95 / max of the HTTP round trip and of :func:`audit.owner_decisions` alone. The
issue's target: p95 ≤ 100 ms (10M decisions).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from audit_status import build, scratch_database
from serve_lookup import start_server, summary

from audit import open_publisher, owner_decisions, record_check, start_verification
from heed.serve.owners import encode_cursor


def measure(db: str, domains: int, clients: int, queries: int) -> None:
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
    process, base = start_server(db)
    timings: list[float] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        r = random.Random(n)
        mine = []
        with httpx.Client(base_url=base, timeout=60) as http:
            for _ in range(queries // clients):
                domain = r.choice(picked)
                params = {"limit": "100"}
                if r.random() < 0.5:
                    params["cursor"] = encode_cursor(r.randrange(1, 1000))
                headers = {"Authorization": f"Bearer {creds[domain]}"}
                started = time.perf_counter()
                answer = http.get(
                    f"/api/v1/domains/{domain}/decisions", params=params, headers=headers
                )
                mine.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, answer.text
        with lock:
            timings.extend(mine)

    try:
        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        process.terminate()
        process.wait(30)
    print(summary(f"  HTTP, {clients} clients", timings))
    print(summary("  owner_decisions alone", direct))


def main() -> None:
    """Build the database and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--domains", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--queries", type=int, default=800)
    parser.add_argument("--db", help="SQLite file to build (or reuse); default: a temp file")
    parser.add_argument("--pg", help="PostgreSQL URL (a scratch schema is created and dropped)")
    parser.add_argument(
        "--pg-keep-schema", metavar="NAME", help="build into (or reuse) this schema, and keep it"
    )
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
            db = args.db or str(Path(tmp) / "owner.db")
            build(db, args.decisions, args.domains)
            print(f"SQLite ({Path(db).stat().st_size / 2**20:,.0f} MiB):")
            measure(db, args.domains, args.clients, args.queries)
    if args.pg:
        with scratch_database(args.pg, args.decisions, args.domains, args.pg_keep_schema) as url:
            print("PostgreSQL:")
            measure(url, args.domains, args.clients, args.queries)


if __name__ == "__main__":
    main()
