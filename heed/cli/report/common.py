"""What the ``heed report`` commands share: errors, file writing, and what the documents are told
of the crawler (policy/ does not import it). The database is opened with
:func:`audit.open_publisher` (re-exported here as ``open_publisher``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from audit import open_publisher

__all__ = ["CONFIG_HELP", "crawler_defaults", "open_publisher", "report_errors", "write_text"]
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


@contextmanager
def report_errors(db: str | None = None) -> Iterator[None]:
    """Turn audit and configuration errors into one-line CLI errors (exit status 1); *db* is
    the ``--db`` value, named when the database itself fails."""
    with audit_errors(db):
        try:
            yield
        except InputError as exc:
            raise click.ClickException(str(exc)) from None


#: Every published file is written atomically and world-readable.
write_text = write_document
