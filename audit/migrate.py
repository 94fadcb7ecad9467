"""Schema migrations: ``heed db upgrade``, and the check every open makes (alembic, configured in code).

The alembic environment ships inside the package (``audit/migrations``), so upgrading works from
any directory after ``pip install``; no ``alembic.ini`` is needed. A new, empty database is
upgraded automatically on first use by a writer; an existing database at an older revision is
never changed behind the operator's back: the writer refuses it until ``heed db upgrade`` runs.
A database that is not empty and has no Heed schema revision (another application's) is never
written to: every open refuses it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from audit.engine import database_message, describe
from audit.errors import DatabaseURLError, SchemaError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: The schema the migrations build on SQLite, at :data:`HEAD`, for a new database in one step
#: (:func:`sqlite_snapshot` writes it; a test keeps it equal to what the migrations build).
SQLITE_SNAPSHOT = MIGRATIONS_DIR / "head.sqlite.json"
#: The newest revision; a test keeps it equal to the head of ``migrations/versions``.
HEAD = "0011"
#: PostgreSQL advisory lock taken while checking or migrating, so two first users don't race.
_PG_LOCK = 0x48454544  # "HEED"
#: Table names a refusal lists before only counting the rest.
_NAMES_SHOWN = 5
#: A table every revision of Heed's schema has: an alembic revision without it is not Heed's.
_HEED_TABLE = "crawl_run"


def alembic_config(connection: Connection | None = None) -> Config:
    """Return an alembic Config for the packaged migrations, bound to *connection*."""
    from alembic.config import Config  # alembic is imported only when migrating (start-up time)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def alembic_command() -> Any:
    """Return alembic's ``command`` module (imported on first use)."""
    from alembic import command

    return command


def script_head() -> str | None:
    """Return the head revision of the packaged migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """Return the revision *connection*'s database is at, None when it has no Heed schema."""
    # What alembic's MigrationContext.get_current_revision() reads, without building a context
    # on every open (a look-up command opens the database once per process).
    if not connection.dialect.has_table(connection, "alembic_version"):
        return None
    versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(versions) > 1:
        raise SchemaError(f"several alembic revisions at once: {sorted(versions)}")
    return versions[0] if versions else None


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade the database to *revision*; return the revisions before and after."""
    try:
        with engine.connect() as conn, _foreign_keys_checked_at_end(conn), conn.begin():
            _lock(conn)
            before = current_revision(conn)
            _refuse_foreign(conn, engine, before)
            alembic_command().upgrade(alembic_config(conn), revision)
            _check_foreign_keys(conn)
            after = current_revision(conn)
    except DBAPIError as exc:
        raise DatabaseURLError(database_message(engine.url, exc)) from exc
    return before, after


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade the database to *revision* (for tests and operators undoing an upgrade)."""
    with engine.connect() as conn, _foreign_keys_checked_at_end(conn), conn.begin():
        _lock(conn)
        alembic_command().downgrade(alembic_config(conn), revision)
        _check_foreign_keys(conn)


@contextmanager
def _foreign_keys_checked_at_end(conn: Connection) -> Iterator[None]:
    """On SQLite, switch foreign-key enforcement off around a migration's transaction.

    SQLite cannot drop a constraint in place: a migration rebuilds the table, and dropping the
    old table would fail on the rows that reference it. SQLite's documented procedure for
    schema changes: enforcement off (only possible outside a transaction), change, then
    ``PRAGMA foreign_key_check`` before commit (:func:`_check_foreign_keys`), enforcement back.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    driver: Any = conn.connection.dbapi_connection
    enforced = driver.execute("PRAGMA foreign_keys").fetchone()[0]
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")


def _check_foreign_keys(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        broken = conn.execute(text("PRAGMA foreign_key_check")).all()
        if broken:
            raise SchemaError(f"migration left {len(broken)} broken references, e.g. {broken[0]}")


def ensure_schema(engine: Engine, *, create: bool) -> None:
    """Check that the database is at :data:`HEAD`; with *create*, build the schema when empty."""
    try:
        with engine.begin() as conn:
            if create:  # only a writer may build the schema: readers need no lock
                _lock(conn)
            revision = current_revision(conn)
            if revision == HEAD:
                return
            _refuse_foreign(conn, engine, revision)
            if revision is None and create:
                if not _create_from_snapshot(conn):
                    alembic_command().upgrade(alembic_config(conn), "head")
                return
    except DBAPIError as exc:
        raise DatabaseURLError(database_message(engine.url, exc)) from exc
    where = describe(engine.url)
    if revision is None:
        raise SchemaError(f"no Heed audit schema in {where}; run: heed db upgrade --db …")
    from alembic.script import ScriptDirectory

    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if revision not in known:
        raise SchemaError(f"{where} is at revision {revision}, newer than this Heed ({HEAD})")
    raise SchemaError(f"{where} is at revision {revision}; run: heed db upgrade --db …")


def sqlite_snapshot(conn: Connection) -> dict[str, Any]:
    """Return the schema and rows of the SQLite database *conn* is on, as the snapshot keeps it.

    The schema objects (tables, then indexes, views and triggers, each in creation order) as
    SQLite stores their SQL, and the rows every table holds (the migrations' seed rows and the
    alembic revision).
    """
    objects = conn.exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
        "AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
    ).all()
    order = {"table": 0, "index": 1, "view": 2, "trigger": 3}
    statements = [sql for kind, _, sql in sorted(objects, key=lambda o: order[o[0]])]
    tables = [name for kind, name, _ in objects if kind == "table"]
    rows = {}
    for table in tables:
        found = [list(row) for row in conn.exec_driver_sql(f'SELECT * FROM "{table}"').all()]
        if found:
            rows[table] = found
    return {"revision": current_revision(conn), "statements": statements, "rows": rows}


def _create_from_snapshot(conn: Connection) -> bool:
    """Build the head schema of a new SQLite database in one step; False when it cannot be.

    The same objects and rows the migrations leave (:data:`SQLITE_SNAPSHOT`), without importing
    alembic or replaying every revision: a new database is where a first crawl starts.
    """
    if conn.dialect.name != "sqlite" or not SQLITE_SNAPSHOT.exists():
        return False
    if conn.dialect.has_table(conn, "alembic_version"):
        return False  # a schema downgraded away: the migrations know what is left of it
    snapshot = json.loads(SQLITE_SNAPSHOT.read_text(encoding="utf-8"))
    if snapshot.get("revision") != HEAD:
        return False
    for statement in snapshot["statements"]:
        conn.exec_driver_sql(statement)
    for table, rows in snapshot["rows"].items():
        marks = ", ".join("?" * len(rows[0]))
        conn.exec_driver_sql(f'INSERT INTO "{table}" VALUES ({marks})', [tuple(r) for r in rows])
    return True


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})


def _refuse_foreign(conn: Connection, engine: Engine, revision: str | None) -> None:
    """Raise SchemaError unless the database is empty or a Heed audit database.

    Heed's schema goes only into an empty database (its default schema, on PostgreSQL), never
    beside another application's tables: a database with tables or views and no revision, or
    with an alembic revision but none of Heed's tables, belongs to someone else.
    """
    where = describe(engine.url)
    if revision is not None:
        if not conn.dialect.has_table(conn, _HEED_TABLE):
            raise SchemaError(
                f"{where} is not a Heed audit database (its alembic revision {revision!r} is "
                "another application's); use another --db"
            )
        return
    inspector = inspect(conn)
    found = sorted(
        {*inspector.get_table_names(), *inspector.get_view_names()} - {"alembic_version"}
    )
    if found:
        shown = ", ".join(found[:_NAMES_SHOWN])
        if len(found) > _NAMES_SHOWN:
            shown += f" and {len(found) - _NAMES_SHOWN} more"
        raise SchemaError(
            f"{where} is not a Heed audit database (it has tables {shown} and no Heed schema "
            "revision); use another --db"
        )
