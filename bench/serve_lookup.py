"""Benchmark: ``heed serve`` domain look-ups on a database of many decisions, 8 clients at once.

    .venv/bin/python bench/serve_lookup.py [--decisions N] [--domains D] [--clients C]
                                           [--queries Q] [--db FILE] [--no-sqlite]
                                           [--pg URL [--pg-keep-schema NAME]]

Builds the database as bench/audit_status.py does (through ``AuditStore``: every site has a
robots.txt and a tdmrep.json reserving ``/blog/*``, so every look-up also finds the items kept
after a reservation; half the stored decisions get an item), then starts a real ``heed serve``
on a free local port and sends ``GET /api/v1/domains/site<n>.com`` for random domains from C
client threads (one HTTP connection each), and prints p50 / p95 / max of the whole HTTP round
trip, and of :func:`audit.domain_view` alone. The issue's target: 10M decisions, p95 ≤ 50 ms with
8 clients, on SQLite and on PostgreSQL. ``--db FILE`` keeps the SQLite file and reuses it when it
already holds the requested decisions (building 10M takes a long while: run it once).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from audit_status import build, scratch_database

from audit import domain_view, open_reader

ROOT = Path(__file__).resolve().parents[1]


def summary(label: str, ms: list[float]) -> str:
    """Return p50 / p95 / max of *ms*."""
    p95 = statistics.quantiles(ms, n=20)[-1]
    return (
        f"  {label:22s} p50 {statistics.median(ms):6.2f} ms   p95 {p95:6.2f} ms"
        f"   max {max(ms):7.2f} ms   ({len(ms)} look-ups)"
    )


def start_server(db: str) -> tuple[subprocess.Popen[str], str]:
    """Start ``heed serve`` on a free port, without a rate limit; return it and its URL."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "heed",
            "serve",
            "--db",
            db,
            "--port",
            "0",
            "--lookups-per-minute",
            "1000000000",
            "--lookup-burst",
            "1000000000",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    found = re.match(r"^Serving on (http://[^ ]+/) ", process.stdout.readline())
    if found is None:
        process.kill()
        raise SystemExit("heed serve did not start")
    url = found.group(1).rstrip("/")
    # Drain the access log: a full pipe would stall the server.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    httpx.get(f"{url}/api/v1/health", timeout=60).raise_for_status()
    return process, url


def measure(db: str, domains: int, clients: int, queries: int) -> None:
    """Time *queries* look-ups of random domains from *clients* threads, then in-process."""
    rng = random.Random(11)
    names = [f"site{rng.randrange(domains)}.com" for _ in range(queries)]
    process, url = start_server(db)
    times: list[float] = []
    lock = threading.Lock()
    chunks = [names[i::clients] for i in range(clients)]

    def client(mine: list[str]) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            for name in mine[:5]:  # warm up the connection and the server's caches
                http.get(f"/api/v1/domains/{name}")
            for name in mine:
                started = time.perf_counter()
                response = http.get(f"/api/v1/domains/{name}")
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, response.text
                with lock:
                    times.append(elapsed)

    try:
        threads = [threading.Thread(target=client, args=(c,)) for c in chunks]
        wall = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - wall
    finally:
        process.terminate()
        process.communicate(timeout=60)
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
    print(summary(f"HTTP, {clients} clients", times))
    print(f"  throughput {len(times) / wall:,.0f} look-ups/s")
    print(summary("domain_view alone", alone))


def main() -> None:
    """Build the databases and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--domains", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--db", help="SQLite file to build (or reuse); default: a temp file")
    parser.add_argument("--pg", help="PostgreSQL URL (a scratch schema is created and dropped)")
    parser.add_argument(
        "--pg-keep-schema", metavar="NAME", help="build into (or reuse) this schema, and keep it"
    )
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
            db = args.db or str(Path(tmp) / "serve.db")
            build(db, args.decisions, args.domains)
            print(f"SQLite ({Path(db).stat().st_size / 2**20:,.0f} MiB):")
            measure(db, args.domains, args.clients, args.queries)
    if args.pg:
        with scratch_database(args.pg, args.decisions, args.domains, args.pg_keep_schema) as url:
            print("PostgreSQL:")
            measure(url, args.domains, args.clients, args.queries)


if __name__ == "__main__":
    main()
