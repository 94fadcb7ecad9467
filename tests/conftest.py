"""Shared pytest fixtures for Heed's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.virtualweb import VirtualWeb, proxy_env

# -- virtual web (tests/support/virtualweb.py) ---------------------------------------------------


@pytest.fixture
def virtual_web(monkeypatch: pytest.MonkeyPatch) -> Iterator[VirtualWeb]:
    """Yield a started VirtualWeb, with this test's proxy variables pointing at it."""
    with VirtualWeb() as web:
        for name, value in proxy_env(web).items():
            monkeypatch.setenv(name, value)
        yield web
    # A handler that raised answered 500; surface it rather than let the test pass by accident.
    web.assert_no_errors()
