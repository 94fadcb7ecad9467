"""Turn optout/'s value objects into the plain row tuples the writer inserts.

Everything here is on the writer's hot path, so it builds tuples directly (no ORM objects, no
per-row SQLAlchemy type processing) and caches what repeats. Content-derived ids (origins,
signals, outcomes, document fetches) are the first 63 bits of a sha256, so that every writer, in every
process, gives the same thing the same id without asking the database, and writing it twice
stores it once. The writer checks new ids against what is stored and fails loudly on a
collision (:class:`audit.errors.IntegrityError`) rather than conflating two statements.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from audit.models import to_micros
from optout.decision import Signal
from optout.document import FetchResult

#: Signal fields with a column of their own; any other field a newer optout/ adds goes to
#: the ``extra`` JSON column, so that no evidence is silently dropped.
SIGNAL_COLUMNS = (
    "protocol",
    "crawl",
    "purposes",
    "reason",
    "source",
    "status",
    "rule",
    "line",
    "sha256",
    "parser",
    "flags",
    "licence_url",
    "licence_required",
    "fetched_at",
)
_EXTRA_FIELDS = tuple(f.name for f in fields(Signal) if f.name not in SIGNAL_COLUMNS)

#: A row tuple of the ``signal`` table without its id and digest (also the cache key).
SignalValues = tuple[Any, ...]


def hash_id(*parts: object) -> int:
    """Return a 63-bit id derived from *parts* (their canonical JSON)."""
    return digest_id(canonical_digest(parts))


_CANONICAL = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


_RUN_MIX = 0x9E3779B97F4A7C15
_ATTEMPT_MIX = 0xC2B2AE3D27D4EB4F
_MASK63 = (1 << 63) - 1


def request_hash(run_id: int, key: str, attempt: int) -> int:
    """Return the 63-bit hash of a request attempt that ``decision.request_hash`` holds.

    A key that is already a hash (hex, 32 characters or more, like the crawler's blake2b
    fingerprints) is used as it is, for speed; any other key is hashed with blake2b first. The
    run and attempt are mixed in, so the one unique integer index covers all three.
    """
    raw = None
    if len(key) >= 32 and key.isalnum():
        try:
            raw = bytes.fromhex(key)
        except ValueError:
            raw = None
    if raw is None:
        raw = hashlib.blake2b(key.encode(), digest_size=8).digest()
    base = int.from_bytes(raw[:8], "big")
    return (base ^ (run_id * _RUN_MIX) ^ (attempt * _ATTEMPT_MIX)) & _MASK63


def canonical_digest(value: object) -> str:
    """Return the sha256 of the canonical JSON of *value* (compact, keys sorted, UTF-8)."""
    return hashlib.sha256(_CANONICAL.encode(value).encode()).hexdigest()


def digest_id(digest: str) -> int:
    """Return the non-negative 63-bit id of a hex digest."""
    return int(digest[:16], 16) >> 1


def purposes_text(purposes: Any) -> str:
    """Return per-purpose verdicts as ``tdm=reserved;train-ai=unknown`` (order kept)."""
    return ";".join([p._value_ + "=" + v._value_ for p, v in purposes.items()])


def parse_purposes(text: str) -> dict[str, str]:
    """Invert :func:`purposes_text`."""
    return dict(part.split("=", 1) for part in text.split(";") if "=" in part)


def signal_values(signal: Signal) -> SignalValues:
    """Return the column values of *signal* (enums as their string values)."""
    crawl = signal.crawl
    extra = None
    if _EXTRA_FIELDS:
        plain = signal.to_dict()
        extra = json.dumps({name: plain.get(name) for name in _EXTRA_FIELDS}, sort_keys=True)
    return (
        signal.protocol._value_,
        None if crawl is None else crawl._value_,
        purposes_text(signal.purposes),
        signal.verdict,
        signal.reason,
        signal.source,
        signal.status,
        signal.rule,
        signal.line,
        signal.sha256,
        signal.parser,
        ",".join(signal.flags),
        signal.licence_url,
        bool(signal.licence_required),
        signal.fetched_at,
        extra,
    )


def signal_key(signal: Signal) -> tuple[Any, ...]:
    """Return a cheap hashable key equal for equal signals (the writer's cache key)."""
    return (
        signal.protocol,
        signal.crawl,
        tuple(signal.purposes.items()),
        signal.reason,
        signal.source,
        signal.status,
        signal.rule,
        signal.line,
        signal.sha256,
        signal.parser,
        signal.flags,
        signal.licence_url,
        signal.licence_required,
        signal.fetched_at,
        *(repr(getattr(signal, name)) for name in _EXTRA_FIELDS),
    )


def parse_time(text: str | None) -> dt.datetime | None:
    """Return an ISO 8601 time as aware UTC (naive means UTC), None if absent or unparseable."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utc(value: dt.datetime) -> dt.datetime:
    """Return *value* as aware UTC (naive means UTC)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def time_converter(dialect: str) -> Callable[[dt.datetime], Any]:
    """Return the function turning a datetime into the driver value for *dialect*."""
    return to_micros if dialect == "sqlite" else utc


def _sqlite_now() -> int:
    return time.time_ns() // 1000


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def now_function(dialect: str) -> Callable[[], Any]:
    """Return the function giving the current time as the driver value for *dialect*.

    (The crawler records "now" for every decision: on SQLite that is one integer, no datetime.)
    """
    return _sqlite_now if dialect == "sqlite" else _utc_now


def fetch_values(result: FetchResult, kind: str) -> tuple[Any, ...]:
    """Return the identifying values of one retrieval (hashed into the fetch id)."""
    headers = json.dumps([list(pair) for pair in result.headers], ensure_ascii=False)
    return (
        result.sha256,
        kind,
        result.url,
        result.final_url,
        result.status,
        result.error,
        result.redirects,
        bool(result.truncated),
        headers,
        result.fetched_at,
    )
