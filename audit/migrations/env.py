"""Alembic environment of the audit schema, configured from code (no alembic.ini needed).

:func:`audit.migrate.upgrade` passes an open connection in ``config.attributes["connection"]``;
running ``alembic`` by hand works too with ``-x url=…`` or ``sqlalchemy.url`` in an ini file.
SQLite gets ``render_as_batch`` so that later ALTERs become copy-and-move table rebuilds.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from audit.engine import make_engine, resolve_url
from audit.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    """Run the migrations on the given connection, or on a URL from the command line."""
    if context.is_offline_mode():
        raise RuntimeError("offline (--sql) migrations are not supported; use heed db upgrade")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    engine = make_engine(resolve_url(url))
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


main()
