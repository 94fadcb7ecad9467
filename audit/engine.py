"""Database URLs and engines: a SQLite file by default, PostgreSQL (psycopg 3) by URL.

Where the database is: the ``--db`` value, else ``$HEED_DB``, else the SQLite file ``heed.db`` in
the current directory. A value without ``://`` is a SQLite file path. ``postgresql://…`` and
``postgres://…`` use psycopg 3.

SQLite runs in WAL mode with ``synchronous=NORMAL``: a committed transaction survives a crash of
the process (the case the writer's ordering guarantee is about); after a power loss the last
transactions before the failure may be rolled back, never half-applied. Use ``synchronous="FULL"``
to survive power loss as well, at the cost of an fsync per commit. WAL mode, which is stored in
the file, is set only on a new database or a Heed audit database: opening another application's
file (to refuse it) leaves it as it was.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from audit.errors import DatabaseURLError

#: Environment variable naming the audit database.
ENV_VAR = "HEED_DB"
#: SQLite file used when neither --db nor $HEED_DB is given (relative to the current directory).
DEFAULT_SQLITE_FILE = "heed.db"

_SQLITE_PRAGMAS = (
    "busy_timeout=30000",
    "temp_store=MEMORY",
    # 128 MiB of page cache: the decision index stays in memory while the writer inserts.
    "cache_size=-131072",
    # Checkpoint every ~40 MiB of WAL instead of ~4 MiB: fewer, larger checkpoints at high rates.
    "wal_autocheckpoint=10000",
)
#: Bytes of the file SQLite reads through a memory map rather than read() into each
#: connection's own cache. Readers map up to 2 GiB (the most SQLite allows by default): the
#: portal's connections then share the operating system's cache of the file, instead of each
#: warming its own, and a look-up on 10M decisions costs 5 % less (bench/serve_lookup.py).
#: Writers keep 256 MiB.
_MMAP_READER = 2**31 - 2**16
_MMAP_WRITER = 2**28
#: True for a new, empty SQLite database or a Heed audit database (the ones put in WAL mode).
_NEW_OR_HEED = (
    "SELECT count(*) = 0 OR sum(name = 'crawl_run') > 0 FROM sqlite_master WHERE type = 'table'"
)


def resolve_url(db: str | None = None) -> URL:
    """Return the SQLAlchemy URL for *db*, ``$HEED_DB`` or ``heed.db``; raise DatabaseURLError."""
    text = (db or os.environ.get(ENV_VAR) or DEFAULT_SQLITE_FILE).strip()
    if not text:
        raise DatabaseURLError("empty database URL")
    if "://" not in text:
        return URL.create("sqlite+pysqlite", database=str(Path(text).expanduser()))
    try:
        url = make_url(text)
    except ArgumentError as exc:
        raise DatabaseURLError(f"not a database URL: {text!r}") from exc
    backend, _, driver = url.drivername.partition("+")
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return url.set(drivername="sqlite+pysqlite")
    raise DatabaseURLError(
        f"unsupported database {url.drivername!r}: use a SQLite path or a postgresql:// URL"
    )


#: libpq parameters of every PostgreSQL connection (unless the URL sets them): seconds to connect;
#: TCP keepalives that find a silent server within about 25 s; milliseconds sent data may stay
#: unacknowledged before the connection is dropped.
PG_TIMEOUTS = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}


def describe(url: URL) -> str:
    """Return *url* for messages: a SQLite file's path, else the URL without its password."""
    path = sqlite_path(url)
    return str(path) if path is not None else url.render_as_string(hide_password=True)


def database_message(url: URL | None, exc: DBAPIError) -> str:
    """Return one line saying that the database at *url* failed with *exc* (driver's words)."""
    detail = str(exc.orig).strip() if exc.orig is not None else ""
    detail = (detail or str(exc).strip()).splitlines()[0]
    where = describe(url) if url is not None else "the audit database"
    return f"cannot use database {where}: {detail}"


def is_outage(exc: BaseException) -> bool:
    """Return True if *exc* says the database could not be reached or the connection was lost
    (refused, closed, timed out, shutting down), rather than a fault of the data or the schema:
    the case a worker of a shared crawl waits out (crawler.extensions.audit)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | InterfaceError | DisconnectionError | PoolTimeout)


def sqlite_path(url: URL) -> Path | None:
    """Return the file of a SQLite URL, or None for PostgreSQL and in-memory SQLite."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database or "")


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """Yield a connection for reads, in one transaction (so that its reads agree), ended by
    COMMIT rather than the ROLLBACK of a plain ``engine.connect()``.

    A read loses nothing either way, but psycopg forgets the statements it has prepared on the
    server at every ROLLBACK: ended by COMMIT, a portal look-up repeated on a pooled
    connection is parsed and planned once, not each time (PostgreSQL's CPU per look-up on 10M
    decisions: 4.3 → 3.3 ms, bench/serve_lookup.py). An error still rolls back.
    """
    with engine.begin() as conn:
        yield conn


def make_engine(
    url: URL,
    *,
    must_exist: bool = False,
    writer: bool = False,
    synchronous: str = "NORMAL",
    foreign_keys: bool | None = None,
) -> Engine:
    """Return an engine for *url*.

    *must_exist*: refuse a SQLite file that does not exist (read-only commands never create one).
    *writer*: SQLite transactions start with ``BEGIN IMMEDIATE``, taking the write lock up front
    so that two writers wait for each other (busy_timeout) instead of failing on lock upgrade.
    *foreign_keys*: SQLite enforcement of the declared foreign keys; by default on, except on
    the writer's connections. The writer inserts every referenced row before the rows that
    reference it, in the same transaction, and checking each reference again cost 15 % of its
    write rate (measured). PostgreSQL always enforces them; ``heed db check`` verifies a SQLite
    file (:mod:`audit.integrity`).
    """
    path = sqlite_path(url)
    if path is not None:
        if path.is_dir():
            raise DatabaseURLError(f"{path} is a directory, not a database file")
        if must_exist and not path.is_file():
            raise DatabaseURLError(f"no audit database at {path} (set --db or {ENV_VAR})")
        if not path.parent.is_dir():
            raise DatabaseURLError(f"directory does not exist: {path.parent}")
    if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"bad synchronous mode {synchronous!r}")
    kwargs: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql":
        # Positional parameters let the writer pass plain tuples to executemany.
        kwargs["paramstyle"] = "format"
        # The store is called from the crawl's event loop: a server that stops answering must
        # raise (and be waited out or reported), never hang the crawl. The URL's own values win.
        kwargs["connect_args"] = {
            name: value for name, value in PG_TIMEOUTS.items() if name not in url.query
        }
    engine = create_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        enforce = not writer if foreign_keys is None else foreign_keys
        _configure_sqlite(engine, writer=writer, synchronous=synchronous.upper(), fks=enforce)
    return engine


def _configure_sqlite(engine: Engine, *, writer: bool, synchronous: str, fks: bool) -> None:
    # pysqlite's own transaction handling issues BEGIN lazily and not before DDL; take control
    # (the recipe in SQLAlchemy's SQLite dialect documentation) so migrations are transactional.
    begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            wal = cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            if not wal and cursor.execute(_NEW_OR_HEED).fetchone()[0]:
                cursor.execute("PRAGMA journal_mode=WAL")
            for pragma in (
                *_SQLITE_PRAGMAS,
                f"mmap_size={_MMAP_WRITER if writer else _MMAP_READER}",
                f"synchronous={synchronous}",
                f"foreign_keys={'ON' if fks else 'OFF'}",
            ):
                cursor.execute(f"PRAGMA {pragma}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)
