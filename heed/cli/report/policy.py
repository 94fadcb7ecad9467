"""``heed report policy``: the copyright policy for Measures 1.1–1.5, or its public summary."""

from __future__ import annotations

import json
from typing import Any

import click
from sqlalchemy import Engine

from audit import action_counts, denylist_versions
from audit.publications import Publication, latest, publish
from crawler.config import heed_version
from heed.cli.report.common import (
    ReportOptions,
    crawler_defaults,
    emit,
    guard_withdrawal,
    note_missing,
    open_engine,
    report_errors,
    report_missing,
    report_options,
    state_line,
    statements,
)
from policy.publish import copyright as cp
from policy.publish.inputs import Inputs, gather, iso
from policy.render import render
from policy.statement_fields import policy_fields
from policy.statements import record_statements


@click.command("policy")
@report_options("Write to FILE (default: standard output).")
@click.option(
    "--public",
    is_flag=True,
    help="The public summary: no owner names, run ids or statistics (published as policy-public).",
)
@click.pass_context
def policy(ctx: click.Context, options: ReportOptions, public: bool) -> None:
    """Preview or publish the copyright policy (Code of Practice Measures 1.1–1.5).

    One document, a section per Measure: responsibilities (1.1), lawful access and the
    infringing-site denylist (1.2), robots.txt and the other protocols honoured (1.3), output
    safeguards (1.4, the provider's statement), contact and complaints (1.5). Built from the
    audit database and the provider's statements; a missing statement shows as "to be
    provided". With --publish, a changed document is recorded as a new version (kind policy, or
    policy-public).
    """
    with report_errors(options.db):
        engine = open_engine(options)
        try:
            code = _run(engine, options, public)
        finally:
            engine.dispose()
    ctx.exit(code)


def _run(engine: Engine, options: ReportOptions, public: bool) -> int:
    found = statements(engine, options)
    inputs = gather(engine, found, crawler_defaults())
    kind = cp.PUBLIC_KIND if public else cp.KIND
    body = cp.build(inputs, denylists=denylist_versions(engine, inputs.runs), public=public)
    if options.check:
        return report_missing(policy_fields(body))
    previous = latest(engine, kind)
    guard_withdrawal(kind, previous, body, options)
    changes = cp.describe_changes(previous.body if previous else None, body)
    pub: Publication | None
    if options.publish:
        record_statements(engine, found)
        pub, is_new = publish(engine, kind, body, changes=changes)
    else:
        is_new = previous is None or previous.body != body
        pub = None if is_new else previous
    document = _document(engine, inputs, kind, body, pub, changes, public=public)
    document["new_version"] = is_new
    emit(_render(document, options.format()), options.out)
    click.echo(
        state_line(
            kind, pub if options.publish else None, is_new, previous.version if previous else None
        ),
        err=True,
    )
    note_missing(policy_fields(body))
    return 0


def _document(
    engine: Engine,
    inputs: Inputs,
    kind: str,
    body: dict[str, Any],
    pub: Publication | None,
    changes: list[str],
    *,
    public: bool,
) -> dict[str, Any]:
    """Return the document: the versioned body, its version, and the internal annex."""
    document: dict[str, Any] = {
        "kind": kind,
        "version": pub.version if pub else None,
        "published_at": iso(pub.created_at) if pub else None,
        "sha256": pub.sha256 if pub else None,
        "previous_id": pub.previous_id if pub else None,
        "changes": list(pub.changes) if pub else changes,
        "document": body,
    }
    if not public:
        document["provenance"] = {
            "settings": inputs.settings_source,
            "latest_run": inputs.latest.id if inputs.latest else None,
            "provider_statements": inputs.config.path or "none",
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
