"""The decision index per origin covers what a domain look-up groups by.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

``ix_decision_origin_time`` was ``(origin_id, time)``; it becomes ``(origin_id, time, run_id,
outcome_id, action)``, and on PostgreSQL also carries ``id`` (``INCLUDE``; on SQLite every index
ends with the rowid, which ``id`` is). The portal's domain look-up groups a domain's decisions
by run, outcome, action and month, and the verified owner's page picks a page of decision ids:
both now read the index alone instead of one table row per decision, scattered over the whole
table (decisions of a site are interleaved with every other site's). On 10M decisions that row
reading was half the look-up (bench/serve_lookup.py). Look-ups by origin and time use the same
leading columns as before. One index replaces the other, so the writer still maintains the same
number of indexes, each entry ~25 bytes wider.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_decision_origin_time"


def upgrade() -> None:
    """Replace the ``(origin_id, time)`` index by the covering one."""
    op.drop_index(_NAME, table_name="decision")
    op.create_index(
        _NAME,
        "decision",
        ["origin_id", "time", "run_id", "outcome_id", "action"],
        postgresql_include=["id"],
    )


def downgrade() -> None:
    """Restore the ``(origin_id, time)`` index."""
    op.drop_index(_NAME, table_name="decision")
    op.create_index(_NAME, "decision", ["origin_id", "time"])
