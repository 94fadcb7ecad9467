"""``heed report crawler-info``: the public crawler page, its JSON and its Atom feed (AC-08)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine

from audit.publications import Publication, history, latest, publish
from heed.cli.db import db_option
from heed.cli.report.common import (
    CONFIG_HELP,
    crawler_defaults,
    open_publisher,
    report_errors,
    write_text,
)
from policy.publish import crawlerinfo
from policy.publish.feed import atom_feed
from policy.publish.inputs import gather, iso
from policy.render import render

HTML, JSON, ATOM = "crawler-info.html", "crawler-info.json", "crawler-info.atom"


@click.command("crawler-info")
@db_option
@click.option(
    "--config", "config", metavar="FILE", type=click.Path(dir_okay=False), help=CONFIG_HELP
)
@click.option(
    "--out",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help=f"Write {HTML}, {JSON} and {ATOM} into DIR (created if needed). Default: print the JSON.",
)
@click.option(
    "--base-url",
    metavar="URL",
    help=f"URL of the directory the files are served from (the feed's self link); default: "
    f"links relative to {ATOM}.",
)
@click.option(
    "--preview", is_flag=True, help="Render without publishing a version (nothing is written)."
)
def crawler_info(
    db: str | None, config: str | None, out: str | None, base_url: str | None, preview: bool
) -> None:
    """Publish the crawler information page and its Atom feed.

    The information (crawlers and user agents, purpose, robots.txt features and status-code
    policy, cache lifetimes, other protocols honoured with versions, contact and complaints) is
    built from the audit database and heed.toml. When it differs from the latest published
    version, a new version is recorded in the database with what changed; the feed lists every
    version, newest first. Running it again with nothing changed publishes nothing new.
    """
    with report_errors(db):
        engine = open_publisher(db)
        try:
            document, feed, page = _generate(engine, config, base_url, preview)
        finally:
            engine.dispose()
    body = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        click.echo(body, nl=False)
    else:
        target = Path(out)
        target.mkdir(parents=True, exist_ok=True)
        write_text(target / JSON, body)
        write_text(target / HTML, page)
        if feed is not None:
            write_text(target / ATOM, feed)
    _report(document, preview)


def _generate(
    engine: Engine, config: str | None, base_url: str | None, preview: bool
) -> tuple[dict[str, Any], str | None, str]:
    """Return the JSON document, the Atom feed (None when nothing is published) and the page."""
    defaults = crawler_defaults()
    inputs = gather(engine, config, defaults)
    info, provenance = crawlerinfo.build(inputs)
    previous = latest(engine, crawlerinfo.KIND)
    changes = crawlerinfo.describe_changes(previous.body if previous else None, info)
    pub: Publication | None
    if preview:
        pub, is_new = None, previous is None or previous.body != info
    else:
        pub, is_new = publish(engine, crawlerinfo.KIND, info, changes=changes)
    versions = history(engine, crawlerinfo.KIND)
    document: dict[str, Any] = {
        "kind": crawlerinfo.KIND,
        "version": pub.version if pub else None,
        "published_at": iso(pub.created_at) if pub else None,
        "sha256": pub.sha256 if pub else None,
        "changes": list(pub.changes) if pub else changes,
        "new_version": is_new,
        "information": info,
        "provenance": provenance,
    }
    base = (base_url.rstrip("/") + "/") if base_url else ""
    page_url = info["info_url"] if info["info_url"].startswith("http") else base + HTML
    feed = None
    if versions:
        feed = atom_feed(
            versions,
            title=f"Crawler information: {info['provider']}",
            author=info["provider"],
            # [crawler] feed_url, where the provider serves the feed, wins over --base-url.
            self_url=inputs.config.crawler.feed_url or base + ATOM,
            page_url=page_url,
        )
    page = render(
        "crawler_info.html.j2",
        info=info,
        provenance=provenance,
        version=document["version"],
        published_at=document["published_at"],
        history=[
            {"version": v.version, "published_at": iso(v.created_at), "changes": v.changes}
            for v in reversed(versions)
        ],
        feed_href=ATOM,
        json_href=JSON,
        heed_version=defaults.version,
    )
    return document, feed, page


def _report(document: dict[str, Any], preview: bool) -> None:
    """Say on stderr what was published."""
    if preview:
        state = "would publish a new version" if document["new_version"] else "unchanged"
        click.echo(f"crawler-info preview: {state}", err=True)
        return
    what = "new version" if document["new_version"] else "unchanged"
    detail = f": {'; '.join(document['changes'])}" if document["new_version"] else ""
    click.echo(f"crawler-info version {document['version']} ({what}){detail}", err=True)
    missing = crawlerinfo.missing(document["information"])
    if missing:
        click.echo(f"to be provided in heed.toml: {', '.join(missing)}", err=True)
