"""Registry of the ``heed`` subcommands (one module each), imported only when used.

A command's module is imported when that command runs (or its own help is asked for), so that
``heed status`` does not pay for Scrapy and ``heed --help`` for nothing at all: the list in
``heed --help`` comes from the short help kept here (a test keeps it equal to each command's).
"""

from __future__ import annotations

import importlib
from typing import Any

import click

#: name → (module, attribute, short help), in the order ``heed --help`` lists them.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "check": (
        "heed.cli.check",
        "check",
        "Check URLs live: may they be crawled, and is their use for AI training reserved?",
    ),
    "crawl": (
        "heed.cli.crawl",
        "crawl",
        "Crawl from seeds, honouring every opt-out; record every decision; write the dataset.",
    ),
    "cluster": (
        "heed.cli.cluster",
        "cluster",
        "Seed a crawl shared by many workers (heed crawl --redis), watch it, stop it.",
    ),
    "demo": (
        "heed.cli.demo",
        "demo",
        "Crawl a local demo web and show what was stored, what was skipped, and why.",
    ),
    "status": (
        "heed.cli.status",
        "status",
        "Show what was decided for TARGET, and why, from the audit database.",
    ),
    "evidence": (
        "heed.cli.evidence",
        "evidence",
        "Print the signal document SHA256 exactly as it was fetched.",
    ),
    "serve": (
        "heed.cli.serve",
        "serve",
        "Serve the rightsholders' portal: published documents, domain look-up and verification.",
    ),
    "registry": (
        "heed.cli.registry",
        "registry",
        "Keep the reservations registry: opt-outs notified by letter, complaint or request.",
    ),
    "complaints": (
        "heed.cli.complaints",
        "complaints",
        "Handle rightsholders' complaints: list, show, acknowledge, review and resolve them.",
    ),
    "recheck": (
        "heed.cli.recheck",
        "recheck",
        "Re-check the items crawls kept against today's robots.txt, signals and registry.",
    ),
    "purge-list": (
        "heed.cli.recheck",
        "purge_list",
        "List the kept items their latest re-check says may no longer be used.",
    ),
    "dataset": (
        "heed.cli.dataset",
        "dataset",
        "Filter a dataset by a purge list, or export it as Parquet with rights metadata.",
    ),
    "mail": (
        "heed.cli.mail",
        "mail",
        "Send the e-mails to claimants waiting in the outbox, or list them.",
    ),
    "db": (
        "heed.cli.db",
        "db",
        "Manage the audit database (schema migrations, integrity check).",
    ),
    "receipt": (
        "heed.cli.receipts",
        "receipt",
        "Write the receipt of a decision: TARGET is a decision id, or a URL (its latest decision).",
    ),
    "verify-receipt": (
        "heed.cli.receipts",
        "verify_receipt_command",
        "Check a receipt offline (no database): say what it proves, or why it proves nothing.",
    ),
    "log": (
        "heed.cli.log",
        "log",
        "Sign the tamper-evident audit log: create its key, sign checkpoints, list them.",
    ),
    "report": (
        "heed.cli.report",
        "report",
        "Preview or publish the training-content summary, copyright policy and crawler page.",
    ),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported from :data:`COMMANDS` on first use."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str, str]], **kwargs: Any) -> None:
        """Take the lazily loaded commands *lazy* besides click's arguments."""
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return the command names in registry order."""
        return [*self.lazy, *sorted(set(self.commands) - set(self.lazy))]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import and return the command *cmd_name*."""
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name not in self.lazy:
            return None
        module, attr, _ = self.lazy[cmd_name]
        command: click.Command = getattr(importlib.import_module(module), attr)
        self.commands[cmd_name] = command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands with their short help without importing them."""
        rows = [(name, short) for name, (_, _, short) in self.lazy.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
