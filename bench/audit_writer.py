"""Benchmark: decisions per second through AuditStore (each decision with two signals).

    .venv/bin/python bench/audit_writer.py [--decisions N] [--domains D] [--pg URL] [--no-sqlite]
                                           [--mode inline|background|both] [--repeat K]
                                           [--log on|off|both]

Decisions are real optout/ decisions: every domain gets a robots.txt and a tdmrep.json, and
``optout.site.Site.before_request`` decides each URL, so each decision carries the robots.txt
signal and a tdmrep.json signal, reused per matched rule exactly as the crawler's would be.
The decisions are built before the clock starts (and frozen out of the garbage collector, as a
long-running crawler's steady state would be); the clock covers ``record_decision`` for every
decision plus the final flush, i.e. until the last row is committed. Signal documents are
recorded once per site, inside the timed section.

Two writer modes (``--mode``, default both, interleaved run by run so that both see the same
machine): ``inline`` commits each batch in the recording process; ``background`` hands it to a
writer process (``AuditStore.open(background=True)``) and goes on recording meanwhile. Each run
also reports CPU seconds of the recording process and of the writer process: the figures to
compare across windows, since a shared 2-vCPU machine changes speed by tens of percent.

SQLite runs on a real file in a temporary directory (not tmpfs). PostgreSQL runs in a fresh
schema that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text

from audit import Action, AuditStore
from optout.decision import Crawl, Decision, Use
from optout.document import FetchResult
from optout.site import Site, SiteDocuments

FETCHED = "2026-01-01T00:00:00Z"


def origin_of(n: int) -> str:
    """Return the origin of site *n*: one registrable domain per site, a blog host for 1 in 10."""
    return f"https://{'blog' if n % 10 == 9 else 'www'}.site{n}.com"


def build_sites(domains: int) -> list[Site]:
    """Return one compiled optout Site per domain, each with a robots.txt and a tdmrep.json."""
    sites = []
    for n in range(domains):
        origin = origin_of(n)
        robots = FetchResult(
            url=origin + "/robots.txt",
            status=200,
            headers=(("content-type", "text/plain"),),
            body=f"# site {n}\nUser-agent: *\nDisallow: /private/\nAllow: /\n".encode(),
            fetched_at=FETCHED,
        )
        tdmrep = FetchResult(
            url=origin + "/.well-known/tdmrep.json",
            status=200,
            headers=(("content-type", "application/json"),),
            body=(
                b'[{"location": "/blog/*", "tdm-reservation": 1},'
                b' {"location": "/*", "tdm-reservation": 0}]'
            ),
            fetched_at=FETCHED,
        )
        sites.append(
            Site(SiteDocuments(origin=origin, robots=robots, tdmrep=tdmrep), token="HeedBot")
        )
    return sites


def decisions_for(
    sites: list[Site], count: int, *, start: int = 0, seed: int = 1
) -> Iterator[tuple[Decision, Action, dt.datetime, str]]:
    """Yield ``(decision, action, time, request_key)`` for *count* URLs of random sites."""
    rng = random.Random(seed + start)
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for i in range(start, start + count):
        site = sites[rng.randrange(len(sites))]
        section = "blog" if i % 5 == 0 else "page"
        decision = site.before_request(f"{site.docs.origin}/{section}/{i}.html")
        when = t0 + dt.timedelta(milliseconds=i)
        yield decision, action_for(decision), when, f"{rng.getrandbits(128):032x}"


def build(decisions: int, domains: int, seed: int = 1) -> tuple[list[SiteDocuments], list[Any]]:
    """Return the sites' documents and ``(decision, action, time, request_key)`` tuples."""
    sites = build_sites(domains)
    return [site.docs for site in sites], list(decisions_for(sites, decisions, seed=seed))


def action_for(decision: Decision) -> Action:
    """Return the action a crawler would take for a before-request decision."""
    if decision.crawl is not Crawl.ALLOW:
        return Action.SKIPPED_ROBOTS
    return Action.FETCHED_EXCLUDED if decision.use is Use.RESERVED else Action.FETCHED_STORED


def run(
    db: str,
    docs: list[SiteDocuments],
    decisions: list[Any],
    batch_size: int,
    background: bool = False,
    log: bool = True,
) -> float:
    """Record everything into *db*; return decisions per second."""
    store = AuditStore.open(db, batch_size=batch_size, background=background, log=log)
    run_id = store.start_run(
        crawler_name="HeedBot", product_token="HeedBot", user_agent="HeedBot/1.0 (+bench)"
    )
    children = _children_cpu()
    started, cpu = time.perf_counter(), time.process_time()
    for site in docs:
        store.record_document(site.robots, kind="robots.txt", run_id=run_id)
        if site.tdmrep is not None:
            store.record_document(site.tdmrep, kind="tdmrep.json", run_id=run_id)
    record = store.record_decision
    for decision, action, when, key in decisions:
        record(run_id, decision, action, time=when, request_key=key)
    store.flush()
    elapsed = time.perf_counter() - started
    own = time.process_time() - cpu
    store.end_run(run_id)
    store.close()  # the writer process exits here: its CPU time is counted once it is reaped
    CPU.append((own * 1e6 / len(decisions), (_children_cpu() - children) * 1e6 / len(decisions)))
    return len(decisions) / elapsed


#: Per run, CPU microseconds per decision of the recording process and of the writer process
#: (0 inline). Excludes time waiting for the disk or for a CPU shared with other work.
CPU: list[tuple[float, float]] = []


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def calibration() -> float:
    """Return the seconds a fixed pure-Python loop takes: how fast this machine is right now.

    Shared 2-vCPU machines change speed by tens of percent between minutes; figures taken at
    different times compare only together with this.
    """
    started = time.perf_counter()
    total = 0
    for i in range(5_000_000):
        total += i
    return time.perf_counter() - started


def report(label: str, rates: list[float], cpu: list[tuple[float, float]]) -> None:
    """Print the median and worst of *rates*, every run, and the CPU cost per decision."""
    runs = ", ".join(f"{r:,.0f}" for r in rates)
    print(
        f"{label + ':':24s}{statistics.median(rates):8,.0f} decisions/s median, "
        f"{min(rates):,.0f} worst  (runs: {runs})"
    )
    own = statistics.median(c[0] for c in cpu)
    writer = statistics.median(c[1] for c in cpu)
    split = f" + writer process {writer:.1f}" if writer else ""
    print(f"{'':24s}CPU µs per decision: recording process {own:.1f}{split}")


def measure(
    label: str,
    modes: list[str],
    repeat: int,
    fresh_db: Callable[[], AbstractContextManager[str]],
    docs: list[SiteDocuments],
    decisions: list[Any],
    batch_size: int,
) -> None:
    """Run each mode *repeat* times, interleaved, on a fresh database each; print the figures
    and, per writer mode measured with the audit log on and off, the ratio of their medians and
    the median of the per-round ratios (each round runs both back to back)."""
    rates: dict[str, list[float]] = {mode: [] for mode in modes}
    cpu: dict[str, list[tuple[float, float]]] = {mode: [] for mode in modes}
    for _ in range(repeat):
        for mode in modes:
            writer, _, log = mode.partition(", log ")
            with fresh_db() as db:
                rate = run(db, docs, decisions, batch_size, writer == "background", log == "on")
                rates[mode].append(rate)
            cpu[mode].append(CPU[-1])
    for mode in modes:
        report(f"{label}, {mode}", rates[mode], cpu[mode])
    for writer in ("inline", "background"):
        on, off = rates.get(f"{writer}, log on"), rates.get(f"{writer}, log off")
        if on and off:
            paired = statistics.median(a / b for a, b in zip(on, off, strict=True))
            print(
                f"{label}, {writer}: with the audit log {statistics.median(on) / statistics.median(off):.3f}"
                f"× the rate without it (median of per-round ratios {paired:.3f}×)"
            )


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--decisions", type=int, default=500_000)
    parser.add_argument("--domains", type=int, default=5_000)
    parser.add_argument("--batch-size", type=int, default=50_000)
    parser.add_argument("--pg", help="PostgreSQL URL (a scratch schema is created and dropped)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--dir", help="directory for the SQLite file (default: a temp dir)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per backend and mode (fresh database each)"
    )
    parser.add_argument("--mode", choices=("inline", "background", "both"), default="both")
    parser.add_argument(
        "--log",
        choices=("on", "off", "both"),
        default="both",
        help="the tamper-evident audit log on, off, or both to compare (default)",
    )
    args = parser.parse_args()
    writers = ["inline", "background"] if args.mode == "both" else [args.mode]
    logs = ["on", "off"] if args.log == "both" else [args.log]
    modes = [f"{writer}, log {log}" for writer in writers for log in logs]
    docs, decisions = build(args.decisions, args.domains)
    signals = sum(len(d[0].signals) for d in decisions) / len(decisions)
    gc.collect()
    gc.freeze()
    print(f"calibration: a 5M-step Python loop takes {calibration():.2f} s on this machine now")
    print(
        f"{args.decisions:,} decisions over {args.domains:,} domains, "
        f"{signals:.2f} signals per decision, batch size {args.batch_size:,}"
    )
    work = (docs, decisions, args.batch_size)
    if not args.no_sqlite:

        @contextmanager
        def sqlite_db() -> Iterator[str]:
            with tempfile.TemporaryDirectory(dir=args.dir or os.getcwd()) as tmp:
                yield str(Path(tmp) / "bench.db")

        measure("SQLite", modes, args.repeat, sqlite_db, *work)
    if args.pg:
        schema = f"heed_bench_{uuid.uuid4().hex[:12]}"
        admin = create_engine(args.pg.replace("postgresql://", "postgresql+psycopg://", 1))
        sep = "&" if "?" in args.pg else "?"
        url = f"{args.pg}{sep}options=-csearch_path%3D{schema}"

        @contextmanager
        def pg_db() -> Iterator[str]:
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                yield url
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

        try:
            measure("PostgreSQL", modes, args.repeat, pg_db, *work)
        finally:
            admin.dispose()


if __name__ == "__main__":
    main()
