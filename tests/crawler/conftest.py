"""Fixtures of the crawler tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.support.services import service_url

REDIS_ENV = "HEED_TEST_REDIS_URL"
#: Runs named so in the test Redis are deleted after each test that uses :func:`redis_client`.
UNIT_RUNS = "t-unit-"


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    """Yield a client of the test Redis (runs named ``t-unit-…`` are deleted afterwards)."""
    client = redis.Redis.from_url(service_url(REDIS_ENV))
    yield client
    for key in client.scan_iter(match=f"heed:{{{UNIT_RUNS}*"):
        client.delete(key)
    client.close()
