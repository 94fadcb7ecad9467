"""Items kept after a reservation, for the public domain look-up (:mod:`audit.reporting.domains`).

A rightsholder must be told when content of a URL was kept after the crawler had seen a
reservation of it: an item whose decision came at or after the first decision on the same URL
that refused the crawl or found the use reserved. Only the origins where a reservation was
applied are read, and their decisions once, in one statement for all of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, bindparam, text

from audit.models import UTCDateTime
from audit.reporting.domainfold import KEPT_ITEMS_SHOWN, Group, Outcome
from audit.reporting.domainview import KeptItem

#: Per origin that applied a reservation: how many of its URLs did (``urls``), and each item
#: kept from a decision on such a URL at or after the first decision that applied one, by
#: time (a row of NULL items when there is none). ``x`` is read once (a CTE referenced twice
#: is materialised by SQLite 3.35+ and PostgreSQL 12+): reading the decisions' URLs, scattered
#: over the table, is most of the cost.
_KEPT_SQL = """
WITH x AS ({decisions}
), a AS (
    SELECT origin_id, url, MIN(time) AS first_seen FROM x
    WHERE outcome_id IN :outcomes GROUP BY origin_id, url
), c AS (
    SELECT origin_id, COUNT(*) AS urls FROM a GROUP BY origin_id
), k AS (
    SELECT x.origin_id, i.id, i.time, i.bytes, i.content_type, x.time AS decided,
           x.outcome_id, a.first_seen
    FROM x JOIN a ON a.origin_id = x.origin_id AND a.url = x.url
    JOIN stored_item i ON {item}
    WHERE x.time >= a.first_seen
)
SELECT c.origin_id, c.urls, k.id, k.time, k.bytes, k.content_type, k.decided, k.outcome_id,
       k.first_seen
FROM c LEFT JOIN k ON k.origin_id = c.origin_id
ORDER BY c.origin_id, k.time, k.id
"""
#: ``x`` (and how ``k`` finds a decision's item), per dialect. On SQLite, only the decisions
#: that matter: those that applied a reservation and those with an item. SQLite tests both
#: from indexes (the outcome is in ``ix_decision_origin_time``, the item's id in
#: ``stored_item``'s unique index) and reads a decision's row, for its URL, only when it
#: passes: 0.4 ms less per look-up on 10M decisions. PostgreSQL cannot skip the rows (it reads
#: an origin's in one bitmap heap scan); probing for every decision's item first cost it
#: 0.6 ms more (bench/serve_lookup.py), so it takes every decision and probes for the items of
#: those on reserved URLs only.
_DECISIONS = {
    "sqlite": (
        """
    SELECT d.origin_id, d.url, d.time, d.outcome_id, s.id AS item_id FROM decision d
    LEFT JOIN stored_item s ON s.decision_id = d.id
    WHERE d.origin_id IN :origins AND (d.outcome_id IN :outcomes OR s.id IS NOT NULL)""",
        "i.id = x.item_id",
    ),
    "postgresql": (
        """
    SELECT d.id, d.origin_id, d.url, d.time, d.outcome_id FROM decision d
    WHERE d.origin_id IN :origins""",
        "i.decision_id = x.id",
    ),
}
_STATEMENTS = {
    dialect: text(_KEPT_SQL.format(decisions=decisions, item=item))
    .bindparams(bindparam("origins", expanding=True), bindparam("outcomes", expanding=True))
    .columns(time=UTCDateTime(), decided=UTCDateTime(), first_seen=UTCDateTime())
    for dialect, (decisions, item) in _DECISIONS.items()
}


def kept_after(
    conn: Connection,
    groups: Sequence[Group],
    outcomes: Mapping[int, Outcome],
    origins: Mapping[int, tuple[str, str]],
) -> tuple[dict[int, list[KeptItem]], dict[int, tuple[int, int]]]:
    """Return per origin the items kept after a reservation of their URL was first seen
    (at most :data:`KEPT_ITEMS_SHOWN` each), and ``(affected URLs, items in all)``."""
    restricting = sorted({g.outcome_id for g in groups if outcomes[g.outcome_id].restricts})
    applied = sorted({g.origin_id for g in groups if outcomes[g.outcome_id].restricts})
    items: dict[int, list[KeptItem]] = {}
    totals: dict[int, tuple[int, int]] = {}
    if not applied:
        return items, totals
    # Whether an outcome restricts is the outcome's own (outcomes are shared between origins
    # whose rules decide alike), so one list of them serves every origin.
    params = {"origins": applied, "outcomes": restricting}
    statement = _STATEMENTS.get(conn.dialect.name, _STATEMENTS["sqlite"])
    for r in conn.execute(statement, params):
        shown = items.setdefault(r.origin_id, [])
        urls, count = totals.get(r.origin_id, (int(r.urls), 0))
        if r.id is not None:
            count += 1
            if len(shown) < KEPT_ITEMS_SHOWN:
                o = outcomes[r.outcome_id]
                shown.append(
                    KeptItem(
                        id=r.id,
                        host=origins[r.origin_id][1],
                        time=r.time,
                        bytes=int(r.bytes),
                        content_type=r.content_type,
                        decided=r.decided,
                        crawl=o.crawl,
                        use=o.use,
                        purpose=o.purpose,
                        reasons=o.reasons,
                        reservation_first_seen=r.first_seen,
                        while_reserved=o.restricts,
                    )
                )
        totals[r.origin_id] = (urls, count)
    return items, totals
