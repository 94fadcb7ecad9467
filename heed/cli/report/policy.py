"""``heed report policy``: the copyright policy for Measures 1.1–1.5, or its public summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine

from audit import action_counts, denylist_versions
from audit.publications import Publication, latest, publish
from crawler.config import heed_version
from heed.cli.db import db_option
from heed.cli.report.common import (
    CONFIG_HELP,
    crawler_defaults,
    open_publisher,
    report_errors,
    write_text,
)
from policy.publish import copyright as cp
from policy.publish.inputs import gather, iso
from policy.render import render

FORMATS = ("md", "html", "json")
_SUFFIXES = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".json": "json"}


@click.command("policy")
@db_option
@click.option(
    "--config", "config", metavar="FILE", type=click.Path(dir_okay=False), help=CONFIG_HELP
)
@click.option(
    "--public",
    is_flag=True,
    help="The public summary: no owner names, run ids or statistics (published as policy-public).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="Output format. Default: from the --out suffix, else md.",
)
@click.option(
    "--out",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Write to FILE (default: stdout).",
)
@click.option("--preview", is_flag=True, help="Render without publishing a version.")
def policy(
    db: str | None,
    config: str | None,
    public: bool,
    fmt: str | None,
    out: str | None,
    preview: bool,
) -> None:
    """Publish the copyright policy (Code of Practice, Copyright chapter, Measures 1.1–1.5).

    One document, a section per Measure: responsibilities (1.1), lawful access and the
    infringing-site denylist (1.2), robots.txt and the other protocols honoured (1.3), output
    safeguards (1.4, the provider's statement), contact and complaints (1.5). Built from the
    audit database and heed.toml; statements missing from heed.toml show as "to be provided".
    A changed document is recorded as a new version (kind policy, or policy-public).
    """
    chosen = fmt or (_SUFFIXES.get(Path(out).suffix.lower()) if out else None) or "md"
    with report_errors(db):
        engine = open_publisher(db)
        try:
            document = _generate(engine, config, public, preview)
        finally:
            engine.dispose()
    text = _render(document, chosen)
    if out is None:
        click.echo(text, nl=False)
    else:
        write_text(Path(out), text)
    _report(document, preview)


def _generate(engine: Engine, config: str | None, public: bool, preview: bool) -> dict[str, Any]:
    """Return the document: the versioned body, its version, and the internal annex."""
    inputs = gather(engine, config, crawler_defaults())
    kind = cp.PUBLIC_KIND if public else cp.KIND
    body = cp.build(inputs, denylists=denylist_versions(engine, inputs.runs), public=public)
    previous = latest(engine, kind)
    changes = cp.describe_changes(previous.body if previous else None, body)
    pub: Publication | None
    if preview:
        pub, is_new = None, previous is None or previous.body != body
    else:
        pub, is_new = publish(engine, kind, body, changes=changes)
    document: dict[str, Any] = {
        "kind": kind,
        "version": pub.version if pub else None,
        "published_at": iso(pub.created_at) if pub else None,
        "sha256": pub.sha256 if pub else None,
        "previous_id": pub.previous_id if pub else None,
        "changes": list(pub.changes) if pub else changes,
        "new_version": is_new,
        "document": body,
    }
    if not public:
        document["provenance"] = {
            "settings": inputs.settings_source,
            "latest_run": inputs.latest.id if inputs.latest else None,
            "provider_statements": inputs.config.path or "no configuration file (--config)",
        }
        document["statistics"] = cp.statistics(inputs, action_counts(engine))
    return document


def _render(document: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return render(
        f"copyright_policy.{fmt}.j2",
        doc=document["document"],
        version=document["version"],
        published_at=document["published_at"],
        statistics=document.get("statistics"),
        heed_version=heed_version(),
    )


def _report(document: dict[str, Any], preview: bool) -> None:
    """Say on stderr what was published and what is still to be provided."""
    kind = document["kind"]
    if preview:
        state = "would publish a new version" if document["new_version"] else "unchanged"
        click.echo(f"{kind} preview: {state}", err=True)
    else:
        what = "new version" if document["new_version"] else "unchanged"
        click.echo(f"{kind} version {document['version']} ({what})", err=True)
    missing = cp.missing(document["document"])
    if missing:
        click.echo(f"to be provided: {', '.join(missing)}", err=True)
