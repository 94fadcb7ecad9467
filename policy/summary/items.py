"""The ``items`` query: the stored items in scope, totalled two ways in one statement.

* per registrable domain (``grouping = 'domain'``): items, bytes and text tokens, for the domain
  ranking;
* per run, modality and media type (``grouping = 'kind'``): items, bytes, tokens, estimated
  tokens, first and last collection time, for the sizes per modality, the media types, the
  period and the contributing runs.

Both come from the same scope (:func:`policy.summary.scope.items_in_scope`), in one statement
(UNION ALL), published as run. A domain total folds the origins of the domain after grouping by
origin id (an integer): grouping by the domain name directly sorts every item by text. Only the
rows per run, modality and type carry times: 12 conversions to datetimes instead of one per
group of hundreds of thousands.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import (
    CompoundSelect,
    Label,
    and_,
    case,
    func,
    literal,
    null,
    select,
    type_coerce,
    union_all,
)

from audit.models import DECISION_T, ITEM_T, ORIGIN_T
from audit.vocab import BYTES_PER_TOKEN
from policy.summary.scope import Scope, items_in_scope

#: ``grouping`` of the rows per registrable domain, and of the rows per run, modality and type.
BY_DOMAIN, BY_KIND = "domain", "kind"


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


def items_query(scope: Scope) -> CompoundSelect[Any]:
    """Return the items in *scope* per run, modality and type, then per registrable domain."""
    i, d, g = ITEM_T.c, DECISION_T.c, ORIGIN_T.c
    # Media type first: it alone decides most comparisons of SQLite's sort (a tenth faster than
    # the run id first, measured).
    kind = (i.content_type, i.modality, d.run_id)
    by_kind = items_in_scope(
        scope,
        literal(BY_KIND).label("grouping"),
        type_coerce(null(), g.domain.type).label("domain"),
        d.run_id,
        i.modality,
        i.content_type,
        *_totals(),
        func.min(i.time).label("first"),
        func.max(i.time).label("last"),
    ).group_by(*kind)
    # The ranking needs no estimate count and no times: NULL in the domain rows.
    per_origin = (
        items_in_scope(scope, d.origin_id, *_totals()[:3])
        .group_by(d.origin_id)
        .subquery("per_origin")
    )
    p = per_origin.c
    by_domain = (
        select(
            literal(BY_DOMAIN).label("grouping"),
            g.domain,
            *(
                type_coerce(null(), c.type).label(c.name)
                for c in (d.run_id, i.modality, i.content_type)
            ),
            *(func.sum(p[c]).label(c) for c in ("items", "bytes", "tokens")),
            null().label("estimated"),
            *(type_coerce(null(), i.time.type).label(c) for c in ("first", "last")),
        )
        .select_from(per_origin.join(ORIGIN_T, g.id == p.origin_id))
        .group_by(g.domain)
    )
    return union_all(by_kind, by_domain)


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


def split_rows(rows: Iterable[Any]) -> tuple[list[DomainGroup], list[KindGroup]]:
    """Return the ``items`` query's rows as domain groups and kind groups."""
    domains: list[DomainGroup] = []
    kinds: list[KindGroup] = []
    for r in rows:
        if r.grouping == BY_DOMAIN:
            domains.append(
                DomainGroup(r.domain, int(r.items), int(r.bytes or 0), int(r.tokens or 0))
            )
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
    return domains, kinds
