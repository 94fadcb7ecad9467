"""Benchmark: ``heed status DOMAIN`` latency on a database of 1M decisions over 50k domains.

    .venv/bin/python bench/audit_status.py [--decisions N] [--domains D] [--db FILE] [--pg URL]

Builds the database through the writer (``AuditStore``; half the decisions get a stored item),
then runs ``heed status site<n>.com`` for random domains and prints p50/p95/max of:

* ``command``      — the whole command in-process (``CliRunner``): open the database, check its
                     schema revision, look up, print the human output with its documents;
* ``command json`` — the same with ``--json``;
* ``lookup``       — :func:`audit.queries.lookup` alone on an open engine.

Interpreter start-up and imports (the cost of any Python CLI, ~0.3 s) are reported separately
from a few real ``heed status`` processes. ``--db FILE`` keeps the SQLite file and reuses it
when it already holds the requested decisions (building 10M takes minutes).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from audit_writer import build_sites, decisions_for
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text

from audit import Action, AuditError, AuditStore, lookup, open_reader, parse_target
from audit.engine import make_engine, resolve_url, sqlite_path
from audit.migrate import HEAD, current_revision, upgrade
from audit.models import DECISION_T
from heed.cli import main as heed

CHUNK = 100_000


def build(db: str, decisions: int, domains: int) -> None:
    """Fill *db* with *decisions* over *domains* sites, unless it already holds them.

    A kept database at an older schema revision is upgraded first, as ``heed db upgrade``
    would (timed: on millions of decisions a migration that builds an index takes a while).
    """
    _upgrade(db)
    have = _decisions_in(db)
    if have >= decisions:
        print(f"reusing {db}: {have:,} decisions")
        return
    print(f"building {decisions:,} decisions over {domains:,} domains …", flush=True)
    sites = build_sites(domains)
    started = time.perf_counter()
    with AuditStore.open(db, batch_size=50_000) as store:
        run = store.start_run(crawler_name="HeedBot", product_token="HeedBot", user_agent="bench")
        for site in sites:
            store.record_document(site.docs.robots, kind="robots.txt", run_id=run)
            if site.docs.tdmrep is not None:
                store.record_document(site.docs.tdmrep, kind="tdmrep.json", run_id=run)
        for start in range(0, decisions, CHUNK):
            count = min(CHUNK, decisions - start)
            for n, (decision, action, when, key) in enumerate(
                decisions_for(sites, count, start=start), start
            ):
                did = store.record_decision(run, decision, action, time=when, request_key=key)
                if action is Action.FETCHED_STORED and n % 2 == 0:
                    store.record_item(
                        did,
                        url=decision.url,
                        content_type="text/html",
                        size=4096,
                        on_durable=_ignore,
                    )
            done = start + count
            rate = done / (time.perf_counter() - started)
            print(f"  {done:,} decisions ({rate:,.0f}/s incl. generating them)", flush=True)
        store.end_run(run)


def _upgrade(db: str) -> None:
    """Bring an existing audit database *db* to the current schema (nothing when it has none)."""
    url = resolve_url(db)
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        return
    engine = make_engine(url, writer=True)
    try:
        with engine.connect() as conn:
            if current_revision(conn) in (None, HEAD):
                return
        started = time.perf_counter()
        before, after = upgrade(engine)
    finally:
        engine.dispose()
    print(
        f"upgraded {db} from revision {before} to {after} in {time.perf_counter() - started:.0f} s"
    )


def _decisions_in(db: str) -> int:
    """Return how many decisions *db* holds (0 when it is not an audit database yet)."""
    try:
        engine = open_reader(db)
    except AuditError:
        return 0
    with engine.connect() as conn:
        have = int(conn.execute(select(func.count()).select_from(DECISION_T)).scalar_one())
    engine.dispose()
    return have


def _ignore(_: int) -> None:
    """Stand in for handing an item to the dataset writer."""


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    """Return the wall times of *runs* calls of *fn*, in milliseconds."""
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def summary(label: str, ms: list[float]) -> str:
    """Return p50 / p95 / max of *ms*."""
    p95 = statistics.quantiles(ms, n=20)[-1]
    return f"  {label:14s} p50 {statistics.median(ms):6.2f} ms   p95 {p95:6.2f} ms   max {max(ms):7.2f} ms"


def measure(db: str, domains: int, queries: int) -> None:
    """Time ``heed status`` for *queries* random domains of *db*."""
    rng = random.Random(7)
    names = [f"site{rng.randrange(domains)}.com" for _ in range(queries)]
    runner = CliRunner()
    engine = open_reader(db)
    sizes = [sum(1 for _ in lookup(engine, parse_target(name))) for name in names]
    for name in names[:20]:  # warm up: first touches of the file, imports of lazy modules
        runner.invoke(heed, ["status", name, "--db", db])
    it = iter(names)

    def command(*extra: str) -> Callable[[], object]:
        def call() -> object:
            result = runner.invoke(heed, ["status", next(it), "--db", db, *extra])
            assert result.exit_code == 0, result.output
            return result

        return call

    human = timed(command(), queries)
    it = iter(names)
    as_json = timed(command("--json"), queries)
    it = iter(names)
    only = timed(lambda: list(lookup(engine, parse_target(next(it)))), queries)
    engine.dispose()
    print(f"  {queries} random domains, {statistics.mean(sizes):.1f} decisions each on average")
    print(summary("command", human))
    print(summary("command json", as_json))
    print(summary("lookup", only))
    procs = timed(
        lambda: subprocess.run(
            [str(Path(sys.executable).parent / "heed"), "status", names[0], "--db", db],
            capture_output=True,
            check=True,
        ),
        5,
    )
    print(f"  for context, a whole `heed status` process: {statistics.median(procs):.0f} ms")


@contextmanager
def scratch_database(
    pg: str, decisions: int, domains: int, keep: str | None = None
) -> Iterator[str]:
    """Yield the URL of a PostgreSQL schema on *pg* holding the benchmark's database (built,
    then vacuumed and analysed as autovacuum would); a scratch schema, dropped afterwards, or
    the schema *keep*, kept and reused when it already holds the decisions."""
    schema = keep or f"heed_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    try:
        sep = "&" if "?" in pg else "?"
        url = f"{pg}{sep}options=-csearch_path%3D{schema}"
        build(url, decisions, domains)
        started = time.perf_counter()
        with admin.connect() as conn:
            # VACUUM runs outside a transaction. A live database's autovacuum (on by default)
            # vacuums insert-only tables too since PostgreSQL 13, which marks their pages
            # all-visible: what lets index-only scans skip the table.
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text(f'SET search_path = "{schema}"'))
            conn.execute(text("VACUUM (ANALYZE)"))
        print(f"VACUUM (ANALYZE) of schema {schema}: {time.perf_counter() - started:.0f} s")
        yield url
    finally:
        if keep is None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    """Build the databases and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--domains", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--db", help="SQLite file to build (or reuse); default: a temp file")
    parser.add_argument("--pg", help="PostgreSQL URL (a scratch schema is created and dropped)")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
            db = args.db or str(Path(tmp) / "status.db")
            build(db, args.decisions, args.domains)
            print(f"SQLite ({Path(db).stat().st_size / 2**20:,.0f} MiB):")
            measure(db, args.domains, args.queries)
    if args.pg:
        with scratch_database(args.pg, args.decisions, args.domains) as url:
            print("PostgreSQL:")
            measure(url, args.domains, args.queries)


if __name__ == "__main__":
    main()
