"""``heed report``: the documents a provider publishes, generated from the audit database.

Each subcommand lives in its own package (policy/summary, policy/publish), imported on use.
"""

from __future__ import annotations

import click

from policy.commands import LazyGroup

#: name → (module, attribute, short help) of every ``heed report`` subcommand, in help order.
SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    "summary": (
        "policy.summary.command",
        "summary",
        "Generate the public summary of training content (template sections 1.1 to 3.3).",
    ),
    "policy": (
        "policy.publish.policy_command",
        "policy",
        "Publish the copyright policy (Code of Practice, Copyright chapter, Measures 1.1–1.5).",
    ),
    "crawler-info": (
        "policy.publish.crawlerinfo_command",
        "crawler_info",
        "Publish the crawler information page and its Atom feed.",
    ),
}


@click.group(cls=LazyGroup, lazy=SUBCOMMANDS)
def report() -> None:
    """Generate the training-content summary, copyright policy and crawler information."""
