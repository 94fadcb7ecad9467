"""Read-only look-ups for rightsholders and operators (docs/regulation.md AC-17,
docs/development.md#package-layout).

:func:`lookup` answers "what did the crawler decide and do for this domain / host / origin /
URL prefix, and why": decisions per origin, per URL, in time order, each with its signals,
the documents they were read from, and whether content was stored. :func:`evidence` returns a
signal document's exact bytes, after checking them against their sha256. :func:`count` says
how many decisions a look-up with a limit left out.

Look-ups resolve the target to origins first (small table, indexed by domain and host), then
read each origin's decisions through the ``(origin_id, time)`` index, joined with their outcome,
policy, run and stored item, then the signals of those outcomes: three queries, whose cost
follows the size of the answer, not of the database. They are plain, portable SQL: a command
runs them once per process, and compiling the equivalent Core statements cost more than running
them (measured).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import URL, BindParameter, Connection, Engine, bindparam, select, text

from audit.engine import make_engine, resolve_url
from audit.errors import IntegrityError, NotFoundError, TargetError
from audit.migrate import ensure_schema
from audit.models import (
    DOCUMENT_T,
    FETCH_T,
    UTCDateTime,
)
from audit.records import (
    DecisionRecord,
    FetchRecord,
    ItemRecord,
    SignalRecord,
    StoredDocument,
    signal_detail,
)
from audit.rows import hash_id, parse_purposes
from audit.target import Target, TargetKind
from audit.urls import parse_origin
from optout.url import split_origin

#: Decisions read per round of signal/document look-ups.
_CHUNK = 500
_HEX = frozenset("0123456789abcdef")


def open_reader(db: str | URL | None = None) -> Engine:
    """Return an engine on an existing audit database (never creates one)."""
    return _open_existing(db)


def open_publisher(db: str | URL | None = None) -> Engine:
    """Return an engine that reads an existing audit database and may publish versions to it.

    Never creates a database. A SQLite writer engine takes the write lock up front, so that two
    reports publishing at once wait for each other instead of failing.
    """
    return _open_existing(db, writer=True)


def _open_existing(db: str | URL | None, *, writer: bool = False) -> Engine:
    url = db if isinstance(db, URL) else resolve_url(db)
    engine = make_engine(url, must_exist=True, writer=writer, foreign_keys=True if writer else None)
    try:
        ensure_schema(engine, create=False)
    except Exception:
        engine.dispose()
        raise
    return engine


def lookup(
    engine: Engine,
    target: Target,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int | None = None,
) -> Iterator[DecisionRecord]:
    """Yield the decisions about *target*, per origin, per URL, in time order.

    *since* is inclusive, *until* exclusive (see :func:`audit.target.parse_when`).
    """
    with engine.connect() as conn:
        reader = _Reader(conn)
        produced = 0
        for origin in _origins(conn, target):
            for chunk in _decision_chunks(conn, origin, target, since, until):
                for record in reader.records(chunk, origin):
                    yield record
                    produced += 1
                    if limit is not None and produced >= limit:
                        return


def count(
    engine: Engine,
    target: Target,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> int:
    """Return how many decisions about *target* :func:`lookup` would yield without a limit."""
    total = 0
    with engine.connect() as conn:
        for origin in _origins(conn, target):
            where, params, binds = _where(origin, target, since, until)
            sql = f"SELECT COUNT(*) FROM decision d WHERE {where}"
            total += int(conn.execute(text(sql).bindparams(*binds), params).scalar_one())
    return total


def _origins(conn: Connection, target: Target) -> list[dict[str, Any]]:
    if target.kind in (TargetKind.ORIGIN, TargetKind.PREFIX):
        column, value = "origin", target.origin
    elif target.kind is TargetKind.HOST:
        column, value = "host", target.host
    else:
        column, value = "domain", target.domain
    sql = f"SELECT id, origin, host, domain FROM origin WHERE {column} = :value"
    rows = [dict(row._mapping) for row in conn.execute(text(sql), {"value": value})]
    return sorted((r for r in rows if target.matches_host(r["host"])), key=lambda r: r["origin"])


def _decision_chunks(
    conn: Connection,
    origin: dict[str, Any],
    target: Target,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> Iterator[list[dict[str, Any]]]:
    # Plain SQL (portable to both backends): compiling the equivalent Core select cost more than
    # running it, on every ``heed status`` process (the compiled cache lives with the engine).
    where, params, binds = _where(origin, target, since, until)
    prefix = target.prefix
    stmt = (
        text(_DECISIONS_SQL.format(where=where))
        .bindparams(*binds)
        .columns(time=UTCDateTime(), item_time=UTCDateTime())
    )
    result = conn.execute(stmt, params)
    while rows := result.fetchmany(_CHUNK):
        found = [dict(row._mapping) for row in rows]
        if prefix is not None:
            found = [row for row in found if row["url"].startswith(prefix)]
        if found:
            yield found


def _where(
    origin: dict[str, Any],
    target: Target,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> tuple[str, dict[str, Any], list[BindParameter[Any]]]:
    """Return the WHERE clause on ``decision d`` for one origin of *target*, its parameters and
    their binds."""
    where = ["d.origin_id = :origin"]
    params: dict[str, Any] = {"origin": origin["id"]}
    binds: list[BindParameter[Any]] = [bindparam("origin")]
    if since is not None:
        where.append("d.time >= :since")
        params["since"] = since
        binds.append(bindparam("since", type_=UTCDateTime()))
    if until is not None:
        where.append("d.time < :until")
        params["until"] = until
        binds.append(bindparam("until", type_=UTCDateTime()))
    prefix = target.prefix
    if prefix is not None:
        where.append("d.url >= :low AND d.url < :high")
        params |= {"low": prefix, "high": _after_prefix(prefix)}
        binds += [bindparam("low"), bindparam("high")]
    return " AND ".join(where), params, binds


_DECISIONS_SQL = """
SELECT d.id, d.run_id, d.request_key, d.attempt, d.time, d.url, d.action, d.http_status,
       d.denylist_version, o.crawl, o.use, o.purpose, o.purposes, o.reasons, o.signal_ids,
       o.complete, o.licence_required, p.digest, p.protocol_set, r.crawler_name,
       r.product_token, i.id AS item_id, i.time AS item_time, i.url AS item_url,
       i.content_type, i.modality, i.bytes, i.tokens, i.content_sha256
FROM decision d
JOIN outcome o ON o.id = d.outcome_id
JOIN policy p ON p.id = o.policy_id
JOIN crawl_run r ON r.id = d.run_id
LEFT JOIN stored_item i ON i.decision_id = d.id
WHERE {where}
ORDER BY d.url, d.time, d.id
"""


def _after_prefix(prefix: str) -> str:
    """Return the smallest string greater than every string starting with *prefix*."""
    last = ord(prefix[-1])
    return prefix[:-1] + chr(last + 1) if last < 0x10FFFF else prefix + "\U0010ffff"


class _Reader:
    """Caches signals while turning rows into records."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.signals: dict[int, SignalRecord] = {}

    def records(
        self, rows: list[dict[str, Any]], origin: dict[str, Any]
    ) -> Iterator[DecisionRecord]:
        ids_per_row = [json.loads(row["signal_ids"]) for row in rows]
        self._load_signals({sid for ids in ids_per_row for sid in ids})
        for row, ids in zip(rows, ids_per_row, strict=True):
            item = None
            if row["item_id"] is not None:
                item = ItemRecord(
                    id=row["item_id"],
                    time=row["item_time"],
                    url=row["item_url"],
                    content_type=row["content_type"],
                    modality=row["modality"],
                    bytes=row["bytes"],
                    tokens=row["tokens"],
                    content_sha256=row["content_sha256"],
                )
            yield DecisionRecord(
                id=row["id"],
                run_id=row["run_id"],
                crawler=row["crawler_name"],
                product_token=row["product_token"],
                time=row["time"],
                url=row["url"],
                origin=origin["origin"],
                host=origin["host"],
                domain=origin["domain"],
                crawl=row["crawl"],
                use=row["use"],
                purpose=row["purpose"],
                purposes=parse_purposes(row["purposes"]),
                action=row["action"],
                reasons=tuple(json.loads(row["reasons"])),
                complete=bool(row["complete"]),
                licence_required=bool(row["licence_required"]),
                http_status=row["http_status"],
                denylist_version=row["denylist_version"],
                request_key=row["request_key"],
                attempt=row["attempt"],
                policy_digest=row["digest"],
                protocol_set=row["protocol_set"],
                signals=tuple(self._signal(sid) for sid in ids),
                item=item,
            )

    def _signal(self, signal_id: int) -> SignalRecord:
        found = self.signals.get(signal_id)
        if found is None:
            raise IntegrityError(f"signal {signal_id} is referenced but not stored")
        return found

    def _load_signals(self, ids: set[int]) -> None:
        missing = sorted(ids - self.signals.keys())
        for chunk in _chunks(missing):
            for row in self.conn.execute(_SIGNALS_SQL, {"ids": chunk}):
                data = dict(row._mapping)
                data["purposes"] = parse_purposes(data["purposes"])
                self.signals[data["id"]] = SignalRecord(
                    id=data["id"],
                    protocol=data["protocol"],
                    verdict=data["verdict"],
                    crawl=data["crawl"],
                    purposes=data["purposes"],
                    reason=data["reason"],
                    detail=signal_detail(data),
                    source=data["source"],
                    status=data["status"],
                    rule=data["rule"],
                    line=data["line"],
                    sha256=data["sha256"],
                    parser=data["parser"],
                    flags=tuple(f for f in data["flags"].split(",") if f),
                    licence_url=data["licence_url"],
                    licence_required=bool(data["licence_required"]),
                    fetched_at=data["fetched_at"],
                    extra=json.loads(data["extra"]) if data["extra"] else None,
                    document_stored=bool(data["document_stored"]),
                )


_SIGNALS_SQL = text(
    "SELECT s.id, s.protocol, s.crawl, s.purposes, s.verdict, s.reason, s.source, s.status, "
    "s.rule, s.line, s.sha256, s.parser, s.flags, s.licence_url, s.licence_required, "
    "s.fetched_at, s.extra, "
    "CASE WHEN doc.sha256 IS NULL THEN 0 ELSE 1 END AS document_stored "
    "FROM signal s LEFT JOIN document doc ON doc.sha256 = s.sha256 WHERE s.id IN :ids"
).bindparams(bindparam("ids", expanding=True))


def fetches(
    engine: Engine, seen: Iterable[tuple[str, str | None]]
) -> dict[tuple[str, str | None], list[FetchRecord]]:
    """Return the recorded retrievals of each ``(document sha256, source URL)`` in *seen*.

    Only retrievals of that URL (or redirected to it) are returned: identical bytes fetched
    from other sites share the hash, and their data is not this look-up's to show (AC-17).
    """
    wanted = set(seen)
    by_origin: dict[int, set[str]] = {}
    for sha, source in wanted:
        origin_id = _origin_id(source)
        if origin_id is not None:
            by_origin.setdefault(origin_id, set()).add(sha)
    out: dict[tuple[str, str | None], list[FetchRecord]] = {}
    with engine.connect() as conn:
        for origin_id, hashes in sorted(by_origin.items()):
            params = {"origin": origin_id, "hashes": sorted(hashes)}
            for row in conn.execute(_FETCHES_SQL, params):
                record = _fetch(row._mapping)
                # A retrieval that was not redirected has final_url == url: list it once.
                for source in dict.fromkeys((record.url, record.final_url)):
                    if (row.sha256, source) in wanted:
                        out.setdefault((row.sha256, source), []).append(record)
    return out


_FETCHES_SQL = (
    text(
        "SELECT id, sha256, run_id, kind, url, final_url, status, error, redirects, truncated, "
        "headers, fetched_at, recorded_at FROM document_fetch "
        "WHERE origin_id = :origin AND sha256 IN :hashes ORDER BY fetched_at, id"
    )
    .bindparams(bindparam("hashes", expanding=True))
    .columns(fetched_at=UTCDateTime(), recorded_at=UTCDateTime())
)


def _origin_id(url: str | None) -> int | None:
    if not url:
        return None
    try:
        return hash_id("origin", parse_origin(split_origin(url)[0]).origin)
    except ValueError:
        return None


def evidence(engine: Engine, sha256: str) -> StoredDocument:
    """Return the stored document *sha256* (a full hash or a unique prefix of ≥ 8 digits).

    Raises NotFoundError when nothing matches, TargetError for an ambiguous or malformed hash,
    and IntegrityError when the stored bytes do not hash to their key.
    """
    key = sha256.strip().lower()
    if len(key) < 8 or len(key) > 64 or not set(key) <= _HEX:
        raise TargetError(f"{sha256!r} is not a sha256 (64 hex digits, or a prefix of ≥ 8)")
    c = DOCUMENT_T.c
    with engine.connect() as conn:
        if len(key) == 64:
            stmt = select(DOCUMENT_T).where(c.sha256 == key)
        else:
            upper = key[:-1] + chr(ord(key[-1]) + 1)
            stmt = select(DOCUMENT_T).where(c.sha256 >= key, c.sha256 < upper).limit(2)
        rows = conn.execute(stmt).all()
        if not rows:
            raise NotFoundError(f"no stored document with sha256 {key}")
        if len(rows) > 1:
            raise TargetError(f"sha256 prefix {key} is ambiguous: give more digits")
        doc = rows[0]._mapping
        body = bytes(doc["body"])
        actual = hashlib.sha256(body).hexdigest()
        if actual != doc["sha256"] or len(body) != doc["size"]:
            raise IntegrityError(
                f"document {doc['sha256']} fails verification: its stored bytes hash to {actual}"
            )
        stmt2 = select(FETCH_T).where(FETCH_T.c.sha256 == doc["sha256"])
        found = [_fetch(row._mapping) for row in conn.execute(stmt2.order_by(FETCH_T.c.id))]
    found.sort(key=lambda f: (f.fetched_at or f.recorded_at, f.recorded_at))
    return StoredDocument(
        sha256=doc["sha256"],
        size=doc["size"],
        body=body,
        first_seen=doc["first_seen"],
        fetches=tuple(found),
    )


def _fetch(row: Any) -> FetchRecord:
    return FetchRecord(
        kind=row["kind"],
        url=row["url"],
        final_url=row["final_url"],
        status=row["status"],
        error=row["error"],
        redirects=row["redirects"],
        truncated=bool(row["truncated"]),
        headers=tuple((str(k), str(v)) for k, v in json.loads(row["headers"])),
        fetched_at=row["fetched_at"],
        recorded_at=row["recorded_at"],
        run_id=row["run_id"],
    )


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]
