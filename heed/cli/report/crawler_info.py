"""``heed report crawler-info``: the public crawler page, its JSON and its Atom feed (AC-08)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine

from audit.publications import Publication, history, latest, publish
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
@click.pass_context
def crawler_info(ctx: click.Context, options: ReportOptions, base_url: str | None) -> None:
    """Preview or publish the crawler information page and its Atom feed.

    The information (crawlers and user agents, purpose, robots.txt features and status-code
    policy, cache lifetimes, other protocols honoured with versions, contact and complaints) is
    built from the audit database and the provider's statements. With --publish, when it
    differs from the latest published version, a new version is recorded with what changed; the
    feed lists every version, newest first. Publishing again with nothing changed records
    nothing.
    """
    if options.out is not None and options.fmt is not None:
        raise click.UsageError("--out DIR writes every format; leave out --format")
    with report_errors(options.db):
        engine = open_engine(options)
        try:
            code = _run(engine, options, base_url)
        finally:
            engine.dispose()
    ctx.exit(code)


def _run(engine: Engine, options: ReportOptions, base_url: str | None) -> int:
    found = statements(engine, options)
    defaults = crawler_defaults()
    inputs = gather(engine, found, defaults)
    info, provenance = crawlerinfo.build(inputs)
    if options.check:
        return report_missing(crawler_info_fields(info))
    previous = latest(engine, crawlerinfo.KIND)
    guard_withdrawal(crawlerinfo.KIND, previous, info, options)
    changes = crawlerinfo.describe_changes(previous.body if previous else None, info)
    pub: Publication | None = None
    if options.publish:
        record_statements(engine, found)
        pub, is_new = publish(engine, crawlerinfo.KIND, info, changes=changes)
    else:
        is_new = previous is None or previous.body != info
        pub = None if is_new else previous
    rendered = _render(engine, inputs.config.crawler.feed_url, info, provenance, pub, base_url)
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
    page = render("crawler_info.html.j2", feed_href=ATOM, json_href=JSON, **context)
    markdown = render("crawler_info.md.j2", **context)
    return _Rendered(document, page, markdown, feed)


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
    click.echo(f"Wrote {', '.join(written)} to {target}/.", err=True)
