"""``heed report crawler-info``: the public crawler page, its JSON and its Atom feed (AC-08)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine

from audit.publications import Publication, history, latest, publish
from heed.auditlog import CHECKPOINT_FILE, CHECKPOINTS_FILE, LogView, key_warning, read_log
from heed.cli.errors import ConfigRefused
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
    write_text,
)
from policy.publish import crawlerinfo
from policy.publish.feed import atom_feed
from policy.publish.inputs import gather, iso
from policy.render import render
from policy.statement_fields import crawler_info_fields
from policy.statements import record_statements

HTML, JSON, MD, ATOM = (
    "crawler-info.html",
    "crawler-info.json",
    "crawler-info.md",
    "crawler-info.atom",
)


@dataclass(frozen=True, slots=True)
class _Rendered:
    document: dict[str, Any]
    page: str
    markdown: str
    feed: str | None
    #: The audit log, when its checkpoints are written beside the page (--out, any signed).
    log: LogView | None = None


@click.command("crawler-info")
@report_options(
    f"Write {HTML}, {MD}, {JSON} and, once a version is published, {ATOM} into DIR (created "
    "if needed). Default: print the document in --format.",
    out_is_dir=True,
)
@click.option(
    "--base-url",
    metavar="URL",
    help=f"URL of the directory the files are served from (the feed's self link); default: "
    f"links relative to {ATOM}.",
)
@click.option(
    "--log-key",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Publish the verifier (public) key of this audit-log signer key file (heed log key); "
    "the signer key itself is never printed or published. Default: the key the latest "
    "published version states, if any.",
)
@click.option(
    "--log-verifier-key",
    metavar="KEY",
    help="Publish this audit-log verifier key (what heed log key prints) instead of --log-key.",
)
@click.pass_context
def crawler_info(
    ctx: click.Context,
    options: ReportOptions,
    base_url: str | None,
    log_key: str | None,
    log_verifier_key: str | None,
) -> None:
    """Preview or publish the crawler information page and its Atom feed.

    The information (crawlers and user agents, purpose, robots.txt features and status-code
    policy, cache lifetimes, other protocols honoured with versions, contact and complaints) is
    built from the audit database and the provider's statements. With --publish, when it
    differs from the latest published version, a new version is recorded with what changed; the
    feed lists every version, newest first. Publishing again with nothing changed records
    nothing.

    With the audit log's verifier key (--log-key or --log-verifier-key), the page publishes it,
    and --out DIR also writes the latest signed checkpoint (log-checkpoint.txt) and every one
    (log-checkpoints.json) beside the page.
    """
    if options.out is not None and options.fmt is not None:
        raise click.UsageError("--out DIR writes every format; leave out --format")
    verifier = _verifier(log_key, log_verifier_key)
    with report_errors(options.db):
        engine = open_engine(options)
        try:
            code = _run(engine, options, base_url, verifier)
        finally:
            engine.dispose()
    ctx.exit(code)


def _verifier(log_key: str | None, verifier_key: str | None) -> str | None:
    """Return the verifier key to publish (None: the latest version's); exit 2 if unusable."""
    from audit.checkpoint import CheckpointError, parse_verifier_key
    from audit.logkey import LogKeyError, read_key

    if log_key is not None and verifier_key is not None:
        raise click.UsageError("give --log-key FILE or --log-verifier-key KEY, not both")
    if log_key is not None:
        try:
            return read_key(log_key).verifier
        except LogKeyError as exc:
            raise ConfigRefused(str(exc)) from None
    if verifier_key is not None:
        try:
            parse_verifier_key(verifier_key)
        except CheckpointError as exc:
            raise click.BadParameter(str(exc), param_hint="--log-verifier-key") from None
        return verifier_key.strip()
    return None


def _run(engine: Engine, options: ReportOptions, base_url: str | None, verifier: str | None) -> int:
    found = statements(engine, options)
    defaults = crawler_defaults()
    inputs = gather(engine, found, defaults)
    previous = latest(engine, crawlerinfo.KIND)
    if verifier is None and previous is not None:  # a key once stated stays until replaced
        verifier = previous.body.get("log_verifier_key")
    info, provenance = crawlerinfo.build(inputs, log_verifier_key=verifier)
    if options.check:
        return report_missing(crawler_info_fields(info))
    guard_withdrawal(crawlerinfo.KIND, previous, info, options)
    changes = crawlerinfo.describe_changes(previous.body if previous else None, info)
    pub: Publication | None = None
    if options.publish:
        record_statements(engine, found)
        pub, is_new = publish(engine, crawlerinfo.KIND, info, changes=changes)
    else:
        is_new = previous is None or previous.body != info
        pub = None if is_new else previous
    log = None
    if options.out is not None and verifier is not None:
        log = read_log(engine)
        warning = key_warning(log, verifier)
        if warning:
            click.echo(f"Warning: {warning}", err=True)
        if log.latest is None:
            log = None  # nothing signed yet: no checkpoint files
    rendered = _render(engine, inputs.config.crawler.feed_url, info, provenance, pub, base_url, log)
    rendered.document["new_version"] = is_new
    if pub is None:
        rendered.document["changes"] = changes
    _write(rendered, options)
    click.echo(
        state_line(
            crawlerinfo.KIND,
            pub if options.publish else None,
            is_new,
            previous.version if previous else None,
        ),
        err=True,
    )
    if options.publish and is_new:
        click.echo(f"Changes: {'; '.join(pub.changes if pub else changes)}", err=True)
    note_missing(crawler_info_fields(info))
    return 0


def _render(
    engine: Engine,
    feed_url: str | None,
    info: dict[str, Any],
    provenance: dict[str, Any],
    pub: Publication | None,
    base_url: str | None,
    log: LogView | None = None,
) -> _Rendered:
    """Return the JSON document, the page, its Markdown form and the feed (None before the
    first publication). A preview's feed is the published history: a preview adds no entry."""
    defaults = crawler_defaults()
    versions = history(engine, crawlerinfo.KIND)
    document: dict[str, Any] = {
        "kind": crawlerinfo.KIND,
        "version": pub.version if pub else None,
        "published_at": iso(pub.created_at) if pub else None,
        "sha256": pub.sha256 if pub else None,
        "changes": list(pub.changes) if pub else [],
        "information": info,
        "provenance": provenance,
    }
    base = (base_url.rstrip("/") + "/") if base_url else ""
    page_url = info["info_url"] if info["info_url"].startswith("http") else base + HTML
    feed = None
    if versions:
        feed = atom_feed(
            versions,
            title=f"Crawler information: {versions[-1].body.get('provider', info['provider'])}",
            author=versions[-1].body.get("provider", info["provider"]),
            # [crawler] feed_url, where the provider serves the feed, wins over --base-url.
            self_url=feed_url or base + ATOM,
            page_url=page_url,
        )
    context = {
        "info": info,
        "provenance": provenance,
        "version": document["version"],
        "published_at": document["published_at"],
        "history": [
            {"version": v.version, "published_at": iso(v.created_at), "changes": v.changes}
            for v in reversed(versions)
        ],
        "heed_version": defaults.version,
    }
    if log is not None:
        links = {"latest": base + CHECKPOINT_FILE, "all": base + CHECKPOINTS_FILE}
        document["log_checkpoints"] = links
        context |= {"checkpoint_href": links["latest"], "checkpoints_href": links["all"]}
    page = render("crawler_info.html.j2", feed_href=ATOM, json_href=JSON, **context)
    markdown = render("crawler_info.md.j2", **context)
    return _Rendered(document, page, markdown, feed, log)


def _write(rendered: _Rendered, options: ReportOptions) -> None:
    """Print the chosen format, or write every file into the --out directory."""
    body = json.dumps(rendered.document, indent=2, ensure_ascii=False) + "\n"
    if options.out is None:
        fmt = options.format()
        emit({"json": body, "html": rendered.page, "md": rendered.markdown}[fmt], None)
        return
    target = Path(options.out)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(f"cannot create {target}: {exc.strerror or exc}") from None
    write_text(target / JSON, body)
    write_text(target / HTML, rendered.page)
    write_text(target / MD, rendered.markdown)
    written = [JSON, HTML, MD]
    if rendered.feed is not None:
        write_text(target / ATOM, rendered.feed)
        written.append(ATOM)
    log = rendered.log
    if log is not None and log.latest is not None:
        write_text(target / CHECKPOINT_FILE, log.latest.note)
        log_json = json.dumps(log.document(), indent=2, ensure_ascii=False) + "\n"
        write_text(target / CHECKPOINTS_FILE, log_json)
        written += [CHECKPOINT_FILE, CHECKPOINTS_FILE]
    click.echo(f"Wrote {', '.join(written)} to {target}/.", err=True)
