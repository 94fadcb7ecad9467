"""The public crawler information (Code of Practice Measure 1.3(4), docs/regulation.md AC-08).

:func:`build` turns :class:`~policy.publish.inputs.Inputs` into two parts:

* the *information* — what is published and versioned (audit.publications, kind
  ``crawler-info``): the crawlers (names, product tokens, user agents), purpose, robots.txt
  features and status-code policy, cache lifetimes, the other protocols honoured with their
  parser versions, the protocol-set version, contact point and complaints route. It holds only
  what changes when the crawler's behaviour or the provider's statements change, so a new
  crawl run with the same crawler publishes nothing new;
* the *provenance* — where each value came from (run ids, last use, queries), regenerated
  every time and not versioned.

:func:`describe_changes` says, in sentences, what changed between two versions: the feed's
entries.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from audit import POLICY_QUERY, RUNS_QUERY, RunRecord
from optout import robots
from optout.robots_fetch import MAX_TTL
from policy.protocols import (
    ProtocolInfo,
    honoured_protocols,
    knob_label,
    knob_value,
    robots_features,
    robots_policy_lines,
)
from policy.provider import TO_BE_PROVIDED
from policy.publish.inputs import Inputs, configured_identity, iso
from policy.render import provided

KIND = "crawler-info"

#: What a rightsholder meets when the crawler is refused access (Measure 1.2(1)(a)).
ACCESS_STATEMENTS = (
    (
        "A 401, 402 or 403 answer, a login wall, a paywall or a CAPTCHA challenge is recorded "
        "as an access restriction and skipped; it is never retried with another user agent, "
        "with cookies, through another proxy or with a headless browser."
    ),
    "The crawler sends one User-Agent and no cookies.",
)
#: Said only when the crawler runs with a denylist (Measure 1.2(1)(b)).
DENYLIST_STATEMENT = (
    "Websites on the provider's infringing-site denylist are not requested at all, not even "
    "their robots.txt; the list is checked before every request and covers the whole "
    "registrable domain and its subdomains."
)


def build(
    inputs: Inputs, *, log_verifier_key: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return ``(information, provenance)`` for the crawler information page.

    *log_verifier_key* is the public key that checks the audit log's signed checkpoints
    (``heed log key``): published, and versioned like the rest, so that a checkpoint a
    rightsholder holds can be checked against the key the provider stated at the time.
    """
    config = inputs.config
    settings = inputs.settings
    crawlers, crawler_evidence = _crawlers(inputs)
    knobs = inputs.policy.knobs
    protocols = [p.to_dict() for p in enabled_protocols(settings)]
    latest = inputs.latest
    info: dict[str, Any] = {
        "title": "Crawler information",
        "provider": provided(config.provider.name),
        "info_url": provided(config.crawler.info_url),
        "crawlers": crawlers,
        "purpose": provided(config.crawler.purpose),
        "collection_purpose": str(knobs.get("purpose", "train-ai")),
        "ip_ranges": config.crawler.ip_ranges or None,
        "robots_txt": {
            "specification": "RFC 9309",
            "parser": robots.PARSER,
            "features": robots_features(),
            "status_policy": robots_policy_lines(
                knobs, retry_seconds=_number(settings.get("OPTOUT_DEFER_TTL"))
            ),
            "policy": {"digest": inputs.policy.digest, "knobs": dict(sorted(knobs.items()))},
        },
        "cache": {
            "robots_txt_max_seconds": MAX_TTL,
            "min_seconds": _number(settings.get("OPTOUT_CACHE_MIN_TTL")),
            "retry_unreachable_seconds": _number(settings.get("OPTOUT_DEFER_TTL")),
            "crawl_delay_max_seconds": _number(settings.get("OPTOUT_CRAWL_DELAY_MAX")),
        },
        "access": [
            *ACCESS_STATEMENTS,
            *([DENYLIST_STATEMENT] if settings.get("OPTOUT_DENYLIST") else []),
        ],
        "protocols": protocols,
        "protocol_set": latest.protocol_set if latest is not None else inputs.policy.protocol_set,
        "contact_point": provided(config.provider.contact_point),
        "complaints": provided(config.provider.complaints),
    }
    if log_verifier_key is not None:  # absent, not None: earlier versions did not have it
        info["log_verifier_key"] = log_verifier_key
    provenance: dict[str, Any] = {
        "crawlers": crawler_evidence,
        "crawlers_query": RUNS_QUERY,
        "settings": inputs.settings_source,
        "policy": {
            "id": inputs.policy.id,
            "digest": inputs.policy.digest,
            "source": (
                f"policy of crawl run {latest.id} (the latest)"
                if latest
                else inputs.settings_source
            ),
            "query": POLICY_QUERY if inputs.policy.id is not None else None,
        },
        "protocols": "policy.protocols.honoured_protocols(): optout/ Protocol values and each "
        "module's PARSER constant",
        # The file's name only: its path on the operator's host is not public information.
        "provider_statements": (
            Path(inputs.config.path).name if inputs.config.path else "no configuration file"
        ),
    }
    return info, provenance


def _number(value: Any) -> float | None:
    """Return *value* as a number (settings may arrive as text), or None."""
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def enabled_protocols(settings: Mapping[str, Any]) -> list[ProtocolInfo]:
    """Return the honoured protocols, without those the crawler's *settings* switch off.

    ``OPTOUT_AI_TXT = False``: /ai.txt is not fetched; ``OPTOUT_RSL_LICENCES = 0``: no RSL
    licence is fetched, so RSL terms are never read.
    """
    off = set()
    if str(settings.get("OPTOUT_AI_TXT", True)).lower() in ("false", "0", ""):
        off.add("ai.txt")
    if (_number(settings.get("OPTOUT_RSL_LICENCES", 1)) or 0) <= 0:
        off.add("rsl")
    return [p for p in honoured_protocols() if p.protocol not in off]


def _crawlers(inputs: Inputs) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return the crawlers (information) and their runs (provenance).

    One entry per (crawler name, product token), with every User-Agent it sent, oldest first.
    Without any run, the configured crawler identity.
    """
    if not inputs.runs:
        token, agent = configured_identity(inputs.settings, inputs.defaults)
        entry = {
            "name": token,
            "product_token": token,
            "user_agents": [agent],
            "first_used": None,
            "source": "configuration (not used yet)",
        }
        return [entry], [{"product_token": token, "runs": [], "last_used": None}]
    grouped: dict[tuple[str, str], list[RunRecord]] = {}
    for run in inputs.runs:
        grouped.setdefault((run.crawler_name, run.product_token), []).append(run)
    crawlers, evidence = [], []
    for (name, token), runs in grouped.items():
        agents: list[str] = []
        for run in runs:
            if run.user_agent not in agents:
                agents.append(run.user_agent)
        first = runs[0]
        crawlers.append(
            {
                "name": name,
                "product_token": token,
                "user_agents": agents,
                "first_used": first.started_at.date().isoformat(),
                "source": f"crawl runs (first: run {first.id})",
            }
        )
        evidence.append(
            {
                "name": name,
                "product_token": token,
                "runs": [r.id for r in runs],
                "first_used": iso(first.started_at),
                "last_used": iso(max(r.ended_at or r.started_at for r in runs)),
            }
        )
    return crawlers, evidence


# -- what changed ------------------------------------------------------------------------------

_LABELS = {
    "provider": "Provider",
    "info_url": "Crawler information URL",
    "purpose": "Purpose",
    "collection_purpose": "Collection purpose",
    "ip_ranges": "IP ranges",
    "protocol_set": "Protocol-set version",
    "contact_point": "Point of contact",
    "complaints": "Complaints route",
    "title": "Title",
    "log_verifier_key": "Audit log verifier key",
}


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def describe_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[str]:
    """Return sentences saying what changed from *old* to *new* (None: the first version)."""
    if old is None:
        return ["First publication"]
    out: list[str] = []
    out += _crawler_changes(old.get("crawlers") or [], new.get("crawlers") or [])
    for key, label in _LABELS.items():
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if before in (None, TO_BE_PROVIDED):
            out.append(f"{label} stated: {_shown(after)}")
        elif after in (None, TO_BE_PROVIDED):
            out.append(f"{label} withdrawn (was {_shown(before)})")
        else:
            out.append(f"{label} changed from {_shown(before)} to {_shown(after)}")
    out += _robots_changes(old.get("robots_txt") or {}, new.get("robots_txt") or {})
    for key, value in (new.get("cache") or {}).items():
        before = (old.get("cache") or {}).get(key)
        if before != value:
            out.append(f"Cache setting {key} changed from {_shown(before)} to {_shown(value)}")
    out += _protocol_changes(old.get("protocols") or [], new.get("protocols") or [])
    if old.get("access") != new.get("access"):
        out.append("Access-restriction statements changed")
    handled = {"crawlers", "robots_txt", "cache", "protocols", "access", *_LABELS}
    for key in sorted((set(old) | set(new)) - handled):
        if old.get(key) != new.get(key):
            out.append(f"{key} changed")
    return out or ["Information changed"]


def _crawler_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    def index(items: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
        return {(c["name"], c["product_token"]): c for c in items}

    before, after = index(old), index(new)
    out = []
    for key, crawler in after.items():
        name, token = key
        if key not in before:
            label = f"Added crawler token {token}" + (f" ({name})" if name != token else "")
            out.append(f"{label}, user agent {', '.join(crawler['user_agents'])}")
            continue
        prev = before[key]
        for agent in crawler["user_agents"]:
            if agent not in prev["user_agents"]:
                out.append(f"Crawler token {token}: added user agent {agent}")
        for agent in prev["user_agents"]:
            if agent not in crawler["user_agents"]:
                out.append(f"Crawler token {token}: user agent {agent} no longer listed")
    for key in before:
        if key not in after:
            out.append(f"Removed crawler token {key[1]}")
    return out


_KNOB_WORDS = {
    "robots_403_allow": (
        "robots.txt 401/403 policy",
        {True: "no crawl restrictions", False: "complete disallow"},
    ),
}


def _word(words: Mapping[bool, str], value: Any) -> str:
    return words[value] if isinstance(value, bool) else _shown(value)


def _robots_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    old_knobs = (old.get("policy") or {}).get("knobs") or {}
    new_knobs = (new.get("policy") or {}).get("knobs") or {}
    for knob in sorted(set(old_knobs) | set(new_knobs)):
        a, b = old_knobs.get(knob), new_knobs.get(knob)
        if a == b:
            continue
        if knob in _KNOB_WORDS:
            label, words = _KNOB_WORDS[knob]
            out.append(f"{label} changed from {_word(words, a)} to {_word(words, b)}")
        else:
            was, now = (_shown(v) if v is None else knob_value(knob, v) for v in (a, b))
            out.append(f"Policy setting '{knob_label(knob)}' changed from {was} to {now}")
    if old.get("parser") != new.get("parser"):
        out.append(f"robots.txt parser {_shown(old.get('parser'))} → {_shown(new.get('parser'))}")
    if old.get("features") != new.get("features"):
        out.append("robots.txt features supported changed")
    if not out and old.get("status_policy") != new.get("status_policy"):
        out.append("robots.txt status-code policy wording changed")
    return out


def _protocol_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    before = {p["protocol"]: p for p in old}
    after = {p["protocol"]: p for p in new}
    out = []
    parsers: dict[tuple[str, str, str], None] = {}
    for key, info in after.items():
        prev = before.get(key)
        if prev is None:
            out.append(f"Added protocol {info['name']} ({info['spec']}), parser {info['parser']}")
            continue
        if prev.get("parser") != info.get("parser"):
            # One sentence per family: TDMRep's five techniques share one parser.
            family = info.get("family") or info["name"]
            parsers.setdefault((family, str(prev.get("parser")), info["parser"]), None)
        if prev.get("spec") != info.get("spec"):
            out.append(f"Protocol {info['name']} specification {prev.get('spec')} → {info['spec']}")
        if {k: v for k, v in prev.items() if k not in ("parser", "spec")} != {
            k: v for k, v in info.items() if k not in ("parser", "spec")
        }:
            out.append(f"Protocol {info['name']} description changed")
    for family, was, now in parsers:
        out.append(f"Protocol {family} parser {was} → {now}")
    for key, info in before.items():
        if key not in after:
            out.append(f"Protocol {info['name']} no longer honoured")
    return out


def missing(info: Mapping[str, Any]) -> list[str]:
    """Return the top-level statements still "to be provided"."""
    return [k for k, v in info.items() if v == TO_BE_PROVIDED]
