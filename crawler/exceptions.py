"""Why Heed's crawler dropped a request or refused to start
(docs/development.md#few-exceptions-one-tree-per-package).

Every request the rights-reservation middleware drops raises one of these, *after* the decision
was sent through :data:`crawler.signals.optout_decided`; Scrapy then calls the request's errback
with it, where ``failure.value.decision`` and ``failure.value.action`` say what and why::

    scrapy.exceptions.IgnoreRequest
    └── OptoutIgnoreRequest      every drop by Heed: .decision (optout Decision), .action (Action)
        ├── RobotsDisallowed     robots.txt disallows the URL for our token        skipped-robots
        ├── RightsReserved       a reservation (or a licence we lack) covers it    skipped-reservation,
        │                        — before the download, or after it                fetched-excluded
        ├── OptoutDeferred       a signal source could not be read (fail closed)   deferred,
        │                        — before the download, or the page's own signals  fetched-excluded
        ├── AccessRestricted     401/402/403, login wall, paywall, challenge       access-restricted
        ├── Denylisted           the domain is on the infringing-site denylist     denylisted
        └── FetchFailed          the page itself failed (4xx, 5xx, bad URL, loop)  error

    ValueError
    └── OptoutConfigError        a setting would weaken compliance: the crawl does not start
"""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest

from crawler.config import OptoutConfigError
from optout.action import Action
from optout.decision import Decision


class OptoutIgnoreRequest(IgnoreRequest):
    """A request Heed dropped; carries the decision and the action recorded for it."""

    def __init__(self, decision: Decision, action: Action) -> None:
        self.decision = decision
        self.action = action
        reasons = "; ".join(decision.reasons) or action.value
        super().__init__(f"{action.value}: {decision.url}: {reasons}")


class RobotsDisallowed(OptoutIgnoreRequest):
    """robots.txt disallows the URL for our product token (or is unusable: complete disallow)."""


class RightsReserved(OptoutIgnoreRequest):
    """A rights reservation (or a licence requirement) covers the URL's content."""


class OptoutDeferred(OptoutIgnoreRequest):
    """A signal source exists but could not be read: nothing is decided as "allowed"."""


class AccessRestricted(OptoutIgnoreRequest):
    """The content sits behind authentication, payment or a challenge: never circumvented."""


class Denylisted(OptoutIgnoreRequest):
    """The URL's domain is on the configured infringing-site denylist."""


class FetchFailed(OptoutIgnoreRequest):
    """The page could not be retrieved or used (error status, invalid URL, redirect loop)."""


__all__ = [
    "EXCEPTION_FOR_ACTION",
    "AccessRestricted",
    "Denylisted",
    "FetchFailed",
    "OptoutConfigError",
    "OptoutDeferred",
    "OptoutIgnoreRequest",
    "RightsReserved",
    "RobotsDisallowed",
]

#: The exception class raised for each action, when the request is dropped.
EXCEPTION_FOR_ACTION: dict[Action, type[OptoutIgnoreRequest]] = {
    Action.SKIPPED_ROBOTS: RobotsDisallowed,
    Action.SKIPPED_RESERVATION: RightsReserved,
    Action.DEFERRED: OptoutDeferred,
    Action.ACCESS_RESTRICTED: AccessRestricted,
    Action.DENYLISTED: Denylisted,
    Action.ERROR: FetchFailed,
}
