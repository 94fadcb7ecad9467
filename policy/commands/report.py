"""``heed report``: the documents a provider publishes, generated from the audit database.

Each subcommand lives in its own package (policy/summary, policy/publish) and is added here.
"""

from __future__ import annotations

import importlib

import click

#: (module, attribute) of every ``heed report`` subcommand, in help order.
SUBCOMMANDS: tuple[tuple[str, str], ...] = (
    ("policy.summary.command", "summary"),
    ("policy.publish.policy_command", "policy"),
    ("policy.publish.crawlerinfo_command", "crawler_info"),
)


@click.group()
def report() -> None:
    """Generate the training-content summary, copyright policy and crawler information."""


for _module, _attr in SUBCOMMANDS:
    report.add_command(getattr(importlib.import_module(_module), _attr))
