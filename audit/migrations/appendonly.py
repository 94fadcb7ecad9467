"""The append-only triggers the migrations install on an evidence table, and remove.

``heed_append_only()`` (PostgreSQL) was created by revision 0001, whose own triggers are written
out there; later revisions add tables through these two functions. The SQL is what those
revisions always ran, so a database upgraded before this helper existed has the same triggers.
"""

from __future__ import annotations

from collections.abc import Iterable

from alembic import op


def create_triggers(tables: Iterable[str]) -> None:
    """Make UPDATE and DELETE (and TRUNCATE, on PostgreSQL) on each of *tables* fail."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in tables:
        if postgres:
            op.execute(
                f"CREATE TRIGGER trg_{table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION heed_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER trg_{table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION heed_append_only()"
            )
            continue
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER trg_{table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'heed audit table {table} is append-only'); END"
            )


def drop_triggers(tables: Iterable[str]) -> None:
    """Remove what :func:`create_triggers` installed on each of *tables*."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in tables:
        if postgres:
            op.execute(f"DROP TRIGGER trg_{table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER trg_{table}_no_truncate ON {table}")
        else:
            op.execute(f"DROP TRIGGER trg_{table}_no_update")
            op.execute(f"DROP TRIGGER trg_{table}_no_delete")
