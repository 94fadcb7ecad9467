"""What a dataset export needs of the audit trail: each kept item's decision, in one query per
batch of items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, select

from audit.engine import reading
from audit.models import CRAWL_RUN_T, DECISION_T, OUTCOME_T


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemRights:
    """The rights metadata of one kept item, from its decision."""

    decision_id: int
    #: The use verdict the item was kept under (``not-reserved``, …).
    use: str
    #: When the decision was made (the crawl time).
    decided_at: dt.datetime
    run: str


def item_rights(engine: Engine, decision_ids: Sequence[int]) -> dict[int, ItemRights]:
    """Return the rights metadata of the decisions *decision_ids* (those recorded), by id."""
    d = DECISION_T.c
    query = (
        select(d.id, OUTCOME_T.c.use, d.time, CRAWL_RUN_T.c.run_key)
        .select_from(
            DECISION_T.join(OUTCOME_T, OUTCOME_T.c.id == d.outcome_id).join(
                CRAWL_RUN_T, CRAWL_RUN_T.c.id == d.run_id
            )
        )
        .where(d.id.in_(list(decision_ids)))
    )
    with reading(engine) as conn:
        return {
            r.id: ItemRights(decision_id=r.id, use=r.use, decided_at=r.time, run=r.run_key)
            for r in conn.execute(query)
        }
