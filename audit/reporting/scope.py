"""Which stored items a summary counts: the training set of one model
(docs/regulation.md#the-domain-list, step 2).

An item is in the training set of a model when

1. its decision belongs to one of the model's crawl runs (run keys; every run when the model
   lists none, or when no model is configured),
2. that decision's action is ``fetched-stored``, and
3. the decision's outcome did not find the use reserved (``outcome.use <> 'reserved'``).

Conditions 2 and 3 are defence in depth: the crawler stores nothing it excluded, but a summary
must not count reserved or excluded content even if a faulty writer stored an item for it.
:data:`SCOPE_METHOD` says the same in words for the published method statement; it lives here so
that the words change with the query.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, select, true

from audit.models import CRAWL_RUN_T, DECISION_T, ITEM_T, OUTCOME_T, POLICY_T
from optout.action import Action

#: The condition in words, for the published method statement.
SCOPE_METHOD = (
    "An item counts when it was stored from a decision of one of the model's crawl runs, the "
    "decision's action is 'fetched-stored' and the decision did not find the use reserved "
    "(outcome.use is not 'reserved'): reserved or excluded content is never counted."
)


@dataclass(frozen=True, slots=True)
class ScopeRun:
    """A crawl run in scope, with the policy it ran under."""

    id: int
    key: str
    crawler_name: str
    product_token: str
    user_agent: str
    protocol_set: str
    knobs: dict[str, Any]
    started_at: dt.datetime
    ended_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Scope:
    """The crawl runs whose stored items form a model's training set."""

    #: True when every run counts (no run keys given).
    all_runs: bool
    runs: tuple[ScopeRun, ...]
    #: Run keys asked for that the database does not hold.
    missing_keys: tuple[str, ...]

    @property
    def run_ids(self) -> list[int]:
        """Return the ids of the runs in scope, ascending."""
        return [run.id for run in self.runs]

    def run_filter(self, column: Any = DECISION_T.c.run_id) -> ColumnElement[bool]:
        """Return the SQL condition "*column* is a run in scope"."""
        if self.all_runs:
            return true()
        # The column itself, not "column + 0": no index leads with a run id (a scan filters row
        # by row either way), and PostgreSQL then estimates the rows from its statistics; with
        # an expression it guessed a few thousand of 750,000 and planned hash joins that spilled
        # to disk (measured: 1.5 times as long).
        condition: ColumnElement[bool] = column.in_(self.run_ids)
        return condition


def summary_scope(conn: Connection, run_keys: Iterable[str] | None) -> Scope:
    """Return the scope of the runs *run_keys* (every run when None)."""
    c, p = CRAWL_RUN_T.c, POLICY_T.c
    stmt = (
        select(
            c.id,
            c.run_key,
            c.crawler_name,
            c.product_token,
            c.user_agent,
            c.protocol_set,
            c.started_at,
            c.ended_at,
            p.knobs,
        )
        .select_from(CRAWL_RUN_T.join(POLICY_T, POLICY_T.c.id == c.policy_id))
        .where(c.kind == "crawl")  # a re-check's decisions are not crawling
        .order_by(c.id)
    )
    wanted = None if run_keys is None else set(run_keys)
    if wanted is not None:
        stmt = stmt.where(c.run_key.in_(sorted(wanted)))
    runs = tuple(
        ScopeRun(
            id=row.id,
            key=row.run_key,
            crawler_name=row.crawler_name,
            product_token=row.product_token,
            user_agent=row.user_agent,
            protocol_set=row.protocol_set,
            knobs=json.loads(row.knobs),
            started_at=row.started_at,
            ended_at=row.ended_at,
        )
        for row in conn.execute(stmt)
    )
    found = {run.key for run in runs}
    missing = tuple(sorted(wanted - found)) if wanted is not None else ()
    return Scope(all_runs=wanted is None, runs=runs, missing_keys=missing)


def stored_in_runs(scope: Scope, *columns: Any) -> Select[Any]:
    """Return ``SELECT columns`` over the stored items that meet conditions 1 and 2 (a run in
    *scope*, action ``fetched-stored``), joined with their decision (aliases: the audit tables
    themselves).

    Condition 3 is :func:`usable_outcomes`, which a query applies per outcome (outcomes are far
    fewer than items: :mod:`audit.reporting.items`).
    """
    i, d = ITEM_T.c, DECISION_T.c
    # "+ 0" keeps SQLite from driving the join through the decision table's indexes: reading
    # stored_item in order and looking decisions up by primary key is several times faster
    # (measured on 1,000,000 decisions); PostgreSQL plans it as the same hash join.
    joined = ITEM_T.join(DECISION_T, d.id == i.decision_id + 0)
    return (
        select(*columns)
        .select_from(joined)
        .where(scope.run_filter(d.run_id), d.action == Action.FETCHED_STORED.value)
    )


def usable_outcomes() -> Select[Any]:
    """Return the ids of the outcomes that did not find the use reserved (condition 3).

    A list the outcome ids are checked against: the same rows as joining the outcome table (its
    id is the primary key), without a look-up in it per item, which took SQLite twice as long
    as the rest of the scan (measured). No join with origin either: every decision has one (a
    foreign key, which ``heed db check`` verifies on SQLite files written without enforcement).
    """
    o = OUTCOME_T.c
    return select(o.id).where(o.use != "reserved")
