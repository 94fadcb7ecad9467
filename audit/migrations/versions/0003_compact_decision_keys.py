"""Compact keys: a unique 63-bit request hash, and SQLite times as integer microseconds.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

* ``decision.request_hash`` replaces the unique (run, request key, attempt) text key: the same
  guarantee (re-recording an attempt stores nothing) with an integer index instead of one over
  32+ characters of key text per row. Existing rows get their hash computed here.
* SQLite: every time column holds integer microseconds since the Unix epoch instead of text
  (see ``audit.models.UTCDateTime``); existing values are converted here. PostgreSQL keeps
  ``timestamptz``.

Both measured with bench/audit_writer.py: together about a third of the writer's time per row.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Time columns per table (converted on SQLite).
_TIMES = {
    "crawl_run": ("started_at", "ended_at"),
    "document": ("first_seen",),
    "document_fetch": ("fetched_at", "recorded_at"),
    "decision": ("time",),
    "stored_item": ("time",),
    "publication": ("created_at",),
}
#: Tables with append-only triggers (0001, and publication from 0002).
_APPEND_ONLY = (
    "decision",
    "outcome",
    "signal",
    "document",
    "document_fetch",
    "stored_item",
    "publication",
)
_RUN_MIX = 0x9E3779B97F4A7C15
_ATTEMPT_MIX = 0xC2B2AE3D27D4EB4F
_MASK63 = (1 << 63) - 1


def _request_hash(run_id: int, key: str, attempt: int) -> int:
    # A frozen copy of audit.rows.request_hash as of this revision (migrations must not change
    # meaning when the application code does).
    raw = None
    if len(key) >= 32 and key.isalnum():
        try:
            raw = bytes.fromhex(key)
        except ValueError:
            raw = None
    if raw is None:
        raw = hashlib.blake2b(key.encode(), digest_size=8).digest()
    base = int.from_bytes(raw[:8], "big")
    return (base ^ (run_id * _RUN_MIX) ^ (attempt * _ATTEMPT_MIX)) & _MASK63


def _initial() -> ModuleType:
    # The views and triggers as revision 0001 created them: they are dropped and re-created
    # around the table rebuild (SQLite cannot drop a table's UNIQUE constraint in place).
    path = Path(__file__).with_name("0001_initial_schema.py")
    spec = importlib.util.spec_from_file_location("heed_migration_0001", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _drop_views_and_triggers(postgres: bool) -> None:
    op.execute("DROP VIEW decision_signal")
    op.execute("DROP VIEW audit_decision")
    if postgres:
        op.execute("DROP TRIGGER trg_decision_append_only ON decision")
        op.execute("DROP TRIGGER trg_decision_no_truncate ON decision")
        return
    for table in _APPEND_ONLY:  # the time conversion updates rows of most of them
        op.execute(f"DROP TRIGGER trg_{table}_no_update")
        op.execute(f"DROP TRIGGER trg_{table}_no_delete")


def _create_views_and_triggers(postgres: bool) -> None:
    _initial()._create_views()
    if postgres:
        op.execute(
            "CREATE TRIGGER trg_decision_append_only BEFORE UPDATE OR DELETE ON decision "
            "FOR EACH ROW EXECUTE FUNCTION heed_append_only()"
        )
        op.execute(
            "CREATE TRIGGER trg_decision_no_truncate BEFORE TRUNCATE ON decision "
            "FOR EACH STATEMENT EXECUTE FUNCTION heed_append_only()"
        )
        return
    for table in _APPEND_ONLY:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER trg_{table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'heed audit table {table} is append-only'); END"
            )


def _convert_times(to_integer: bool) -> None:
    # SQLAlchemy's SQLite text form is "YYYY-MM-DD HH:MM:SS.ffffff" (naive UTC).
    for table, columns in _TIMES.items():
        for column in columns:
            if to_integer:
                value = (
                    f"CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER) * 1000000 "
                    f"+ CAST(substr({column} || '.000000', 21, 6) AS INTEGER)"
                )
                kind = "text"
            else:
                value = (
                    f"strftime('%Y-%m-%d %H:%M:%S', {column} / 1000000, 'unixepoch') "
                    f"|| '.' || printf('%06d', {column} % 1000000)"
                )
                kind = "integer"
            op.execute(f"UPDATE {table} SET {column} = {value} WHERE typeof({column}) = '{kind}'")


def upgrade() -> None:
    """Add and fill ``decision.request_hash``, index it uniquely, drop the text key."""
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    _drop_views_and_triggers(postgres)
    op.add_column("decision", sa.Column("request_hash", sa.BigInteger(), nullable=True))
    rows = bind.execute(
        sa.text(
            "SELECT id, run_id, request_key, attempt FROM decision WHERE request_key IS NOT NULL"
        )
    ).all()
    if rows:
        bind.execute(
            sa.text("UPDATE decision SET request_hash = :h WHERE id = :id"),
            [{"h": _request_hash(run, key, attempt), "id": i} for i, run, key, attempt in rows],
        )
    if postgres:
        op.drop_constraint("uq_decision_request", "decision", type_="unique")
    else:
        with op.batch_alter_table("decision", recreate="always") as batch:
            batch.drop_constraint("uq_decision_request", type_="unique")
    op.create_index("ix_decision_request_hash", "decision", ["request_hash"], unique=True)
    if not postgres:
        _convert_times(to_integer=True)
    _create_views_and_triggers(postgres)


def downgrade() -> None:
    """Restore the unique text key (fails if the data now violates it)."""
    postgres = op.get_bind().dialect.name == "postgresql"
    _drop_views_and_triggers(postgres)
    if not postgres:
        _convert_times(to_integer=False)
    op.drop_index("ix_decision_request_hash", "decision")
    with op.batch_alter_table("decision", recreate="auto" if postgres else "always") as batch:
        batch.drop_column("request_hash")
        batch.create_unique_constraint("uq_decision_request", ["run_id", "request_key", "attempt"])
    _create_views_and_triggers(postgres)
