"""Fixtures of the portal tests (helpers in tests/heed/serve/portal.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.heed.serve.portal import Portal, build_verdicts_db, portal, run_demo


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the audit database of one ``heed demo`` run (read-only for the tests)."""
    return run_demo(tmp_path_factory.mktemp("demo") / "heed-demo")


@pytest.fixture(scope="session")
def verdicts_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the database of the rare verdicts."""
    return build_verdicts_db(tmp_path_factory.mktemp("verdicts") / "heed.db")


@pytest.fixture
def demo(demo_db: Path) -> Iterator[Portal]:
    """Yield the portal over the demo database."""
    with portal(demo_db) as app:
        yield app
