"""``heed report crawler-info`` (placeholder until it lands)."""

import click


@click.command("crawler-info")
def crawler_info() -> None:
    """Generate the public crawler information page and its Atom feed."""
    raise click.ClickException("not built yet")
