"""Read-only views of the audit trail: frozen dataclasses that the look-ups return."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from optout.decision import Crawl, Protocol, Purpose, Signal, Verdict


def iso(value: dt.datetime | None) -> str | None:
    """Return *value* as ISO 8601 UTC with a ``Z``, or None."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalRecord:
    """One stored signal: a protocol's statement with its evidence."""

    id: int
    protocol: str
    verdict: str
    crawl: str | None
    purposes: Mapping[str, str]
    reason: str
    detail: str
    source: str | None
    status: int | None
    rule: str | None
    line: int | None
    #: sha256 of the document the signal was read from (``heed evidence`` prints it).
    sha256: str | None
    parser: str
    flags: tuple[str, ...]
    licence_url: str | None
    licence_required: bool
    fetched_at: str | None
    extra: Mapping[str, Any] | None
    #: Whether the exact bytes of that document are stored.
    document_stored: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the signal as JSON-ready data (the ``heed check --json`` shape, and more)."""
        data: dict[str, Any] = {
            "protocol": self.protocol,
            "crawl": self.crawl,
            "purposes": dict(self.purposes),
            "reason": self.reason,
            "source": self.source,
            "status": self.status,
            "rule": self.rule,
            "line": self.line,
            "sha256": self.sha256,
            "parser": self.parser,
            "flags": list(self.flags),
            "licence_url": self.licence_url,
            "licence_required": self.licence_required,
            "fetched_at": self.fetched_at,
            "verdict": self.verdict,
            "detail": self.detail,
            "document_stored": self.document_stored,
        }
        if self.extra:
            data.update({k: v for k, v in self.extra.items() if k not in data})
        return data


def signal_detail(row: Mapping[str, Any]) -> str:
    """Return the one-line evidence of a stored signal, as optout's Signal.detail gives it."""
    try:
        signal = Signal(
            protocol=Protocol(row["protocol"]),
            crawl=Crawl(row["crawl"]) if row["crawl"] else None,
            purposes={Purpose(k): Verdict(v) for k, v in row["purposes"].items()},
            reason=row["reason"],
            rule=row["rule"],
            line=row["line"],
        )
    except ValueError:  # a value this optout/ does not know (a newer writer): same format
        where = f"line {row['line']}: " if row["line"] is not None else ""
        rule = f" [{where}{row['rule']}]" if row["rule"] is not None else ""
        return f"{row['reason']}{rule}"
    return signal.detail


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemRecord:
    """Content that entered the dataset."""

    id: int
    time: dt.datetime
    url: str
    content_type: str
    modality: str
    bytes: int
    tokens: int | None
    content_sha256: str | None

    def to_dict(self) -> dict[str, Any]:
        """Return the item as JSON-ready data."""
        return {
            "id": self.id,
            "time": iso(self.time),
            "url": self.url,
            "content_type": self.content_type,
            "modality": self.modality,
            "bytes": self.bytes,
            "tokens": self.tokens,
            "content_sha256": self.content_sha256,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRecord:
    """One request attempt as recorded: what was decided, why, and what was done."""

    id: int
    run_id: int
    crawler: str
    product_token: str
    time: dt.datetime
    url: str
    origin: str
    host: str
    domain: str
    crawl: str
    use: str
    purpose: str
    purposes: Mapping[str, str]
    action: str
    reasons: tuple[str, ...]
    complete: bool
    licence_required: bool
    http_status: int | None
    denylist_version: str | None
    request_key: str | None
    attempt: int
    policy_digest: str
    protocol_set: str
    signals: tuple[SignalRecord, ...]
    item: ItemRecord | None

    @property
    def stored(self) -> bool:
        """Return whether content from this attempt entered the dataset."""
        return self.item is not None

    def to_dict(self) -> dict[str, Any]:
        """Return the decision as JSON-ready data (one element of ``heed status --json``)."""
        return {
            "id": self.id,
            "url": self.url,
            "time": iso(self.time),
            "crawl": self.crawl,
            "use": self.use,
            "purpose": self.purpose,
            "purposes": dict(self.purposes),
            "stored": self.stored,
            "action": self.action,
            "reasons": list(self.reasons),
            "signals": [s.to_dict() for s in self.signals],
            "item": self.item.to_dict() if self.item else None,
            "origin": self.origin,
            "host": self.host,
            "domain": self.domain,
            "http_status": self.http_status,
            "complete": self.complete,
            "licence_required": self.licence_required,
            "denylist_version": self.denylist_version,
            "run": {
                "id": self.run_id,
                "crawler": self.crawler,
                "product_token": self.product_token,
            },
            "request_key": self.request_key,
            "attempt": self.attempt,
            "policy_digest": self.policy_digest,
            "protocol_set": self.protocol_set,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchRecord:
    """One retrieval of a signal document."""

    kind: str
    url: str
    final_url: str | None
    status: int | None
    error: str | None
    redirects: int
    truncated: bool
    headers: tuple[tuple[str, str], ...]
    fetched_at: dt.datetime | None
    recorded_at: dt.datetime
    run_id: int | None

    def to_dict(self) -> dict[str, Any]:
        """Return the retrieval as JSON-ready data."""
        return {
            "kind": self.kind,
            "url": self.url,
            "final_url": self.final_url,
            "status": self.status,
            "error": self.error,
            "redirects": self.redirects,
            "truncated": self.truncated,
            "headers": [list(pair) for pair in self.headers],
            "fetched_at": iso(self.fetched_at),
            "recorded_at": iso(self.recorded_at),
            "run_id": self.run_id,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredDocument:
    """A signal document's exact bytes (hash verified on read) and every retrieval of it."""

    sha256: str
    size: int
    body: bytes
    first_seen: dt.datetime
    fetches: tuple[FetchRecord, ...]
