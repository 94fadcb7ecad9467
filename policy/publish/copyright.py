"""The copyright policy: one document for Measures 1.1–1.5 of the Code of Practice (AC-19).

Copyright chapter, Measure 1.1: "draw up, keep up-to-date and implement" a copyright policy
"in a single document", with responsibilities assigned; a public summary is encouraged. This
module builds that document's content from what Heed enforces (the robots.txt policy and
protocols of :mod:`policy.protocols`, the access and denylist rules of the crawler) and from the
provider's statements in heed.toml, which render as "to be provided" when missing.

Two variants of one content:

* ``policy`` (internal): everything, with the owners of each responsibility and the provenance
  of every figure (run ids, queries);
* ``policy-public``: the public summary: commitments, protocols, contact and complaints; no
  owner names, no run ids, no statistics.

The versioned body holds only what changes with the policy. Audit statistics (decisions per
action per run) change with every crawl, so they are an annex of the internal rendering with
their own provenance, not part of the versioned policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from audit import ACTIONS_QUERY, DENYLIST_QUERY, POLICY_QUERY, DenylistVersion
from policy.protocols import protocol_families, robots_features, robots_policy_lines
from policy.provider import TO_BE_PROVIDED
from policy.publish.crawlerinfo import ACCESS_STATEMENTS, enabled_protocols
from policy.publish.inputs import Inputs
from policy.render import provided
from policy.reservations import complaint_sentence, recheck_sentence, registry_sentence

KIND, PUBLIC_KIND = "policy", "policy-public"
SECTIONS = ("1.1", "1.2", "1.3", "1.4", "1.5")
TITLES = {
    "1.1": "Measure 1.1: Draw up, keep up-to-date and implement a copyright policy",
    "1.2": "Measure 1.2: Reproduce and extract only lawfully accessible content when crawling",
    "1.3": "Measure 1.3: Identify and comply with rights reservations when crawling",
    "1.4": "Measure 1.4: Mitigate the risk of copyright-infringing outputs",
    "1.5": "Measure 1.5: Point of contact and complaints",
}
#: Access answers treated as restrictions (crawler/config.py ACCESS_STATUSES).
ACCESS_STATUSES = (401, 402, 403)


def build(
    inputs: Inputs,
    *,
    denylists: Sequence[DenylistVersion],
    public: bool = False,
) -> dict[str, Any]:
    """Return the versioned body of the copyright policy (public summary if *public*)."""
    config = inputs.config
    sections = {
        "1.1": _measure_1_1(inputs, public),
        "1.2": _measure_1_2(inputs, denylists, public),
        "1.3": _measure_1_3(inputs, public),
        "1.4": _measure_1_4(inputs),
        "1.5": _measure_1_5(inputs, public),
    }
    return {
        "title": "Copyright policy" + (" (public summary)" if public else ""),
        "variant": "public" if public else "internal",
        "provider": provided(config.provider.name),
        "sections": {key: {"title": TITLES[key], **sections[key]} for key in SECTIONS},
    }


def _measure_1_1(inputs: Inputs, public: bool) -> dict[str, Any]:
    config = inputs.config
    models = [m.name for m in config.models]
    out: dict[str, Any] = {
        "statements": [
            (
                "This policy applies to every general-purpose AI model the provider places on the "
                "EU market and is described in this single document, which incorporates Measures "
                "1.2 to 1.5 of the Copyright chapter of the General-Purpose AI Code of Practice."
            ),
            (
                "The policy is generated from the crawler's configuration and its audit trail, and "
                "kept up to date: each change is published as a new version and earlier versions "
                "are kept."
            ),
        ],
        "models": models or TO_BE_PROVIDED,
    }
    if not public:
        p = config.provider
        out["responsibilities"] = {
            "policy_owner": provided(p.policy_owner),
            "crawler_owner": provided(p.crawler_owner),
            "complaints_owner": provided(p.complaints_owner),
        }
    return out


def _measure_1_2(
    inputs: Inputs, denylists: Sequence[DenylistVersion], public: bool
) -> dict[str, Any]:
    configured = inputs.settings.get("OPTOUT_DENYLIST")
    sources: list[dict[str, Any]] = [
        {"version": d.version} if public else {"version": d.version, "first_run": d.first_run}
        for d in denylists
    ]
    denylist: dict[str, Any] = {
        "statements": [
            (
                "Websites recognised by courts or public authorities in the EU/EEA as persistently "
                "and repeatedly infringing copyright on a commercial scale are excluded from "
                "crawling, using a denylist of such sites."
            ),
            (
                "The denylist is checked at request time, before every request (also for "
                "robots.txt), and a listed domain is excluded with its whole registrable domain "
                "and subdomains."
            ),
            "The version of the list in force is recorded with every crawl decision.",
        ],
        "description": provided(inputs.config.measures.get("denylist_sources")),
        "sources": sources or TO_BE_PROVIDED,
    }
    if not public:
        # A file path on the crawler's host is internal; the public summary names versions.
        denylist["configured_list"] = configured or TO_BE_PROVIDED
        denylist["provenance"] = {
            "sources": DENYLIST_QUERY,
            "configured_list": f"setting OPTOUT_DENYLIST, {inputs.settings_origin}",
        }
    return {
        "statements": [
            (
                "The crawler does not circumvent effective technological measures (Article 6(3) of "
                "Directive 2001/29/EC), and respects any technological denial or restriction of "
                "access, including subscription models and paywalls."
            ),
            *ACCESS_STATEMENTS,
            (
                "Settings that would weaken this (retrying 401/402/403, cookies) stop the crawler "
                "before it starts."
            ),
        ],
        "access_restricted_statuses": list(ACCESS_STATUSES),
        "denylist": denylist,
    }


def _measure_1_3(inputs: Inputs, public: bool) -> dict[str, Any]:
    knobs = inputs.policy.knobs
    retry = inputs.settings.get("OPTOUT_DEFER_TTL")
    crawler = inputs.config.crawler
    latest = inputs.latest
    out: dict[str, Any] = {
        "statements": [
            (
                "The crawler reads and follows robots.txt as specified in RFC 9309, and identifies "
                "itself with its own product token in a single User-Agent."
            ),
            (
                "Other machine-readable rights reservations are identified and complied with, at "
                "the time of crawling, with the protocols listed here; across protocols the most "
                "restrictive statement wins, and a source that exists but cannot be read defers "
                "the request instead of allowing it."
            ),
            (
                "Every decision records the protocol-set version, the policy settings and the "
                "evidence (document hash, matched rule) it was made on."
            ),
        ],
        "robots_txt": {
            "specification": "RFC 9309",
            "status_policy": robots_policy_lines(
                knobs, retry_seconds=float(retry) if retry is not None else None
            ),
            "features": robots_features(),
        },
        "protocols": protocol_families(enabled_protocols(inputs.settings)),
        "protocol_set": latest.protocol_set if latest else inputs.policy.protocol_set,
        "crawler_information": {
            "url": provided(crawler.info_url),
            "feed": provided(crawler.feed_url),
        },
        "recheck": {
            "statements": [recheck_sentence(inputs.rechecks)] if inputs.rechecks else [],
            "cadence": provided(inputs.config.measures.get("recheck_cadence")),
        },
    }
    if not public:
        out["provenance"] = {
            "policy": {
                "id": inputs.policy.id,
                "digest": inputs.policy.digest,
                "query": POLICY_QUERY if inputs.policy.id is not None else None,
                "source": inputs.settings_origin,
            },
            "protocols": "policy.protocols.protocol_families() less protocols the settings switch off",
        }
    return out


def _measure_1_4(inputs: Inputs) -> dict[str, Any]:
    measures = inputs.config.measures
    return {
        "statements": [
            (
                "Output safeguards are outside the crawler's scope: they are measures of the model "
                "and its deployment, stated here by the provider."
            ),
        ],
        "output_safeguards": provided(measures.get("output_safeguards")),
        "acceptable_use": provided(measures.get("acceptable_use")),
    }


def _measure_1_5(inputs: Inputs, public: bool) -> dict[str, Any]:
    p = inputs.config.provider
    out: dict[str, Any] = {
        "statements": [
            (
                "Affected rightsholders, their authorised representatives and collective "
                "management organisations can contact the provider electronically and lodge "
                "sufficiently precise and adequately substantiated complaints through the route "
                "below."
            ),
        ],
        "contact_point": provided(p.contact_point),
        "complaints": provided(p.complaints),
    }
    if inputs.complaints is not None:
        out["statements"].append(complaint_sentence(inputs.complaints))
    if inputs.registry is not None:
        out["statements"].append(registry_sentence(inputs.registry))
    if not public:
        out["complaints_owner"] = provided(p.complaints_owner)
    return out


def statistics(inputs: Inputs, counts: Mapping[int, Mapping[str, int]]) -> dict[str, Any]:
    """Return the internal annex: decisions per action per run, with provenance."""
    runs = []
    for run in inputs.runs:
        per_action = dict(counts.get(run.id, {}))
        runs.append(
            {
                "run_id": run.id,
                "run_key": run.run_key,
                "product_token": run.product_token,
                "decisions_by_action": per_action,
                "decisions": sum(per_action.values()),
            }
        )
    return {"runs": runs, "query": ACTIONS_QUERY}


def missing(body: Mapping[str, Any]) -> list[str]:
    """Return the dotted paths of every value still "to be provided"."""
    out: list[str] = []

    def walk(value: Any, path: str) -> None:
        if value == TO_BE_PROVIDED:
            out.append(path)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))

    walk(body.get("sections", {}), "")
    if body.get("provider") == TO_BE_PROVIDED:
        out.insert(0, "provider")
    return out


def describe_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[str]:
    """Return what changed, per Measure (None: the first version)."""
    if old is None:
        return ["First publication"]
    out = []
    if old.get("provider") != new.get("provider"):
        out.append("Provider changed")
    old_sections = old.get("sections") or {}
    for key in SECTIONS:
        if old_sections.get(key) != new["sections"][key]:
            out.append(f"Measure {key} changed")
    return out or ["Document changed"]
