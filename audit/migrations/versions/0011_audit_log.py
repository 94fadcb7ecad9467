"""The tamper-evident audit log: a Merkle tree over the evidence rows, and signed checkpoints.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

From this revision every commit of the writer appends a leaf per evidence row it inserted
(audit/log.py). The rows already stored are appended here, table by table in key order, so
that the log covers the whole database; a checkpoint signed later vouches for them as they
were at this upgrade, not at the time they were recorded (docs/verification.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from audit.migrations.appendonly import create_triggers, drop_triggers

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("log_batch", "log_node", "log_checkpoint")
#: Rows appended per batch when logging the rows stored before this revision.
_BACKFILL_BATCH = 50_000


def upgrade() -> None:
    """Create the log's tables, their triggers and state; log the rows already stored."""
    op.create_table(
        "log_batch",
        sa.Column("first", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("refs", sa.Text(), nullable=False),
        sa.Column("leaves", sa.LargeBinary(), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("first", name=op.f("pk_log_batch")),
    )
    op.create_table(
        "log_node",
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "position", name=op.f("pk_log_node")),
    )
    op.create_table(
        "log_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("hashes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_state")),
    )
    op.create_table(
        "log_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("verifier_key", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_checkpoint")),
    )
    bind = op.get_bind()
    op.execute("INSERT INTO log_state (id, size, hashes) VALUES (1, 0, '')")
    create_triggers(_TABLES)
    _log_stored_rows(bind)


def _log_stored_rows(bind: sa.Connection) -> None:
    """Append the rows stored before this revision to the log."""
    from audit.leaves import KEY_COLUMN, LEAF_COLUMNS, leaf_hashes
    from audit.log import append
    from audit.models import Base
    from audit.rows import time_converter

    now = time_converter(bind.dialect.name)(dt.datetime.now(dt.UTC))
    tables = Base.metadata.tables
    for name, columns in LEAF_COLUMNS.items():
        table = tables[name]
        key = table.c[KEY_COLUMN[name]]
        stmt = sa.select(*(table.c[c] for c in columns)).order_by(key)
        rows = bind.execute(stmt).all()
        for start in range(0, len(rows), _BACKFILL_BATCH):
            chunk = [tuple(row) for row in rows[start : start + _BACKFILL_BATCH]]
            append(bind, {name: [row[0] for row in chunk]}, leaf_hashes(name, chunk), now)


def downgrade() -> None:
    """Drop the log's tables and their triggers."""
    drop_triggers(reversed(_TABLES))
    for table in ("log_checkpoint", "log_state", "log_node", "log_batch"):
        op.drop_table(table)
