"""Build the summary's JSON body, publish it as a version, and assemble the published document.

Three steps, callable as a library (the benchmark times :func:`build_summary` alone):

1. :func:`build_summary` — the body: every section, the figures behind the charts, and the
   provenance of every number (scope, runs, SQL). It holds no version and no time, so the same
   evidence and statements always give the same body.
2. :func:`publish_summary` — store the body as the next version of ``("summary", model)``
   (audit.publications: an unchanged body keeps its version); :func:`preview_document` shows
   what publishing would give, writing nothing.
3. :func:`document` — the body with its header: version, last update (the template's DD/MM/YY
   spelled out, with its ISO 8601 form) and the previous versions, each with its date, sha256
   and, when configured, its archive URL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from audit import (
    SCOPE_METHOD,
    complaint_figures,
    recheck_figures,
    registry_figures,
    summary_data,
)
from audit.publications import Publication, body_sha256, history, publish
from optout import Protocol
from policy.protocols import action_label
from policy.provider import ProviderConfig
from policy.reservations import complaint_sentence, recheck_sentence, registry_sentence
from policy.summary.labels import SECTIONS
from policy.summary.rules import day_month_year
from policy.summary.sections import build_sections

if TYPE_CHECKING:
    from audit import ActionCount, Engine, Scope, ScopeRun, SummaryData

#: Publication kind of the summary.
KIND = "summary"
#: Version of the body's shape (bumped when keys change meaning).
SCHEMA = 1
#: Template the summary follows.
TEMPLATE = (
    "Explanatory Notice and Template for the Public Summary of Training Content for "
    "general-purpose AI models, C(2025) 5235 (Article 53(1)(d) of Regulation (EU) 2024/1689)"
)


def build_summary(
    engine: Engine, config: ProviderConfig, model: str | None = None, sme: bool | None = None
) -> dict[str, Any]:
    """Return the summary body for *model* (the only configured model when None).

    *sme* selects the SME domain rule; None takes ``[provider] sme`` (absent: the standard
    rule, which lists more domains). Raises policy.provider.ProviderConfigError for an unknown
    or ambiguous model, and audit errors for an unreadable database.
    """
    chosen = config.model(model)
    # The model's crawl runs by key; every run without a model or when it lists none.
    data = summary_data(engine, None if chosen is None else chosen.runs)
    sme_mode = bool(config.provider.sme) if sme is None else sme
    runs = data.scope.run_ids
    name = "" if chosen is None else chosen.name
    return {
        "schema": SCHEMA,
        "template": TEMPLATE,
        "model": name,
        "sme": sme_mode,
        "sections": build_sections(
            data, config, chosen, sme=sme_mode, handling=complaint_handling(engine, data)
        ),
        "figures": {
            "decisions_by_action": {
                "rows": _by_action(data.actions),
                "provenance": {
                    "runs": runs,
                    "query": "actions",
                    "derivation": "SUM(decisions) per action over the rows",
                },
            },
        },
        "provenance": {
            "scope": describe_scope(data.scope, name),
            "runs": [run_provenance(run) for run in data.scope.runs],
            "queries": data.queries,
        },
    }


def complaint_handling(engine: Engine, data: SummaryData) -> list[str]:
    """Return §3.1's sentences on complaints and on the reservations registry (what it kept
    out is counted over the runs in scope, as the exclusions table is)."""
    in_scope = next((e for e in data.exclusions if e.reason == Protocol.REGISTRY.value), None)
    registry = registry_figures(engine, exclusions=False)
    if in_scope is not None:
        registry = dataclasses.replace(
            registry, urls=in_scope.urls, domains=in_scope.domains, decisions=in_scope.decisions
        )
    return [
        complaint_sentence(complaint_figures(engine)),
        registry_sentence(registry),
        recheck_sentence(recheck_figures(engine)),
    ]


def describe_scope(scope: Scope, model: str) -> dict[str, Any]:
    """Return the scope of model *model* ("" when none is configured) as JSON-ready data, with
    the method in words."""
    runs = "every crawl run" if scope.all_runs else "the crawl runs listed for the model"
    return {
        "model": model,
        "runs": runs,
        "run_ids": scope.run_ids,
        "run_keys": [run.key for run in scope.runs],
        "missing_run_keys": list(scope.missing_keys),
        "method": SCOPE_METHOD,
    }


def run_provenance(run: ScopeRun) -> dict[str, Any]:
    """Return a run in scope as JSON-ready data (times as ISO 8601 UTC)."""
    return {
        "id": run.id,
        "run_key": run.key,
        "crawler_name": run.crawler_name,
        "product_token": run.product_token,
        "user_agent": run.user_agent,
        "protocol_set": run.protocol_set,
        "started_at": run.started_at.isoformat(),
        "ended_at": None if run.ended_at is None else run.ended_at.isoformat(),
    }


def _by_action(actions: list[ActionCount]) -> list[dict[str, Any]]:
    totals: dict[str, int] = {}
    for a in actions:
        totals[a.action] = totals.get(a.action, 0) + a.decisions
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    return [
        {"action": action, "label": action_label(action), "decisions": n} for action, n in ordered
    ]


def subject(body: dict[str, Any]) -> str:
    """Return the publication subject of *body*: its model name ("" without a model)."""
    return str(body.get("model") or "")


def changed_sections(previous: dict[str, Any] | None, body: dict[str, Any]) -> list[str]:
    """Return sentences naming the sections whose content differs from *previous*."""
    if previous is None:
        return ["First version."]
    before, after = previous.get("sections", {}), body.get("sections", {})
    out = [
        f"Section {number} ({title}) changed."
        for number, title in SECTIONS.items()
        if before.get(number) != after.get(number)
    ]
    return out or ["Figures or provenance changed; the sections are unchanged."]


def publish_summary(
    engine: Engine,
    body: dict[str, Any],
    *,
    archive: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[dict[str, Any], bool]:
    """Publish *body*; return the published document and whether it is a new version."""
    history_before = history(engine, KIND, subject(body))
    previous = history_before[-1].body if history_before else None
    pub, is_new = publish(
        engine,
        KIND,
        body,
        subject=subject(body),
        changes=changed_sections(previous, body),
        now=now,
    )
    return document(engine, pub, archive=archive), is_new


def preview_document(
    engine: Engine,
    body: dict[str, Any],
    *,
    archive: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[dict[str, Any], bool]:
    """Return the document *body* would be if published now, and whether it would be new.

    Nothing is written. An unchanged body is the latest published version as it stands; a
    changed one shows the version it would get, marked as a preview.
    """
    versions = history(engine, KIND, subject(body))
    if versions and versions[-1].sha256 == body_sha256(body):
        return document(engine, versions[-1], archive=archive), False
    number = versions[-1].version + 1 if versions else 1
    pending = Publication(
        id=0,
        kind=KIND,
        subject=subject(body),
        version=number,
        created_at=now or dt.datetime.now(dt.UTC),
        sha256=body_sha256(body),
        body=body,
        previous_id=versions[-1].id if versions else None,
        changes=tuple(changed_sections(versions[-1].body if versions else None, body)),
    )
    doc = document(engine, pending, archive=archive)
    doc["version"] = f"{number} (preview, not published)"
    return doc, True


def document(engine: Engine, pub: Publication, *, archive: str | None = None) -> dict[str, Any]:
    """Return publication *pub* as the summary document: its header, then its body.

    *archive* is a URL pattern with ``{version}`` (and optionally ``{model}``) where earlier
    versions are published; without it the previous versions are listed without links.
    """
    previous = []
    for old in reversed(history(engine, KIND, pub.subject)):
        if old.version >= pub.version:
            continue
        entry: dict[str, Any] = {
            "version": old.version,
            "date": day_month_year(old.created_at),
            "sha256": old.sha256,
        }
        if archive:
            entry["url"] = archive_url(archive, old.version, pub.subject)
        previous.append(entry)
    return {
        "version": pub.version,
        "last_update": day_month_year(pub.created_at),
        "previous_versions": previous,
        **pub.body,
    }


def archive_url(pattern: str, version: int, model: str) -> str:
    """Return the archive URL of *version*: ``{version}`` and ``{model}`` filled in *pattern*."""
    return pattern.replace("{version}", str(version)).replace("{model}", quote(model))
