"""Registry of the ``heed`` subcommands (one module each)."""

from __future__ import annotations

import importlib

import click

#: (module, attribute) of every subcommand, in the order ``heed --help`` lists them.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("policy.commands.check", "check"),
    ("policy.commands.crawl", "crawl"),
    ("policy.commands.demo", "demo"),
    ("policy.commands.status", "status"),
    ("policy.commands.evidence", "evidence"),
    ("policy.commands.db", "db"),
    ("policy.commands.report", "report"),
)


def register(group: click.Group) -> None:
    """Add every subcommand in :data:`COMMANDS` to *group*."""
    for module_name, attr in COMMANDS:
        module = importlib.import_module(module_name)
        group.add_command(getattr(module, attr))
