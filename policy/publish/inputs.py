"""What the crawler information and the copyright policy are made from, read once.

Three sources, in this order of authority:

* the audit database, through audit's reporting queries: the crawl runs (crawler identity,
  recorded settings, policy knobs, protocol set), the denylist versions recorded with decisions,
  the per-run action counters;
* ``heed.toml``: the provider's statements (:mod:`policy.provider`) and, for a crawler that has
  not run yet, the crawl settings (``[settings]``, ``[crawl] token``);
* Heed's defaults (:class:`CrawlerDefaults`, handed in by the caller: policy/ does not import
  the crawler) and :data:`optout.decision.DEFAULT_POLICY`.

What the crawler *does* is taken from the latest run when there is one (its recorded settings
and policy are the evidence), else from the configuration the next crawl would use. Every value
carries where it came from, so the documents can say so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit import (
    ComplaintFigures,
    PolicyRecord,
    RecheckFigures,
    RegistryFigures,
    RunRecord,
    complaint_figures,
    crawl_runs,
    policy_record,
    recheck_figures,
    registry_figures,
)
from optout.decision import PROTOCOL_SET_VERSION, PolicyError, policy_from_knobs
from optout.robots import user_agent
from policy.provider import ProviderConfig, ProviderConfigError
from policy.statements import Statements, read_statements

if TYPE_CHECKING:
    from audit import Engine

#: Settings the documents describe (their defaults: :class:`CrawlerDefaults`).
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


@dataclass(frozen=True, slots=True)
class CrawlerDefaults:
    """What the documents need to know of Heed's crawler without importing it.

    The app layer (heed/cli/report/) builds it from ``crawler.defaults`` and the installed
    version; tests build their own. The documents describe a crawler that has not run yet with
    these values, and name the version in its User-Agent.
    """

    #: Heed's default value of each of :data:`SETTING_NAMES`.
    settings: Mapping[str, Any]
    #: Heed's version, as its crawler names it in the User-Agent.
    version: str

    def __post_init__(self) -> None:
        """Refuse defaults that leave out a setting the documents describe."""
        missing = [name for name in SETTING_NAMES if name not in self.settings]
        if missing:
            raise ValueError(f"crawler defaults without {', '.join(missing)}")


class InputError(ValueError):
    """The configuration file cannot be read."""


@dataclass(frozen=True, slots=True)
class Inputs:
    """Everything read for one document."""

    config: ProviderConfig
    #: Crawl settings from heed.toml (``[settings]``, with ``[crawl] token`` applied).
    configured: dict[str, Any]
    runs: tuple[RunRecord, ...]
    #: Policy of the latest run, else the configured or default knobs (id None).
    policy: PolicyRecord
    #: Effective crawler settings: the latest run's recorded ones, else configured, else defaults.
    settings: dict[str, Any]
    #: Where ``settings`` and ``policy`` came from, in words, with the run id.
    settings_source: str
    #: The same without the run id: stable from run to run, for versioned bodies.
    settings_origin: str
    #: Heed's defaults and version, as the caller handed them in.
    defaults: CrawlerDefaults
    #: The complaints received through the portal, in figures (Measure 1.5).
    complaints: ComplaintFigures | None = None
    #: The reservations registry in figures: entries in force, and what it excluded.
    registry: RegistryFigures | None = None
    #: The re-checks of kept content: how many, and what the latest found.
    rechecks: RecheckFigures | None = None

    @property
    def latest(self) -> RunRecord | None:
        """Return the most recently started run, or None."""
        return self.runs[-1] if self.runs else None


def statement_settings(statements: Statements) -> dict[str, Any]:
    """Return the crawl settings of *statements*: ``[settings]`` with ``[crawl] token`` over it
    and ``[crawler] info_url`` as the information URL, as ``heed crawl`` reads them."""
    try:
        settings = statements.table("settings")
        crawl = statements.table("crawl")
        crawler = statements.table("crawler")
    except ProviderConfigError as exc:
        raise InputError(f"{exc}; [crawl] and [settings] must be tables") from None
    out = dict(settings)
    info_url = crawler.get("info_url")
    if info_url and not out.get("OPTOUT_INFO_URL"):
        # heed crawl's User-Agent names the published crawler page (crawler/run.py).
        out["OPTOUT_INFO_URL"] = info_url
    if crawl.get("token"):
        # heed crawl applies [crawl] token over [settings] (crawler/run.py build_settings).
        out["OPTOUT_USER_AGENT_TOKEN"] = crawl["token"]
    return out


def load_config(source: Statements | str | Path | None) -> tuple[ProviderConfig, dict[str, Any]]:
    """Return the provider statements and crawl settings of *source* (statements, or the path
    of a heed.toml)."""
    statements = source if isinstance(source, Statements) else _read(source)
    try:
        config = statements.config()
    except ProviderConfigError as exc:
        raise InputError(str(exc)) from exc
    return config, statement_settings(statements)


def _read(path: str | Path | None) -> Statements:
    if path is None:
        return Statements(data={}, origin="none")
    try:
        return read_statements(path, described=SETTING_NAMES)
    except ProviderConfigError as exc:
        raise InputError(str(exc)) from exc


def configured_policy(settings: Mapping[str, Any]) -> PolicyRecord:
    """Return the policy the configured crawl would use (``OPTOUT_POLICY`` over the defaults)."""
    knobs = settings.get("OPTOUT_POLICY") or {}
    try:
        policy = policy_from_knobs(dict(knobs), int(settings["OPTOUT_ROBOTS_MAXSIZE"]))
    except (PolicyError, TypeError, ValueError) as exc:
        raise InputError(f"OPTOUT_POLICY: {exc}") from exc
    return PolicyRecord(
        id=None, digest=policy.digest(), protocol_set=PROTOCOL_SET_VERSION, knobs=policy.as_dict()
    )


def gather(
    engine: Engine, source: Statements | str | Path | None, defaults: CrawlerDefaults
) -> Inputs:
    """Return the inputs of a document from the database *engine*, the provider's statements
    (*source*: found statements, or a heed.toml path) and *defaults*."""
    config, configured = load_config(source)
    runs = tuple(crawl_runs(engine))
    settings = {name: defaults.settings[name] for name in SETTING_NAMES}
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
        policy = policy_record(engine, latest.policy_id)
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
        defaults=defaults,
        complaints=complaint_figures(engine),
        registry=registry_figures(engine),
        rechecks=recheck_figures(engine),
    )


def configured_identity(settings: Mapping[str, Any], defaults: CrawlerDefaults) -> tuple[str, str]:
    """Return the (product token, User-Agent) the configured crawler would send."""
    token = str(
        settings.get("OPTOUT_USER_AGENT_TOKEN") or defaults.settings["OPTOUT_USER_AGENT_TOKEN"]
    )
    info_url = str(settings.get("OPTOUT_INFO_URL") or defaults.settings["OPTOUT_INFO_URL"])
    return token, user_agent(token, defaults.version, info_url)


def iso(value: dt.datetime | None) -> str | None:
    """Return *value* as an ISO 8601 UTC string (``Z``), or None."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
