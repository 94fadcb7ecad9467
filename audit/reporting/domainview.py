"""The values of a public domain look-up (:mod:`audit.reporting.domains`): what a rightsholder
may see of the audit trail about a registrable domain without proving who they are.

Only aggregate figures and the signal documents the crawler fetched are here: counts per action
and month, how much content was kept and when, the documents with what they meant, and the
first time a reservation was seen. Stored items are named only where content was kept after a
reservation of its URL was seen (the exception a rightsholder must be told of), and then by id,
time, size and the decision's reasons, never by URL: which URLs the crawler requested is for the
verified owner of the domain (docs/regulation.md AC-17).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audit.registry import RegistryRecord


@dataclass(frozen=True, slots=True)
class Meaning:
    """What a signal document meant in the crawler's decisions: one signal read from it."""

    protocol: str
    verdict: str
    #: The signal's reason with its evidence (the matched rule and line).
    detail: str
    #: The use the crawler decided for (``train-ai`` …).
    purpose: str
    #: Whether it refused the crawl or reserved that use.
    restricts: bool


@dataclass(frozen=True, slots=True)
class DocumentVersion:
    """One version (sha256) of a signal document of one URL, over all its retrievals."""

    origin: str
    host: str
    kind: str
    url: str
    sha256: str
    size: int
    #: HTTP statuses the retrievals got (usually one).
    statuses: tuple[int, ...]
    #: Errors the retrievals ended with (a timeout, a truncated body …).
    errors: tuple[str, ...]
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    retrievals: int
    truncated: bool
    meanings: tuple[Meaning, ...]


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """Request attempts per action, and content kept, in one calendar month (UTC)."""

    month: str
    actions: Mapping[str, int]
    items: int
    bytes: int


@dataclass(frozen=True, slots=True)
class Kept:
    """Content kept in the dataset: how many items, their size, and when."""

    items: int
    bytes: int
    first: dt.datetime | None
    last: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Reservation:
    """A reservation (of the use the crawler collects for) or robots.txt refusal, as seen."""

    first_seen: dt.datetime
    last_seen: dt.datetime
    #: Decisions that applied it, and the distinct URLs they were about.
    decisions: int
    urls: int
    protocols: tuple[str, ...]
    #: The signals' statements, with their evidence.
    statements: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KeptItem:
    """A stored item of a URL for which a reservation had been seen before it was kept."""

    id: int
    host: str
    time: dt.datetime
    bytes: int
    content_type: str
    #: When the decision to keep it was made, and what it found.
    decided: dt.datetime
    crawl: str
    use: str
    purpose: str
    reasons: tuple[str, ...]
    #: When a reservation of its URL was first seen.
    reservation_first_seen: dt.datetime
    #: Its own decision found the use reserved or the crawl refused (a fault: never expected).
    while_reserved: bool


@dataclass(frozen=True, slots=True)
class HostView:
    """The figures of one host, or of the whole registrable domain (then ``name`` is it)."""

    name: str
    origins: tuple[str, ...]
    decisions: int
    first_decision: dt.datetime | None
    last_decision: dt.datetime | None
    by_action: Mapping[str, int]
    by_month: tuple[MonthFigures, ...]
    kept: Kept
    reservation: Reservation | None
    #: Items kept after a reservation of their URL was seen (at most ``KEPT_ITEMS_SHOWN``).
    kept_after_reservation: tuple[KeptItem, ...]
    kept_after_total: int
    #: Items whose own decision found the use reserved or the crawl refused (never expected).
    kept_while_reserved: int
    documents: tuple[DocumentVersion, ...]


@dataclass(frozen=True, slots=True)
class DomainView:
    """Everything the public look-up shows about a registrable domain."""

    domain: str
    #: The crawler's product tokens and the uses it decided for, in these decisions.
    tokens: tuple[str, ...]
    purposes: tuple[str, ...]
    total: HostView
    hosts: tuple[HostView, ...]
    #: Entries of the provider's reservations registry in force for the domain or its hosts.
    registry: tuple[RegistryRecord, ...] = ()

    @property
    def found(self) -> bool:
        """Return whether the audit trail holds anything about the domain."""
        return bool(self.total.origins)
