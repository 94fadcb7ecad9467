"""``heed status``: what the crawler decided and did for a domain, host, origin or URL (AC-17)."""

from __future__ import annotations

import json
from collections.abc import Iterable

import click

from audit.engine import describe
from audit.queries import count, fetches, lookup, open_reader
from audit.records import DecisionRecord, FetchRecord, iso
from audit.target import Target, parse_target, parse_when
from heed.cli.db import audit_errors, db_option
from policy.protocols import action_label

_HASH_SHOWN = 12
#: The crawl verdict and the use verdict, in words.
_CRAWL_WORDS = {"allow": "crawl allowed", "disallow": "crawl disallowed", "defer": "crawl deferred"}
_USE_WORDS = {
    "reserved": "{purpose} reserved",
    "not-reserved": "{purpose} not reserved",
    "unknown": "nothing stated on {purpose}",
    "defer": "{purpose} undetermined",
}
#: A fetched-stored decision whose item never reached the audit trail: the crawl was stopped
#: (killed, crashed) after deciding to store the page and before recording it.
_NOT_WRITTEN = "not stored: the crawl stopped before the page was written"


@click.command("status")
@click.argument("target")
@db_option
@click.option(
    "--since", metavar="DATE", help="Only decisions at or after DATE (YYYY-MM-DD or ISO)."
)
@click.option("--until", metavar="DATE", help="Only decisions up to DATE, inclusive (same forms).")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    help="Show at most this many decisions (and how many there are).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of decision objects.")
def status(
    target: str,
    db: str | None,
    since: str | None,
    until: str | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """Show what was decided for TARGET, and why, from the audit database.

    TARGET is a registrable domain (example.co.uk: the domain and all its subdomains), a host
    (www.example.co.uk), a host with its subdomains (*.blog.example.com), an origin
    (https://example.com:8443) or a URL prefix (https://example.com/docs/ — a full URL matches
    itself). Per URL, in time order: the crawl and use verdicts, the action taken, the reasons,
    every signal with the document it was read from, and whether content was stored. Times are
    UTC. Print a signal document with: heed evidence SHA256.
    """
    with audit_errors(db):
        parsed = parse_target(target)
        start = parse_when(since) if since else None
        end = parse_when(until, end=True) if until else None
        engine = open_reader(db)
        try:
            if as_json:
                _print_json(lookup(engine, parsed, since=start, until=end, limit=limit))
                return
            # One decision more than the limit says whether the limit left any out.
            records = lookup(
                engine, parsed, since=start, until=end, limit=None if limit is None else limit + 1
            )
            window = _window(since, until)
            seen, more = _print_text(records, parsed, describe(engine.url), window, limit)
            if more:
                total = count(engine, parsed, since=start, until=end)
                click.echo(
                    f"Showing {limit} of {total:,} decisions{window}; raise --limit to see more."
                )
            _print_documents(fetches(engine, seen), seen)
        finally:
            engine.dispose()


def _window(since: str | None, until: str | None) -> str:
    """Return the time window asked for, in words (" since 2030-01-01"), or ""."""
    if since and until:
        return f" from {since.strip()} to {until.strip()}"
    if since:
        return f" since {since.strip()}"
    if until:
        return f" up to {until.strip()}"
    return ""


def _print_json(records: Iterable[DecisionRecord]) -> None:
    click.echo("[", nl=False)
    first = True
    for record in records:
        click.echo(
            ("\n" if first else ",\n") + json.dumps(record.to_dict(), ensure_ascii=False), nl=False
        )
        first = False
    click.echo("\n]" if not first else "]")


def _print_text(
    records: Iterable[DecisionRecord],
    target: Target,
    where: str,
    window: str,
    limit: int | None,
) -> tuple[list[tuple[str, str | None]], bool]:
    """Print decisions grouped by URL, at most *limit*; return the (document hash, source URL)
    pairs seen, and whether the records held more than *limit*."""
    click.echo(f"Audit trail for {target.describe()}{window} ({where}); times are UTC.")
    seen: dict[tuple[str, str | None], None] = {}
    urls: set[str] = set()
    shown = stored = 0
    last_url = None
    more = False
    for record in records:
        if limit is not None and shown >= limit:
            # Read on, not break: the look-up ends by itself after limit + 1 decisions, and
            # closes its connection then.
            more = True
            continue
        shown += 1
        stored += record.stored
        if record.url != last_url:
            click.echo(f"\n{record.url}")
            last_url = record.url
            urls.add(record.url)
        _print_record(record)
        for signal in record.signals:
            if signal.sha256:
                seen.setdefault((signal.sha256, signal.source))
    if not shown:
        click.echo(f"\nNo decisions recorded for {target.describe()}{window}.")
    else:
        click.echo(
            f"\n{shown} decision{'s' if shown != 1 else ''} about {len(urls)} "
            f"URL{'s' if len(urls) != 1 else ''}; content stored for {stored}."
        )
    return list(seen), more


def _print_record(record: DecisionRecord) -> None:
    lost = record.action == "fetched-stored" and record.item is None
    what = "fetched" if lost else action_label(record.action)
    status = f"HTTP {record.http_status}; " if record.http_status is not None else ""
    crawl = _CRAWL_WORDS.get(record.crawl, f"crawl {record.crawl}")
    words = _USE_WORDS.get(record.use)
    use = words.format(purpose=record.purpose) if words else f"{record.purpose} {record.use}"
    click.echo(f"  {iso(record.time)}  {what} ({status}{crawl}, {use})")
    if record.item is not None:
        item = record.item
        tokens = f", ~{item.tokens:,} tokens" if item.tokens is not None else ""
        click.echo(
            f"      stored: item {item.id}, {item.content_type or 'unknown type'}, "
            f"{item.modality}, {item.bytes:,} bytes{tokens}"
        )
    else:
        click.echo(f"      {_NOT_WRITTEN if lost else 'not stored'}")
    for reason in record.reasons:
        click.echo(f"      why: {reason}")
    for signal in record.signals:
        doc = ""
        if signal.sha256:
            mark = "" if signal.document_stored else " (bytes not stored)"
            doc = f"  · doc {signal.sha256[:_HASH_SHOWN]}{mark}"
        click.echo(f"      {signal.protocol:<26} {signal.verdict:<12} {signal.detail}{doc}")
    click.echo(
        f"      run {record.run_id} {record.crawler} ({record.product_token}), "
        f"attempt {record.attempt}, protocol set {record.protocol_set}"
    )


def _print_documents(
    found: dict[tuple[str, str | None], list[FetchRecord]], seen: list[tuple[str, str | None]]
) -> None:
    # Only the retrievals from the signal's own source (audit.queries.fetches).
    if not seen:
        return
    click.echo("\nSignal documents seen (print one: heed evidence SHA256):")
    for sha, source in seen:
        retrievals = found.get((sha, source))
        if not retrievals:
            click.echo(f"  {sha}  {source or ''}  (retrieval not recorded)")
            continue
        for fetch in retrievals:
            code = fetch.status if fetch.status is not None else (fetch.error or "no response")
            click.echo(
                f"  {sha}  {fetch.kind}  {code}  {fetch.url}  fetched {iso(fetch.fetched_at) or '?'}"
            )
