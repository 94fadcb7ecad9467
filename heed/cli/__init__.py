"""The ``heed`` command line: one module (or folder) per command, each imported when it runs.

:data:`heed.cli.lazy.COMMANDS` lists the commands with their short help, so that ``heed --help``
imports none of them and a look-up such as ``heed status`` never loads Scrapy.
"""

from __future__ import annotations

import click

from heed.cli import lazy


@click.group(
    cls=lazy.LazyGroup,
    lazy=lazy.COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="heed")
def main() -> None:
    """Heed: crawl for AI training data, honour every TDM opt-out, and prove it."""


__all__ = ["main"]
