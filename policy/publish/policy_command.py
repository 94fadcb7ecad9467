"""``heed report policy`` (placeholder until the policy lands)."""

import click


@click.command()
def policy() -> None:
    """Generate the copyright policy."""
    raise click.ClickException("not built yet")
