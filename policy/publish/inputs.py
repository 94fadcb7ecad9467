"""What the crawler information and the copyright policy are made from, read once.

Three sources, in this order of authority:

* the audit database: the crawl runs (crawler identity, recorded settings, policy knobs,
  protocol set), the denylist versions recorded with decisions, the per-run action counters;
* ``heed.toml``: the provider's statements (:mod:`policy.provider`) and, for a crawler that has
  not run yet, the crawl settings (``[settings]``, ``[crawl] token``);
* Heed's defaults (crawler/settings.py, :data:`optout.decision.DEFAULT_POLICY`).

What the crawler *does* is taken from the latest run when there is one (its recorded settings
and policy are the evidence), else from the configuration the next crawl would use. Every value
carries where it came from, so the documents can say so.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from audit.models import COUNT_T, CRAWL_RUN_T, DECISION_T, POLICY_T
from crawler import settings as defaults
from crawler.config import user_agent_for
from optout.decision import PROTOCOL_SET_VERSION
from policy.provider import ProviderConfig, ProviderConfigError, load_provider_config, read_toml

#: Provenance text of the queries behind the figures (SQL-ish; the code uses SQLAlchemy Core).
Q_RUNS = (
    "SELECT id, run_key, crawler_name, product_token, user_agent, config, policy_id, "
    "protocol_set, started_at, ended_at FROM crawl_run ORDER BY started_at, id"
)
Q_POLICY = "SELECT id, digest, protocol_set, knobs FROM policy WHERE id = <policy_id of the run>"
Q_DENYLIST = (
    "SELECT DISTINCT denylist_version FROM decision WHERE run_id = :run "
    "AND denylist_version IS NOT NULL (per run)"
)
Q_ACTIONS = "SELECT run_id, name, n FROM crawl_run_count WHERE name LIKE 'action:%'"

#: Settings the documents describe, with Heed's defaults (crawler/settings.py).
SETTING_NAMES = (
    "OPTOUT_USER_AGENT_TOKEN",
    "OPTOUT_INFO_URL",
    "OPTOUT_DENYLIST",
    "OPTOUT_POLICY",
    "OPTOUT_ROBOTS_MAXSIZE",
    "OPTOUT_DEFER_TTL",
    "OPTOUT_CACHE_MIN_TTL",
    "OPTOUT_CRAWL_DELAY_MAX",
    "OPTOUT_AI_TXT",
    "OPTOUT_RSL_LICENCES",
)


class InputError(ValueError):
    """The configuration file cannot be read."""


@dataclass(frozen=True, slots=True)
class Run:
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
    """A policy row: the knob values decisions were made under."""

    id: int | None
    digest: str
    protocol_set: str
    knobs: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Inputs:
    """Everything read for one document."""

    config: ProviderConfig
    #: Crawl settings from heed.toml (``[settings]``, with ``[crawl] token`` applied).
    configured: dict[str, Any]
    runs: tuple[Run, ...]
    #: Policy of the latest run, else the configured or default knobs (id None).
    policy: PolicyRecord
    #: Effective crawler settings: the latest run's recorded ones, else configured, else defaults.
    settings: dict[str, Any]
    #: Where ``settings`` and ``policy`` came from, in words, with the run id.
    settings_source: str
    #: The same without the run id: stable from run to run, for versioned bodies.
    settings_origin: str

    @property
    def latest(self) -> Run | None:
        """Return the most recently started run, or None."""
        return self.runs[-1] if self.runs else None


def read_toml_settings(path: str | Path | None) -> dict[str, Any]:
    """Return the crawl settings of heed.toml: ``[settings]`` with ``[crawl] token`` over it."""
    if path is None:
        return {}
    try:
        data = read_toml(path)
    except ProviderConfigError as exc:
        raise InputError(str(exc)) from exc
    settings = data.get("settings", {})
    crawl = data.get("crawl", {})
    if not isinstance(settings, dict) or not isinstance(crawl, dict):
        raise InputError(f"{path}: [crawl] and [settings] must be tables")
    out = dict(settings)
    if crawl.get("token"):
        # heed crawl applies [crawl] token over [settings] (crawler/run.py build_settings).
        out["OPTOUT_USER_AGENT_TOKEN"] = crawl["token"]
    return out


def default_settings() -> dict[str, Any]:
    """Return Heed's default values of :data:`SETTING_NAMES`."""
    return {name: getattr(defaults, name) for name in SETTING_NAMES}


def load_config(path: str | Path | None) -> tuple[ProviderConfig, dict[str, Any]]:
    """Return the provider statements and crawl settings of the heed.toml at *path*."""
    try:
        config = load_provider_config(path)
    except ProviderConfigError as exc:
        raise InputError(str(exc)) from exc
    return config, read_toml_settings(path)


def read_runs(engine: Engine) -> list[Run]:
    """Return every crawl run, oldest first."""
    c = CRAWL_RUN_T.c
    stmt = select(
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
    ).order_by(c.started_at, c.id)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    runs = []
    for row in rows:
        settings, has = _run_settings(row.config)
        runs.append(
            Run(
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
    """Return the settings a run recorded (crawler/extensions/auditrun.py run_config), leniently."""
    try:
        config = json.loads(config_text)
    except ValueError:
        return {}, False
    settings = config.get("settings") if isinstance(config, dict) else None
    if not isinstance(settings, dict):
        return {}, False
    return dict(settings), True


def read_policy(engine: Engine, policy_id: int) -> PolicyRecord | None:
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


def denylist_versions(engine: Engine, runs: tuple[Run, ...]) -> list[dict[str, Any]]:
    """Return the denylist versions recorded with decisions: ``{version, first_run}``, in order.

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
    return [{"version": v, "first_run": r} for v, r in found.items()]


def action_counts(engine: Engine) -> dict[int, dict[str, int]]:
    """Return per run id the number of decisions per action (the run's counters)."""
    c = COUNT_T.c
    out: dict[int, dict[str, int]] = {}
    with engine.connect() as conn:
        rows = conn.execute(select(c.run_id, c.name, c.n).where(c.name.like("action:%")))
        for run_id, name, n in rows:
            out.setdefault(run_id, {})[name.removeprefix("action:")] = int(n)
    return {run: dict(sorted(counts.items())) for run, counts in sorted(out.items())}


def configured_policy(settings: Mapping[str, Any]) -> PolicyRecord:
    """Return the policy the configured crawl would use (``OPTOUT_POLICY`` over the defaults)."""
    from crawler.config import policy_from  # raises OptoutConfigError on a bad knob
    from crawler.exceptions import OptoutConfigError

    knobs = settings.get("OPTOUT_POLICY") or {}
    try:
        policy = policy_from(dict(knobs), int(settings["OPTOUT_ROBOTS_MAXSIZE"]))
    except (OptoutConfigError, TypeError, ValueError) as exc:
        raise InputError(f"OPTOUT_POLICY: {exc}") from exc
    return PolicyRecord(
        id=None, digest=policy.digest(), protocol_set=PROTOCOL_SET_VERSION, knobs=policy.as_dict()
    )


def gather(engine: Engine, config_path: str | Path | None) -> Inputs:
    """Return the inputs of a document from the database *engine* and heed.toml."""
    config, configured = load_config(config_path)
    runs = tuple(read_runs(engine))
    settings = default_settings()
    latest = runs[-1] if runs else None
    policy: PolicyRecord | None = None
    if latest is not None:
        if latest.has_settings:
            settings |= {k: v for k, v in latest.settings.items() if k in SETTING_NAMES}
            source = f"recorded with crawl run {latest.id}"
            origin = "recorded with the latest crawl run"
        else:
            settings |= {k: v for k, v in configured.items() if k in SETTING_NAMES}
            source = f"configuration (crawl run {latest.id} recorded no settings)"
            origin = "configuration (the latest crawl run recorded no settings)"
        policy = read_policy(engine, latest.policy_id)
    else:
        settings |= {k: v for k, v in configured.items() if k in SETTING_NAMES}
        source = "configuration (no crawl run recorded)" if configured else "Heed's defaults"
        origin = source
    if policy is None:
        policy = configured_policy(settings)
    return Inputs(
        config=config,
        configured=configured,
        runs=runs,
        policy=policy,
        settings=settings,
        settings_source=source,
        settings_origin=origin,
    )


def configured_identity(settings: Mapping[str, Any]) -> tuple[str, str]:
    """Return the (product token, User-Agent) the configured crawler would send."""
    token = str(settings.get("OPTOUT_USER_AGENT_TOKEN") or defaults.OPTOUT_USER_AGENT_TOKEN)
    info_url = str(settings.get("OPTOUT_INFO_URL") or defaults.OPTOUT_INFO_URL)
    return token, user_agent_for(token, info_url)


def iso(value: dt.datetime | None) -> str | None:
    """Return *value* as an ISO 8601 UTC string (``Z``), or None."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
