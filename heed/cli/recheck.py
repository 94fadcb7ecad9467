"""``heed recheck``: re-check what crawls kept against the opt-outs of now (heed/recheck.py),
recording a decision per kept item in a run of its own; ``heed purge-list`` turns the findings
into the list a training pipeline applies."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path

import click

from heed.cli.db import audit_errors, db_option


def _origins(path: str | None) -> list[str] | None:
    """Return the origins listed in *path* (one per line, ``#`` comments), canonical."""
    if path is None:
        return None
    from optout.url import InvalidURL, parse_url

    found = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"{path}: {exc}", param_hint="--origins") from None
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            found.append(parse_url(text).origin)
        except InvalidURL as exc:
            raise click.BadParameter(f"{path}:{number}: {exc}", param_hint="--origins") from None
    return found


@click.command("recheck")
@db_option
@click.option(
    "--run", "runs", metavar="KEY", multiple=True, help="Only items of this crawl run (repeat)."
)
@click.option(
    "--since", metavar="DATE", help="Only items kept at or after DATE (YYYY-MM-DD or ISO)."
)
@click.option(
    "--origins",
    "origins_file",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Only these origins (scheme://host[:port], one per line).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 1024),
    default=16,
    show_default=True,
    help="Origins re-checked at once.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds per request (documents: at most OPTOUT_DOCUMENT_TIMEOUT).",
)
@click.option(
    "--pages",
    is_flag=True,
    help="Also request each kept page robots.txt still allows, to read its current headers "
    "and HTML meta (one request per item, redirects not followed).",
)
@click.option(
    "--page-delay",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="With --pages: seconds between two page requests to one origin (or its Crawl-delay).",
)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="A heed.toml file.")
@click.option("-s", "--set", "set_settings", multiple=True, metavar="NAME=VALUE", help="Setting.")
def recheck(
    db: str | None,
    runs: tuple[str, ...],
    since: str | None,
    origins_file: str | None,
    concurrency: int,
    timeout: float,
    pages: bool,
    page_delay: float,
    config_file: str | None,
    set_settings: tuple[str, ...],
) -> None:
    """Re-check the items crawls kept against today's robots.txt, signals and registry.

    Per origin with kept items: robots.txt first, then the other site-level signal files, with
    the crawl's own rules and settings (--config, -s); no page is requested unless --pages
    (then each page robots.txt still allows, once, politely). Each kept item gets a decision in
    a new run of kind recheck: may still be used, reserved since, or unknown (a source could
    not be read). heed purge-list lists the items that may no longer be used.
    """
    from audit import AuditStore, open_reader
    from audit.recheck import kept_items
    from audit.target import parse_when
    from heed.cli.check import check_config
    from heed.recheck import RecheckReport
    from heed.recheck import recheck as run_recheck

    start = parse_when(since) if since else None
    wanted = _origins(origins_file)
    settings = set_settings + ((f"HEED_DB={db}",) if db else ())
    config, denylist, registry, _ = check_config(config_file, settings, None, None)
    with audit_errors(db):
        engine = open_reader(db)
        try:
            kept = kept_items(engine, runs=list(runs) or None, since=start, origins=wanted)
        finally:
            engine.dispose()
    items = sum(len(v) for v in kept.values())
    key = f"recheck-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    click.echo(f"re-checking {items} kept items on {len(kept)} origins (run {key})", err=True)

    def progress(report: RecheckReport, total: int) -> None:
        click.echo(f"  {report.origins}/{total} origins, {report.items} items", err=True)

    with audit_errors(db):
        store = AuditStore.open(db)
        try:
            run_id = store.start_run(
                crawler_name=config.token,
                product_token=config.token,
                user_agent=config.user_agent,
                config={
                    "kind": "recheck",
                    "runs": list(runs),
                    "since": since,
                    "origins": origins_file,
                    "pages": pages,
                    "page_delay": page_delay,
                },
                policy=config.policy,
                run_key=key,
                kind="recheck",
            )
            report = asyncio.run(
                run_recheck(
                    kept,
                    config,
                    store,
                    run_id,
                    denylist=denylist,
                    registry=registry,
                    timeout=timeout,
                    concurrency=concurrency,
                    progress=progress,
                    pages=pages,
                    page_delay=page_delay,
                )
            )
            store.end_run(run_id)
        finally:
            store.close()
    report.run_key = key
    click.echo(f"recheck run {key}: {report.origins} origins, {report.items} items")
    click.echo(f"  may still be used      {report.usable:>8}")
    click.echo(f"  reserved since         {report.reserved:>8}")
    click.echo(f"  unknown (unreadable)   {report.unknown:>8}")
    if report.unreachable:
        shown = ", ".join(report.unreachable[:5]) + (" …" if len(report.unreachable) > 5 else "")
        click.echo(f"  origins not fully read: {shown}")
    if report.reserved or report.unknown:
        click.echo("heed purge-list --out FILE lists the items that may no longer be used")


@click.command("purge-list")
@db_option
@click.option(
    "--since", metavar="DATE", help="Only re-checks at or after DATE (YYYY-MM-DD or ISO)."
)
@click.option(
    "--unknown",
    type=click.Choice(["purge", "keep"]),
    default="purge",
    show_default=True,
    help="Items whose re-check could not read a source: listed (purge), or left usable (keep).",
)
@click.option(
    "--out",
    metavar="FILE",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The list to write: .jsonl or .parquet (must not exist); FILE.manifest.json beside it.",
)
def purge_list(db: str | None, since: str | None, unknown: str, out: Path) -> None:
    """List the kept items their latest re-check says may no longer be used.

    One row per item, sorted by item id: item_id, url, content_sha256, run, reason,
    evidence_sha256, found_at. heed dataset filter applies it to a dataset.
    """
    from audit import open_reader
    from audit.recheck import findings
    from audit.target import parse_when
    from heed.dataset import PurgeListError, write_purge_list
    from heed.dataset.purgelist import list_format
    from optout.action import Action

    try:
        list_format(out)
    except PurgeListError as exc:
        raise click.BadParameter(str(exc), param_hint="--out") from None
    if out.exists():
        raise click.ClickException(f"{out} exists: give a new file name")
    start = parse_when(since) if since else None
    with audit_errors(db):
        engine = open_reader(db)
        try:
            found = list(findings(engine, since=start))
        finally:
            engine.dispose()
    reserved, unreadable = Action.RECHECKED_RESERVED.value, Action.RECHECKED_UNKNOWN.value
    if unknown == "keep":
        found = [f for f in found if f.action != unreadable]
    manifest = {
        "recheck_runs": sorted({f.recheck_run for f in found}),
        "since": since,
        "unknown": unknown,
        "reserved": sum(f.action == reserved for f in found),
        "unreadable": sum(f.action == unreadable for f in found),
    }
    count = write_purge_list(found, out, manifest)
    click.echo(f"{out}: {count} items that may no longer be used")
