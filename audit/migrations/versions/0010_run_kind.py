"""What kind of run a run is: a crawl, or a re-check of what crawls kept.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

A re-check (``heed recheck``) reads the current signals of the origins whose content was kept
and records, per kept item, whether it may still be used: decisions of a run of its own, which
the crawl reports (the summary's scope, the copyright policy's runs) must not count as crawling.
Every existing run is a crawl.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``crawl_run.kind`` (``crawl`` for every run so far)."""
    with op.batch_alter_table("crawl_run") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="crawl"))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("crawl_run") as batch:
        batch.drop_column("kind")
