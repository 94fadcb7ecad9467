"""``heed report summary`` (placeholder until the summary lands)."""

import click


@click.command()
def summary() -> None:
    """Generate the EU public summary of training content."""
    raise click.ClickException("not built yet")
