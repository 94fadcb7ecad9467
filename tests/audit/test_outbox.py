"""The outbox (audit/outbox.py): a message is claimed by one sender only, retried on the
schedule, given up at the end or at once when refused for good, and its secret is erased once
it is sent; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from audit import AuditStore, open_publisher
from audit.outbox import (
    CLAIM_SECONDS,
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    SECRET,
    Message,
    claim_due,
    enqueue,
    list_outbox,
    mark_failed,
    mark_sent,
)

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _message(n: int, secret: str | None = None) -> Message:
    return Message(
        recipient=f"claimant{n}@press.example",
        subject=f"message {n}",
        body=f"see {SECRET}" if secret else "hello",
        topic="received",
        secret=secret,
    )


def test_claims_retries_and_delivery(db_url: str) -> None:
    with AuditStore.open(db_url):
        pass
    engine = open_publisher(db_url)
    try:
        with engine.begin() as conn:
            first = enqueue(conn, _message(1, "https://portal.example/s/KEY"), now=T0)
            second = enqueue(conn, _message(2), now=T0 + dt.timedelta(seconds=1))
        assert claim_due(engine, now=T0 - dt.timedelta(seconds=1)) == []  # not due yet
        claimed = claim_due(engine, now=T0 + dt.timedelta(seconds=5), limit=1)
        assert [(c.id, c.body, c.attempt) for c in claimed] == [
            (first, "see https://portal.example/s/KEY", 1)
        ]
        # A second sender gets only what the first did not claim.
        later = T0 + dt.timedelta(seconds=6)
        assert [c.id for c in claim_due(engine, now=later)] == [second]
        assert claim_due(engine, now=later) == []
        # Claims never settled (the sender died) expire, and the messages are tried again.
        expired = T0 + dt.timedelta(seconds=6 + CLAIM_SECONDS + 1)
        assert [(c.id, c.attempt) for c in claim_due(engine, now=expired)] == [
            (first, 2),
            (second, 2),
        ]
        mark_sent(engine, second, now=expired)
        # The first failed for now: due again after the second delay, not before.
        assert mark_failed(engine, first, "451 busy", now=expired) is False
        retry = expired + dt.timedelta(seconds=RETRY_DELAYS[1])
        assert claim_due(engine, now=retry - dt.timedelta(seconds=1)) == []
        assert [c.attempt for c in claim_due(engine, now=retry)] == [3]
        mark_sent(engine, first, now=retry)
        records = {m.id: m for m in list_outbox(engine)}
        assert records[first].state == "sent"
        assert records[first].attempts == 3
        assert records[first].last_error == ""
        assert [m.id for m in list_outbox(engine, "sent")] == [first, second]
        assert list_outbox(engine, "pending") == []
        with engine.connect() as conn:
            secrets = conn.exec_driver_sql("SELECT secret FROM mail_outbox").scalars().all()
        assert secrets == [None, None]  # erased once sent
    finally:
        engine.dispose()


def test_giving_up(db_url: str) -> None:
    with AuditStore.open(db_url):
        pass
    engine = open_publisher(db_url)
    try:
        with engine.begin() as conn:
            refused = enqueue(conn, _message(1, "secret-url"), now=T0)
            flaky = enqueue(conn, _message(2), now=T0)
        now = T0
        claim_due(engine, now=now)
        assert mark_failed(engine, refused, "550 no such user", permanent=True, now=now) is True
        for attempt in range(1, MAX_ATTEMPTS + 1):
            assert mark_failed(engine, flaky, f"timeout {attempt}", now=now) is (
                attempt == MAX_ATTEMPTS
            )
            if attempt < MAX_ATTEMPTS:
                now += dt.timedelta(seconds=RETRY_DELAYS[attempt - 1])
                assert [c.id for c in claim_due(engine, now=now)] == [flaky]
        assert claim_due(engine, now=now + dt.timedelta(days=30)) == []
        failed = list_outbox(engine, "failed")
        assert [(m.id, m.attempts, m.last_error) for m in failed] == [
            (refused, 1, "550 no such user"),
            (flaky, MAX_ATTEMPTS, f"timeout {MAX_ATTEMPTS}"),
        ]
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT secret FROM mail_outbox").scalars().all() == [
                None,
                None,
            ]
    finally:
        engine.dispose()
