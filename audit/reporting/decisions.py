"""The verified owner's view: a domain's decisions URL by URL, with their evidence.

Once a rightsholder has proved control of a registrable domain (audit/owners.py), ``heed
serve`` shows them what the public look-up only counts: every request attempt on the domain's
hosts, its URL and time, what the crawler did, the outcome's reasons and signals (each with the
sha256 of the document it was read from), and whether the content entered the dataset, as
which item of which crawl run.

Pages are read by keyset on the decision id (``id > :after ORDER BY id``): a page costs the
same wherever it is in the domain's history, and rows written while a client pages never shift
what the next page shows (ids only grow; decisions are append-only). The domain is resolved to
its origins first, so no filter can reach a decision of another domain: the origin ids are the
only scope, and the URL prefix and times only narrow it. The page's decisions come with their
outcomes; the outcomes' signals are read by primary key, once per page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Engine, bindparam, text

from audit.engine import reading
from audit.models import UTCDateTime
from audit.queries import _after_prefix
from audit.reporting.domains import _ORIGINS_SQL, _with_signals

#: Most decisions a page may hold.
MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class OwnerSignal:
    """A signal a decision rests on, with the document it was read from."""

    protocol: str
    verdict: str
    detail: str
    sha256: str | None


@dataclass(frozen=True, slots=True)
class OwnerDecision:
    """One request attempt on the owner's domain, with its evidence and dataset item."""

    id: int
    time: dt.datetime
    url: str
    action: str
    http_status: int | None
    crawl: str
    use: str
    purpose: str
    reasons: tuple[str, ...]
    signals: tuple[OwnerSignal, ...]
    run: str
    #: The stored item's id when the content entered that run's dataset, else None.
    item_id: int | None
    item_bytes: int | None
    item_time: dt.datetime | None


#: The page's ids first, from the index ``(origin_id, time, …)`` alone (on SQLite every index
#: ends with the rowid, on PostgreSQL it includes ``id``); then only those decisions' rows,
#: scattered over the table, are read, with their run, outcome and stored item. (Reading every
#: row of the domain to keep a page of them cost a 200-decision domain half its page time.)
_PAGE_SQL = """
SELECT d.id, d.time, d.url, d.action, d.http_status, d.outcome_id, r.run_key,
       i.id AS item_id, i.bytes AS item_bytes, i.time AS item_time,
       o.crawl, o.use, o.purpose, o.reasons, o.signal_ids
FROM (
    SELECT d.id FROM decision d
    WHERE d.origin_id IN :origins AND d.id > :after {where}
    ORDER BY d.id
    LIMIT :limit
) page
JOIN decision d ON d.id = page.id
JOIN crawl_run r ON r.id = d.run_id
JOIN outcome o ON o.id = d.outcome_id
LEFT JOIN stored_item i ON i.decision_id = d.id
ORDER BY d.id
"""


def owner_decisions(
    engine: Engine,
    domain: str,
    *,
    after: int = 0,
    limit: int = 100,
    prefix: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[OwnerDecision]:
    """Return up to *limit* decisions on *domain*'s hosts with ids above *after*, by id.

    *prefix* keeps URLs starting with it; *since* (inclusive) and *until* (exclusive) bound the
    decision time.
    """
    limit = max(1, min(limit, MAX_PAGE))
    where: list[str] = []
    params: dict[str, Any] = {"after": after, "limit": limit}
    binds: list[BindParameter[Any]] = [bindparam("origins", expanding=True)]
    if prefix:
        where.append("AND d.url >= :low AND d.url < :high")
        params |= {"low": prefix, "high": _after_prefix(prefix)}
    if since is not None:
        where.append("AND d.time >= :since")
        params["since"] = since
        binds.append(bindparam("since", type_=UTCDateTime()))
    if until is not None:
        where.append("AND d.time < :until")
        params["until"] = until
        binds.append(bindparam("until", type_=UTCDateTime()))
    stmt = (
        text(_PAGE_SQL.format(where=" ".join(where)))
        .bindparams(*binds)
        .columns(time=UTCDateTime(), item_time=UTCDateTime())
    )
    with reading(engine) as conn:
        origins = [r.id for r in conn.execute(_ORIGINS_SQL, {"domain": domain})]
        if not origins:
            return []
        rows = list(conn.execute(stmt, params | {"origins": origins}))
        outcomes = _with_signals(conn, {r.outcome_id: r for r in rows})
    out = []
    for r in rows:
        o = outcomes[r.outcome_id]
        signals = tuple(
            OwnerSignal(s["protocol"], s["verdict"], s["detail"], s["sha256"]) for s in o.signals
        )
        out.append(
            OwnerDecision(
                id=r.id,
                time=r.time,
                url=r.url,
                action=r.action,
                http_status=r.http_status,
                crawl=o.crawl,
                use=o.use,
                purpose=o.purpose,
                reasons=o.reasons,
                signals=signals,
                run=r.run_key,
                item_id=r.item_id,
                item_bytes=r.item_bytes,
                item_time=r.item_time,
            )
        )
    return out
