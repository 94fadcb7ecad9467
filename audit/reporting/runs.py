"""The crawl runs as recorded, with their policies, denylist versions and action counters.

What the copyright policy and the crawler information describe the crawler from: its identity
and recorded settings per run (``crawl_run``), the policy knobs a run decided under (``policy``),
the denylist versions recorded with decisions, and the per-run action counters
(``crawl_run_count``). Each query's text in words (``*_QUERY``) is published as the provenance
of what the documents say, so it is kept here, beside the query it describes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from audit.models import COUNT_T, CRAWL_RUN_T, DECISION_T, POLICY_T

#: Provenance text of the queries below (SQL-ish; the code uses SQLAlchemy Core).
RUNS_QUERY = (
    "SELECT id, run_key, crawler_name, product_token, user_agent, config, policy_id, "
    "protocol_set, started_at, ended_at FROM crawl_run ORDER BY started_at, id"
)
POLICY_QUERY = (
    "SELECT id, digest, protocol_set, knobs FROM policy WHERE id = <policy_id of the run>"
)
DENYLIST_QUERY = (
    "SELECT DISTINCT denylist_version FROM decision WHERE run_id = :run "
    "AND denylist_version IS NOT NULL (per run)"
)
ACTIONS_QUERY = "SELECT run_id, name, n FROM crawl_run_count WHERE name LIKE 'action:%'"

#: Prefix of the per-action counters in ``crawl_run_count``.
ACTION_COUNTER = "action:"


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One crawl run as recorded."""

    id: int
    run_key: str
    crawler_name: str
    product_token: str
    user_agent: str
    policy_id: int
    protocol_set: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    #: The ``settings`` the crawler recorded with the run (empty if it recorded none).
    settings: dict[str, Any] = field(default_factory=dict)
    #: False when the run's configuration text has no ``settings`` table (not Heed's crawler).
    has_settings: bool = False


@dataclass(frozen=True, slots=True)
class PolicyRecord:
    """A policy: the knob values decisions are made under."""

    #: The ``policy`` row's id; None for a policy not recorded (the one a configured crawl
    #: would run under).
    id: int | None
    digest: str
    protocol_set: str
    knobs: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DenylistVersion:
    """A denylist version recorded with decisions, and the first run that recorded it."""

    version: str
    first_run: int


def crawl_runs(engine: Engine) -> list[RunRecord]:
    """Return every crawl run, oldest first."""
    c = CRAWL_RUN_T.c
    stmt = (
        select(
            c.id,
            c.run_key,
            c.crawler_name,
            c.product_token,
            c.user_agent,
            c.config,
            c.policy_id,
            c.protocol_set,
            c.started_at,
            c.ended_at,
        )
        .where(c.kind == "crawl")
        .order_by(c.started_at, c.id)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    runs = []
    for row in rows:
        settings, has = _run_settings(row.config)
        runs.append(
            RunRecord(
                id=row.id,
                run_key=row.run_key,
                crawler_name=row.crawler_name,
                product_token=row.product_token,
                user_agent=row.user_agent,
                policy_id=row.policy_id,
                protocol_set=row.protocol_set,
                started_at=row.started_at,
                ended_at=row.ended_at,
                settings=settings,
                has_settings=has,
            )
        )
    return runs


def _run_settings(config_text: str) -> tuple[dict[str, Any], bool]:
    """Return the settings a run recorded (the ``settings`` table of its configuration text,
    as Heed's crawler records it), leniently: another writer's text yields none."""
    try:
        config = json.loads(config_text)
    except ValueError:
        return {}, False
    settings = config.get("settings") if isinstance(config, dict) else None
    if not isinstance(settings, dict):
        return {}, False
    return dict(settings), True


def policy_record(engine: Engine, policy_id: int) -> PolicyRecord | None:
    """Return the policy row *policy_id*, or None."""
    c = POLICY_T.c
    with engine.connect() as conn:
        row = conn.execute(
            select(c.id, c.digest, c.protocol_set, c.knobs).where(c.id == policy_id)
        ).first()
    if row is None:
        return None
    knobs = json.loads(row.knobs)
    return PolicyRecord(
        id=row.id, digest=row.digest, protocol_set=row.protocol_set, knobs=dict(knobs)
    )


def denylist_versions(engine: Engine, runs: Iterable[RunRecord]) -> list[DenylistVersion]:
    """Return the denylist versions recorded with the decisions of *runs*, in order of first use.

    A run whose recorded settings say no denylist was configured is not scanned (its decisions
    carry none); the denylist version is fixed for a run, so each scan stops early.
    """
    found: dict[str, int] = {}
    d = DECISION_T.c
    with engine.connect() as conn:
        for run in runs:
            if run.has_settings and not run.settings.get("OPTOUT_DENYLIST"):
                continue
            stmt = (
                select(d.denylist_version)
                .where(d.run_id == run.id, d.denylist_version.is_not(None))
                .distinct()
                .limit(20)
            )
            for (version,) in conn.execute(stmt):
                found.setdefault(version, run.id)
    return [DenylistVersion(v, r) for v, r in found.items()]


def action_counts(engine: Engine) -> dict[int, dict[str, int]]:
    """Return per run id the number of decisions per action (the run's counters)."""
    c = COUNT_T.c
    out: dict[int, dict[str, int]] = {}
    with engine.connect() as conn:
        rows = conn.execute(select(c.run_id, c.name, c.n).where(c.name.like(f"{ACTION_COUNTER}%")))
        for run_id, name, n in rows:
            out.setdefault(run_id, {})[name.removeprefix(ACTION_COUNTER)] = int(n)
    return {run: dict(sorted(counts.items())) for run, counts in sorted(out.items())}
