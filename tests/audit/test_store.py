"""The writer: batching, deduplication by content, append-only, ids, counters."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from audit import Action, AuditStore, IntegrityError, Modality, parse_target
from audit.integrity import check
from audit.models import (
    COUNT_T,
    DECISION_T,
    DOCUMENT_T,
    FETCH_T,
    ITEM_T,
    ORIGIN_T,
    OUTCOME_T,
    SIGNAL_T,
)
from audit.queries import lookup
from optout.decision import Policy, Purpose
from tests.audit.conftest import T0, decide, header_signal, robots_fetch, robots_signal


def count(engine: Engine, table: object) -> int:
    """Return the number of rows in *table*, as a second connection sees them."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def start(store: AuditStore, **kw: object) -> int:
    """Start a run with test identity."""
    return store.start_run(
        crawler_name="HeedBot",
        product_token="HeedBot",
        user_agent="HeedBot/1.0",
        **kw,  # type: ignore[arg-type]
    )


def test_decision_round_trip(store: AuditStore, engine: Engine) -> None:
    """A decision comes back with its verdicts, reasons, signals and their documents."""
    run = start(store)
    doc = robots_fetch("https://example.com")
    store.record_document(doc, kind="robots.txt", run_id=run)
    url = "https://example.com/a"
    decision = decide(url, robots_signal(doc), header_signal(url, reserved=True))
    store.record_decision(
        run, decision, Action.FETCHED_EXCLUDED, time=T0, request_key="k1", http_status=200
    )
    store.flush()
    (record,) = lookup(engine, parse_target("example.com"))
    assert record.url == url
    assert record.time == T0
    assert (record.crawl, record.use, record.action) == ("allow", "reserved", "fetched-excluded")
    assert record.reasons == decision.reasons
    assert record.purposes == {p.value: v.value for p, v in decision.purposes.items()}
    assert record.http_status == 200
    assert record.policy_digest == decision.policy_digest
    assert record.protocol_set == decision.protocol_set
    assert not record.stored
    assert [s.to_dict() | {"document_stored": None} for s in record.signals] == [
        {**s.to_dict(), "document_stored": None} for s in decision.signals
    ]
    assert [s.document_stored for s in record.signals] == [True, False]
    assert check(engine).ok


def test_rows_are_batched_until_flush(db_url: str, engine: Engine) -> None:
    """Decisions wait in the buffer (no commit per row) until the batch is full or flushed."""
    with AuditStore.open(db_url, batch_size=5, max_delay=3600) as store:
        run = start(store)
        doc = robots_fetch("https://example.com")
        for n in range(4):
            url = f"https://example.com/{n}"
            store.record_decision(run, decide(url, robots_signal(doc)), Action.FETCHED_STORED)
        assert store.pending == 4
        assert count(engine, DECISION_T) == 0
        store.record_decision(
            run, decide("https://example.com/4", robots_signal(doc)), Action.FETCHED_STORED
        )
        assert store.pending == 0  # the fifth filled the batch: one transaction for all five
        assert count(engine, DECISION_T) == 5
        store.record_decision(
            run, decide("https://example.com/5", robots_signal(doc)), Action.FETCHED_STORED
        )
        assert count(engine, DECISION_T) == 5
    assert count(engine, DECISION_T) == 6  # closing flushed the rest


def test_max_delay_flushes_on_the_next_call(db_url: str, engine: Engine) -> None:
    """A row older than max_delay is committed by the next call into the store."""
    with AuditStore.open(db_url, batch_size=1000, max_delay=0) as store:
        run = start(store)
        store.record_decision(run, decide("https://example.com/"), Action.ERROR)
        assert count(engine, DECISION_T) == 1


def test_repeated_content_is_stored_once(store: AuditStore, engine: Engine) -> None:
    """Documents, signals, outcomes and origins are stored once; decisions once per attempt."""
    run = start(store)
    doc = robots_fetch("https://example.com")
    for _ in range(3):
        store.record_document(doc, kind="robots.txt", run_id=run)
    later = robots_fetch("https://example.com")
    later = type(later)(
        **{
            **{f: getattr(later, f) for f in ("url", "status", "headers", "body")},
            "fetched_at": "2026-03-02T00:00:00Z",
        }
    )
    store.record_document(later, kind="robots.txt", run_id=run)
    for n in range(10):
        url = f"https://example.com/page/{n}"
        # A new but equal Signal object each time: deduplicated by content, not identity.
        store.record_decision(run, decide(url, robots_signal(doc)), Action.FETCHED_STORED)
    store.flush()
    assert count(engine, DECISION_T) == 10
    assert count(engine, DOCUMENT_T) == 1  # same bytes
    assert count(engine, FETCH_T) == 2  # two retrievals of them
    assert count(engine, SIGNAL_T) == 1
    assert count(engine, OUTCOME_T) == 1
    assert count(engine, ORIGIN_T) == 1


def test_urls_are_stored_with_a_normalised_origin(store: AuditStore, engine: Engine) -> None:
    """Scheme and host case, default ports and credentials are normalised; the path is kept."""
    run = start(store)
    store.record_decision(
        run, decide("HTTPS://user:pw@WWW.Example.COM:443/Path?Q=1"), Action.FETCHED_STORED
    )
    store.record_decision(run, decide("http://127.0.0.1:8080/x"), Action.ERROR)
    store.flush()
    with engine.connect() as conn:
        urls = set(conn.execute(select(DECISION_T.c.url)).scalars())
        origins = {tuple(r) for r in conn.execute(select(ORIGIN_T.c.origin, ORIGIN_T.c.domain))}
    assert urls == {"https://www.example.com/Path?Q=1", "http://127.0.0.1:8080/x"}
    assert origins == {
        ("https://www.example.com", "example.com"),
        ("http://127.0.0.1:8080", "127.0.0.1"),
    }


def test_run_counters_follow_the_committed_rows(store: AuditStore, engine: Engine) -> None:
    """The run's counters are updated in the same transaction as the rows they count."""
    run = start(store)
    for n, action in enumerate([Action.FETCHED_STORED, Action.FETCHED_STORED, Action.DENYLISTED]):
        did = store.record_decision(run, decide(f"https://example.com/{n}"), action)
        if action is Action.FETCHED_STORED:
            store.record_item(
                did, url=f"https://example.com/{n}", content_type="text/html", size=10
            )
    store.record_document(robots_fetch("https://example.com"), kind="robots.txt", run_id=run)
    store.end_run(run)
    with engine.connect() as conn:
        stmt = select(COUNT_T.c.name, COUNT_T.c.n).where(COUNT_T.c.run_id == run)
        counts = dict(conn.execute(stmt).all())
    assert counts == {
        "decisions": 3,
        "action:fetched-stored": 2,
        "action:denylisted": 1,
        "items": 2,
        "document_fetches": 1,
    }


def test_items_record_modality_and_a_token_estimate(store: AuditStore, engine: Engine) -> None:
    """Text items get ceil(bytes / 4) tokens unless given; other modalities none."""
    run = start(store)
    a = store.record_decision(run, decide("https://example.com/a"), Action.FETCHED_STORED)
    b = store.record_decision(run, decide("https://example.com/b.png"), Action.FETCHED_STORED)
    c = store.record_decision(run, decide("https://example.com/c"), Action.FETCHED_STORED)
    store.record_item(
        a, url="https://example.com/a", content_type="text/html; charset=utf-8", size=10
    )
    store.record_item(b, url="https://example.com/b.png", content_type="image/png", size=99)
    store.record_item(
        c,
        url="https://example.com/c",
        content_type="application/pdf",
        size=8,
        tokens=3,
        modality="text",
    )
    with engine.connect() as conn:
        rows = {r.url: (r.modality, r.bytes, r.tokens) for r in conn.execute(select(ITEM_T))}
    assert rows == {
        "https://example.com/a": (Modality.TEXT, 10, 3),
        "https://example.com/b.png": (Modality.IMAGE, 99, None),
        "https://example.com/c": (Modality.TEXT, 8, 3),
    }


def test_bad_calls_are_refused(store: AuditStore) -> None:
    """Programmer errors raise ValueError before anything is buffered."""
    run = start(store)
    with pytest.raises(ValueError, match="not started"):
        store.record_decision(run + 1, decide("https://example.com/"), Action.ERROR)
    with pytest.raises(ValueError, match="is not a valid Action"):
        store.record_decision(run, decide("https://example.com/"), "fetched")
    with pytest.raises(ValueError, match="absolute URL"):
        store.record_decision(run, decide("/relative"), Action.ERROR)
    with pytest.raises(ValueError, match="no decision 424242"):
        store.record_item(424242, url="https://example.com/", content_type="text/html", size=1)
    assert store.pending == 0


def test_a_policy_is_stored_with_its_knobs(store: AuditStore, engine: Engine) -> None:
    """Decisions made under another policy than the run's reference that policy's row."""
    run = start(store, config={"depth": 2})
    strict = Policy(purpose=Purpose.TDM, lenient_values=False)
    store.record_decision(run, decide("https://example.com/", policy=strict), Action.FETCHED_STORED)
    store.flush()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT digest, knobs FROM policy ORDER BY id")).all()
        config = conn.execute(text("SELECT config FROM crawl_run")).scalar_one()
    assert [r.digest for r in rows] == [Policy().digest(), strict.digest()]
    assert json.loads(rows[1].knobs) == strict.as_dict()
    assert json.loads(config) == {"depth": 2}
    (record,) = lookup(engine, parse_target("example.com"))
    assert record.policy_digest == strict.digest()
    assert record.purpose == "tdm"


@pytest.mark.parametrize(
    "table", ["decision", "outcome", "signal", "document", "document_fetch", "stored_item"]
)
def test_audit_rows_are_append_only(store: AuditStore, engine: Engine, table: str) -> None:
    """UPDATE and DELETE fail on the audit tables, even in plain SQL."""
    run = start(store)
    doc = robots_fetch("https://example.com")
    store.record_document(doc, kind="robots.txt", run_id=run)
    did = store.record_decision(
        run, decide("https://example.com/", robots_signal(doc)), Action.FETCHED_STORED
    )
    store.record_item(did, url="https://example.com/", content_type="text/html", size=1)
    for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
        if table == "document":
            statement = statement.replace("id = id", "size = size")
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert count(engine, DECISION_T) == 1
    assert not hasattr(AuditStore, "update")
    assert not hasattr(AuditStore, "delete")


def test_decision_ids_are_unique_across_stores(db_url: str, engine: Engine) -> None:
    """Two writers on one database draw ids from separate blocks (no round trip per row)."""
    with AuditStore.open(db_url) as one, AuditStore.open(db_url) as two:
        r1, r2 = start(one), start(two)
        ids = [
            one.record_decision(r1, decide(f"https://a.example/{n}"), Action.ERROR)
            for n in range(3)
        ]
        ids += [
            two.record_decision(r2, decide(f"https://b.example/{n}"), Action.ERROR)
            for n in range(3)
        ]
    assert len(set(ids)) == 6
    assert count(engine, DECISION_T) == 6


def test_times_are_utc(store: AuditStore, engine: Engine) -> None:
    """Aware times are converted to UTC; naive times are taken as UTC."""
    run = start(store)
    paris = dt.timezone(dt.timedelta(hours=2))
    store.record_decision(
        run, decide("https://example.com/1"), Action.ERROR, time=T0.astimezone(paris)
    )
    store.record_decision(
        run, decide("https://example.com/2"), Action.ERROR, time=T0.replace(tzinfo=None)
    )
    store.flush()
    assert [r.time for r in lookup(engine, parse_target("example.com"))] == [T0, T0]


def test_the_default_time_is_now(store: AuditStore, engine: Engine) -> None:
    """Without a time, a decision and its item are recorded at the current UTC time."""
    run = start(store)
    before = dt.datetime.now(dt.UTC)
    decision = store.record_decision(run, decide("https://example.com/now"), Action.FETCHED_STORED)
    store.record_item(decision, url="https://example.com/now", content_type="text/html", size=9)
    after = dt.datetime.now(dt.UTC)
    (record,) = lookup(engine, parse_target("example.com"))
    assert before - dt.timedelta(milliseconds=1) <= record.time <= after
    assert record.item is not None
    assert before - dt.timedelta(milliseconds=1) <= record.item.time <= after


def test_views_for_plain_sql(store: AuditStore, engine: Engine) -> None:
    """`decision_signal` unnests each decision's signals in order; `audit_decision` joins it all."""
    run = start(store)
    doc = robots_fetch("https://example.com")
    url = "https://example.com/a"
    did = store.record_decision(
        run,
        decide(url, robots_signal(doc), header_signal(url, reserved=True)),
        Action.FETCHED_EXCLUDED,
    )
    other = store.record_decision(run, decide("https://example.com/b"), Action.FETCHED_STORED)
    store.record_item(other, url="https://example.com/b", content_type="text/html", size=1)
    with engine.connect() as conn:
        signals = conn.execute(
            text(
                "SELECT ds.decision_id, ds.seq, s.protocol FROM decision_signal ds "
                "JOIN signal s ON s.id = ds.signal_id ORDER BY ds.decision_id, ds.seq"
            )
        ).all()
        rows = conn.execute(
            text("SELECT url, domain, use, action, stored FROM audit_decision ORDER BY url")
        ).all()
    assert [tuple(r) for r in signals] == [(did, 0, "robots.txt"), (did, 1, "tdmrep-header")]
    assert [tuple(r) for r in rows] == [
        ("https://example.com/a", "example.com", "reserved", "fetched-excluded", 0),
        ("https://example.com/b", "example.com", "not-reserved", "fetched-stored", 1),
    ]


def test_a_request_hash_collision_fails_loudly(db_url: str, engine: Engine) -> None:
    """Two different attempts with one request hash are an error, never merged into one row.

    Hex keys are used as their own hash, so the same hex digits in upper and lower case make a
    collision on demand.
    """
    with AuditStore.open(db_url, batch_size=1000, max_delay=3600) as store:
        run = start(store)
        store.record_decision(
            run, decide("https://example.com/a"), Action.ERROR, request_key="ab" * 16
        )
        store.flush()
        store.record_decision(
            run, decide("https://example.com/b"), Action.ERROR, request_key="AB" * 16
        )
        with pytest.raises(IntegrityError, match="request hash collision"):
            store.flush()
        store._batch = type(store._batch)()  # drop the refused batch so close() does not retry
    assert count(engine, DECISION_T) == 1
