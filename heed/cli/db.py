"""``heed db``: create or upgrade the audit database schema, and check its integrity.

Also home of the ``--db`` option and error handling shared by ``heed status`` and
``heed evidence``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from audit.engine import database_message, describe, make_engine, resolve_url
from audit.errors import AuditError, DatabaseURLError, IntegrityError
from audit.integrity import check, storage_problems
from audit.migrate import HEAD, upgrade
from audit.queries import open_reader

_F = TypeVar("_F", bound=Callable[..., Any])

DB_HELP = (
    "Audit database: a SQLite file path or a postgresql:// URL. "
    "Default: $HEED_DB, else the SQLite file heed.db in the current directory."
)

#: Exit status when stored evidence fails verification (1 is any other error, among them a
#: database that cannot be used at all; 2 bad usage).
EXIT_INTEGRITY = 3


class AuditFailure(click.ClickException):
    """An audit error shown as one line (exit status 1: the database is not usable)."""


class IntegrityFailure(AuditFailure):
    """Stored evidence failed verification (exit status 3)."""

    exit_code = EXIT_INTEGRITY


def db_option(fn: _F) -> _F:
    """Add the ``--db URL`` option."""
    return click.option("--db", "db", metavar="URL", default=None, help=DB_HELP)(fn)


@contextmanager
def audit_errors(db: str | None = None) -> Iterator[None]:
    """Turn audit errors into one-line CLI errors (never a traceback).

    An error the database itself raises (a damaged SQLite file, a server that went away) is
    one too, naming the database *db* (the ``--db`` value).
    """
    try:
        yield
    except IntegrityError as exc:
        raise IntegrityFailure(str(exc)) from None
    except AuditError as exc:
        raise AuditFailure(str(exc)) from None
    except DBAPIError as exc:
        try:
            url = resolve_url(db)
        except DatabaseURLError:  # pragma: no cover - the URL was usable to get this far
            url = None
        raise AuditFailure(database_message(url, exc)) from None


def refuse_damaged(engine: Engine) -> None:
    """Print what SQLite's integrity check finds wrong with the file, and fail (exit status 1)."""
    damage = storage_problems(engine)
    if damage:
        for line in damage:
            click.echo(f"problem: {line}", err=True)
        raise AuditFailure(
            f"{describe(engine.url)} is damaged: SQLite's integrity check failed ({damage[0]}); "
            "the database is not usable"
        )


@click.group("db")
def db() -> None:
    """Manage the audit database (schema migrations, integrity check)."""


@db.command("upgrade")
@db_option
def upgrade_command(db: str | None) -> None:
    """Create the audit schema, or upgrade it to this Heed's revision.

    Writers (the crawler) create the schema of a new, empty database by themselves; an
    existing database is only ever upgraded by this command. A damaged SQLite file, or a
    database of another application, is refused (exit status 1).
    """
    with audit_errors(db):
        url = resolve_url(db)
        engine = make_engine(url)
        try:
            refuse_damaged(engine)  # a migration rewrites tables: never on a damaged file
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


@db.command("verify")
@db_option
@click.option(
    "--key",
    "keys",
    metavar="VERIFIER_KEY",
    multiple=True,
    help="A published verifier key the checkpoints must be signed with (repeatable). "
    "Default: each checkpoint's own stored key, which proves less.",
)
def verify_command(db: str | None, keys: tuple[str, ...]) -> None:
    """Verify the tamper-evident audit log: rebuild it from the rows, check every checkpoint.

    Every leaf is hashed again from the row it names, the tree is rebuilt and compared with each
    signed checkpoint, and consecutive checkpoints are checked for consistency. A changed,
    deleted or inserted row is reported by table and id, with the first checkpoint it breaks
    (exit status 3).
    """
    from audit.checkpoint import CheckpointError, parse_verifier_key
    from audit.logcheck import verify_log

    for key in keys:
        try:
            parse_verifier_key(key)
        except CheckpointError as exc:
            raise click.BadParameter(str(exc), param_hint="--key") from None
    with audit_errors(db):
        engine = open_reader(resolve_url(db))
        try:
            report = verify_log(engine, keys)
        finally:
            engine.dispose()
    click.echo(
        f"{report.leaves} leaves rebuilt from the rows, {report.checkpoints} checkpoints checked"
    )
    if report.unsigned:
        click.echo(f"{report.unsigned} leaves are newer than the last checkpoint (not yet signed)")
    for problem in report.problems:
        broken = ""
        if problem.checkpoint is not None and problem.kind != "checkpoint":
            broken = f" (breaks checkpoint {problem.checkpoint})"
        click.echo(f"problem: {problem.text}{broken}", err=True)
    if report.problems:
        raise click.exceptions.Exit(EXIT_INTEGRITY)
    click.echo("ok")


@db.command("check")
@db_option
def check_command(db: str | None) -> None:
    """Verify the audit trail: the database file, every document's sha256, every reference.

    A damaged SQLite file (SQLite's integrity check fails) is reported with exit status 1;
    evidence that fails verification, with exit status 3.
    """
    with audit_errors(db):
        url = resolve_url(db)
        engine = make_engine(url, must_exist=True)
        try:
            refuse_damaged(engine)
        finally:
            engine.dispose()
        engine = open_reader(url)
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
