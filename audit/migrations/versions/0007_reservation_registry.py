"""The reservations registry: reservations notified other than on the site (Measure 1.3(2)).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05

A rightsholder may reserve their rights by letter, in a complaint, or in a registry the
provider keeps, rather than in a machine-readable file on the site. ``registry_entry`` holds
those reservations, for a registrable domain, a host or a URL prefix, as an append-only history:
an entry is withdrawn by a later row that names it, never by an update, so what was in force
on any day can be told afterwards (audit/registry.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from audit.migrations.appendonly import create_triggers, drop_triggers

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "registry_entry"


def _key(length: int | None = None) -> sa.types.TypeEngine[str]:
    text = sa.String(length) if length else sa.Text()
    collated = sa.String(length, collation="C") if length else sa.Text(collation="C")
    return text.with_variant(collated, "postgresql")


def upgrade() -> None:
    """Create ``registry_entry`` and make it append-only."""
    op.create_table(
        _TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("target", _key(), nullable=False),
        sa.Column("purposes", sa.Text(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], [f"{_TABLE}.id"], name=op.f("fk_registry_entry_entry_id_registry_entry")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_entry")),
    )
    op.create_index("ix_registry_entry_target", _TABLE, ["target"])
    create_triggers([_TABLE])


def downgrade() -> None:
    """Drop the table and its triggers."""
    drop_triggers([_TABLE])
    op.drop_index("ix_registry_entry_target", table_name=_TABLE)
    op.drop_table(_TABLE)
