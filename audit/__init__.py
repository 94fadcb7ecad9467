"""Heed's audit trail: every decision with its evidence, durable and queryable.

Write with :class:`AuditStore` (the crawler's only writer); read with the functions of
:mod:`audit.queries`, which return frozen dataclasses.
"""

from __future__ import annotations

from audit.engine import DEFAULT_SQLITE_FILE, ENV_VAR, resolve_url
from audit.errors import (
    AuditError,
    DatabaseURLError,
    IntegrityError,
    NotFoundError,
    SchemaError,
    TargetError,
)
from audit.queries import evidence, fetches, lookup, open_reader
from audit.records import DecisionRecord, FetchRecord, ItemRecord, SignalRecord, StoredDocument
from audit.store import AuditStore
from audit.target import Target, TargetKind, parse_target, parse_when
from audit.vocab import Modality, estimate_tokens
from optout.action import Action

__all__ = [
    "DEFAULT_SQLITE_FILE",
    "ENV_VAR",
    "Action",
    "AuditError",
    "AuditStore",
    "DatabaseURLError",
    "DecisionRecord",
    "FetchRecord",
    "IntegrityError",
    "ItemRecord",
    "Modality",
    "NotFoundError",
    "SchemaError",
    "SignalRecord",
    "StoredDocument",
    "Target",
    "TargetError",
    "TargetKind",
    "estimate_tokens",
    "evidence",
    "fetches",
    "lookup",
    "open_reader",
    "parse_target",
    "parse_when",
    "resolve_url",
]
