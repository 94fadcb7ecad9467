"""``heed crawl``: crawl from seeds, honouring every opt-out, with evidence and a dataset."""

from __future__ import annotations

from typing import Any

import click

from crawler.run import (
    CrawlConfigError,
    CrawlOutcome,
    NoValidSeed,
    load_config,
    make_options,
    parse_setting,
)
from crawler.seeds import listed
from heed.cli.errors import ConfigRefused

#: Actions in the summary, in this order, with their labels.
ACTION_LABELS = (
    ("fetched-stored", "stored in the dataset"),
    ("fetched-not-kept", "fetched, usable, not kept: no dataset destination (--out)"),
    ("fetched-excluded", "fetched, excluded by a page-level reservation"),
    ("redirected", "redirected (the target is a request of its own)"),
    ("skipped-robots", "not requested: robots.txt"),
    ("skipped-reservation", "not requested: rights reserved (site-level or registry)"),
    ("deferred", "not requested: a signal source could not be read"),
    ("access-restricted", "access restricted (login, payment, 401/402/403)"),
    ("denylisted", "denylisted domain"),
    ("error", "error"),
)

#: What a finish reason of Heed's own means, after the reason in the last line of a failed crawl.
REASONS = {
    "audit_unavailable": ": the audit database could not be used, nothing was requested; "
    "the error is logged above",
    "audit_failed": ": the audit database failed during the crawl; the error is logged above",
    "interrupted": ": stopped at once, nothing closed (Ctrl-C twice)",
}
#: Finish reasons of a crawl stopped before its end, which --jobdir resumes.
STOPPED = ("shutdown", "interrupted")


def summary(outcome: CrawlOutcome) -> str:
    """Return the end-of-crawl report: attempts by action, the dataset and the audit run."""
    stats = outcome.stats
    decided = int(stats.get("optout/decisions", 0))
    elapsed = stats.get("elapsed_time_seconds")
    took = ""
    if isinstance(elapsed, int | float):
        # The whole crawl's rate: every attempt decided over the time from open to close.
        took = f" in {elapsed:.1f} s" + (f" ({decided / elapsed:.1f} pages/s)" if elapsed else "")
    lines = [f"Crawl {outcome.reason}: {decided:,} request attempts decided{took}"]
    for action, label in ACTION_LABELS:
        n = int(stats.get(f"optout/action/{action}", 0))
        if n:
            lines.append(f"  {n:>8,}  {action:<20} {label}")
    invalid = int(stats.get("web/seeds/invalid", 0))
    if invalid:
        lines.append(f"Seeds:   {invalid:,} skipped as invalid (see the warnings)")
    if "heed/dataset/lines" in stats or "item_scraped_count" in stats:
        written = int(stats.get("heed/dataset/lines", stats.get("item_scraped_count", 0)))
        again = int(stats.get("heed/dataset/duplicate", 0))
        there = f" ({again:,} fetched again were already there)" if again else ""
        lines.append(f"Dataset: {written:,} pages written{there}")
    elif stats.get("optout/action/fetched-not-kept"):
        lines.append(
            "Dataset: none — no --out (or HEED_OUT / FEEDS) was given, so nothing was kept"
        )
    if "heed/audit/run_id" in stats:
        lines.append(
            f"Audit:   {stats.get('heed/audit/db')} — run {stats['heed/audit/run_id']} "
            f"(key {stats.get('heed/audit/run_key')})"
        )
    return "\n".join(lines)


@click.command()
@click.argument("seeds", nargs=-1, metavar="[SEED...]")
@click.option("--seeds", "seeds_file", type=click.Path(dir_okay=False), help="File of seed URLs.")
@click.option("--token", default=None, help="Product token (robots.txt, User-Agent).")
@click.option(
    "--scope",
    type=click.Choice(["seeds", "all"]),
    default=None,
    help="Follow links within the seeds' registrable domains (default) or everywhere.",
)
@click.option("--depth", type=click.IntRange(min=0), default=None, help="Link depth (0: seeds).")
@click.option("--max-pages", type=click.IntRange(min=0), default=None, help="Page requests, max.")
@click.option("--sitemaps/--no-sitemaps", default=None, help="Read sitemaps robots.txt lists.")
@click.option("--db", default=None, help="Audit database: SQLite path or postgresql:// URL.")
@click.option("--out", default=None, type=click.Path(file_okay=False), help="Dataset directory.")
@click.option(
    "--store",
    type=click.Choice(["text", "body", "both"]),
    default=None,
    help="Keep extracted text (default), the raw body, or both.",
)
@click.option(
    "--text",
    "text_mode",
    type=click.Choice(["main", "visible"]),
    default=None,
    help="Dataset text: the page's content without its navigation (main, default) or all of "
    "its visible text.",
)
@click.option("--warc/--no-warc", default=None, help="Also write WARC files (needs --out).")
@click.option(
    "--jobdir", default=None, help="Keep the crawl's frontier here: stop (or crash) and resume."
)
@click.option(
    "--redis",
    default=None,
    metavar="URL",
    help="Be a worker of a shared crawl whose frontier is in this Redis (needs a PostgreSQL --db).",
)
@click.option(
    "--run", default=None, metavar="KEY", help="The shared run to seed or join (--redis)."
)
@click.option(
    "--log-key",
    default=None,
    metavar="FILE",
    help="Sign checkpoints of the audit log with this key (heed log key; HEED_LOG_KEY).",
)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="A heed.toml file.")
@click.option("-s", "--set", "set_settings", multiple=True, metavar="NAME=VALUE", help="Setting.")
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default=None,
    help="Log at this level, Scrapy's lines included (default: Heed's own lines and warnings).",
)
@click.option(
    "--progress",
    type=click.Choice(["auto", "live", "log", "off"]),
    default=None,
    help="Progress as a live line on the terminal, lines in the log, or none (default auto: "
    "live if stderr is a terminal).",
)
def crawl(config_file: str | None, set_settings: tuple[str, ...], **given: Any) -> None:
    """Crawl from seeds, honouring every opt-out; record every decision; write the dataset.

    Links are followed within the registrable domains of the seeds (--scope seeds) or
    everywhere (--scope all). Every request attempt is decided by Heed's rights-reservation
    checks and recorded in the audit database; a page enters the dataset (--out DIR,
    dataset.jsonl) only after its decision is durable. HTTP_PROXY / HTTPS_PROXY are honoured.
    Stop with Ctrl-C; with --jobdir, run the same command again to resume (also after
    kill -9 or a crash: only what was in flight is fetched again).

    With --redis, this process is one worker of a shared crawl: seed URLs create the run (or
    join it with the same ones), no seeds join the run named by --run (or the only one). Start
    as many workers as you like, on any machine that reaches the Redis and the PostgreSQL
    --db; see heed cluster.

    A bad seed (a line of the seeds file, or a URL argument) is skipped with a warning naming
    it (FILE:LINE, or argument N); the other seeds are crawled. A configuration that cannot
    work (settings that would weaken compliance, a missing denylist, no valid seed) stops
    before anything is requested, exit status 2; an audit database that cannot be used
    (damaged, another application's, to be upgraded), exit status 1.

    \b
    Example:
      heed crawl https://news.example/ --depth 2 --db heed.db --out data
    """
    try:
        config, settings = load_config(config_file) if config_file else ({}, {})
    except CrawlConfigError as exc:
        raise ConfigRefused(str(exc)) from None
    try:
        overrides = dict(parse_setting(s) for s in set_settings)
        text_mode = given.pop("text_mode")
        if text_mode is not None:
            overrides["HEED_TEXT"] = text_mode  # the option wins over -s, as --store does
        log_key = given.pop("log_key")
        if log_key is not None:
            overrides["HEED_LOG_KEY"] = log_key
        if given.get("log_level"):
            given["log_level"] = given["log_level"].upper()
        options = make_options(config, settings, set_settings=overrides, **given)
    except CrawlConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    from crawler.run import run  # imports Scrapy and Twisted: only when crawling
    from heed.cli.db import audit_errors

    try:
        with audit_errors(options.db or options.settings.get("HEED_DB")):
            outcome = run(options)
    except NoValidSeed as exc:
        for problem in listed(exc.problems):
            click.echo(f"skipped: {problem}", err=True)
        raise ConfigRefused(str(exc)) from None
    except CrawlConfigError as exc:
        raise ConfigRefused(str(exc)) from None
    click.echo(summary(outcome))
    if outcome.reason in STOPPED and options.jobdir:
        raise click.ClickException(
            f"stopped; run the same command (with --jobdir {options.jobdir}) to resume"
        )
    if not outcome.ok:
        why = outcome.reason + REASONS.get(outcome.reason, "")
        raise click.ClickException(f"the crawl did not finish normally ({why})")
