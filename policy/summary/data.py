"""The summary's aggregate queries: a few GROUP BY scans, whatever the size of the database.

Four queries feed every figure (each one's SQL is published with the summary):

* ``items`` — stored items in scope (:mod:`policy.summary.scope`) totalled per registrable
  domain, and per run, modality and media type with first and last collection time, and the
  protocols (and parser versions) of the signals behind the decisions of those items
  (:mod:`policy.summary.items`). Sizes per modality, the period, the domain ranking, the
  contributing crawlers and the protocols recorded all derive from its rows.
* ``actions`` — decisions of the runs in scope per run and action, from the runs' counters
  (``crawl_run_count``, kept in the same transaction as the decisions they count).
* ``denylists`` — the infringing-site denylist versions recorded with those decisions.
* ``exclusions`` — per restricting protocol, the distinct URLs and registrable domains whose
  request was skipped, deferred or whose content was excluded; denylisted and access-restricted
  requests are their own rows.

All four run in one transaction, so that they read the same state of a database that a crawler
may be writing to. Times are read through the models' UTCDateTime columns (never SQL date
functions).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Engine,
    Select,
    Subquery,
    and_,
    case,
    distinct,
    func,
    literal,
    or_,
    select,
    text,
)

from audit.models import COUNT_T, DECISION_T, ORIGIN_T, OUTCOME_T, SIGNAL_T
from optout.action import Action
from policy.provider import Model
from policy.summary.items import (
    DomainGroup,
    KindGroup,
    items_query,
    outcome_signals,
    split_rows,
)
from policy.summary.scope import Scope, resolve_scope

#: Actions whose request or content a rights reservation (or access control) kept out.
EXCLUDED_ACTIONS = (
    Action.SKIPPED_ROBOTS.value,
    Action.SKIPPED_RESERVATION.value,
    Action.FETCHED_EXCLUDED.value,
    Action.DEFERRED.value,
    Action.ACCESS_RESTRICTED.value,
    Action.DENYLISTED.value,
)
#: Excluded actions that have a row of their own instead of a signal's protocol.
OWN_ROW_ACTIONS = (Action.DENYLISTED.value, Action.ACCESS_RESTRICTED.value)
#: Prefix of the per-action counters in ``crawl_run_count``.
ACTION_COUNTER = "action:"
#: The exclusions row of decisions none of whose signals restricted (manual or other reasons).
NO_SIGNAL = "(no restricting signal recorded)"

#: A query the summary runs and publishes.
Statement = Select[Any] | CompoundSelect[Any]


@dataclass(frozen=True, slots=True)
class ActionCount:
    """Decisions of one run with one action."""

    run_id: int
    action: str
    decisions: int


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Requests kept out for one reason: a restricting signal's protocol, or an action."""

    reason: str
    urls: int
    domains: int
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


def load(engine: Engine, model: Model | None) -> SummaryData:
    """Run the summary's queries for *model* (None: every run) and return their rows."""
    with reading(engine) as conn:
        scope = resolve_scope(conn, model)
        statements = queries(scope, engine.dialect.name)
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
        exclusions=[
            Exclusion(r.reason, int(r.urls), int(r.domains), int(r.decisions))
            for r in rows["exclusions"]
        ],
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


def queries(scope: Scope, dialect: str) -> dict[str, Statement]:
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


def exclusions_query(scope: Scope, dialect: str) -> Select[Any]:
    """Return per reason (restricting protocol, or action) the distinct URLs and domains kept out.

    A decision counts once for each protocol among its restricting signals; a URL or domain
    counts once per reason however many decisions it had.
    """
    g = ORIGIN_T.c
    per_origin = excluded_per_origin(scope, dialect)
    e = per_origin.c
    # Domain names are read per (reason, origin) group, not per decision. A decision's URL starts
    # with its normalised origin, whose hash is the origin id (audit.store), so no URL is counted
    # under two origins: the distinct URLs of a reason are the sum of those of its origins.
    return (
        select(
            e.reason,
            func.sum(e.urls).label("urls"),
            func.count(distinct(g.domain)).label("domains"),
            func.sum(e.decisions).label("decisions"),
        )
        .select_from(per_origin.join(ORIGIN_T, g.id == e.origin_id))
        .group_by(e.reason)
        .order_by(e.reason)
    )


def excluded_per_origin(scope: Scope, dialect: str) -> Subquery:
    """Return ``(reason, origin_id, urls, decisions)``: the excluded decisions of the runs in
    *scope* per reason and origin, with their distinct URLs.

    Grouping by origin id (an integer) before reading domain names sorts short rows, and leaves
    a few domain look-ups per origin instead of one per decision (SQLite: a third of the query's
    time on 1,000,000 decisions, measured).
    """
    d = DECISION_T.c
    restricting = restricting_protocols(dialect).subquery("restricting")
    reason = case(
        (d.action.in_(OWN_ROW_ACTIONS), d.action),
        else_=func.coalesce(restricting.c.protocol, literal(NO_SIGNAL)),
    )
    joined = DECISION_T.outerjoin(
        restricting,
        and_(restricting.c.outcome_id == d.outcome_id, d.action.not_in(OWN_ROW_ACTIONS)),
    )
    # The reason is named in a subquery first: PostgreSQL does not take a CASE of bound
    # parameters in GROUP BY for the same expression in the select list.
    per_decision = (
        select(reason.label("reason"), d.origin_id, d.url)
        .select_from(joined)
        .where(scope.run_filter(d.run_id), d.action.in_(EXCLUDED_ACTIONS))
        .subquery("excluded")
    )
    e = per_decision.c
    return (
        select(
            e.reason,
            e.origin_id,
            func.count(distinct(e.url)).label("urls"),
            func.count().label("decisions"),
        )
        .group_by(e.reason, e.origin_id)
        .subquery("per_origin")
    )


def restricting_protocols(dialect: str) -> Select[Any]:
    """Return distinct ``(outcome_id, protocol)`` of each outcome's restricting signals.

    A signal restricts when it does not allow the crawl, or it reserves or defers the outcome's
    purpose, or it requires a licence first: the signals an outcome's reasons quote
    (optout.decision.Decision.reasons), narrowed to the purpose the crawler collected for.
    """
    pairs = outcome_signals(dialect, OUTCOME_T.c.purpose)
    s = SIGNAL_T.c
    padded = literal(";") + s.purposes

    def verdict(value: str) -> ColumnElement[bool]:
        return padded.like(literal("%;") + pairs.c.purpose + literal(f"={value}%"))

    restricts = or_(
        and_(s.crawl.is_not(None), s.crawl != "allow"),
        verdict("reserved"),
        verdict("defer"),
        s.licence_required.is_(True),
    )
    return (
        select(pairs.c.outcome_id, s.protocol)
        .distinct()
        .select_from(pairs.join(SIGNAL_T, s.id == pairs.c.signal_id))
        .where(restricts)
    )


def sql_text(stmt: Statement, engine: Engine) -> str:
    """Return *stmt* as the SQL text the database ran, parameters inlined."""
    text = str(stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    if engine.dialect.paramstyle in ("format", "pyformat"):
        text = text.replace("%%", "%")  # psycopg's escape of a literal %, not part of the SQL
    return text
