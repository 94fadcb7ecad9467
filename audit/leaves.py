"""What a leaf of the audit log holds: one committed row, in a canonical byte form. Pure.

A leaf's data is the table's name, a space, and the JSON array of the row's values in the
table's column order (:data:`LEAF_COLUMNS`), encoded by orjson: compact, UTF-8, no spaces.
Times are integer microseconds since the Unix epoch, UTC, whatever the database stores, so
that a row read back from SQLite or PostgreSQL gives the same bytes it was logged with. A
document's leaf holds its sha256 and size, not its bytes: the sha256 binds them (the verifier
hashes the stored bytes again).

The writer hashes the rows it has just inserted; ``heed db verify`` hashes the rows it reads;
a receipt carries a leaf's data, so whoever holds it can hash it again and read its fields.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

#: The tables the log covers, in the order a batch's leaves are appended (the writer's
#: dependency order), with the columns each leaf holds, in table column order.
LEAF_COLUMNS: dict[str, tuple[str, ...]] = {
    "origin": ("id", "origin", "scheme", "host", "port", "domain"),
    "document": ("sha256", "size", "first_seen"),
    "document_fetch": (
        "id",
        "sha256",
        "run_id",
        "origin_id",
        "kind",
        "url",
        "final_url",
        "status",
        "error",
        "redirects",
        "truncated",
        "headers",
        "fetched_at",
        "recorded_at",
    ),
    "signal": (
        "id",
        "digest",
        "protocol",
        "crawl",
        "purposes",
        "verdict",
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
        "extra",
    ),
    "outcome": (
        "id",
        "digest",
        "crawl",
        "use",
        "purpose",
        "purposes",
        "reasons",
        "signal_ids",
        "complete",
        "licence_required",
        "policy_id",
    ),
    "decision": (
        "id",
        "run_id",
        "request_key",
        "attempt",
        "time",
        "origin_id",
        "url",
        "outcome_id",
        "action",
        "http_status",
        "denylist_version",
        "request_hash",
    ),
    "stored_item": (
        "id",
        "decision_id",
        "time",
        "url",
        "content_type",
        "modality",
        "bytes",
        "tokens",
        "content_sha256",
    ),
}
#: The key column of each logged table (what a reference to a row names).
KEY_COLUMN = {table: "sha256" if table == "document" else "id" for table in LEAF_COLUMNS}

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)
_PREFIX = {table: b"\x00" + table.encode() + b" " for table in LEAF_COLUMNS}
_sha256 = hashlib.sha256
_dumps = orjson.dumps
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME


class LeafError(ValueError):
    """Leaf data that is not a row of a logged table."""


def _micros(value: Any) -> int:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return int((value - _EPOCH) // _MICROSECOND)
    raise TypeError(f"no leaf form for {type(value).__name__}")


def leaf_data(table: str, values: Sequence[Any]) -> bytes:
    """Return the data of the leaf for the row of *table* with the leaf column *values*."""
    return table.encode() + b" " + _dumps(values, default=_micros, option=_OPTIONS)


def leaf_hashes(table: str, rows: Iterable[Sequence[Any]]) -> list[bytes]:
    """Return the leaf hashes (RFC 9162: ``H(0x00 || data)``) of *rows* of *table*, each the
    leaf column values in order. The writer's hot path: one encode and one hash a row."""
    prefix = _PREFIX[table]
    return [
        _sha256(prefix + _dumps(row, default=_micros, option=_OPTIONS)).digest() for row in rows
    ]


def parse_leaf(data: bytes) -> tuple[str, dict[str, Any]]:
    """Return the table and the named values of the leaf *data*; LeafError if it is not one."""
    name, sep, body = data.partition(b" ")
    table = name.decode("ascii", "replace")
    if not sep or table not in LEAF_COLUMNS:
        raise LeafError(f"not a leaf of a logged table: {data[:40]!r}")
    try:
        values = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise LeafError(f"{table} leaf: not JSON") from None
    columns = LEAF_COLUMNS[table]
    if not isinstance(values, list) or len(values) != len(columns):
        raise LeafError(f"{table} leaf: not {len(columns)} values")
    if leaf_data(table, values) != data:
        raise LeafError(f"{table} leaf: not in canonical form")
    return table, dict(zip(columns, values, strict=True))


def time_of(micros: int | None) -> str | None:
    """Return a leaf's time (microseconds) as ISO 8601 UTC, for people to read."""
    if micros is None:
        return None
    return (_EPOCH + dt.timedelta(microseconds=micros)).isoformat().replace("+00:00", "Z")
