"""Heed's audit trail: every decision with its evidence, durable and queryable.

Write with :class:`AuditStore` (``AuditStore.open(db)``, then ``start_run``, ``record``,
``record_item``; the crawler's only writer); read with :func:`open_reader` and the query
functions :func:`lookup`, :func:`fetches` and :func:`evidence`, which return frozen records.

The names below are loaded on first use (PEP 562), so that a component needing only the URL
helpers (:mod:`audit.urls`, which the crawler's denylist and scope use) does not load
SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from audit.records import (
        DecisionRecord,
        FetchRecord,
        ItemRecord,
        SignalRecord,
        StoredDocument,
    )
    from audit.store import AuditStore
    from audit.target import Target, TargetKind, parse_target, parse_when
    from audit.urls import registrable_domain
    from audit.vocab import Modality, estimate_tokens
    from optout.action import Action

#: Public name → the module that defines it.
_EXPORTS = {
    "DEFAULT_SQLITE_FILE": "audit.engine",
    "ENV_VAR": "audit.engine",
    "resolve_url": "audit.engine",
    "AuditError": "audit.errors",
    "DatabaseURLError": "audit.errors",
    "IntegrityError": "audit.errors",
    "NotFoundError": "audit.errors",
    "SchemaError": "audit.errors",
    "TargetError": "audit.errors",
    "evidence": "audit.queries",
    "fetches": "audit.queries",
    "lookup": "audit.queries",
    "open_reader": "audit.queries",
    "DecisionRecord": "audit.records",
    "FetchRecord": "audit.records",
    "ItemRecord": "audit.records",
    "SignalRecord": "audit.records",
    "StoredDocument": "audit.records",
    "AuditStore": "audit.store",
    "Target": "audit.target",
    "TargetKind": "audit.target",
    "parse_target": "audit.target",
    "parse_when": "audit.target",
    "registrable_domain": "audit.urls",
    "Modality": "audit.vocab",
    "estimate_tokens": "audit.vocab",
    "Action": "optout.action",
}

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
    "registrable_domain",
    "resolve_url",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'audit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
