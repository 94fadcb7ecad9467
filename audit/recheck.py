"""What a re-check reads and writes: the items crawls kept, and what later re-checks found.

A re-check (``heed recheck``) is a run of kind ``recheck``. For each kept item it records a
decision on the item's URL under the signals read *now*, with the action ``rechecked-usable``,
``rechecked-reserved`` or ``rechecked-unknown`` and the request key ``item:<item id>``, which
links the re-check to the item (and through it to the crawl's decision it was kept on). The
decision's outcome holds the signals, reasons and policy as for any crawl decision, and the
signal documents fetched are recorded with the run: the re-check is evidence like a crawl.

:func:`kept_items` selects what to re-check; :func:`findings` reads, per item, the latest
re-check, for the purge list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Connection, Engine, bindparam, select, text

from audit.engine import reading
from audit.models import (
    COUNT_T,
    CRAWL_RUN_T,
    DECISION_T,
    ITEM_T,
    ORIGIN_T,
    OUTCOME_T,
    SIGNAL_T,
    UTCDateTime,
)
from audit.models import EPOCH as _EPOCH
from optout.action import Action

#: The request key of a re-check decision: ``item:`` and the item id.
ITEM_KEY = "item:"
#: The re-check actions of an item that may no longer be used, as recorded (plain strings:
#: an enum's value looked up per item was a tenth of a million-row purge list, measured).
_NOT_USABLE = frozenset({Action.RECHECKED_RESERVED.value, Action.RECHECKED_UNKNOWN.value})


@dataclass(frozen=True, slots=True, kw_only=True)
class KeptItem:
    """An item a crawl kept, with the decision it was kept on."""

    item_id: int
    decision_id: int
    #: The URL as requested (the decision's, in the URL model's canonical form).
    url: str
    origin: str
    run: str


def kept_items(
    engine: Engine,
    *,
    runs: Sequence[str] | None = None,
    since: dt.datetime | None = None,
    origins: Sequence[str] | None = None,
) -> dict[str, list[KeptItem]]:
    """Return the items crawls kept, per origin (sorted), each origin's items by id.

    *runs*: only those crawl runs (keys); *since*: only items kept at or after; *origins*:
    only those origins (``scheme://host[:port]``).
    """
    d, i, o, r = DECISION_T.c, ITEM_T.c, ORIGIN_T.c, CRAWL_RUN_T.c
    query = (
        select(i.id, i.decision_id, d.url, o.origin, r.run_key)
        .select_from(
            ITEM_T.join(DECISION_T, d.id == i.decision_id)
            .join(ORIGIN_T, o.id == d.origin_id)
            .join(CRAWL_RUN_T, r.id == d.run_id)
        )
        .where(r.kind == "crawl")
        .order_by(o.origin, i.id)
    )
    if runs is not None:
        query = query.where(r.run_key.in_(list(runs)))
    if since is not None:
        query = query.where(i.time >= since)
    if origins is not None:
        query = query.where(o.origin.in_(list(origins)))
    found: dict[str, list[KeptItem]] = {}
    with reading(engine) as conn:
        for row in conn.execute(query):
            found.setdefault(row.origin, []).append(
                KeptItem(
                    item_id=row.id,
                    decision_id=row.decision_id,
                    url=row.url,
                    origin=row.origin,
                    run=row.run_key,
                )
            )
    return found


class Finding(NamedTuple):
    """The latest re-check of a kept item that may no longer be used (a named tuple: a million
    are made for a purge list, a fifth of its time as a dataclass, measured)."""

    item_id: int
    url: str
    content_sha256: str
    #: The crawl run that kept it.
    run: str
    #: ``rechecked-reserved`` or ``rechecked-unknown``.
    action: str
    reason: str
    #: The document of the signal that reserves (or could not be read), if any.
    evidence_sha256: str
    found_at: dt.datetime
    recheck_run: str


#: An item's latest re-check as read: time (as stored), decision id, action, outcome id, run id.
_Raw = tuple[Any, int, str, int, int]


def _latest(conn: Connection, since: dt.datetime | None) -> tuple[dict[int, _Raw], dict[int, str]]:
    """Return per item id its latest re-check as read (:data:`_Raw`), and the re-check runs'
    keys by id."""
    r = CRAWL_RUN_T.c
    runs = dict(conn.execute(select(r.id, r.run_key).where(r.kind == "recheck")).all())
    if not runs:
        return {}, runs
    # Plain SQL with the time read raw (integer microseconds on SQLite), converted by the
    # caller for the rows it keeps; no ORDER BY, the latest per item is kept as the rows come.
    # Sorting and converting every re-check decision cost more than reading them (measured).
    sql = (
        "SELECT id, request_key, time, action, outcome_id, run_id FROM decision "
        f"WHERE run_id IN ({', '.join(str(int(run)) for run in sorted(runs))})"
    )
    rows: Iterable[Any]
    if since is None:
        rows = _raw(conn, sql)
    else:
        query = text(sql + " AND time >= :since").bindparams(
            bindparam("since", type_=UTCDateTime())
        )
        rows = conn.execute(query, {"since": since})
    raw: dict[int, _Raw] = {}
    skip = len(ITEM_KEY)
    for did, key, time, action, outcome, run in rows:
        if not key or not key.startswith(ITEM_KEY):
            continue
        item = int(key[skip:])
        seen = raw.get(item)
        if seen is None or (time, did) > seen[:2]:
            raw[item] = (time, did, action, outcome, run)
    return raw, runs


def _time(conn: Connection) -> Callable[[Any], dt.datetime]:
    """Return the conversion of a time as stored to an aware UTC datetime."""
    convert = UTCDateTime().process_result_value
    dialect = conn.dialect

    def to_datetime(value: Any) -> dt.datetime:
        return convert(value, dialect) or _EPOCH

    return to_datetime


def _raw(conn: Connection, sql: str) -> Iterator[tuple[Any, ...]]:
    """Yield the rows of *sql* (no parameters) from the driver's own cursor, in the caller's
    transaction: SQLAlchemy's rows cost more than the query over a million of them (measured).
    Values come as the driver gives them (times as stored: see :class:`UTCDateTime`)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(10_000):
            yield from rows
    finally:
        cursor.close()


def latest_rechecks(engine: Engine) -> dict[int, tuple[dt.datetime, str]]:
    """Return per re-checked item id the time and action of its latest re-check."""
    with reading(engine) as conn:
        raw, _ = _latest(conn, None)
        to_datetime = _time(conn)
        return {item: (to_datetime(found[0]), found[2]) for item, found in raw.items()}


def findings(engine: Engine, *, since: dt.datetime | None = None) -> Iterator[Finding]:
    """Yield, per kept item, its latest re-check when that says it may not be used (reserved
    or unknown), in item order; *since*: only re-checks at or after."""
    with reading(engine) as conn:
        raw, runs = _latest(conn, since)
        wanted = sorted(item for item, found in raw.items() if found[2] in _NOT_USABLE)
        why = _reasons(conn, {raw[item][3] for item in wanted})
        items = _items(conn, wanted)
        to_datetime = _time(conn)
    for item_id in wanted:
        time, _, action, outcome, run = raw[item_id]
        url, sha, kept_run = items.get(item_id, ("", "", ""))
        reason, evidence = why.get(outcome, ("", ""))
        yield Finding(
            item_id, url, sha, kept_run, action, reason, evidence, to_datetime(time), runs[run]
        )


def _reasons(conn: Connection, outcome_ids: set[int]) -> dict[int, tuple[str, str]]:
    """Return per outcome its first reason and the document of its first restricting signal."""
    out: dict[int, tuple[str, str]] = {}
    ids = sorted(outcome_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = [
            (oid, reasons, orjson.loads(sids))
            for oid, reasons, sids in conn.execute(
                select(OUTCOME_T.c.id, OUTCOME_T.c.reasons, OUTCOME_T.c.signal_ids).where(
                    OUTCOME_T.c.id.in_(chunk)
                )
            )
        ]
        signal_ids = {s for _, _, sids in rows for s in sids}
        s = SIGNAL_T.c
        signals = {
            row.id: row
            for row in conn.execute(
                select(s.id, s.crawl, s.verdict, s.sha256).where(s.id.in_(sorted(signal_ids)))
            )
        }
        for oid, reason_text, sids in rows:
            reasons = orjson.loads(reason_text)
            evidence = ""
            for sid in sids:
                sig = signals.get(sid)
                if sig is None:
                    continue
                restricts = sig.crawl not in (None, "allow") or sig.verdict in ("reserved", "defer")
                if restricts and sig.sha256:
                    evidence = sig.sha256
                    break
            out[oid] = (reasons[0] if reasons else "", evidence)
    return out


def _items(conn: Connection, item_ids: list[int]) -> dict[int, tuple[str, str, str]]:
    """Return per item its URL, content sha256 and the key of the run that kept it."""
    i, d, r = ITEM_T.c, DECISION_T.c, CRAWL_RUN_T.c
    runs = dict(conn.execute(select(r.id, r.run_key)).all())
    query = select(i.id, i.url, i.content_sha256, d.run_id).select_from(
        ITEM_T.join(DECISION_T, d.id == i.decision_id)
    )
    out: dict[int, tuple[str, str, str]] = {}
    if len(item_ids) > 20_000:  # most items: one pass over them all beats many look-ups
        wanted = set(item_ids)
        everything = (
            "SELECT i.id, i.url, i.content_sha256, d.run_id FROM stored_item i "
            "JOIN decision d ON d.id = i.decision_id"
        )
        for item, url, sha, run in _raw(conn, everything):
            if item in wanted:
                out[item] = (url, sha or "", runs[run])
        return out
    for start in range(0, len(item_ids), 500):
        chunk = item_ids[start : start + 500]
        for item, url, sha, run in conn.execute(query.where(i.id.in_(chunk))):
            out[item] = (url, sha or "", runs[run])
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class RecheckFigures:
    """What the published documents say of the re-checks: how many, when, and what the latest
    one found (from its run's counters: no decision is read)."""

    runs: int
    first_at: dt.datetime | None
    last_at: dt.datetime | None
    last_run: str | None
    #: The latest re-check's items, and of them those reserved since and those unreadable.
    items: int
    reserved: int
    unknown: int


def recheck_figures(engine: Engine) -> RecheckFigures:
    """Return the re-checks recorded, and the counts of the latest."""
    r, n = CRAWL_RUN_T.c, COUNT_T.c
    with reading(engine) as conn:
        runs = conn.execute(
            select(r.id, r.run_key, r.started_at)
            .where(r.kind == "recheck")
            .order_by(r.started_at, r.id)
        ).all()
        counts: dict[str, int] = {}
        if runs:
            rows = conn.execute(select(n.name, n.n).where(n.run_id == runs[-1].id))
            counts = {name: int(value) for name, value in rows}

    def count(action: Action) -> int:
        return counts.get(f"action:{action.value}", 0)

    return RecheckFigures(
        runs=len(runs),
        first_at=runs[0].started_at if runs else None,
        last_at=runs[-1].started_at if runs else None,
        last_run=runs[-1].run_key if runs else None,
        items=count(Action.RECHECKED_USABLE)
        + count(Action.RECHECKED_RESERVED)
        + count(Action.RECHECKED_UNKNOWN),
        reserved=count(Action.RECHECKED_RESERVED),
        unknown=count(Action.RECHECKED_UNKNOWN),
    )
