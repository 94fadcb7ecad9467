"""The crawler-behaviour (§2.3) and opt-out measures (§3.1) statements, generated from evidence.

Nothing here is a provider's claim: every sentence follows from what the audit database
recorded (the runs' policies and protocol sets, the signals seen, the denylist versions, the
exclusion counts) or from what Heed's code does unconditionally (policy.protocols).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from audit import NO_SIGNAL, Exclusion, ScopeRun, SummaryData
from policy.protocols import (
    PROTOCOL_SET_VERSION,
    honoured_protocols,
    protocol_label,
    purpose_label,
    robots_policy_lines,
)
from policy.summary.rules import plural

#: What Heed guarantees whatever the configuration (docs/regulation.md AC-01, AC-03, AC-06,
#: AC-07).
FIXED_BEHAVIOUR = (
    (
        "robots.txt is honoured as RFC 9309 specifies; a robots.txt that cannot be read because "
        "of a server error (5xx), a network error or a timeout means complete disallow for the "
        "site, and is never cached as 'allow'."
    ),
    (
        "Paywalls, login forms, CAPTCHAs and HTTP 401, 402 and 403 answers are recorded as "
        "access restrictions and never circumvented: no other user agent, cookies, headless "
        "rendering or proxies are tried."
    ),
    (
        "Every request is decided, and the decision recorded with its evidence, before the "
        "request is sent."
    ),
    "Domains on the infringing-site denylist, and their subdomains, are never requested.",
)

#: The stage of the checks (template §3.1 "before and during data collection").
STAGE = (
    "Reservations are respected before and during data collection: robots.txt and site-level "
    "reservations (tdmrep.json, Content-Usage, Content-Signal, ai.txt, RSL) are checked before "
    "each request is sent; page-level reservations (HTTP headers, HTML meta elements, embedded "
    "metadata) are checked on the fetched content before it is stored. Content found reserved is "
    "not stored and never enters the training set."
)

_OWN_ROWS = {
    "denylisted": "infringing-site denylist",
    "access-restricted": "access control (401/402/403, login, paywall, CAPTCHA)",
}


def protocol_lines() -> list[str]:
    """Return one line per protocol Heed honours: name, specification, parser version."""
    return [f"{p.name}: {p.spec} (parser {p.parser})" for p in honoured_protocols()]


def protocol_set_line(runs: Iterable[ScopeRun]) -> str:
    """Return the protocol-set versions the runs recorded."""
    sets = sorted({run.protocol_set for run in runs})
    if not sets:
        return f"Protocol set of this Heed: {PROTOCOL_SET_VERSION}."
    older = [s for s in sets if s != PROTOCOL_SET_VERSION]
    note = (
        f" (this Heed implements {PROTOCOL_SET_VERSION}; the protocols listed are those of "
        "the current set)"
        if older
        else ""
    )
    return f"Protocol set recorded with every decision: {', '.join(sets)}{note}."


def behaviour(data: SummaryData, runs: list[ScopeRun]) -> list[str | list[str]]:
    """Return the §2.3 crawler-behaviour statements for the runs that contributed items.

    A nested list details the statement before it.
    """
    out: list[str | list[str]] = []
    for token, agents in _agents(runs).items():
        out.append(f"{token} sends the user agent {' / '.join(agents)}.")
    policies = _policies(runs)
    for knobs_text, keys in policies.items():
        where = f" (runs {', '.join(keys)})" if len(policies) > 1 else ""
        knobs = json.loads(knobs_text)
        out.append(f"robots.txt retrieval and error policy{where}:")
        out.append(robots_policy_lines(knobs))
        purpose = knobs.get("purpose")
        if purpose:
            out.append(f"Rights reservations are evaluated for {purpose_label(purpose)}{where}.")
    out.append(
        "Rights-reservation protocols honoured besides robots.txt: "
        + "; ".join(p.name for p in honoured_protocols()[1:])
        + "."
    )
    # The protocol-set version is stated once, with the protocols, in §3.1.
    seen = sorted({protocol for protocol, _ in data.signals})
    if seen:
        out.append(
            "Protocols with statements recorded for the training content: "
            + ", ".join(protocol_label(p) for p in seen)
            + "."
        )
    out.append(denylist_line(data))
    out.extend(FIXED_BEHAVIOUR)
    return out


def denylist_line(data: SummaryData) -> str:
    """Return which infringing-site denylist versions were in force in the runs in scope."""
    versions = data.denylists
    if not versions:
        return "No infringing-site denylist version is recorded for these runs."
    return "Infringing-site denylist versions in force: " + ", ".join(versions) + "."


def exclusion_reason(reason: str) -> str:
    """Return an exclusions row's reason (a protocol value, an action) in words."""
    if reason == NO_SIGNAL:
        return reason
    return _OWN_ROWS.get(reason) or protocol_label(reason)


def exclusion_table(exclusions: list[Exclusion]) -> dict[str, Any]:
    """Return the §3.1 per-protocol exclusion counts as a table: rows in words, and ``keys``,
    each row's recorded protocol value or action."""
    ordered = sorted(exclusions, key=_exclusion_order)
    return {
        "columns": ["Protocol or reason", "URLs excluded", "Registrable domains", "Decisions"],
        "rows": [[exclusion_reason(e.reason), e.urls, e.domains, e.decisions] for e in ordered],
        "keys": [e.reason for e in ordered],
    }


def exclusion_lines(exclusions: list[Exclusion]) -> list[str]:
    """Return the exclusion counts as sentences."""
    return [
        f"{exclusion_reason(e.reason)}: {plural(e.urls, 'URL')} on "
        f"{plural(e.domains, 'registrable domain')} excluded"
        for e in sorted(exclusions, key=_exclusion_order)
    ]


def _exclusion_order(e: Exclusion) -> tuple[int, str]:
    # Protocols first (robots.txt leading), then the own-row reasons, then the remainder.
    if e.reason == "robots.txt":
        return 0, e.reason
    if e.reason in _OWN_ROWS:
        return 2, e.reason
    if e.reason == NO_SIGNAL:
        return 3, e.reason
    return 1, e.reason


def _agents(runs: Iterable[ScopeRun]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for run in runs:
        agents = out.setdefault(run.product_token, [])
        if run.user_agent not in agents:
            agents.append(run.user_agent)
    return out


def _policies(runs: Iterable[ScopeRun]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for run in runs:
        key = json.dumps(run.knobs, sort_keys=True)
        out.setdefault(key, []).append(run.key)
    return out
