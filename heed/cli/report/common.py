"""What ``heed report policy`` and ``heed report crawler-info`` share: the database, errors, and
what the documents are told of the crawler (policy/ does not import it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy import Engine

from audit.engine import make_engine, resolve_url
from audit.migrate import ensure_schema
from crawler import defaults
from crawler.config import heed_version
from heed.cli.db import audit_errors
from policy.publish.inputs import SETTING_NAMES, CrawlerDefaults, InputError
from policy.render import write_document

CONFIG_HELP = (
    "heed.toml with the provider's statements ([provider], [crawler], [measures]) and, for a "
    "crawler that has not run yet, its [settings] and [crawl] token."
)


def crawler_defaults() -> CrawlerDefaults:
    """Return Heed's defaults of the settings the documents describe, and its version."""
    return CrawlerDefaults(
        settings={name: getattr(defaults, name) for name in SETTING_NAMES},
        version=heed_version(),
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


#: Every published file is written atomically and world-readable.
write_text = write_document
