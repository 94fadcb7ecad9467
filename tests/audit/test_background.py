"""The writer process (``AuditStore.open(background=True)``): batches committed while recording
goes on, with the same guarantees; a dead or failing writer process loses nothing.

(The ordering, resume and crash guarantees themselves run in both modes in test_durability.py.)
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError

from audit import Action, AuditError, AuditStore
from audit.background import BackgroundWriter, _portable
from audit.integrity import check
from audit.models import COUNT_T, DECISION_T, ITEM_T
from tests.audit.conftest import decide
from tests.audit.test_durability import _block_inserts, start
from tests.support.services import wait_until

ROOT = Path(__file__).resolve().parents[2]


def count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def writer_process(store: AuditStore) -> subprocess.Popen[bytes]:
    """Return the store's writer process (it must be running)."""
    writer = store._batches
    assert isinstance(writer, BackgroundWriter)
    assert writer._process is not None
    return writer._process


def record(store: AuditStore, run: int, n: int, **kwargs: object) -> int:
    url = f"https://example.com/{n}"
    return store.record_decision(
        run, decide(url), Action.FETCHED_STORED, request_key=f"req-{n}", **kwargs
    )


def test_a_full_batch_is_committed_while_recording_goes_on(db_url: str, engine: Engine) -> None:
    """The call that fills a batch returns at once; callbacks run after the commit, on poll."""
    handed: list[tuple[int, tuple[bool, bool]]] = []

    def hand_over(item_id: int) -> None:
        with engine.connect() as conn:
            item = conn.execute(select(ITEM_T.c.decision_id).where(ITEM_T.c.id == item_id)).first()
            seen = (
                item is not None
                and conn.execute(select(DECISION_T.c.id).where(DECISION_T.c.id == item[0])).first()
                is not None
            )
        handed.append((item_id, (item is not None, seen)))

    with AuditStore.open(db_url, batch_size=4, max_delay=3600, background=True) as store:
        run = start(store)
        for n in range(4):
            did = record(store, run, n)
            store.record_item(
                did,
                url=f"https://example.com/{n}",
                content_type="text/html",
                size=1,
                on_durable=hand_over,
            )
        # The fourth decision filled the batch: it went to the writer process with the three
        # items before it, and its rows stay pending until the writer says they are committed.
        assert store.pending == 8
        assert handed == []
        wait_until(lambda: (store.poll(), len(handed) == 3)[1], "the background commit")
        assert store.pending == 1  # the fourth item, recorded after the batch was sent
        store.flush()
        assert [seen for _, seen in handed] == [(True, True)] * 4
        # Recording goes on while a batch is in flight; flush waits for everything.
        for n in range(4, 10):
            record(store, run, n)
        store.flush()
        assert store.pending == 0
        assert count(engine, DECISION_T) == 10
    with engine.connect() as conn:
        counts = dict(conn.execute(select(COUNT_T.c.name, COUNT_T.c.n)).all())
    assert counts["decisions"] == 10
    assert counts["items"] == 4
    assert check(engine).ok


def test_record_calls_deliver_callbacks_without_a_flush(db_url: str) -> None:
    """A crawler that keeps recording gets its callbacks from its own record calls."""
    done: list[int] = []
    with AuditStore.open(db_url, batch_size=2, max_delay=3600, background=True) as store:
        run = start(store)
        record(store, run, 0, on_durable=done.append)
        record(store, run, 1)  # fills the batch: sent off
        n = 2
        deadline = time.monotonic() + 30
        while not done and time.monotonic() < deadline:
            record(store, run, n)  # each call checks, now and then, for the commit
            n += 1
            time.sleep(0.001)
        assert len(done) == 1


def test_an_item_on_a_committed_decision_needs_no_lookup(db_url: str, engine: Engine) -> None:
    """An item may rest on a decision of an earlier batch, committed or still in flight."""
    with AuditStore.open(db_url, batch_size=2, max_delay=3600, background=True) as store:
        run = start(store)
        first = record(store, run, 0)
        record(store, run, 1)  # in flight now
        store.record_item(first, url="https://example.com/0", content_type="text/html", size=1)
        later = record(store, run, 2)
        store.flush()
        store.record_item(later, url="https://example.com/2", content_type="text/html", size=1)
    with engine.connect() as conn:
        assert sorted(conn.execute(select(ITEM_T.c.decision_id)).scalars()) == [first, later]


def test_a_failed_background_commit_keeps_the_rows(db_url: str, engine: Engine) -> None:
    """A batch the writer process could not commit comes back, in order, and is written later."""
    with AuditStore.open(db_url, batch_size=3, max_delay=3600, background=True) as store:
        run = start(store)
        _block_inserts(engine, on=True)
        for n in range(3):
            record(store, run, n)  # the third sends the batch off; its commit fails
        record(store, run, 3)
        with pytest.raises(DBAPIError, match="database unavailable"):
            store.flush()
        assert store.pending == 4
        _block_inserts(engine, on=False)
        store.flush()
        assert store.pending == 0
    with engine.connect() as conn:
        keys = conn.execute(select(DECISION_T.c.request_key).order_by(DECISION_T.c.id)).scalars()
        assert list(keys) == [f"req-{n}" for n in range(4)]
    assert check(engine).ok


def test_a_dead_writer_process_is_replaced_and_nothing_is_lost(db_url: str, engine: Engine) -> None:
    """Killed while idle: the next batch starts another. Killed mid-batch: that batch fails
    with AuditError, stays pending, and is written by the next flush, once."""
    with AuditStore.open(db_url, batch_size=1000, max_delay=3600, background=True) as store:
        run = start(store)
        record(store, run, 0)
        store.flush()
        first = writer_process(store)
        first.kill()
        first.wait()
        record(store, run, 1)
        store.flush()  # a new writer process
        process = writer_process(store)
        assert process.pid != first.pid
        # Now kill it with a batch in flight (before it can answer: stopped first).
        os.kill(process.pid, signal.SIGSTOP)
        record(store, run, 2)
        store._flush_ahead()
        assert store.pending == 1
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        with pytest.raises(AuditError, match="writer process died"):
            store.flush()
        assert store.pending == 1
        store.flush()
    assert count(engine, DECISION_T) == 3
    assert check(engine).ok


def test_the_writer_process_ignores_ctrl_c(db_url: str, engine: Engine) -> None:
    """SIGINT goes to the whole process group; the parent decides when writing stops."""
    with AuditStore.open(db_url, batch_size=1000, max_delay=3600, background=True) as store:
        run = start(store)
        record(store, run, 0)
        store.flush()
        process = writer_process(store)
        os.kill(process.pid, signal.SIGINT)
        record(store, run, 1)
        store.flush()
        assert writer_process(store) is process
    assert count(engine, DECISION_T) == 2


PARENT = """
import sys
from audit import AuditStore, Action
from optout.decision import combine

store = AuditStore.open(sys.argv[1], batch_size=1, background=True)
run = store.start_run(crawler_name="HeedBot", product_token="HeedBot", user_agent="HeedBot/1.0")
store.record_decision(run, combine("https://example.com/", ()), Action.ERROR)
store.flush()
print(store._batches._process.pid, flush=True)
sys.stdin.read()
"""


def test_the_writer_process_ends_with_its_parent(db_url: str) -> None:
    """kill -9 of the recording process: the writer process reads end-of-file and exits."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(PARENT), db_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert parent.stdout is not None
    assert parent.stdin is not None
    try:
        child = int(parent.stdout.readline())
    finally:
        parent.kill()
        parent.wait()
        parent.stdin.close()
        parent.stdout.close()

    def gone() -> bool:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return True
        # A zombie (exited, not yet reaped by init) has finished too.
        try:
            with open(f"/proc/{child}/stat") as stat:
                return stat.read().split(") ", 1)[1].startswith("Z")
        except FileNotFoundError:
            return True

    wait_until(gone, "the writer process to exit")


def test_an_error_that_cannot_travel_is_described() -> None:
    """An exception the child cannot pickle reaches the parent as an AuditError naming it."""

    class Local(Exception):
        pass

    described = _portable(Local("bad row"))
    assert isinstance(described, AuditError)
    assert "Local: bad row" in str(described)
    plain = ValueError("x")
    assert _portable(plain) is plain
    assert pickle.loads(pickle.dumps(_portable(plain))).args == ("x",)


def test_the_database_url_is_not_on_the_writer_process_command_line(db_url: str) -> None:
    """A PostgreSQL URL may hold a password: it goes over the pipe, not into argv."""
    with AuditStore.open(db_url, batch_size=1000, max_delay=3600, background=True) as store:
        run = start(store)
        record(store, run, 0)
        store.flush()
        cmdline = Path(f"/proc/{writer_process(store).pid}/cmdline").read_bytes()
    assert b"audit.background" in cmdline
    assert db_url.split("?")[0].encode() not in cmdline
