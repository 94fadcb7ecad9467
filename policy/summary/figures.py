"""Figures derived from the ``items`` query's rows: pure arithmetic, no database.

The ``items`` query (audit.reporting.items) returns one row per registrable domain and one per
run, modality and media type; every §1.3 and §2.3 figure is a sum, minimum or maximum over
those rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from audit import DomainGroup, KindGroup

#: Template order of modalities.
MODALITY_ORDER = ("text", "image", "audio", "video", "other")


@dataclass(frozen=True, slots=True)
class ModalityTotal:
    """The stored items in scope of one modality."""

    modality: str
    items: int
    bytes: int
    tokens: int
    #: Text items whose token count was estimated from their size.
    estimated: int
    run_ids: tuple[int, ...]


class RankedDomain(NamedTuple):
    """A registrable domain with the size of its stored content in scope (a tuple: there are
    tens of thousands)."""

    rank: int
    domain: str
    size: int
    items: int
    bytes: int


def modality_totals(groups: Iterable[KindGroup]) -> list[ModalityTotal]:
    """Return per modality present, in template order, the items, bytes and tokens in scope."""
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    runs: dict[str, set[int]] = defaultdict(set)
    for g in groups:
        row = acc[g.modality]
        row[0] += g.items
        row[1] += g.bytes
        row[2] += g.tokens
        row[3] += g.estimated
        runs[g.modality].add(g.run_id)
    order = {m: n for n, m in enumerate(MODALITY_ORDER)}
    out = []
    for m in sorted(acc, key=lambda m: (order.get(m, len(order)), m)):
        items, size, tokens, estimated = acc[m]
        out.append(ModalityTotal(m, items, size, tokens, estimated, tuple(sorted(runs[m]))))
    return out


def period(groups: Iterable[KindGroup]) -> tuple[dt.datetime, dt.datetime] | None:
    """Return the earliest and latest collection time of the items in scope (None: no items)."""
    first = last = None
    for g in groups:
        first = g.first if first is None or g.first < first else first
        last = g.last if last is None or g.last > last else last
    if first is None or last is None:
        return None
    return first, last


def rank_domains(groups: Iterable[DomainGroup], metric: str) -> list[RankedDomain]:
    """Return every registrable domain in scope ranked by content size, largest first.

    *metric* is ``bytes`` (all modalities) or ``tokens`` (text tokens; other modalities count
    zero). Ties are broken by domain name, ascending, so the order is deterministic.
    """
    size: dict[str, int] = defaultdict(int)
    items: dict[str, int] = defaultdict(int)
    volume: dict[str, int] = defaultdict(int)
    for g in groups:
        size[g.domain] += g.tokens if metric == "tokens" else g.bytes
        items[g.domain] += g.items
        volume[g.domain] += g.bytes
    ordered = sorted(size, key=lambda d: (-size[d], d))
    return [
        RankedDomain(rank, d, size[d], items[d], volume[d]) for rank, d in enumerate(ordered, 1)
    ]


def media_types(groups: Iterable[KindGroup]) -> list[tuple[str, int]]:
    """Return ``(media type, items)`` in scope, most items first (parameters dropped)."""
    counts: dict[str, int] = defaultdict(int)
    for g in groups:
        media = g.content_type.split(";", 1)[0].strip().lower() or "unknown"
        counts[media] += g.items
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def contributing_runs(groups: Iterable[KindGroup]) -> list[int]:
    """Return the ids of the runs that stored items in scope, ascending."""
    return sorted({g.run_id for g in groups})
