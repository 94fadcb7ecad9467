"""Fixtures of the audit tests: every test runs on a real SQLite file and a real PostgreSQL.

PostgreSQL runs when ``HEED_TEST_POSTGRES_URL`` is set (``.ci/run`` sets it); each test gets a
schema of its own (``search_path``), dropped afterwards, so parallel and repeated runs never
collide. Without the variable the PostgreSQL half is skipped, unless
``HEED_TEST_REQUIRE_SERVICES`` is set (CI), where that is a failure; so is an unreachable server.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from audit import AuditStore
from audit.engine import make_engine, resolve_url
from optout.decision import Crawl, Decision, Policy, Protocol, Purpose, Signal, Verdict, combine
from optout.document import FetchResult

PG_ENV = "HEED_TEST_POSTGRES_URL"
T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def _driver(url: str) -> str:
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine | None]:
    """Yield an engine on the test PostgreSQL server, or None when none is configured."""
    url = os.environ.get(PG_ENV)
    if not url:
        yield None
        return
    engine = create_engine(_driver(url))
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg_admin: Engine | None
) -> Iterator[str]:
    """Yield the URL of a fresh, empty audit database on each backend."""
    if request.param == "sqlite":
        yield str(tmp_path / "audit.db")
        return
    if pg_admin is None:
        if os.environ.get("HEED_TEST_REQUIRE_SERVICES"):
            pytest.fail(f"{PG_ENV} is not set but HEED_TEST_REQUIRE_SERVICES is (CI)")
        pytest.skip(f"{PG_ENV} is not set")
    with postgres_schema(os.environ[PG_ENV], pg_admin) as (url, _, _):
        yield url


@contextmanager
def postgres_schema(base: str, admin: Engine | None = None) -> Iterator[tuple[str, Engine, str]]:
    """Create a schema of its own on the server at *base*; yield ``(URL, admin engine, schema)``,
    the URL's ``search_path`` being that schema; drop it afterwards."""
    engine = admin or create_engine(_driver(base))
    schema = f"heed_test_{uuid.uuid4().hex[:16]}"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}", engine, schema
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        if admin is None:
            engine.dispose()


@pytest.fixture
def store(db_url: str) -> Iterator[AuditStore]:
    """Yield an open store on a fresh database (closed afterwards)."""
    with AuditStore.open(db_url) as opened:
        yield opened


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """Yield a second, independent engine on the same database (a reader's view)."""
    eng = make_engine(resolve_url(db_url))
    yield eng
    eng.dispose()


def robots_fetch(origin: str, body: bytes = b"User-agent: *\nDisallow: /private/\n") -> FetchResult:
    """Return a robots.txt retrieval of *origin*."""
    return FetchResult(
        url=f"{origin}/robots.txt",
        status=200,
        headers=(("content-type", "text/plain"), ("etag", '"v1"')),
        body=body,
        fetched_at="2026-03-01T11:59:00Z",
    )


def robots_signal(doc: FetchResult, *, allowed: bool = True) -> Signal:
    """Return the robots.txt signal read from *doc*."""
    return Signal(
        protocol=Protocol.ROBOTS_TXT,
        crawl=Crawl.ALLOW if allowed else Crawl.DISALLOW,
        reason="robots.txt allows" if allowed else "robots.txt disallows",
        source=doc.url,
        status=doc.status,
        rule=None if allowed else "Disallow: /private/",
        line=None if allowed else 2,
        sha256=doc.sha256,
        parser="heed-robots/1",
        fetched_at=doc.fetched_at,
    )


def header_signal(url: str, reserved: bool) -> Signal:
    """Return a page-level TDMRep header signal (no document: the raw value is the evidence)."""
    value = "1" if reserved else "0"
    verdict = Verdict.RESERVED if reserved else Verdict.NOT_RESERVED
    return Signal(
        protocol=Protocol.TDMREP_HEADER,
        purposes={Purpose.TDM: verdict, Purpose.TRAIN_AI: verdict},
        reason=f"tdm-reservation: {value} (HTTP header)",
        source=url,
        status=200,
        rule=value,
        parser="heed-tdmrep/1",
        flags=("lenient",) if reserved else (),
        fetched_at="2026-03-01T12:00:00Z",
    )


def decide(url: str, *signals: Signal, policy: Policy | None = None) -> Decision:
    """Return optout's decision for *url* from *signals*."""
    return combine(url, signals, policy=policy or Policy())
