"""``heed evidence``: placeholder until the audit database issue lands."""

from __future__ import annotations

import click


@click.command("evidence")
def evidence() -> None:
    """Not built yet: arrives with the audit database (evidence of every decision)."""
    raise click.ClickException("heed evidence is not built yet: it arrives with the audit database")
