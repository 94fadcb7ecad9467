"""The ``exclusions`` query: what a rights reservation or access control kept out, per reason.

Per restricting protocol, the distinct URLs and registrable domains whose request was skipped,
deferred or whose content was excluded, in the runs of a summary's scope
(:mod:`audit.reporting.scope`); denylisted and access-restricted requests are rows of their own,
and decisions none of whose signals restricted are counted under :data:`NO_SIGNAL`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    and_,
    case,
    distinct,
    func,
    literal,
    or_,
    select,
)

from audit.models import DECISION_T, ORIGIN_T, OUTCOME_T, SIGNAL_T
from audit.reporting.items import outcome_signals
from audit.reporting.scope import Scope
from optout.action import Action

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
#: The exclusions row of decisions none of whose signals restricted (manual or other reasons).
NO_SIGNAL = "(no restricting signal recorded)"


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Requests kept out for one reason: a restricting signal's protocol, or an action."""

    reason: str
    urls: int
    domains: int
    decisions: int


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


def restricting_protocols(dialect: str, signal_ids: Sequence[int] | None = None) -> Select[Any]:
    """Return distinct ``(outcome_id, protocol)`` of each outcome's restricting signals (of the
    signals *signal_ids* only, when given).

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
    query = (
        select(pairs.c.outcome_id, s.protocol)
        .distinct()
        .select_from(pairs.join(SIGNAL_T, s.id == pairs.c.signal_id))
        .where(restricts)
    )
    if signal_ids is not None:
        query = query.where(pairs.c.signal_id.in_(list(signal_ids)))
    return query


def signal_exclusions_query(signal_ids: Sequence[int], dialect: str) -> Select[int, int, int]:
    """Return one row ``(urls, domains, decisions)``: what the signals *signal_ids* kept out in
    every run — the distinct URLs and registrable domains, and the decisions.

    The outcomes they restricted are found first (outcomes are few, shared by every URL decided
    the same way, and only their pairs with these signals are joined); the decisions are then
    read by outcome.
    """
    restricting = restricting_protocols(dialect, signal_ids).subquery("restricting")
    outcomes = select(restricting.c.outcome_id)
    d = DECISION_T.c
    return (
        select(
            func.count(distinct(d.url)).label("urls"),
            func.count(distinct(ORIGIN_T.c.domain)).label("domains"),
            func.count().label("decisions"),
        )
        .select_from(DECISION_T.join(ORIGIN_T, ORIGIN_T.c.id == d.origin_id))
        .where(d.outcome_id.in_(outcomes), d.action.in_(EXCLUDED_ACTIONS))
    )


def exclusion_rows(rows: Iterable[Any]) -> list[Exclusion]:
    """Return the ``exclusions`` query's rows as :class:`Exclusion` values."""
    return [Exclusion(r.reason, int(r.urls), int(r.domains), int(r.decisions)) for r in rows]
