"""The ``heed`` command line.

Each subcommand lives in its own module under ``policy/commands/`` and is imported only when it
runs (:class:`policy.commands.LazyGroup`), so that the command modules stay small and
independent and a look-up does not pay for loading the crawler.
"""

from __future__ import annotations

import click

from policy.commands import COMMANDS, LazyGroup


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="heed")
def main() -> None:
    """Heed: crawl for AI training data, honour every TDM opt-out, and prove it."""


if __name__ == "__main__":
    main()
