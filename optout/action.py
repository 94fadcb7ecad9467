"""What the crawler does with one request attempt, named next to the decision that causes it.

Every request attempt ends in exactly one :class:`Action` (one row of the audit trail); the
decision before a request says which of the "not requested" actions applies
(:func:`before_action`), and the decision after a response which of the others
(:func:`after_action`). Pure: the middleware and the audit trail share this vocabulary without
either loading the other.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from optout.access import access_restriction
from optout.decision import Crawl, Decision, Policy, Use, Verdict, combine
from optout.document import FetchResult


class Action(StrEnum):
    """What the crawler did for one request attempt (one per decision row)."""

    #: Fetched, and the content entered the dataset.
    FETCHED_STORED = "fetched-stored"
    #: Fetched, and usable, but the crawl keeps no dataset (no output was given): not stored.
    FETCHED_NOT_KEPT = "fetched-not-kept"
    #: Fetched, but a page-level signal (header, meta, licence) excluded it from the dataset.
    FETCHED_EXCLUDED = "fetched-excluded"
    #: Fetched, and the server redirected: the target is a request (and a decision) of its own.
    REDIRECTED = "redirected"
    #: Not requested: robots.txt disallows it for our product token.
    SKIPPED_ROBOTS = "skipped-robots"
    #: Not requested: a site-level rights reservation covers it.
    SKIPPED_RESERVATION = "skipped-reservation"
    #: Not requested now: a signal source could not be read; retried later (fail closed).
    DEFERRED = "deferred"
    #: 401/402/403, login form, paywall or CAPTCHA: recorded and never circumvented (AC-06).
    ACCESS_RESTRICTED = "access-restricted"
    #: The domain is on the infringing-site denylist (AC-07).
    DENYLISTED = "denylisted"
    #: The request failed (network error, timeout, 5xx on the page itself; a failed attempt that
    #: Scrapy retries is one of these too, and the retry an attempt of its own).
    ERROR = "error"
    #: Re-checked (heed recheck, no request for the item): it may still be used.
    RECHECKED_USABLE = "rechecked-usable"
    #: Re-checked: a signal read since reserves its use, or robots.txt now disallows it.
    RECHECKED_RESERVED = "rechecked-reserved"
    #: Re-checked: a signal source of its site could not be read (the policy knob says whether
    #: the item stays usable).
    RECHECKED_UNKNOWN = "rechecked-unknown"


#: The actions of a re-check run.
RECHECK_ACTIONS = frozenset(
    {Action.RECHECKED_USABLE, Action.RECHECKED_RESERVED, Action.RECHECKED_UNKNOWN}
)


def before_action(decision: Decision, policy: Policy) -> Action | None:
    """Return why a request must not be sent (its action), or None when it may be."""
    if decision.crawl is Crawl.DISALLOW:
        return Action.SKIPPED_ROBOTS
    if decision.crawl is Crawl.DEFER:
        return Action.DEFERRED
    if decision.use is Use.RESERVED:
        return Action.SKIPPED_RESERVATION
    if decision.purposes[policy.purpose] is Verdict.DEFER:
        return Action.DEFERRED  # a site-level source could not be read: nothing could be used
    return None


def after_action(decision: Decision, fetched: FetchResult) -> tuple[Decision, Action]:
    """Return what becomes of a fetched page: its decision (with a note when restricted or
    failed) and the action — stored only when it may be crawled and its use is not reserved."""
    restricted = access_restriction(fetched)
    if restricted is not None:
        note = f"access restricted: {restricted}; not circumvented"
        return with_note(decision, note), Action.ACCESS_RESTRICTED
    status = fetched.status
    if status is None:
        return with_note(decision, f"download failed: {fetched.error}"), Action.ERROR
    if not 200 <= status < 300 or fetched.error is not None:
        note = f"HTTP {status}: no usable content" + (
            f" ({fetched.error})" if fetched.error else ""
        )
        return with_note(decision, note), Action.ERROR
    if decision.crawl is Crawl.ALLOW and decision.use is Use.NOT_RESERVED:
        return decision, Action.FETCHED_STORED
    return decision, Action.FETCHED_EXCLUDED


def with_note(decision: Decision, note: str) -> Decision:
    """Return *decision* with *note* first among its notes."""
    return replace(decision, notes=(note, *decision.notes))


def unchecked(url: str, note: str, policy: Policy, crawl: Crawl = Crawl.DISALLOW) -> Decision:
    """Return the decision for *url* when no signal could be read for it (nothing was requested
    for it: an invalid URL, a denylisted host, a deadline): *crawl* (never "allow" unless the
    request already went out), use unknown, and *note* as the reason."""
    base = combine(url, (), policy=policy, complete=False)
    return replace(base, crawl=crawl, use=Use.UNKNOWN, notes=(note,))
