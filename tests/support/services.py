"""The local services some tests need (PostgreSQL, Redis), and waiting for a condition."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest


def service_url(env: str) -> str:
    """Return the service URL in *env*; skip the test if unset (fail it in CI, which sets
    ``HEED_TEST_REQUIRE_SERVICES``)."""
    url = os.environ.get(env)
    if not url:
        if os.environ.get("HEED_TEST_REQUIRE_SERVICES"):
            pytest.fail(f"{env} is not set but HEED_TEST_REQUIRE_SERVICES is (CI)")
        pytest.skip(f"{env} is not set")
    return url


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll *condition* until it holds (no fixed sleep: each round yields for a moment)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)
