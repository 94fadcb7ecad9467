"""``heed report summary``: the EU public summary of training content (AI Act Art. 53(1)(d))."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from audit.engine import describe, make_engine, resolve_url
from audit.publications import latest
from audit.queries import open_reader
from crawler.config import heed_version
from heed.cli.db import audit_errors, db_option
from policy.provider import ProviderConfig, ProviderConfigError, load_provider_config
from policy.render import write_document
from policy.summary.build import KIND, build_summary, publish_summary, subject
from policy.summary.check import check
from policy.summary.render import FORMATS, render_summary

#: The configuration read when --config is not given (if it exists).
DEFAULT_CONFIG = "heed.toml"


@click.command("summary")
@db_option
@click.option(
    "--config",
    "config_path",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="heed.toml with the provider's statements. Default: ./heed.toml if it exists, else "
    "none (every statement is then 'to be provided').",
)
@click.option("--model", metavar="NAME", help="The [[model]] (name or version) to summarise.")
@click.option(
    "--sme/--no-sme",
    default=None,
    help="SME domain rule (top 5 %, at most 1000) or the standard one (top 10 %). "
    "Default: [provider] sme.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="md",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--out",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the summary to FILE instead of standard output.",
)
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Publish nothing: list missing statements and inconsistencies, exit 1 if any.",
)
@click.pass_context
def summary(
    ctx: click.Context,
    db: str | None,
    config_path: Path | None,
    model: str | None,
    sme: bool | None,
    fmt: str,
    out: Path | None,
    check_only: bool,
) -> None:
    """Generate the public summary of training content (template sections 1.1 to 3.3).

    Figures come from the audit database: the stored items of the model's crawl runs
    ([[model]] runs; every run if none are listed), counting only content that was fetched,
    stored and not reserved. Statements no crawl can know (provider, models, other data sources,
    measures) come from heed.toml; a missing one reads "to be provided". Each run publishes the
    summary's JSON form as a new version in the audit database when its content changed (the
    same content keeps its version), then writes the summary.
    """
    with audit_errors(db), _config_errors():
        config = _load_config(config_path)
        reader = open_reader(db)
        try:
            body = build_summary(reader, config, model, sme)
            if check_only:
                problems = check(body, config, latest(reader, KIND, subject(body)))
        finally:
            reader.dispose()
        if check_only:
            for problem in problems:
                click.echo(str(problem))
            count = len(problems)
            click.echo(
                f"{count} problem{'s' * (count != 1)} found."
                if count
                else "Complete: every required statement is present and consistent."
            )
            ctx.exit(1 if problems else 0)
        # A writer engine only for the publication: the queries above ran without the lock.
        url = resolve_url(db)
        writer = make_engine(url, must_exist=True, writer=True)
        try:
            doc, is_new = publish_summary(writer, body, archive=config.provider.summary_archive)
        finally:
            writer.dispose()
    state = "published" if is_new else "unchanged"
    click.echo(f"Summary version {doc['version']} ({state}) in {describe(url)}.", err=True)
    text = render_summary(doc, fmt, heed_version=heed_version())
    if out is None:
        click.echo(text, nl=False)
    else:
        try:
            write_document(out, text)
        except OSError as exc:
            raise click.ClickException(f"cannot write {out}: {exc.strerror or exc}") from None
        click.echo(f"Wrote {out}.", err=True)


def _load_config(path: Path | None) -> ProviderConfig:
    if path is None:
        default = Path(DEFAULT_CONFIG)
        return load_provider_config(default if default.is_file() else None)
    if not path.is_file():
        raise ProviderConfigError(f"no configuration file at {path}")
    return load_provider_config(path)


@contextmanager
def _config_errors() -> Iterator[None]:
    """Turn configuration and output errors into one-line CLI errors."""
    try:
        yield
    except ProviderConfigError as exc:
        raise click.ClickException(str(exc)) from None
