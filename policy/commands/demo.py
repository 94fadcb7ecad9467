"""``heed demo``: placeholder until the crawl issue builds the local demo web."""

from __future__ import annotations

import click


@click.command()
def demo() -> None:
    """Crawl a local demo web and show what was stored and skipped, and why (coming soon)."""
    click.echo(
        "heed demo: not built yet. The demo crawl arrives with the crawl issue; meanwhile try\n"
        "  heed check https://example.org/some/page\n"
        "to see every opt-out signal Heed reads for a URL."
    )
