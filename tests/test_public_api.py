"""Each package's public surface, guarded (httpx's tests/test_exported_members.py is the model).

A name a Python user relies on must not disappear unannounced, and an internal name must not leak
into a package's namespace: the lists below are the contract, and changing them is a decision.
"""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PUBLIC: dict[str, list[str]] = {
    "optout": [
        "DEFAULT_POLICY",
        "PROTOCOL_SET_VERSION",
        "URL",
        "Action",
        "Crawl",
        "Decision",
        "FetchResult",
        "InvalidURL",
        "Policy",
        "PolicyError",
        "Protocol",
        "Purpose",
        "Signal",
        "Site",
        "SiteDocuments",
        "Use",
        "Verdict",
        "after_action",
        "before_action",
        "combine",
        "origin_of",
        "parse_url",
        "policy_from_knobs",
    ],
    "audit": [
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
    ],
    "crawler": [
        "AccessRestricted",
        "CrawlConfigError",
        "CrawlOptions",
        "CrawlOutcome",
        "Denylist",
        "Denylisted",
        "FetchFailed",
        "OptoutConfig",
        "OptoutConfigError",
        "OptoutDeferred",
        "OptoutIgnoreRequest",
        "RightsReservationMiddleware",
        "RightsReserved",
        "RobotsDisallowed",
        "SiteCache",
        "WebSpider",
        "optout_decided",
        "optout_site_loaded",
        "project_settings",
        "run_crawl",
    ],
    "policy": [
        "CrawlerDefaults",
        "InputError",
        "Inputs",
        "ProviderConfig",
        "ProviderConfigError",
        "atom_feed",
        "build_copyright_policy",
        "build_crawler_info",
        "build_summary",
        "check_summary",
        "gather",
        "load_provider_config",
        "publish_summary",
        "render_summary",
    ],
    "heed.cli": ["main"],
}


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_exports_are_the_contract(name: str) -> None:
    """``__all__`` is exactly the agreed list, sorted (ruff RUF022), each name once."""
    package = importlib.import_module(name)
    assert package.__all__ == PUBLIC[name]


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_export_resolves(name: str) -> None:
    """Every exported name is there (lazily loaded packages load it on first use)."""
    package = importlib.import_module(name)
    for member in package.__all__:
        assert getattr(package, member) is not None, member
    assert sorted(dir(package)) == sorted(set(dir(package)))


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_no_internal_name_leaks(name: str) -> None:
    """Every public, non-module name in the package's namespace is exported (run in a fresh
    interpreter, after every export was touched, so lazily loaded names count too)."""
    code = (
        "import importlib, inspect, json\n"
        f"p = importlib.import_module({name!r})\n"
        "[getattr(p, n) for n in p.__all__]\n"
        "names = [n for n, v in vars(p).items()\n"
        "         if not n.startswith('_') and not inspect.ismodule(v)\n"
        "         and n not in ('annotations', 'TYPE_CHECKING', 'Any', 'importlib')]\n"
        "print(json.dumps(sorted(set(names) - set(p.__all__))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]", out


def test_lazy_exports_are_declared_for_type_checkers() -> None:
    """A lazily loaded package imports each export under TYPE_CHECKING too (mypy sees them)."""
    for name in ("audit", "crawler", "policy"):
        source = inspect.getsource(importlib.import_module(name))
        for member in PUBLIC[name]:
            assert f" {member}" in source.split("if TYPE_CHECKING:", 1)[1].split("_EXPORTS")[0], (
                name,
                member,
            )
