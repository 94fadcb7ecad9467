"""Initial audit schema: runs, policies, origins, decisions, signals, documents, stored items.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Text compared byte-wise on PostgreSQL, so that prefix range scans mean what they say.
_KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
_TIME = sa.DateTime(timezone=True)
#: Row ids: INTEGER on SQLite, where only INTEGER PRIMARY KEY is the rowid (no extra index).
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_APPEND_ONLY = (
    "decision",
    "outcome",
    "signal",
    "document",
    "document_fetch",
    "stored_item",
)


def upgrade() -> None:
    """Create the tables, indexes, append-only triggers and the two views."""
    op.create_table(
        "id_block",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("next_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_id_block")),
    )
    op.bulk_insert(
        sa.table("id_block", sa.column("name", sa.String), sa.column("next_id", sa.BigInteger)),
        [{"name": "decision", "next_id": 1}, {"name": "item", "next_id": 1}],
    )
    op.create_table(
        "policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("protocol_set", sa.String(64), nullable=False),
        sa.Column("knobs", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy")),
        sa.UniqueConstraint("digest", "protocol_set", name=op.f("uq_policy_digest")),
    )
    op.create_table(
        "crawl_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_key", sa.String(200), nullable=False),
        sa.Column("crawler_name", sa.String(200), nullable=False),
        sa.Column("product_token", sa.String(200), nullable=False),
        sa.Column("user_agent", sa.Text(), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("config_sha256", sa.String(64), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("protocol_set", sa.String(64), nullable=False),
        sa.Column("started_at", _TIME, nullable=False),
        sa.Column("ended_at", _TIME, nullable=True),
        sa.Column("resumed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["policy.id"], name=op.f("fk_crawl_run_policy_id_policy")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_run")),
        sa.UniqueConstraint("run_key", name=op.f("uq_crawl_run_run_key")),
    )
    op.create_table(
        "crawl_run_count",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_run.id"], name=op.f("fk_crawl_run_count_run_id_crawl_run")
        ),
        sa.PrimaryKeyConstraint("run_id", "name", name=op.f("pk_crawl_run_count")),
    )
    op.create_table(
        "origin",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("origin", _KEY, nullable=False),
        sa.Column("scheme", sa.String(32), nullable=False),
        sa.Column("host", _KEY, nullable=False),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("domain", _KEY, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_origin")),
        sa.UniqueConstraint("origin", name=op.f("uq_origin_origin")),
    )
    op.create_index("ix_origin_domain", "origin", ["domain"])
    op.create_index("ix_origin_host", "origin", ["host"])
    op.create_table(
        "outcome",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("crawl", sa.String(16), nullable=False),
        sa.Column("use", sa.String(16), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("purposes", sa.String(255), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("signal_ids", sa.Text(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("licence_required", sa.Boolean(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["policy.id"], name=op.f("fk_outcome_policy_id_policy")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome")),
    )
    op.create_table(
        "decision",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(255), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("time", _TIME, nullable=False),
        sa.Column("origin_id", _ID, nullable=False),
        sa.Column("url", _KEY, nullable=False),
        sa.Column("outcome_id", _ID, nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("denylist_version", sa.String(100), nullable=True),
        sa.ForeignKeyConstraint(
            ["origin_id"], ["origin.id"], name=op.f("fk_decision_origin_id_origin")
        ),
        sa.ForeignKeyConstraint(
            ["outcome_id"], ["outcome.id"], name=op.f("fk_decision_outcome_id_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_run.id"], name=op.f("fk_decision_run_id_crawl_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision")),
        sa.UniqueConstraint("run_id", "request_key", "attempt", name="uq_decision_request"),
    )
    op.create_index("ix_decision_origin_time", "decision", ["origin_id", "time"])
    op.create_table(
        "signal",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("protocol", sa.String(64), nullable=False),
        sa.Column("crawl", sa.String(16), nullable=True),
        sa.Column("purposes", sa.String(255), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("rule", sa.Text(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("parser", sa.String(64), nullable=False),
        sa.Column("flags", sa.String(255), nullable=False),
        sa.Column("licence_url", sa.Text(), nullable=True),
        sa.Column("licence_required", sa.Boolean(), nullable=False),
        sa.Column("fetched_at", sa.String(64), nullable=True),
        sa.Column("extra", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signal")),
    )
    op.create_table(
        "document",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("first_seen", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_document")),
    )
    op.create_table(
        "document_fetch",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("origin_id", _ID, nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(200), nullable=True),
        sa.Column("redirects", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("fetched_at", _TIME, nullable=True),
        sa.Column("recorded_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_run.id"], name=op.f("fk_document_fetch_run_id_crawl_run")
        ),
        sa.ForeignKeyConstraint(
            ["sha256"], ["document.sha256"], name=op.f("fk_document_fetch_sha256_document")
        ),
        sa.ForeignKeyConstraint(
            ["origin_id"], ["origin.id"], name=op.f("fk_document_fetch_origin_id_origin")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_fetch")),
    )
    op.create_index("ix_document_fetch_sha256", "document_fetch", ["sha256"])
    op.create_index("ix_document_fetch_origin_sha256", "document_fetch", ["origin_id", "sha256"])
    op.create_table(
        "stored_item",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("decision_id", _ID, nullable=False),
        sa.Column("time", _TIME, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("modality", sa.String(16), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("tokens", sa.BigInteger(), nullable=True),
        sa.Column("content_sha256", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decision.id"], name=op.f("fk_stored_item_decision_id_decision")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_item")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_stored_item_decision_id")),
    )
    _create_append_only_triggers()
    _create_views()


def _create_views() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(
            "CREATE VIEW decision_signal AS "
            "SELECT d.id AS decision_id, (j.ord - 1)::integer AS seq, j.value::bigint AS signal_id "
            "FROM decision d JOIN outcome o ON o.id = d.outcome_id, "
            "jsonb_array_elements_text(o.signal_ids::jsonb) WITH ORDINALITY AS j(value, ord)"
        )
    else:
        op.execute(
            "CREATE VIEW decision_signal AS "
            "SELECT d.id AS decision_id, j.key AS seq, j.value AS signal_id "
            "FROM decision d JOIN outcome o ON o.id = d.outcome_id, json_each(o.signal_ids) AS j"
        )
    op.execute(
        "CREATE VIEW audit_decision AS "
        "SELECT d.id, d.run_id, d.request_key, d.attempt, d.time, d.url, g.origin, g.host, "
        "g.domain, o.crawl, o.use, o.purpose, o.purposes, d.action, o.reasons, o.signal_ids, "
        "o.complete, o.licence_required, o.policy_id, d.http_status, d.denylist_version, "
        "CASE WHEN i.id IS NULL THEN 0 ELSE 1 END AS stored "
        "FROM decision d JOIN origin g ON g.id = d.origin_id "
        "JOIN outcome o ON o.id = d.outcome_id "
        "LEFT JOIN stored_item i ON i.decision_id = d.id"
    )


def _create_append_only_triggers() -> None:
    # AC-20: the API offers no update or delete; these triggers make direct SQL fail loudly too.
    # A retention job that must delete old rows drops them first, on purpose and on record.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION heed_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'heed audit table % is append-only', TG_TABLE_NAME; END $$"
        )
        for table in _APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER trg_{table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION heed_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER trg_{table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION heed_append_only()"
            )
        return
    for table in _APPEND_ONLY:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER trg_{table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'heed audit table {table} is append-only'); END"
            )


def downgrade() -> None:
    """Drop everything :func:`upgrade` created."""
    op.execute("DROP VIEW decision_signal")
    op.execute("DROP VIEW audit_decision")
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in _APPEND_ONLY:
        if postgres:
            op.execute(f"DROP TRIGGER trg_{table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER trg_{table}_no_truncate ON {table}")
        else:
            op.execute(f"DROP TRIGGER trg_{table}_no_update")
            op.execute(f"DROP TRIGGER trg_{table}_no_delete")
    if postgres:
        op.execute("DROP FUNCTION heed_append_only()")
    for table in (
        "stored_item",
        "document_fetch",
        "document",
        "decision",
        "outcome",
        "signal",
        "origin",
        "crawl_run_count",
        "crawl_run",
        "policy",
        "id_block",
    ):
        op.drop_table(table)
