"""What an AI model provider publishes and answers, built from the audit trail and heed.toml.

For a Python user, one function (or pair) per document:

* the EU *Public Summary of Training Content*: :func:`build_summary` (the versioned body from the
  audit database), :func:`render_summary` (Markdown, HTML or JSON), :func:`check_summary` (what
  is still missing), :func:`publish_summary` (record a new version);
* the copyright policy (Code of Practice Measures 1.1–1.5): :func:`build_copyright_policy`;
* the crawler information page and its Atom feed: :func:`build_crawler_info`, :func:`atom_feed`;
* their shared inputs: :func:`gather` (the audit database, heed.toml, and the crawler's
  :class:`CrawlerDefaults` handed in by the caller), and :func:`load_provider_config`.

policy/ imports neither the crawler nor the command line (tests/test_layers.py). Names load on
first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from policy.provider import ProviderConfig, ProviderConfigError, load_provider_config
    from policy.publish.copyright import build as build_copyright_policy
    from policy.publish.crawlerinfo import build as build_crawler_info
    from policy.publish.feed import atom_feed
    from policy.publish.inputs import CrawlerDefaults, InputError, Inputs, gather
    from policy.summary.build import build_summary, publish_summary
    from policy.summary.check import check as check_summary
    from policy.summary.render import render_summary

#: Public name → (module, name there).
_EXPORTS = {
    "ProviderConfig": ("policy.provider", "ProviderConfig"),
    "ProviderConfigError": ("policy.provider", "ProviderConfigError"),
    "load_provider_config": ("policy.provider", "load_provider_config"),
    "build_copyright_policy": ("policy.publish.copyright", "build"),
    "build_crawler_info": ("policy.publish.crawlerinfo", "build"),
    "atom_feed": ("policy.publish.feed", "atom_feed"),
    "CrawlerDefaults": ("policy.publish.inputs", "CrawlerDefaults"),
    "InputError": ("policy.publish.inputs", "InputError"),
    "Inputs": ("policy.publish.inputs", "Inputs"),
    "gather": ("policy.publish.inputs", "gather"),
    "build_summary": ("policy.summary.build", "build_summary"),
    "publish_summary": ("policy.summary.build", "publish_summary"),
    "check_summary": ("policy.summary.check", "check"),
    "render_summary": ("policy.summary.render", "render_summary"),
}

__all__ = [
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
]


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'policy' has no attribute {name!r}")
    value = getattr(importlib.import_module(target[0]), target[1])
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
