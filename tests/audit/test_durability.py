"""The writer's guarantees: a stored item's decision is durable before the item is handed on;
resuming or replaying never duplicates or loses rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from audit import Action, AuditStore, parse_target
from audit.batch import Batch
from audit.integrity import check
from audit.models import COUNT_T, DECISION_T, ITEM_T
from audit.queries import lookup
from audit.writer import DbWriter
from tests.audit.conftest import T0, decide, robots_fetch, robots_signal

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True, params=[False, True], ids=["inline", "background"])
def background(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Run every guarantee with batches committed in this process and by a writer process."""
    opener = AuditStore.open.__func__  # type: ignore[attr-defined]

    def open_store(cls: type[AuditStore], *args: object, **kwargs: object) -> AuditStore:
        kwargs.setdefault("background", request.param)
        return opener(cls, *args, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(AuditStore, "open", classmethod(open_store))
    return bool(request.param)


def visible(engine: Engine, decision_id: int, item_id: int | None = None) -> tuple[bool, bool]:
    """Return whether a second connection sees the decision and the item."""
    with engine.connect() as conn:
        d = conn.execute(select(DECISION_T.c.id).where(DECISION_T.c.id == decision_id)).first()
        i = None
        if item_id is not None:
            i = conn.execute(select(ITEM_T.c.id).where(ITEM_T.c.id == item_id)).first()
    return d is not None, i is not None


def start(store: AuditStore, run_key: str | None = None, config: object = None) -> int:
    """Start (or resume) a run with test identity."""
    return store.start_run(
        crawler_name="HeedBot",
        product_token="HeedBot",
        user_agent="HeedBot/1.0",
        run_key=run_key,
        config=config,  # type: ignore[arg-type]
    )


def test_record_item_returns_after_its_decision_is_committed(db_url: str, engine: Engine) -> None:
    """Without a callback, record_item commits the decision and the item before returning."""
    with AuditStore.open(db_url, batch_size=10_000, max_delay=3600) as store:
        run = start(store)
        did = store.record_decision(run, decide("https://example.com/"), Action.FETCHED_STORED)
        assert visible(engine, did) == (False, False)  # batched: not yet committed
        item = store.record_item(did, url="https://example.com/", content_type="text/html", size=3)
        assert visible(engine, did, item) == (True, True)


def test_on_durable_runs_after_the_commit(db_url: str, engine: Engine) -> None:
    """A callback runs once the decision (and item) are visible to any other connection."""
    seen: list[tuple[str, int, tuple[bool, bool]]] = []
    with AuditStore.open(db_url, batch_size=3, max_delay=3600) as store:
        run = start(store)

        def on_decision(decision_id: int) -> None:
            seen.append(("decision", decision_id, visible(engine, decision_id)))

        def on_item(item_id: int) -> None:
            seen.append(("item", item_id, visible(engine, did, item_id)))

        did = store.record_decision(
            run, decide("https://example.com/a"), Action.FETCHED_STORED, on_durable=on_decision
        )
        item = store.record_item(
            did, url="https://example.com/a", content_type="text/html", size=3, on_durable=on_item
        )
        assert seen == []  # nothing committed, nothing handed on
        store.record_decision(run, decide("https://example.com/b"), Action.ERROR)
        assert seen == []
        store.record_decision(run, decide("https://example.com/c"), Action.ERROR)  # fills it
    assert seen == [("decision", did, (True, False)), ("item", item, (True, True))]


CHILD = """
import sys
from audit import AuditStore, Action
from optout.decision import combine

store = AuditStore.open(
    sys.argv[1], batch_size=25, max_delay=0.05, background=sys.argv[2] == "background"
)
run = store.start_run(crawler_name="HeedBot", product_token="HeedBot", user_agent="HeedBot/1.0")
out = sys.stdout

def handed(decision_id):
    def hand_over(item_id):
        # The dataset writer would get the item here: after the commit.
        out.write(f"{item_id} {decision_id}\\n")
        out.flush()
    return hand_over

n = 0
while True:
    url = f"https://example.com/page/{n}"
    did = store.record_decision(run, combine(url, ()), Action.FETCHED_STORED, request_key=url)
    store.record_item(did, url=url, content_type="text/html", size=n, on_durable=handed(did))
    n += 1
"""


def test_killed_writer_never_leaves_an_item_without_its_decision(
    db_url: str, engine: Engine, background: bool
) -> None:
    """kill -9 in mid-write: every item handed on is stored with its decision; no orphans."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(CHILD),
            db_url,
            "background" if background else "inline",
        ],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    handed: list[tuple[int, int]] = []
    assert child.stdout is not None
    deadline = time.monotonic() + 30
    try:
        while len(handed) < 300 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            item_id, decision_id = map(int, line.split())
            handed.append((item_id, decision_id))
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        child.stdout.close()
    assert len(handed) >= 300, "the writer did not get going"
    with engine.connect() as conn:
        items = dict(conn.execute(select(ITEM_T.c.id, ITEM_T.c.decision_id)).all())
        decisions = set(conn.execute(select(DECISION_T.c.id)).scalars())
    for item_id, decision_id in handed:
        assert items.get(item_id) == decision_id
        assert decision_id in decisions
    assert set(items.values()) <= decisions
    assert check(engine).ok


def test_resuming_a_run_never_duplicates(db_url: str, engine: Engine) -> None:
    """Re-recording attempts of a resumed run stores nothing twice and maps to the first."""
    doc = robots_fetch("https://example.com")
    with AuditStore.open(db_url) as store:
        run = start(store, run_key="crawl-1", config={"depth": 1})
        first = {
            n: store.record_decision(
                run,
                decide(f"https://example.com/{n}", robots_signal(doc)),
                Action.FETCHED_STORED,
                time=T0,
                request_key=f"req-{n}",
            )
            for n in range(5)
        }
        item0 = store.record_item(
            first[0], url="https://example.com/0", content_type="text/html", size=1
        )
    with AuditStore.open(db_url) as store:
        assert start(store, run_key="crawl-1", config={"depth": 1}) == run
        again = {
            n: store.record_decision(
                run,
                decide(f"https://example.com/{n}", robots_signal(doc)),
                Action.FETCHED_STORED,
                time=T0,
                request_key=f"req-{n}",
            )
            for n in range(3, 8)  # 3 and 4 were recorded before the "crash", 5–7 are new
        }
        # An item recorded against a re-recorded attempt rests on the decision stored first;
        # an item recorded again for an attempt that has one is the one stored first.
        item3 = store.record_item(
            again[3], url="https://example.com/3", content_type="text/html", size=1
        )
        assert (
            store.record_item(
                first[0], url="https://example.com/0", content_type="text/html", size=1
            )
            == item0
        )
        assert store.resolve(again[3]) == first[3]
        assert store.resolve(again[6]) == again[6]
        store.end_run(run)
    with engine.connect() as conn:
        keys = conn.execute(select(DECISION_T.c.request_key)).scalars().all()
        items = conn.execute(select(ITEM_T.c.decision_id)).scalars().all()
        counts = dict(conn.execute(select(COUNT_T.c.name, COUNT_T.c.n)).all())
        resumed = conn.execute(text("SELECT resumed FROM crawl_run")).scalar_one()
    assert sorted(keys) == [f"req-{n}" for n in range(8)]
    assert sorted(items) == sorted([first[0], first[3]])
    assert item3 != item0
    assert counts["decisions"] == 8
    assert counts["items"] == 2
    assert resumed == 1
    assert check(engine).ok


def test_a_large_resumed_batch_is_deduplicated(db_url: str, engine: Engine) -> None:
    """Big batches take the bulk path (COPY on PostgreSQL); a stored row sends them back."""
    with AuditStore.open(db_url) as store:
        run = start(store, run_key="crawl-2")
        for n in range(300):
            store.record_decision(
                run, decide(f"https://example.com/{n}"), Action.ERROR, request_key=str(n)
            )
    with AuditStore.open(db_url) as store:
        start(store, run_key="crawl-2")
        for n in range(150, 450):
            store.record_decision(
                run, decide(f"https://example.com/{n}"), Action.ERROR, request_key=str(n)
            )
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(DECISION_T)).scalar_one() == 450
        assert dict(conn.execute(select(COUNT_T.c.name, COUNT_T.c.n)).all())["decisions"] == 450


def test_resuming_with_another_configuration_is_refused(db_url: str) -> None:
    """A run key names one configuration: resuming it with another is an error."""
    with AuditStore.open(db_url) as store:
        start(store, run_key="crawl-1", config={"depth": 1})
        with pytest.raises(ValueError, match="config_sha256"):
            start(store, run_key="crawl-1", config={"depth": 2})


def test_a_replayed_batch_is_written_once(db_url: str, engine: Engine) -> None:
    """A batch written again (its first commit's acknowledgement lost) adds nothing."""
    with AuditStore.open(db_url) as store:
        run = start(store)
        for n in range(4):
            did = store.record_decision(
                run, decide(f"https://example.com/{n}"), Action.FETCHED_STORED, request_key=str(n)
            )
            store.record_item(
                did,
                url=f"https://example.com/{n}",
                content_type="text/html",
                size=1,
                on_durable=lambda _: None,
            )
        batch = store._batch
        snapshot = Batch(
            origins=list(batch.origins),
            signals=list(batch.signals),
            outcomes=list(batch.outcomes),
            decisions=list(batch.decisions),
            items=list(batch.items),
        )
        store.flush()
        writer = DbWriter(store.engine)
        writer.write(snapshot)  # the replay
    assert len(list(lookup(engine, parse_target("example.com")))) == 4
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ITEM_T)).scalar_one() == 4
        counts = dict(conn.execute(select(COUNT_T.c.name, COUNT_T.c.n)).all())
    assert counts["decisions"] == 4
    assert check(engine).ok


def _block_inserts(engine: Engine, on: bool) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER block BEFORE INSERT ON decision "
                    "BEGIN SELECT RAISE(ABORT, 'database unavailable'); END"
                )
                if on
                else text("DROP TRIGGER block")
            )
        elif on:
            conn.execute(
                text(
                    "CREATE FUNCTION block() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    "BEGIN RAISE EXCEPTION 'database unavailable'; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER block BEFORE INSERT ON decision FOR EACH ROW EXECUTE FUNCTION block()"
                )
            )
        else:
            conn.execute(text("DROP TRIGGER block ON decision"))
            conn.execute(text("DROP FUNCTION block()"))


def test_a_failed_flush_keeps_the_rows_for_the_next(db_url: str, engine: Engine) -> None:
    """When a commit fails, nothing is lost: the rows stay pending and the next flush writes them."""
    with AuditStore.open(db_url, max_delay=3600) as store:
        run = start(store)
        store.record_decision(run, decide("https://example.com/1"), Action.ERROR)
        _block_inserts(engine, on=True)
        with pytest.raises(DBAPIError, match="database unavailable"):
            store.flush()
        assert store.pending == 1
        store.record_decision(run, decide("https://example.com/2"), Action.ERROR)
        _block_inserts(engine, on=False)
        store.flush()
        assert store.pending == 0
    assert [r.url for r in lookup(engine, parse_target("example.com"))] == [
        "https://example.com/1",
        "https://example.com/2",
    ]
