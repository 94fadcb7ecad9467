"""``heed report summary``: the EU public summary of training content (AI Act Art. 53(1)(d))."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import Engine

from audit.engine import describe, resolve_url
from audit.publications import Publication, history, latest
from crawler.config import heed_version
from heed.cli.report.common import (
    ReportOptions,
    emit,
    guard_withdrawal,
    note_missing,
    open_engine,
    report_errors,
    report_options,
    state_line,
    statements,
)
from policy.statement_fields import summary_fields
from policy.statements import record_statements
from policy.summary.build import KIND, build_summary, preview_document, publish_summary, subject
from policy.summary.check import check
from policy.summary.render import render_summary


@click.command("summary")
@report_options("Write the summary to FILE (default: standard output).")
@click.option("--model", metavar="NAME", help="The [[model]] (name or version) to summarise.")
@click.option(
    "--sme/--no-sme",
    default=None,
    help="SME domain rule (top 5 %, at most 1000) or the standard one (top 10 %). "
    "Default: [provider] sme.",
)
@click.pass_context
def summary(
    ctx: click.Context, options: ReportOptions, model: str | None, sme: bool | None
) -> None:
    """Preview or publish the EU public summary of training content (sections 1.1 to 3.3).

    Figures come from the audit database: the stored items of the model's crawl runs
    ([[model]] runs; every run if none are listed), counting only content that was fetched,
    kept and not reserved. Statements no crawl can know (provider, models, other data sources,
    measures) come from the provider's statements; a missing one reads "to be provided". With
    --publish, the summary's JSON form is recorded as a new version when its content changed
    (the same content keeps its version).
    """
    with report_errors(options.db):
        engine = open_engine(options)
        try:
            code = _run(engine, options, model, sme)
        finally:
            engine.dispose()
    ctx.exit(code)


def _model_summary(engine: Engine, body: dict[str, Any]) -> Publication | None:
    """Return the latest summary of any model when *body* names none: statements that lost
    their [[model]] would otherwise start a new, model-less summary without a word."""
    if subject(body):
        return None
    published = history(engine, KIND, None)
    return max(published, key=lambda p: p.created_at) if published else None


def _run(engine: Engine, options: ReportOptions, model: str | None, sme: bool | None) -> int:
    found = statements(engine, options)
    config = found.config()
    body = build_summary(engine, config, model, sme)
    previous = latest(engine, KIND, subject(body))
    if options.check:
        problems = check(body, config, previous)
        for problem in problems:
            click.echo(str(problem))
        count = len(problems)
        click.echo(
            f"{count} problem{'s' * (count != 1)} found."
            if count
            else "Complete: every required statement is present and consistent."
        )
        return 1 if problems else 0
    guard_withdrawal(KIND, previous or _model_summary(engine, body), body, options)
    archive = config.provider.summary_archive
    doc: dict[str, Any]
    if options.publish:
        record_statements(engine, found)
        doc, is_new = publish_summary(engine, body, archive=archive)
        state = "published" if is_new else "unchanged"
        where = describe(resolve_url(options.db))
        click.echo(f"{KIND} version {doc['version']} ({state}) in {where}.", err=True)
    else:
        doc, is_new = preview_document(engine, body, archive=archive)
        click.echo(state_line(KIND, None, is_new, previous.version if previous else None), err=True)
    emit(render_summary(doc, options.format(), heed_version=heed_version()), options.out)
    note_missing(summary_fields(body))
    return 0
