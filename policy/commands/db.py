"""``heed db``: placeholder until the audit database issue lands."""

from __future__ import annotations

import click


@click.command("db")
def db() -> None:
    """Not built yet: arrives with the audit database (evidence of every decision)."""
    raise click.ClickException("heed db is not built yet: it arrives with the audit database")
