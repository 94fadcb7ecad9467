"""``heed db``: create or upgrade the audit database schema, and check its integrity.

Also home of the ``--db`` option and error handling shared by ``heed status`` and
``heed evidence``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from audit.engine import describe, make_engine, resolve_url
from audit.errors import AuditError, IntegrityError
from audit.integrity import check
from audit.migrate import HEAD, upgrade
from audit.queries import open_reader

_F = TypeVar("_F", bound=Callable[..., Any])

DB_HELP = (
    "Audit database: a SQLite file path or a postgresql:// URL. "
    "Default: $HEED_DB, else the SQLite file heed.db in the current directory."
)

#: Exit status when stored evidence fails verification (1 is any other error, 2 bad usage).
EXIT_INTEGRITY = 3


class AuditFailure(click.ClickException):
    """An audit error shown as one line (exit status 1)."""


class IntegrityFailure(AuditFailure):
    """Stored evidence failed verification (exit status 3)."""

    exit_code = EXIT_INTEGRITY


def db_option(fn: _F) -> _F:
    """Add the ``--db URL`` option."""
    return click.option("--db", "db", metavar="URL", default=None, help=DB_HELP)(fn)


@contextmanager
def audit_errors() -> Iterator[None]:
    """Turn audit errors into one-line CLI errors (never a traceback)."""
    try:
        yield
    except IntegrityError as exc:
        raise IntegrityFailure(str(exc)) from None
    except AuditError as exc:
        raise AuditFailure(str(exc)) from None


@click.group("db")
def db() -> None:
    """Manage the audit database (schema migrations, integrity check)."""


@db.command("upgrade")
@db_option
def upgrade_command(db: str | None) -> None:
    """Create the audit schema, or upgrade it to this Heed's revision.

    Writers (the crawler) create the schema of a new, empty database by themselves; an
    existing database is only ever upgraded by this command.
    """
    with audit_errors():
        url = resolve_url(db)
        engine = make_engine(url)
        try:
            before, after = upgrade(engine)
        finally:
            engine.dispose()
    where = describe(url)
    if before == after:
        click.echo(f"{where}: already at revision {after}")
    else:
        click.echo(f"{where}: upgraded from {before or 'an empty database'} to revision {after}")
    if after != HEAD:  # pragma: no cover - only if the migrations and HEAD disagree
        raise click.ClickException(f"expected revision {HEAD}, database is at {after}")


@db.command("check")
@db_option
def check_command(db: str | None) -> None:
    """Verify the audit trail: every document's sha256, and every reference between rows."""
    with audit_errors():
        engine = open_reader(db)
        try:
            report = check(engine)
        finally:
            engine.dispose()
    click.echo(f"{report.documents} documents verified, {report.rows} rows checked for references")
    for problem in report.problems:
        click.echo(f"problem: {problem}", err=True)
    if report.problems:
        raise click.exceptions.Exit(EXIT_INTEGRITY)
    click.echo("ok")
