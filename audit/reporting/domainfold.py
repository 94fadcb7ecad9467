"""Fold the rows of a domain look-up (:mod:`audit.reporting.domains`) into its values.

The database groups decisions per origin, run, outcome, action and month; here those few rows
are summed per host and for the whole registrable domain, and each outcome's signals say
whether it applied a reservation. A *reservation* is what a rightsholder calls an opt-out: a
decision whose outcome refused the crawl (robots.txt) or found the use the crawler collects
for reserved (TDMRep, AIPREF, Content-Signal, ``noai``, ai.txt …); a deferral (a document that
could not be read) is not one, and never let content through either.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from audit.reporting.domainview import (
    DocumentVersion,
    DomainView,
    HostView,
    Kept,
    KeptItem,
    Meaning,
    MonthFigures,
    Reservation,
)
from optout.action import RECHECK_ACTIONS

#: Items kept after a reservation that a look-up names, per host and for the domain.
KEPT_ITEMS_SHOWN = 100


class Group(NamedTuple):
    """One row of the grouped decisions: per origin, run, outcome, action and month."""

    origin_id: int
    run_id: int
    outcome_id: int
    action: str
    month: str
    decisions: int
    first: dt.datetime
    last: dt.datetime
    items: int
    bytes: int | None
    item_first: dt.datetime | None
    item_last: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """An outcome with its signals (column dicts, ``detail`` and parsed ``purposes`` added)."""

    id: int
    crawl: str
    use: str
    purpose: str
    reasons: tuple[str, ...]
    signals: Sequence[Mapping[str, Any]]

    @property
    def restricts(self) -> bool:
        """Return whether the outcome refused the crawl or reserved the purpose."""
        return self.crawl == "disallow" or self.use == "reserved"

    def signal_restricts(self, signal: Mapping[str, Any]) -> bool:
        """Return whether *signal* refused the crawl or reserved this outcome's purpose."""
        return bool(
            signal["crawl"] == "disallow" or signal["purposes"].get(self.purpose) == "reserved"
        )

    def meaning(self, signal: Mapping[str, Any]) -> Meaning:
        """Return what *signal* meant in this outcome."""
        return Meaning(
            protocol=signal["protocol"],
            verdict=signal["verdict"],
            detail=signal["detail"],
            purpose=self.purpose,
            restricts=self.signal_restricts(signal),
        )


#: The actions of re-check runs, which are not requests.
RECHECK_VALUES = frozenset(a.value for a in RECHECK_ACTIONS)


def fold(
    domain: str,
    origins: Mapping[int, tuple[str, str]],
    groups: Sequence[Group],
    outcomes: Mapping[int, Outcome],
    documents: Sequence[DocumentVersion],
    tokens: Mapping[int, str],
    kept: Mapping[int, Sequence[KeptItem]],
    totals: Mapping[int, tuple[int, int]],
) -> DomainView:
    """Return the view of *domain* from the look-up's rows (see :func:`domain_view`)."""
    hosts: dict[str, list[int]] = {}
    for origin_id, (_, host) in sorted(origins.items(), key=lambda kv: kv[1]):
        hosts.setdefault(host, []).append(origin_id)
    parts = _Parts(origins, groups, outcomes, documents, kept, totals)
    return DomainView(
        domain=domain,
        tokens=tuple(sorted({tokens[g.run_id] for g in groups if g.run_id in tokens})),
        purposes=tuple(sorted({outcomes[g.outcome_id].purpose for g in groups})),
        total=parts.view(domain, set(origins)),
        hosts=tuple(parts.view(host, set(ids)) for host, ids in sorted(hosts.items())),
    )


@dataclass(frozen=True, slots=True)
class _Parts:
    origins: Mapping[int, tuple[str, str]]
    groups: Sequence[Group]
    outcomes: Mapping[int, Outcome]
    documents: Sequence[DocumentVersion]
    kept: Mapping[int, Sequence[KeptItem]]
    totals: Mapping[int, tuple[int, int]]

    def view(self, name: str, ids: set[int]) -> HostView:
        groups = [g for g in self.groups if g.origin_id in ids]
        by_action: Counter[str] = Counter()
        months: dict[str, tuple[Counter[str], list[int]]] = {}
        for g in groups:
            by_action[g.action] += g.decisions
            actions, sizes = months.setdefault(g.month, (Counter(), [0, 0]))
            actions[g.action] += g.decisions
            sizes[0] += g.items
            sizes[1] += int(g.bytes or 0)
        item_firsts = [g.item_first for g in groups if g.item_first is not None]
        item_lasts = [g.item_last for g in groups if g.item_last is not None]
        kept_items = sorted(
            (item for i in ids for item in self.kept.get(i, ())), key=lambda k: (k.time, k.id)
        )
        hosts = {self.origins[i][1] for i in ids}
        # A re-check (heed recheck) decides on kept items without requesting them: its rows
        # are counted per action, never as request attempts.
        requests = [g for g in groups if g.action not in RECHECK_VALUES]
        return HostView(
            name=name,
            origins=tuple(sorted(self.origins[i][0] for i in ids)),
            decisions=sum(g.decisions for g in requests),
            first_decision=min((g.first for g in requests), default=None),
            last_decision=max((g.last for g in requests), default=None),
            by_action=dict(sorted(by_action.items(), key=lambda kv: (-kv[1], kv[0]))),
            by_month=tuple(
                MonthFigures(month, dict(sorted(actions.items())), sizes[0], sizes[1])
                for month, (actions, sizes) in sorted(months.items())
            ),
            kept=Kept(
                items=sum(g.items for g in groups),
                bytes=sum(int(g.bytes or 0) for g in groups),
                first=min(item_firsts, default=None),
                last=max(item_lasts, default=None),
            ),
            reservation=self._reservation(groups, ids),
            kept_after_reservation=tuple(kept_items[:KEPT_ITEMS_SHOWN]),
            kept_after_total=sum(self.totals.get(i, (0, 0))[1] for i in ids),
            kept_while_reserved=sum(
                g.items for g in groups if self.outcomes[g.outcome_id].restricts
            ),
            documents=tuple(d for d in self.documents if d.host in hosts),
        )

    def _reservation(self, groups: Sequence[Group], ids: set[int]) -> Reservation | None:
        applied = [g for g in groups if self.outcomes[g.outcome_id].restricts]
        if not applied:
            return None
        protocols: dict[str, None] = {}
        statements: dict[str, None] = {}
        for outcome_id in sorted({g.outcome_id for g in applied}):
            outcome = self.outcomes[outcome_id]
            for signal in outcome.signals:
                if outcome.signal_restricts(signal):
                    protocols[signal["protocol"]] = None
                    statements[signal["detail"]] = None
        return Reservation(
            first_seen=min(g.first for g in applied),
            last_seen=max(g.last for g in applied),
            decisions=sum(g.decisions for g in applied),
            urls=sum(self.totals.get(i, (0, 0))[0] for i in ids),
            protocols=tuple(sorted(protocols)),
            statements=tuple(sorted(statements)),
        )
