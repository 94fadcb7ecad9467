"""An audit database that stops answering: the store keeps what was recorded and commits it once
the database is back (``AuditStore.held``, ``on_commit_error``; crawler.extensions.auditoutage).

PostgreSQL is reached through a local TCP proxy the test cuts and restores: the server itself
never goes down, the connection does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, make_url, select
from sqlalchemy.exc import IntegrityError, OperationalError

from audit import Action, AuditStore
from audit.engine import is_outage
from audit.models import DECISION_T
from tests.audit.conftest import PG_ENV, decide, postgres_schema
from tests.audit.test_durability import start
from tests.support.services import service_url
from tests.support.tcpproxy import TcpProxy


@pytest.fixture
def proxied(pg_admin: Engine | None) -> Iterator[tuple[str, TcpProxy, str]]:
    """Yield ``(URL through the proxy, proxy, direct URL)`` of a schema of its own."""
    with postgres_schema(service_url(PG_ENV), pg_admin) as (url, _, _):
        real = make_url(url)
        proxy = TcpProxy((real.host or "127.0.0.1", real.port or 5432))
        proxy.start()
        try:
            through = real.set(host="127.0.0.1", port=proxy.port)
            yield through.render_as_string(hide_password=False), proxy, url
        finally:
            proxy.close()


def decisions(url: str) -> int:
    with AuditStore.open(url) as reader, reader.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(DECISION_T)).scalar_one())


def record(store: AuditStore, run: int, n: int) -> int:
    url = f"https://example.com/{n}"
    return store.record_decision(run, decide(url), Action.FETCHED_STORED, request_key=f"r{n}")


@pytest.mark.postgres
def test_a_held_store_keeps_its_rows_through_an_outage(
    proxied: tuple[str, TcpProxy, str],
) -> None:
    through, proxy, direct = proxied
    errors: list[BaseException] = []
    with AuditStore.open(through, max_delay=0.0) as store:
        store.on_commit_error = errors.append
        run = start(store)
        ids = [record(store, run, 0)]  # max_delay 0: committed inside the call
        proxy.cut()
        ids.append(record(store, run, 1))  # the commit fails: the row is kept, the store held
        assert len(errors) == 1
        assert is_outage(errors[0])
        assert store.held
        ids += [record(store, run, n) for n in range(2, 10)]  # only buffered: no more attempts
        assert len(errors) == 1
        assert store.pending >= 9
        with pytest.raises(OperationalError):
            store.flush()  # flush still tries, and raises
        assert decisions(direct) == 1
        proxy.restore()
        store.flush()
        store.held = False
        assert store.pending == 0
        assert len(set(ids)) == 10
    assert decisions(direct) == 10


@pytest.mark.postgres
def test_without_a_handler_a_failed_commit_raises_as_before(
    proxied: tuple[str, TcpProxy, str],
) -> None:
    through, proxy, direct = proxied
    with AuditStore.open(through, max_delay=0.0) as store:
        run = start(store)
        record(store, run, 0)
        proxy.cut()
        with pytest.raises(OperationalError):
            record(store, run, 1)
        assert not store.held
        proxy.restore()
        store.flush()  # the failed batch was kept: written now
    assert decisions(direct) == 2


def test_only_a_lost_or_refused_connection_is_an_outage() -> None:
    assert is_outage(OperationalError("SELECT 1", {}, Exception("connection refused")))
    assert not is_outage(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_outage(ValueError("bad row"))


def test_durable_since_says_what_is_committed_without_committing(tmp_path: Path) -> None:
    """A shared crawl acknowledges a request once its rows are committed, without forcing a
    commit of its own (crawler.cluster.scheduler): ``durable_since`` answers that."""
    with AuditStore.open(str(tmp_path / "a.db"), max_delay=3600) as store:
        run = start(store)
        assert store.durable_since(time.monotonic())  # nothing recorded: nothing to wait for
        record(store, run, 0)
        after_first = time.monotonic()
        assert not store.durable_since(after_first)
        assert store.pending == 1  # asking committed nothing
        store.flush()
        assert store.durable_since(after_first)
        record(store, run, 1)
        assert store.durable_since(after_first)  # rows before it are committed
        assert not store.durable_since(time.monotonic())
