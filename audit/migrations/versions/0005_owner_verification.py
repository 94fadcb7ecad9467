"""Domain verification for the rightsholders' portal: verifications and credentials.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

``heed serve`` lets a rightsholder prove control of a registrable domain (an HTTP file or a DNS
TXT record) and then see that domain's decisions URL by URL. These two tables hold the
requests and the bearer credentials issued on success (by their sha256 only). They are not
evidence of the crawl: a check updates its verification, so no append-only trigger.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time() -> sa.DateTime:
    # As audit.models.UTCDateTime: integer microseconds on SQLite, timestamptz elsewhere.
    return sa.DateTime(timezone=True)


def _key(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    """Create ``owner_verification`` and ``owner_credential``."""
    op.create_table(
        "owner_verification",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("domain", _key(253), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("key_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("expires_at", _time(), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("last_check_at", _time(), nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("verified_at", _time(), nullable=True),
        sa.Column("method", sa.String(8), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owner_verification")),
        sa.UniqueConstraint("key_sha256", name=op.f("uq_owner_verification_key_sha256")),
    )
    op.create_index("ix_owner_verification_domain", "owner_verification", ["domain"])
    op.create_table(
        "owner_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("domain", _key(253), nullable=False),
        sa.Column("verification_id", sa.String(32), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("expires_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["verification_id"],
            ["owner_verification.id"],
            name=op.f("fk_owner_credential_verification_id_owner_verification"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owner_credential")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_owner_credential_token_sha256")),
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("owner_credential")
    op.drop_index("ix_owner_verification_domain", table_name="owner_verification")
    op.drop_table("owner_verification")
