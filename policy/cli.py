"""The ``heed`` command line.

Each subcommand lives in its own module under ``policy/commands/`` and is registered here, so
that the command modules stay small and independent.
"""

from __future__ import annotations

import click

from policy.commands import register


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="heed")
def main() -> None:
    """Heed: crawl for AI training data, honour every TDM opt-out, and prove it."""


register(main)

if __name__ == "__main__":
    main()
