"""Complaints (Code of Practice Measure 1.5) and their history.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

A rightsholder, or their representative, may complain that the crawler did not honour their
reservation. ``complaint`` holds what was submitted, as submitted; ``complaint_event`` its
history: received, acknowledged, in review, then upheld, rejected or withdrawn, each step with
its time, who took it and why (audit/complaints.py). Both are append-only: a complaint's state
is its latest event, never an updated column.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from audit.migrations.appendonly import create_triggers, drop_triggers

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("complaint", "complaint_event")


def upgrade() -> None:
    """Create the two tables and make them append-only."""
    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(20), nullable=False),
        sa.Column("status_key_sha256", sa.String(64), nullable=False),
        sa.Column("claimant", sa.String(200), nullable=False),
        sa.Column("capacity", sa.String(20), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("concerns", sa.Text(), nullable=False),
        sa.Column("right_claimed", sa.Text(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("requested", sa.Text(), nullable=False),
        sa.Column("verified_domain", sa.String(253), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint")),
        sa.UniqueConstraint("reference", name=op.f("uq_complaint_reference")),
        sa.UniqueConstraint("status_key_sha256", name=op.f("uq_complaint_status_key_sha256")),
    )
    op.create_table(
        "complaint_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
            name=op.f("fk_complaint_event_complaint_id_complaint"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_event")),
    )
    op.create_index("ix_complaint_event_complaint_id", "complaint_event", ["complaint_id"])
    create_triggers(_TABLES)


def downgrade() -> None:
    """Drop the tables and their triggers."""
    drop_triggers(reversed(_TABLES))
    op.drop_index("ix_complaint_event_complaint_id", table_name="complaint_event")
    op.drop_table("complaint_event")
    op.drop_table("complaint")
