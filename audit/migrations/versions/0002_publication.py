"""Publications: versioned summaries, copyright policies and crawler information.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the ``publication`` table and make it append-only."""
    op.create_table(
        "publication",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["previous_id"], ["publication.id"], name=op.f("fk_publication_previous_id_publication")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication")),
        sa.UniqueConstraint("kind", "subject", "version", name=op.f("uq_publication_kind")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # heed_append_only() was created by 0001.
        op.execute(
            "CREATE TRIGGER trg_publication_append_only BEFORE UPDATE OR DELETE ON publication "
            "FOR EACH ROW EXECUTE FUNCTION heed_append_only()"
        )
        op.execute(
            "CREATE TRIGGER trg_publication_no_truncate BEFORE TRUNCATE ON publication "
            "FOR EACH STATEMENT EXECUTE FUNCTION heed_append_only()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER trg_publication_no_{event.lower()} BEFORE {event} ON publication "
            "BEGIN SELECT RAISE(ABORT, 'heed audit table publication is append-only'); END"
        )


def downgrade() -> None:
    """Drop the table and its triggers."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER trg_publication_append_only ON publication")
        op.execute("DROP TRIGGER trg_publication_no_truncate ON publication")
    else:
        op.execute("DROP TRIGGER trg_publication_no_update")
        op.execute("DROP TRIGGER trg_publication_no_delete")
    op.drop_table("publication")
