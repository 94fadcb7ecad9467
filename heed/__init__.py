"""Heed's app layer: the ``heed`` command line, the demo, and the live check's HTTP client.

The only package that may import every other one (docs/architecture.md): it puts the engine
(:mod:`optout`), the crawl (:mod:`crawler`), the evidence (:mod:`audit`) and the published
documents (:mod:`policy`) behind one command line. Nothing here is imported by those packages.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def heed_version() -> str:
    """Return the installed Heed version (``0`` when run from an uninstalled tree)."""
    try:
        return version("heed")
    except PackageNotFoundError:
        return "0"


__all__ = ["heed_version"]
