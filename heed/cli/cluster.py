"""``heed cluster``: seed a shared crawl, and watch or stop it (the workers are ``heed crawl
--redis``).

* ``seed`` — create a run in Redis with its seeds and spider arguments, and queue the seeds;
* ``status`` — the run's queue, leases, pages, its workers (alive or gone, with their rates) and
  its decisions by action (from the audit database with ``--db``, else the workers' counts);
  ``--stop`` asks every worker to finish what it holds and stop, ``--resume`` lets them go on.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import click

from heed.cli.errors import ConfigRefused

if TYPE_CHECKING:
    from redis import Redis

    from crawler.cluster.run import ClusterRun


def _redis_option(fn: Any) -> Any:
    return click.option(
        "--redis",
        "redis_url",
        required=True,
        metavar="URL",
        envvar="HEED_REDIS_URL",
        help="The Redis of the shared crawl (default: $HEED_REDIS_URL).",
    )(fn)


def _reach(url: str) -> Redis:
    from crawler.cluster.join import reach
    from crawler.cluster.keys import ClusterError

    try:
        return reach(url)
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from None


@click.group("cluster")
def cluster() -> None:
    """Seed a crawl shared by many workers (heed crawl --redis), watch it, stop it."""


@cluster.command("seed")
@click.argument("seeds", nargs=-1, metavar="[SEED...]")
@_redis_option
@click.option("--run", default=None, metavar="KEY", help="The run's key (default: a new one).")
@click.option("--seeds", "seeds_file", type=click.Path(dir_okay=False), help="File of seed URLs.")
@click.option(
    "--scope",
    type=click.Choice(["seeds", "all"]),
    default="seeds",
    help="Follow links within the seeds' registrable domains, or everywhere.",
)
@click.option("--depth", type=click.IntRange(min=0), default=None, help="Link depth (0: seeds).")
@click.option("--max-pages", type=click.IntRange(min=0), default=None, help="Page requests, max.")
@click.option("--sitemaps/--no-sitemaps", default=False, help="Read sitemaps robots.txt lists.")
def seed(
    seeds: tuple[str, ...],
    redis_url: str,
    run: str | None,
    seeds_file: str | None,
    scope: str,
    depth: int | None,
    max_pages: int | None,
    sitemaps: bool,
) -> None:
    """Create a shared run with these seeds and queue them; print its key.

    Workers then join it with: heed crawl --redis URL --db postgresql://… --run KEY. Seeding a
    run again with the same arguments queues nothing new; with other arguments it is refused.
    """
    from crawler.cluster.join import join, queue_seeds
    from crawler.cluster.keys import ClusterError
    from crawler.seeds import listed, read_seeds

    if not seeds and not seeds_file:
        raise click.UsageError("no seeds: give URLs or --seeds FILE")
    found = read_seeds(seeds_file, list(seeds))
    for problem in listed(found.problems):
        click.echo(f"skipped: {problem}", err=True)
    if not found.entries:
        raise ConfigRefused("no valid seed")
    arguments = {
        "urls": [e["url"] for e in found.entries],
        "scope": scope,
        "depth": depth,
        "max_pages": max_pages,
        "sitemaps": sitemaps,
    }
    server = _reach(redis_url)
    try:
        shared, spec, created = join(server, run, arguments)
    except ClusterError as exc:
        raise ConfigRefused(str(exc)) from None
    queued = queue_seeds(server, shared, spec, found.entries) if created else 0
    verb = "created" if created else "exists, with the same arguments"
    click.echo(f"Run {shared.run} {verb}: {queued} seed requests queued")
    click.echo(f"Start workers with: heed crawl --redis {redis_url} --db … --run {shared.run}")


@cluster.command("status")
@_redis_option
@click.option("--run", default=None, metavar="KEY", help="The run (default: the only one).")
@click.option("--db", default=None, help="Audit database: decisions by action as recorded.")
@click.option("--stop", is_flag=True, help="Ask every worker to finish what it holds and stop.")
@click.option("--resume", is_flag=True, help="Let workers take the run's requests again.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def status(
    redis_url: str, run: str | None, db: str | None, stop: bool, resume: bool, as_json: bool
) -> None:
    """Show a shared run: its queue, its workers and their rates, its decisions by action."""
    from crawler.cluster.join import only_run
    from crawler.cluster.keys import ClusterError
    from crawler.cluster.run import ClusterRun

    if stop and resume:
        raise click.UsageError("--stop and --resume: choose one")
    server = _reach(redis_url)
    try:
        shared = ClusterRun(server, run or only_run(server))
    except ClusterError as exc:
        raise ConfigRefused(str(exc)) from None
    if shared.spec() is None:
        raise ConfigRefused(f"no run {shared.run} on this Redis")
    if stop:
        shared.stop()
    if resume:
        shared.resume()
    report = _report(shared, db)
    if as_json:
        click.echo(json.dumps(report, sort_keys=True))
        return
    click.echo("\n".join(_lines(report)))
    if stop:
        click.echo("Stop asked: each worker finishes what it holds, then stops.")


def _report(shared: ClusterRun, db: str | None) -> dict[str, Any]:
    figures = shared.figures()
    now = time.time()
    workers = []
    for name, beat in sorted(shared.workers().items()):
        interval = float(beat.get("interval") or 15.0)
        alive = now - float(beat.get("seen", 0)) <= 3 * interval and not str(
            beat.get("state", "")
        ).startswith("closed")
        elapsed = max(float(beat.get("seen", now)) - float(beat.get("started", now)), 1e-9)
        workers.append(
            {
                "worker": name,
                "alive": alive,
                "state": beat.get("state"),
                "pages": int(beat.get("pages", 0)),
                "decisions": int(beat.get("decisions", 0)),
                "pages_per_s": round(int(beat.get("pages", 0)) / elapsed, 2),
                "actions": beat.get("actions", {}),
            }
        )
    actions: dict[str, int] = {}
    source = "workers"
    if db:
        actions, source = _recorded_actions(db, shared.run), "audit database"
    else:
        for worker in workers:
            for action, n in worker["actions"].items():
                actions[action] = actions.get(action, 0) + int(n)
    if figures["stopped"]:
        state = "stopped"
    elif figures["queued"] or figures["leased"]:
        state = "crawling"
    else:
        state = "finished" if figures["seen"] else "empty"
    return {
        "run": shared.run,
        "state": state,
        **figures,
        "workers": workers,
        "actions": dict(sorted(actions.items())),
        "actions_from": source,
    }


def _recorded_actions(db: str, run_key: str) -> dict[str, int]:
    from audit import action_counts, crawl_runs, open_reader
    from heed.cli.db import audit_errors

    with audit_errors(db):
        engine = open_reader(db)
        try:
            ids = [r.id for r in crawl_runs(engine) if r.run_key == run_key]
            counts = action_counts(engine)
        finally:
            engine.dispose()
    return counts.get(ids[0], {}) if ids else {}


def _lines(report: dict[str, Any]) -> list[str]:
    alive = sum(w["alive"] for w in report["workers"])
    lines = [
        f"Run {report['run']}: {report['state']}",
        (
            f"  queued {report['queued']:,} · leased {report['leased']:,} · seen "
            f"{report['seen']:,} · pages scheduled {report['pages']:,} · put back after a "
            f"worker stopped {report['requeued']:,}"
        ),
        f"Workers: {alive} alive of {len(report['workers'])}",
    ]
    for w in report["workers"]:
        mark = "alive" if w["alive"] else "gone "
        lines.append(
            f"  {w['worker']:<32} {mark} {w['pages_per_s']:>8.1f} pages/s  {w['pages']:>9,} pages"
            f"  {w['decisions']:>9,} decisions  {w['state']}"
        )
    lines.append(f"Decisions by action ({report['actions_from']}):")
    for action, n in report["actions"].items():
        lines.append(f"  {n:>9,}  {action}")
    return lines
