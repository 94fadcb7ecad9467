"""``heed demo``: crawl a local demo web and show what was stored, what was skipped, and why."""

from __future__ import annotations

import shutil
import textwrap
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import click

from heed.cli.errors import ConfigRefused

if TYPE_CHECKING:
    from heed.demo.runner import DemoResult, DemoRow

#: How each action reads in the table, and its colour.
ACTION_TEXT = {
    "fetched-stored": ("stored", "green"),
    "fetched-not-kept": ("not kept", "yellow"),
    "fetched-excluded": ("fetched, excluded", "red"),
    "redirected": ("redirected", "cyan"),
    "skipped-robots": ("skipped: robots.txt", "red"),
    "skipped-reservation": ("skipped: reserved", "red"),
    "deferred": ("deferred", "yellow"),
    "access-restricted": ("access restricted", "yellow"),
    "denylisted": ("denylisted", "red"),
    "error": ("error", "yellow"),
}
_ACTION_W = max(len(text) for text, _ in ACTION_TEXT.values())


def why(row: DemoRow) -> str:
    """Return the reason shown for *row*: its first reason, redirect hops named."""
    reason = row.reasons[0] if row.reasons else ""
    if row.final_url != row.url:
        reason = f"redirected to {row.final_url}; {reason}"
    return reason


def render_table(result: DemoResult, width: int) -> list[str]:
    """Return the table: one block per site (what it shows), one line per request attempt."""
    from heed.demo.sites import SITES

    url_w = min(40, max(len(row.url) for row in result.rows))
    why_w = max(30, width - url_w - _ACTION_W - 6)
    head = f"  {'URL':<{url_w}}  {'WHAT HEED DID':<{_ACTION_W}}  WHY"
    lines = [click.style(head, bold=True)]
    by_host: dict[str, list[DemoRow]] = {}
    for row in result.rows:
        by_host.setdefault(row.host, []).append(row)
    for site in SITES:
        rows = sorted(by_host.get(site.host, []), key=lambda r: r.url)
        lines.append(click.style(f"{site.host} — {site.shows}", fg="cyan"))
        for row in rows:
            text, colour = ACTION_TEXT.get(row.action, (row.action, "white"))
            action = click.style(f"{text:<{_ACTION_W}}", fg=colour)
            wrapped = textwrap.wrap(why(row), why_w, break_long_words=False) or [""]
            lines.append(f"  {row.url:<{url_w}}  {action}  {wrapped[0]}")
            pad = " " * (url_w + _ACTION_W + 6)
            lines.extend(pad + more for more in wrapped[1:])
    return lines


def render_summary(result: DemoResult, width: int) -> list[str]:
    """Return the summary: counts by action, what the server saw, and where the files are."""
    counts = Counter(row.action for row in result.rows)
    stored = counts.pop("fetched-stored", 0)
    skipped = ", ".join(f"{ACTION_TEXT[a][0]} {n}" for a, n in counts.most_common())
    total = len(result.rows)
    violations = result.violations()
    server = (
        "none for a URL skipped before the request"
        if not violations
        else f"{len(violations)} for URLs that should not have been requested"
    )
    reserved = result.reserved_in_dataset()
    text = [
        (
            f"{total} request attempts, each decided and recorded with its evidence: "
            f"{stored} stored, {total - stored} not ({skipped})."
        ),
        (
            f"The demo web's own log: {len(result.requested)} requests received (robots.txt "
            f"and signal files included), {server}."
        ),
    ]
    lines = [line for para in text for line in textwrap.wrap(para, width)]
    lines += [
        f"Dataset:  {result.dataset} ({_lines(result.dataset)} pages; "
        + ("no reserved text in it)" if not reserved else f"{reserved} with reserved text!)"),
        f"Audit DB: {result.db} (run {result.outcome.stats.get('heed/audit/run_id')})",
    ]
    return lines


def _lines(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(1 for _ in handle)
    except OSError:
        return 0


def log_line(result: DemoResult) -> str:
    """Return the line about the audit log's signed checkpoint (the crawl's last act)."""
    from audit import open_reader
    from heed.auditlog import read_log

    engine = open_reader(str(result.db))
    try:
        latest = read_log(engine).latest
    finally:
        engine.dispose()
    if latest is None:
        return "Audit log: no checkpoint was signed"
    return f"Audit log: {latest.size} leaves, checkpoint signed (throwaway key {result.log_key})"


def next_steps(result: DemoResult) -> list[str]:
    """Return the commands to explore further."""
    db = result.db
    commands = [
        (f"heed status demo-news.test --db {db}", "what was decided for a site, and why"),
        (f"heed status http://demo-tdmrep.test/books/ --db {db}", "a URL prefix"),
        (f"heed evidence SHA256 --db {db}", "a signal document exactly as fetched"),
        (f"heed db verify --db {db}", "rebuild the tamper-evident log, check its checkpoint"),
        (f"heed report summary --db {db} --check", "what the EU summary still lacks"),
        (f"heed serve --db {db}", "the rightsholders' portal on http://127.0.0.1:8080/"),
        ("heed check https://example.org/some/page", "the same checks, live, for any URL"),
        ("heed crawl https://example.org/ --depth 1 --out data", "a real crawl (see README)"),
    ]
    w = max(len(c) for c, _ in commands)
    return [click.style("Explore further:", bold=True)] + [
        f"  {command:<{w}}  # {what}" for command, what in commands
    ]


@click.command()
@click.option(
    "--dir",
    "directory",
    default="heed-demo",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where the demo's files go: a new or empty directory, or an earlier demo's (recreated).",
)
def demo(directory: str) -> None:
    """Crawl a local demo web and show what was stored, what was skipped, and why.

    Eleven small sites run on this machine (nothing goes to the internet), each showing one
    behaviour: an open site, robots.txt disallow, robots.txt 503, a TDMRep file, TDMRep header
    and meta, Content-Usage, Content-Signal, noai, a paywall, a redirect into a disallowed area,
    a denylisted domain. Heed crawls them with every check, writes the audit trail to
    DIR/heed.db and the dataset to DIR/dataset/, prints a table of every decision, and
    publishes the EU training-content summary, copyright policy and crawler page of an example
    provider (DIR/heed.toml) to DIR/published/. Running it again starts afresh.
    """
    from heed.demo.documents import publish_demo_documents
    from heed.demo.runner import DemoDirectoryError, check_directory, run_demo  # imports Scrapy

    try:
        check_directory(Path(directory))
    except DemoDirectoryError as exc:
        raise ConfigRefused(str(exc)) from None

    click.echo(
        f"Heed demo: crawling a local demo web of 11 sites into {directory}/ "
        "(recreated on every run; nothing leaves this machine)…"
    )
    result = run_demo(directory)
    if not result.rows:
        raise click.ClickException(f"the demo crawl did not run ({result.outcome.reason})")
    width = min(shutil.get_terminal_size((120, 24)).columns, 160)
    click.echo()
    for line in render_table(result, width):
        click.echo(line)
    click.echo()
    for line in render_summary(result, width):
        click.echo(line)
    click.echo(log_line(result))
    published = publish_demo_documents(Path(directory), result.db, result.log_key)
    click.echo(f"Published: {published[0].parent}/ ({', '.join(p.name for p in published)})")
    click.echo("          from the example provider statements in " + f"{directory}/heed.toml")
    click.echo()
    for line in next_steps(result):
        click.echo(line)
    problems = result.violations() + result.unexpected()
    if result.reserved_in_dataset():
        problems.append("reserved text in the dataset")
    if problems or not result.outcome.ok:
        for problem in problems:
            click.echo(click.style(f"unexpected: {problem}", fg="red"), err=True)
        raise click.ClickException(f"the demo did not go as designed ({result.outcome.reason})")
