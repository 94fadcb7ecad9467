"""The summary's aggregate queries: a few GROUP BY scans, whatever the size of the database.

Four queries feed every figure of the training-content summary (each one's SQL is published
with it):

* ``items`` — stored items in scope (:mod:`audit.reporting.scope`) totalled per registrable
  domain, and per run, modality and media type with first and last collection time, and the
  protocols (and parser versions) of the signals behind the decisions of those items
  (:mod:`audit.reporting.items`). Sizes per modality, the period, the domain ranking, the
  contributing crawlers and the protocols recorded all derive from its rows.
* ``actions`` — decisions of the runs in scope per run and action, from the runs' counters
  (``crawl_run_count``, kept in the same transaction as the decisions they count).
* ``denylists`` — the infringing-site denylist versions recorded with those decisions.
* ``exclusions`` — per restricting protocol, the distinct URLs and registrable domains whose
  request was skipped, deferred or whose content was excluded (:mod:`audit.reporting.exclusions`).

All four run in one transaction, so that they read the same state of a database that a crawler
may be writing to. Times are read through the models' UTCDateTime columns (never SQL date
functions). :func:`summary_data` returns their rows as values; the benchmark times the
statements one by one (:func:`reading`, :func:`summary_queries`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import CompoundSelect, Connection, Engine, Select, select, text

from audit.models import COUNT_T, DECISION_T
from audit.reporting.exclusions import Exclusion, exclusion_rows, exclusions_query
from audit.reporting.items import DomainGroup, KindGroup, items_query, split_rows
from audit.reporting.runs import ACTION_COUNTER
from audit.reporting.scope import Scope, summary_scope

#: A query the summary runs and publishes.
Statement = Select[Any] | CompoundSelect[Any]


@dataclass(frozen=True, slots=True)
class ActionCount:
    """Decisions of one run with one action."""

    run_id: int
    action: str
    decisions: int


@dataclass(frozen=True, slots=True)
class SummaryData:
    """Everything the summary reads from the audit database."""

    scope: Scope
    #: Stored items in scope per registrable domain (the ``items`` query's domain rows).
    domains: list[DomainGroup]
    #: Stored items in scope per run, modality and media type (its other rows).
    kinds: list[KindGroup]
    #: ``(protocol, parser)`` of the signals behind the items in scope.
    signals: list[tuple[str, str]]
    actions: list[ActionCount]
    #: Denylist versions recorded with the decisions of the runs in scope.
    denylists: list[str]
    exclusions: list[Exclusion]
    #: Query name → its SQL text, as run (the provenance of every figure).
    queries: dict[str, str] = field(default_factory=dict)


def summary_data(engine: Engine, run_keys: Iterable[str] | None) -> SummaryData:
    """Run the summary's queries over the runs *run_keys* (None: every run); return their rows."""
    with reading(engine) as conn:
        scope = summary_scope(conn, run_keys)
        statements = summary_queries(scope, engine.dialect.name)
        rows = {name: conn.execute(stmt).all() for name, stmt in statements.items()}
    domains, kinds, signals = split_rows(rows["items"])
    return SummaryData(
        scope=scope,
        domains=domains,
        kinds=kinds,
        signals=signals,
        actions=[
            ActionCount(int(r.run_id), r.name.removeprefix(ACTION_COUNTER), int(r.decisions))
            for r in rows["actions"]
        ],
        denylists=[r.denylist_version for r in rows["denylists"]],
        exclusions=exclusion_rows(rows["exclusions"]),
        queries={name: sql_text(stmt, engine) for name, stmt in statements.items()},
    )


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """Yield a connection in one read transaction: every query sees the same state of a database
    a crawler may be writing to."""
    postgresql = engine.dialect.name == "postgresql"
    conn = engine.connect()
    if postgresql:
        # One snapshot for every query (PostgreSQL's default gives each statement its own).
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    with conn, conn.begin():
        if postgresql:
            # A handful of one-off scans: compiling them took PostgreSQL's JIT 0.2 to 1.3 s a
            # query on 1,000,000 decisions (measured), longer than most of them run.
            conn.execute(text("SET LOCAL jit = off"))
        yield conn


def summary_queries(scope: Scope, dialect: str) -> dict[str, Statement]:
    """Return the summary's queries over *scope*, by name, for *dialect*."""
    return {
        "items": items_query(scope, dialect),
        "actions": actions_query(scope),
        "denylists": denylists_query(scope),
        "exclusions": exclusions_query(scope, dialect),
    }


def actions_query(scope: Scope) -> Select[Any]:
    """Return the decision counters per run and action of the runs in scope."""
    c = COUNT_T.c
    return (
        select(c.run_id, c.name, c.n.label("decisions"))
        .where(scope.run_filter(c.run_id), c.name.startswith(ACTION_COUNTER))
        .order_by(c.run_id, c.name)
    )


def denylists_query(scope: Scope) -> Select[Any]:
    """Return the distinct denylist versions recorded with the decisions of the runs in scope."""
    d = DECISION_T.c
    return (
        select(d.denylist_version)
        .distinct()
        .where(scope.run_filter(d.run_id), d.denylist_version.is_not(None))
        .order_by(d.denylist_version)
    )


def sql_text(stmt: Statement, engine: Engine) -> str:
    """Return *stmt* as the SQL text the database ran, parameters inlined."""
    sql = str(stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    if engine.dialect.paramstyle in ("format", "pyformat"):
        sql = sql.replace("%%", "%")  # psycopg's escape of a literal %, not part of the SQL
    return sql
