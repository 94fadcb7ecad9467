"""The ``items`` query: the stored items in scope, totalled two ways, and the signals behind them,
in one statement.

* per registrable domain (``grouping = 'domain'``): items, bytes and text tokens, for the domain
  ranking;
* per run, modality and media type (``grouping = 'kind'``): items, bytes, tokens, estimated
  tokens, first and last collection time, for the sizes per modality, the media types, the
  period and the contributing runs;
* per signal protocol and parser version (``grouping = 'signal'``): the signals behind the
  decisions of those items (no totals).

All come from the same scope (:mod:`audit.reporting.scope`), in one statement (UNION ALL),
published as run. The stored items of the runs in scope are first grouped per origin and outcome
(integers: ``stored_per_origin``, a common table expression). The scope's outcome condition is
checked once per group: ``reserved`` lists the outcomes of those groups that found the use
reserved (normally none: the crawler stores nothing it excluded), and every kind of row leaves
their items out. A domain total folds the remaining groups by domain: grouping by the domain
name directly sorts every item by text. The signal rows read the same groups' outcome ids, so
the items are scanned twice (per kind, per origin), not three times. Only the rows per run,
modality and type carry times: 12 conversions to datetimes instead of one per group of hundreds
of thousands.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import (
    CTE,
    BigInteger,
    ColumnElement,
    CompoundSelect,
    FromClause,
    Label,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import JSONB

from audit.models import DECISION_T, ITEM_T, ORIGIN_T, OUTCOME_T, SIGNAL_T
from audit.reporting.scope import Scope, stored_in_runs, usable_outcomes
from audit.vocab import BYTES_PER_TOKEN

#: ``grouping`` of the rows per registrable domain, per run, modality and type, and per signal
#: protocol and parser.
BY_DOMAIN, BY_KIND, BY_SIGNAL = "domain", "kind", "signal"


class DomainGroup(NamedTuple):
    """Stored items in scope of one registrable domain (a tuple: there are tens of thousands)."""

    domain: str
    items: int
    bytes: int
    #: Text tokens: stored counts, estimated from bytes where NULL (audit.vocab.estimate_tokens).
    tokens: int


@dataclass(frozen=True, slots=True)
class KindGroup:
    """Stored items in scope of one run, modality and media type."""

    run_id: int
    modality: str
    content_type: str
    items: int
    bytes: int
    #: Text tokens: stored counts, estimated from bytes where NULL (audit.vocab.estimate_tokens).
    tokens: int
    #: Text items whose token count was NULL and estimated here.
    estimated: int
    first: dt.datetime
    last: dt.datetime


def items_query(scope: Scope, dialect: str) -> CompoundSelect[Any]:
    """Return the items in *scope* per run, modality and type, then per registrable domain,
    then the protocols and parsers of the signals behind them."""
    i, d = ITEM_T.c, DECISION_T.c
    # Per origin and outcome, scanned once for two kinds of rows: the domain rows fold it by
    # domain, the signal rows read its outcome ids. An origin's items share a few outcomes (one
    # per way its rules decided), so the outcome id adds few groups to the sort by origin, and
    # saves the signal rows a scan of their own (SQLite: 0.7 s of 1,000,000 decisions, measured).
    stored = (
        stored_in_runs(scope, d.origin_id, d.outcome_id, *_totals()[:3])
        .group_by(d.origin_id, d.outcome_id)
        .cte("stored_per_origin")
    )
    # The scope's outcome condition, checked per group instead of per item; the items then only
    # need a look-up in this list, normally empty (SQLite: half a second of 1,000,000
    # decisions, measured). outcome_id is NOT NULL, so NOT IN means what it says.
    reserved = (
        select(stored.c.outcome_id)
        .where(stored.c.outcome_id.not_in(usable_outcomes()))
        .cte("reserved")
    )
    in_scope = d.outcome_id.not_in(select(reserved.c.outcome_id))
    per_origin = (
        select(stored)
        .where(stored.c.outcome_id.not_in(select(reserved.c.outcome_id)))
        .cte("per_origin")
    )
    # Media type first: it alone decides most comparisons of SQLite's sort (a tenth faster than
    # the run id first, measured).
    kind = (i.content_type, i.modality, d.run_id)
    by_kind = (
        stored_in_runs(
            scope,
            literal(BY_KIND).label("grouping"),
            *_nulls("domain"),
            d.run_id,
            i.modality,
            i.content_type,
            *_totals(),
            func.min(i.time).label("first"),
            func.max(i.time).label("last"),
            *_nulls("protocol", "parser"),
        )
        .where(in_scope)
        .group_by(*kind)
    )
    return union_all(by_kind, _by_domain(per_origin), _by_signal(per_origin, dialect))


def _by_domain(per_origin: CTE) -> Select[Any]:
    """Return the rows per registrable domain: the *per_origin* totals folded by domain.

    The ranking needs no estimate count and no times: NULL in these rows.
    """
    g, p = ORIGIN_T.c, per_origin.c
    return (
        select(
            literal(BY_DOMAIN).label("grouping"),
            g.domain,
            *_nulls("run_id", "modality", "content_type"),
            *(func.sum(p[c]).label(c) for c in ("items", "bytes", "tokens")),
            *_nulls("estimated", "first", "last", "protocol", "parser"),
        )
        .select_from(per_origin.join(ORIGIN_T, g.id == p.origin_id))
        .group_by(g.domain)
    )


def _by_signal(per_origin: CTE, dialect: str) -> Select[Any]:
    """Return the distinct ``(protocol, parser)`` of the signals of the outcomes in *per_origin*
    (no totals: NULL in these rows).

    The outcomes' signal ids are unnested once per outcome, not once per item.
    """
    pairs = outcome_signals(dialect)
    s = SIGNAL_T.c
    return (
        select(
            literal(BY_SIGNAL).label("grouping"),
            *_nulls("domain", "run_id", "modality", "content_type", "items", "bytes", "tokens"),
            *_nulls("estimated", "first", "last"),
            s.protocol,
            s.parser,
        )
        .select_from(pairs.join(SIGNAL_T, s.id == pairs.c.signal_id))
        .where(pairs.c.outcome_id.in_(select(per_origin.c.outcome_id)))
        .group_by(s.protocol, s.parser)
    )


def outcome_signals(dialect: str, *columns: ColumnElement[Any]) -> FromClause:
    """Return ``(outcome_id, signal_id, *columns)`` rows: ``outcome.signal_ids`` unnested, with
    further *columns* of the outcome.

    The ``decision_signal`` view does the same per decision; per outcome it is far fewer rows,
    because outcomes are shared by every URL the same rules decided the same way.
    """
    o = OUTCOME_T.c
    if dialect == "postgresql":
        unnest = func.jsonb_array_elements_text(cast(o.signal_ids, JSONB))
    else:
        unnest = func.json_each(o.signal_ids)
    values = unnest.table_valued("value").alias("j")
    return (
        select(
            o.id.label("outcome_id"),
            cast(values.c.value, BigInteger).label("signal_id"),
            *columns,
        )
        .select_from(OUTCOME_T.join(values, true()))
        .subquery("outcome_signal")
    )


#: The type of each column that some rows leave NULL (None: a number, no conversion).
_NULL_TYPES: dict[str, Any] = {
    "domain": ORIGIN_T.c.domain.type,
    "run_id": DECISION_T.c.run_id.type,
    "modality": ITEM_T.c.modality.type,
    "content_type": ITEM_T.c.content_type.type,
    "items": None,
    "bytes": None,
    "tokens": None,
    "estimated": None,
    "first": ITEM_T.c.time.type,
    "last": ITEM_T.c.time.type,
    "protocol": SIGNAL_T.c.protocol.type,
    "parser": SIGNAL_T.c.parser.type,
}


def _nulls(*names: str) -> list[Label[Any]]:
    """Return NULL columns *names*, typed as where they hold values (for the result types)."""
    return [
        (null() if _NULL_TYPES[n] is None else type_coerce(null(), _NULL_TYPES[n])).label(n)
        for n in names
    ]


def _totals() -> list[Label[Any]]:
    """Return the per-group totals: items, bytes, text tokens and estimated text items."""
    i = ITEM_T.c
    is_text = i.modality == "text"
    # ceil(bytes / 4) per item, as audit.vocab.estimate_tokens, for text items stored without.
    estimate = (i.bytes + (BYTES_PER_TOKEN - 1)) // BYTES_PER_TOKEN
    return [
        func.count().label("items"),
        func.sum(i.bytes).label("bytes"),
        func.sum(case((is_text, func.coalesce(i.tokens, estimate)), else_=0)).label("tokens"),
        func.sum(case((and_(is_text, i.tokens.is_(None)), 1), else_=0)).label("estimated"),
    ]


def split_rows(
    rows: Iterable[Any],
) -> tuple[list[DomainGroup], list[KindGroup], list[tuple[str, str]]]:
    """Return the ``items`` query's rows as domain groups, kind groups and the sorted
    ``(protocol, parser)`` pairs of the signals."""
    domains: list[DomainGroup] = []
    kinds: list[KindGroup] = []
    signals: list[tuple[str, str]] = []
    for r in rows:
        if r.grouping == BY_DOMAIN:
            domains.append(
                DomainGroup(r.domain, int(r.items), int(r.bytes or 0), int(r.tokens or 0))
            )
            continue
        if r.grouping == BY_SIGNAL:
            signals.append((r.protocol, r.parser))
            continue
        kinds.append(
            KindGroup(
                run_id=int(r.run_id),
                modality=r.modality,
                content_type=r.content_type,
                items=int(r.items),
                bytes=int(r.bytes or 0),
                tokens=int(r.tokens or 0),
                estimated=int(r.estimated or 0),
                first=r.first,
                last=r.last,
            )
        )
    return domains, kinds, sorted(signals)
