"""``heed report``: the documents a provider publishes, generated from the audit database.

Each subcommand lives in its own package (policy/summary, policy/publish), imported on use.
"""

from __future__ import annotations

import click

from heed.cli.lazy import LazyGroup

#: name → (module, attribute, short help) of every ``heed report`` subcommand, in help order.
SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    "summary": (
        "heed.cli.report.summary",
        "summary",
        "Preview or publish the EU public summary of training content (sections 1.1 to 3.3).",
    ),
    "policy": (
        "heed.cli.report.policy",
        "policy",
        "Preview or publish the copyright policy (Code of Practice Measures 1.1–1.5).",
    ),
    "crawler-info": (
        "heed.cli.report.crawler_info",
        "crawler_info",
        "Preview or publish the crawler information page and its Atom feed.",
    ),
}


@click.group(cls=LazyGroup, lazy=SUBCOMMANDS)
def report() -> None:
    """Preview or publish the training-content summary, copyright policy and crawler page.

    Every report previews by default and records nothing; --publish records a new version.
    """
