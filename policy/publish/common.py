"""What ``heed report policy`` and ``heed report crawler-info`` share: the database and errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy import Engine

from audit.engine import make_engine, resolve_url
from audit.migrate import ensure_schema
from policy.commands.db import audit_errors
from policy.publish.inputs import InputError

CONFIG_HELP = (
    "heed.toml with the provider's statements ([provider], [crawler], [measures]) and, for a "
    "crawler that has not run yet, its [settings] and [crawl] token."
)


def open_publisher(db: str | None) -> Engine:
    """Return an engine that reads an existing audit database and may publish versions to it.

    Never creates a database. A SQLite writer engine takes the write lock up front, so that two
    reports publishing at once wait for each other instead of failing.
    """
    engine = make_engine(resolve_url(db), must_exist=True, writer=True, foreign_keys=True)
    try:
        ensure_schema(engine, create=False)
    except Exception:
        engine.dispose()
        raise
    return engine


@contextmanager
def report_errors() -> Iterator[None]:
    """Turn audit and configuration errors into one-line CLI errors (exit status 1)."""
    with audit_errors():
        try:
            yield
        except InputError as exc:
            raise click.ClickException(str(exc)) from None


def write_text(path: Path, text: str) -> None:
    """Write *text* to *path* (UTF-8), replacing it atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
