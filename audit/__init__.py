"""Heed's audit trail: every decision with its evidence, durable and queryable.

Write with :class:`AuditStore` (``AuditStore.open(db)``, then ``start_run``, ``record``,
``record_item``; the crawler's only writer); read with :func:`open_reader` and the query
functions :func:`lookup`, :func:`fetches` and :func:`evidence`, which return frozen records.
The published documents read through the reporting queries (:mod:`audit.reporting`:
:func:`crawl_runs`, :func:`policy_record`, :func:`denylist_versions`, :func:`action_counts`,
:func:`summary_data`), which return values; nothing outside audit/ needs its tables. The
public domain look-up of ``heed serve`` reads :func:`domain_view` (aggregates per host and
month, the signal documents and what they meant, content kept after a reservation) and serves
the documents with :func:`signal_document`. Its domain verification keeps requests and
credentials with :func:`start_verification`, :func:`find_verification`, :func:`record_check`
and :func:`find_credential` (:mod:`audit.owners`), and a verified owner reads their domain's
decisions page by page with :func:`owner_decisions`. The reservations registry (reservations
notified other than on the site) is kept with :func:`add_registry_entry` and
:func:`remove_registry_entry` and read with :func:`registry_in_force` and
:func:`registry_history` (:mod:`audit.registry`).

The names below are loaded on first use (PEP 562), so that a component needing only the URL
helpers (:mod:`audit.urls`, which the crawler's denylist and scope use) does not load
SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from audit.complaints import ComplaintFigures, complaint_figures
    from audit.engine import DEFAULT_SQLITE_FILE, ENV_VAR, resolve_url
    from audit.errors import (
        AuditError,
        DatabaseURLError,
        IntegrityError,
        NotFoundError,
        SchemaError,
        TargetError,
    )
    from audit.log import LogReader, StoredCheckpoint, checkpoints
    from audit.logcheck import LogProblem, LogReport, verify_log
    from audit.owners import (
        Credential,
        Verification,
        find_credential,
        find_verification,
        record_check,
        start_verification,
    )
    from audit.queries import evidence, fetches, lookup, open_publisher, open_reader
    from audit.receiptcheck import ReceiptReport, verify_receipt
    from audit.receipts import ReceiptError, build_receipt, decision_for_url
    from audit.recheck import RecheckFigures, recheck_figures
    from audit.records import (
        DecisionRecord,
        FetchRecord,
        ItemRecord,
        SignalRecord,
        StoredDocument,
    )
    from audit.registry import (
        RegistryError,
        RegistryFigures,
        RegistryRecord,
        add_registry_entry,
        registry_figures,
        registry_history,
        registry_in_force,
        remove_registry_entry,
    )
    from audit.reporting.decisions import OwnerDecision, OwnerSignal, owner_decisions
    from audit.reporting.domains import SIGNAL_DOCUMENT_KINDS, domain_view, signal_document
    from audit.reporting.domainview import (
        DocumentVersion,
        DomainView,
        HostView,
        KeptItem,
        Reservation,
    )
    from audit.reporting.exclusions import NO_SIGNAL, Exclusion
    from audit.reporting.items import DomainGroup, KindGroup
    from audit.reporting.runs import (
        ACTIONS_QUERY,
        DENYLIST_QUERY,
        POLICY_QUERY,
        RUNS_QUERY,
        DenylistVersion,
        PolicyRecord,
        RunRecord,
        action_counts,
        crawl_runs,
        denylist_versions,
        policy_record,
    )
    from audit.reporting.scope import SCOPE_METHOD, Scope, ScopeRun
    from audit.reporting.summary import ActionCount, SummaryData, summary_data
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
    "Credential": "audit.owners",
    "Verification": "audit.owners",
    "find_credential": "audit.owners",
    "find_verification": "audit.owners",
    "record_check": "audit.owners",
    "start_verification": "audit.owners",
    "OwnerDecision": "audit.reporting.decisions",
    "OwnerSignal": "audit.reporting.decisions",
    "owner_decisions": "audit.reporting.decisions",
    "evidence": "audit.queries",
    "fetches": "audit.queries",
    "lookup": "audit.queries",
    "open_publisher": "audit.queries",
    "open_reader": "audit.queries",
    "ComplaintFigures": "audit.complaints",
    "complaint_figures": "audit.complaints",
    "RegistryError": "audit.registry",
    "RegistryRecord": "audit.registry",
    "RecheckFigures": "audit.recheck",
    "recheck_figures": "audit.recheck",
    "RegistryFigures": "audit.registry",
    "registry_figures": "audit.registry",
    "add_registry_entry": "audit.registry",
    "registry_history": "audit.registry",
    "registry_in_force": "audit.registry",
    "remove_registry_entry": "audit.registry",
    "DecisionRecord": "audit.records",
    "FetchRecord": "audit.records",
    "ItemRecord": "audit.records",
    "SignalRecord": "audit.records",
    "StoredDocument": "audit.records",
    "SIGNAL_DOCUMENT_KINDS": "audit.reporting.domains",
    "domain_view": "audit.reporting.domains",
    "signal_document": "audit.reporting.domains",
    "DocumentVersion": "audit.reporting.domainview",
    "DomainView": "audit.reporting.domainview",
    "HostView": "audit.reporting.domainview",
    "KeptItem": "audit.reporting.domainview",
    "Reservation": "audit.reporting.domainview",
    "NO_SIGNAL": "audit.reporting.exclusions",
    "Exclusion": "audit.reporting.exclusions",
    "DomainGroup": "audit.reporting.items",
    "KindGroup": "audit.reporting.items",
    "ACTIONS_QUERY": "audit.reporting.runs",
    "DENYLIST_QUERY": "audit.reporting.runs",
    "POLICY_QUERY": "audit.reporting.runs",
    "RUNS_QUERY": "audit.reporting.runs",
    "DenylistVersion": "audit.reporting.runs",
    "PolicyRecord": "audit.reporting.runs",
    "RunRecord": "audit.reporting.runs",
    "action_counts": "audit.reporting.runs",
    "crawl_runs": "audit.reporting.runs",
    "denylist_versions": "audit.reporting.runs",
    "policy_record": "audit.reporting.runs",
    "SCOPE_METHOD": "audit.reporting.scope",
    "Scope": "audit.reporting.scope",
    "ScopeRun": "audit.reporting.scope",
    "ActionCount": "audit.reporting.summary",
    "SummaryData": "audit.reporting.summary",
    "summary_data": "audit.reporting.summary",
    "AuditStore": "audit.store",
    "Target": "audit.target",
    "TargetKind": "audit.target",
    "parse_target": "audit.target",
    "parse_when": "audit.target",
    "registrable_domain": "audit.urls",
    "Modality": "audit.vocab",
    "estimate_tokens": "audit.vocab",
    "LogProblem": "audit.logcheck",
    "LogReport": "audit.logcheck",
    "verify_log": "audit.logcheck",
    "LogReader": "audit.log",
    "StoredCheckpoint": "audit.log",
    "checkpoints": "audit.log",
    "ReceiptError": "audit.receipts",
    "build_receipt": "audit.receipts",
    "decision_for_url": "audit.receipts",
    "ReceiptReport": "audit.receiptcheck",
    "verify_receipt": "audit.receiptcheck",
    "Action": "optout.action",
    #: The engine type the query functions take (an open audit database: :func:`open_reader`).
    "Engine": "sqlalchemy",
}

__all__ = [
    "ACTIONS_QUERY",
    "DEFAULT_SQLITE_FILE",
    "DENYLIST_QUERY",
    "ENV_VAR",
    "NO_SIGNAL",
    "POLICY_QUERY",
    "RUNS_QUERY",
    "SCOPE_METHOD",
    "SIGNAL_DOCUMENT_KINDS",
    "Action",
    "ActionCount",
    "AuditError",
    "AuditStore",
    "ComplaintFigures",
    "Credential",
    "DatabaseURLError",
    "DecisionRecord",
    "DenylistVersion",
    "DocumentVersion",
    "DomainGroup",
    "DomainView",
    "Engine",
    "Exclusion",
    "FetchRecord",
    "HostView",
    "IntegrityError",
    "ItemRecord",
    "KeptItem",
    "KindGroup",
    "LogProblem",
    "LogReader",
    "LogReport",
    "Modality",
    "NotFoundError",
    "OwnerDecision",
    "OwnerSignal",
    "PolicyRecord",
    "ReceiptError",
    "ReceiptReport",
    "RecheckFigures",
    "RegistryError",
    "RegistryFigures",
    "RegistryRecord",
    "Reservation",
    "RunRecord",
    "SchemaError",
    "Scope",
    "ScopeRun",
    "SignalRecord",
    "StoredCheckpoint",
    "StoredDocument",
    "SummaryData",
    "Target",
    "TargetError",
    "TargetKind",
    "Verification",
    "action_counts",
    "add_registry_entry",
    "build_receipt",
    "checkpoints",
    "complaint_figures",
    "crawl_runs",
    "decision_for_url",
    "denylist_versions",
    "domain_view",
    "estimate_tokens",
    "evidence",
    "fetches",
    "find_credential",
    "find_verification",
    "lookup",
    "open_publisher",
    "open_reader",
    "owner_decisions",
    "parse_target",
    "parse_when",
    "policy_record",
    "recheck_figures",
    "record_check",
    "registrable_domain",
    "registry_figures",
    "registry_history",
    "registry_in_force",
    "remove_registry_entry",
    "resolve_url",
    "signal_document",
    "start_verification",
    "summary_data",
    "verify_log",
    "verify_receipt",
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
