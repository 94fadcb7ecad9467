"""Benchmark: what the Measure 1.5 figures (complaints, the reservations registry) add to
``heed report policy`` on a database of 1M decisions over 50k domains.

    .venv/bin/python bench/report_policy.py [--decisions N] [--domains D] [--db FILE] [--pg URL]

Builds the database as bench/audit_status.py does (``--db FILE`` keeps and reuses it), then
prints, as medians of a few runs:

* ``report policy`` — the whole command in-process (``CliRunner``, JSON preview);
* ``complaints``    — :func:`audit.complaint_figures`;
* ``registry``      — :func:`audit.registry_figures` as the report calls it (no registry entry
                      in this database: nothing more is read);
* ``registry scan`` — its exclusion count forced to run for 20 signals, as on a database whose
                      crawls applied a registry of 20 entries (the cost such a database pays);

and each as a share of the whole command.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from audit_status import build, scratch_database
from click.testing import CliRunner
from sqlalchemy import select

from audit import complaint_figures, open_reader, registry_figures
from audit.engine import reading
from audit.models import SIGNAL_T
from audit.reporting.exclusions import signal_exclusions_query
from heed.cli import main as heed

ROUNDS = 5


def _median(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(db: str) -> None:
    """Print the figures for the database *db*."""
    engine = open_reader(db)

    def report() -> None:
        done = CliRunner().invoke(heed, ["report", "policy", "--db", db, "--format", "json"])
        assert done.exit_code == 0, done.output

    with reading(engine) as conn:
        # Stand-ins for a registry's signals: as many as a registry of 20 entries gives.
        ids = list(conn.execute(select(SIGNAL_T.c.id).limit(20)).scalars())

    def scan() -> None:
        with reading(engine) as conn:
            conn.execute(signal_exclusions_query(ids, engine.dialect.name)).one()

    whole = _median(report)
    parts = {
        "complaints": _median(lambda: complaint_figures(engine)),
        "registry": _median(lambda: registry_figures(engine)),
        "registry scan": _median(scan),
    }
    engine.dispose()
    print(f"  report policy  {whole * 1000:8.1f} ms")
    for name, took in parts.items():
        print(f"  {name:<14} {took * 1000:8.1f} ms  ({took / whole:.1%} of the command)")


def main() -> None:
    """Build the databases and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--domains", type=int, default=50_000)
    parser.add_argument("--db", help="SQLite file to build (or reuse); default: a temp file")
    parser.add_argument("--pg", help="PostgreSQL URL (a scratch schema is created and dropped)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        db = args.db or str(Path(tmp) / "policy.db")
        build(db, args.decisions, args.domains)
        print("SQLite:")
        measure(db)
    if args.pg:
        with scratch_database(args.pg, args.decisions, args.domains) as url:
            print("PostgreSQL:")
            measure(url)


if __name__ == "__main__":
    main()
