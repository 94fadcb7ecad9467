"""What bench/serve_lookup.py and bench/serve_owner.py share: a real ``heed serve`` on a free
local port, closed-loop clients, the figures, and the SQLite / PostgreSQL dispatch.

The clients are threads of this process, each with one keep-alive connection of the standard
library's ``http.client``. They share the machine's cores with the server, so they are kept
lean: httpx cost 0.54 ms of client CPU per request here, ``http.client`` 0.18 ms, and on a
2-core machine every client millisecond is taken from the server (measured: the same server
looked slower under httpx clients). Each client sends its next request as soon as the answer
to the last one is read, as a person or a script checking domains one after another would.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx
from audit_status import build, scratch_database

ROOT = Path(__file__).resolve().parents[1]
#: A request: a path with its query, and its headers.
Request = tuple[str, Mapping[str, str]]


def summary(label: str, ms: Sequence[float]) -> str:
    """Return p50 / p95 / max of *ms*."""
    p95 = statistics.quantiles(ms, n=20)[-1]
    return (
        f"  {label:24s} p50 {statistics.median(ms):6.2f} ms   p95 {p95:6.2f} ms"
        f"   max {max(ms):7.2f} ms   ({len(ms)} requests)"
    )


def start_server(db: str, *extra: str) -> tuple[subprocess.Popen[str], str]:
    """Start ``heed serve`` on a free port, without a rate limit (and with *extra* options);
    return it and its URL."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "heed", "serve", "--db", db, "--port", "0"]
    unlimited = ["--lookups-per-minute", "1000000000", "--lookup-burst", "1000000000"]
    process = subprocess.Popen(
        [*command, *unlimited, *extra],
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


def run_clients(
    url: str, work: Sequence[Sequence[Request]], warm: int = 5
) -> tuple[list[float], float]:
    """Send each client's requests of *work* in turn, from one thread and connection per client
    (after *warm* untimed ones); return every round trip in ms and the wall time in seconds.

    Any answer but 200 stops the run: a figure over errors would mean nothing.
    """
    parts = urllib.parse.urlsplit(url)
    times: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client(mine: Sequence[Request]) -> None:
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
        own = []
        try:
            for n, (path, headers) in enumerate([*mine[:warm], *mine]):
                started = time.perf_counter()
                conn.request("GET", path, headers=dict(headers))
                response = conn.getresponse()
                body = response.read()
                if response.status != 200:
                    failures.append(f"{path}: {response.status} {body[:200]!r}")
                    return
                if n >= warm:
                    own.append((time.perf_counter() - started) * 1000)
        finally:
            conn.close()
            with lock:
                times.extend(own)

    threads = [threading.Thread(target=client, args=(mine,)) for mine in work]
    wall = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - wall
    if failures:
        raise SystemExit(f"a request failed: {failures[0]}")
    return times, wall


def each_server(db: str, work: Sequence[Sequence[Request]], workers: Sequence[int]) -> None:
    """Start ``heed serve --workers N`` on *db* for each N of *workers* in turn, send it *work*,
    and print the round trips and the throughput."""
    for n in workers:
        process, url = start_server(db, "--workers", str(n))
        try:
            times, wall = run_clients(url, work)
        finally:
            process.terminate()
            process.communicate(timeout=60)
        label = f"HTTP, {len(work)} clients, {n} worker{'s' if n > 1 else ''}"
        print(summary(label, times))
        print(f"  {'':24s} {len(times) / wall:,.0f} requests/s")


def arguments(doc: str, queries: int) -> argparse.Namespace:
    """Parse the options both benchmarks take."""
    parser = argparse.ArgumentParser(description=doc.split("\n", 1)[0])
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--domains", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--queries", type=int, default=queries)
    parser.add_argument("--db", help="SQLite file to build (or reuse); default: a temp file")
    parser.add_argument("--pg", help="PostgreSQL URL (a scratch schema is created and dropped)")
    parser.add_argument(
        "--pg-keep-schema", metavar="NAME", help="build into (or reuse) this schema, and keep it"
    )
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 2],
        help="heed serve --workers values to measure, in turn (default: 1 2)",
    )
    return parser.parse_args()


def each_database(args: argparse.Namespace, measure: Callable[[str], None]) -> None:
    """Build the SQLite file and/or the PostgreSQL schema *args* ask for, and *measure* each."""
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
            db = args.db or str(Path(tmp) / "serve.db")
            build(db, args.decisions, args.domains)
            print(f"SQLite ({Path(db).stat().st_size / 2**20:,.0f} MiB):")
            measure(db)
    if args.pg:
        with scratch_database(args.pg, args.decisions, args.domains, args.pg_keep_schema) as url:
            print("PostgreSQL:")
            measure(url)
