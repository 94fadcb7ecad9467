"""A new SQLite database gets the head schema in one step, the same the migrations build.

``audit/migrations/head.sqlite.json`` holds what the migrations leave in a new SQLite database
(every table, index, view and trigger as SQLite stores it, and the seed rows); a writer opening a
new SQLite database creates it from there instead of importing alembic and replaying every
revision (issue 13, item 3: start-up). When a migration is added, regenerate it::

    python -c "from tests.audit.test_schema_snapshot import regenerate; regenerate()"
"""

from __future__ import annotations

import json
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from audit import AuditStore
from audit.engine import make_engine, resolve_url
from audit.migrate import HEAD, SQLITE_SNAPSHOT, sqlite_snapshot, upgrade
from audit.models import Base


def _snapshot_of(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        return sqlite_snapshot(conn)


def _migrated(path: Path) -> dict[str, object]:
    engine = make_engine(resolve_url(str(path)))
    try:
        upgrade(engine)
        return _snapshot_of(engine)
    finally:
        engine.dispose()


def regenerate() -> None:
    """Write the snapshot of what the migrations build (after adding a migration)."""
    import tempfile

    with tempfile.TemporaryDirectory() as work:
        snapshot = _migrated(Path(work) / "head.db")
    SQLITE_SNAPSHOT.write_text(json.dumps(snapshot, indent=1) + "\n", encoding="utf-8")


def _objects(snapshot: dict[str, object]) -> list[tuple[str, ...]]:
    """Return the schema objects, each as its sorted lines: the migrations' table rebuilds on
    SQLite write a table's constraints in no fixed order."""
    statements = snapshot["statements"]
    assert isinstance(statements, list)
    return sorted(
        tuple(sorted(line.strip().rstrip(",").strip() for line in sql.splitlines()))
        for sql in statements
    )


def test_the_snapshot_is_what_the_migrations_build(tmp_path: Path) -> None:
    """Same revision, same schema objects (SQL as SQLite keeps it), same rows."""
    stored = json.loads(SQLITE_SNAPSHOT.read_text(encoding="utf-8"))
    migrated = _migrated(tmp_path / "migrated.db")
    assert stored["revision"] == migrated["revision"] == HEAD
    assert _objects(stored) == _objects(migrated)
    assert stored["rows"] == migrated["rows"]


def test_a_new_sqlite_database_is_built_from_the_snapshot(tmp_path: Path) -> None:
    """A writer's first open builds the head schema: the models' schema, triggers and seeds."""
    path = tmp_path / "new.db"
    with AuditStore.open(str(path)):
        pass
    engine = make_engine(resolve_url(str(path)))
    try:
        built = _snapshot_of(engine)
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
    finally:
        engine.dispose()
    assert diff == []
    migrated = _migrated(tmp_path / "migrated.db")
    assert built["revision"] == HEAD
    assert _objects(built) == _objects(migrated)
    assert built["rows"] == migrated["rows"]
