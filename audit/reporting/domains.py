"""The public domain look-up: what the crawler saw and did on a registrable domain, in aggregate.

``heed serve`` answers a rightsholder's "did your crawler see my opt-out, and did it honour
it?" from :func:`domain_view` (values in :mod:`audit.reporting.domainview`), and serves the
signal documents it names with :func:`signal_document`.

The cost follows the size of the domain, never of the database. The domain resolves to its
origins (index on ``origin.domain``); one GROUP BY over their decisions gives the counts per
origin, run, outcome, action and month, from the index ``(origin_id, time, run_id, outcome_id,
action)`` alone (each decision joined with its stored item by the unique
``stored_item.decision_id``), and brings each group's outcome and run token along; the signals
of those outcomes are read by primary key (few: every URL a site's rules decide alike shares one
outcome); the documents come from ``document_fetch`` by its ``(origin_id, sha256)`` index. Only
where an origin has decisions that applied a reservation are its decisions read again, in one
statement for all such origins, to find the items kept after a reservation of their URL was
first seen. The entries of the provider's reservations registry for the domain come first
(:func:`audit.registry.registry_covering`). Six statements in all, whatever the domain (each a
round trip on PostgreSQL), in one transaction, so the figures agree with each other while a
crawler writes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, Engine, TextClause, bindparam, text

from audit.engine import reading
from audit.errors import IntegrityError, NotFoundError, TargetError
from audit.models import UTCDateTime
from audit.records import signal_detail
from audit.registry import registry_covering
from audit.reporting.domainfold import Group, Outcome, fold
from audit.reporting.domainkept import kept_after
from audit.reporting.domainview import DocumentVersion, DomainView, Meaning
from audit.rows import parse_purposes

#: The kinds of document the crawler fetches as signals (crawler/extensions/audit.py); only
#: these are ever served. Page content is never a document: its hash is not served.
SIGNAL_DOCUMENT_KINDS = ("robots.txt", "tdmrep.json", "ai.txt", "rsl-licence")
_CHUNK = 500
_HEX = frozenset("0123456789abcdef")

#: Calendar month (UTC) of ``d.time``: SQLite stores integer microseconds (audit.models).
_MONTH = {
    "sqlite": "strftime('%Y-%m', d.time / 1000000, 'unixepoch')",
    "postgresql": "to_char(d.time AT TIME ZONE 'UTC', 'YYYY-MM')",
}


def _expanding(sql: str, *names: str) -> TextClause:
    return text(sql).bindparams(*(bindparam(n, expanding=True) for n in names))


_ORIGINS_SQL = text("SELECT id, origin, host FROM origin WHERE domain = :domain ORDER BY origin")
#: The decisions of the origins grouped (index-only, see the module's docstring), then each
#: group's outcome and run token joined: they would otherwise be two more round trips.
_GROUPS_SQL = """
SELECT g.*, r.product_token, o.crawl, o.use, o.purpose, o.reasons, o.signal_ids
FROM (
    SELECT d.origin_id, d.run_id, d.outcome_id, d.action, {month} AS month,
           COUNT(*) AS decisions, MIN(d.time) AS first, MAX(d.time) AS last,
           COUNT(i.id) AS items, SUM(i.bytes) AS bytes, MIN(i.time) AS item_first,
           MAX(i.time) AS item_last
    FROM decision d LEFT JOIN stored_item i ON i.decision_id = d.id
    WHERE d.origin_id IN :origins
    GROUP BY d.origin_id, d.run_id, d.outcome_id, d.action, {month}
) g
LEFT JOIN crawl_run r ON r.id = g.run_id
LEFT JOIN outcome o ON o.id = g.outcome_id
"""
_TIMES = {"first": UTCDateTime(), "last": UTCDateTime()}
_DOCUMENTS_SQL = _expanding(
    "SELECT f.origin_id, f.kind, f.url, f.sha256, f.status, f.error, doc.size, "
    "MIN(COALESCE(f.fetched_at, f.recorded_at)) AS first, "
    "MAX(COALESCE(f.fetched_at, f.recorded_at)) AS last, COUNT(*) AS retrievals, "
    "MAX(CASE WHEN f.truncated THEN 1 ELSE 0 END) AS truncated "
    "FROM document_fetch f JOIN document doc ON doc.sha256 = f.sha256 "
    "WHERE f.origin_id IN :origins AND f.kind IN :kinds "
    "GROUP BY f.origin_id, f.kind, f.url, f.sha256, f.status, f.error, doc.size",
    "origins",
    "kinds",
).columns(**_TIMES)
_SIGNALS_SQL = _expanding(
    "SELECT id, protocol, crawl, purposes, verdict, reason, rule, line, source, sha256 "
    "FROM signal WHERE id IN :ids",
    "ids",
)
_DOCUMENT_SQL = _expanding(
    "SELECT doc.body, doc.size FROM document doc WHERE doc.sha256 = :sha256 AND EXISTS "
    "(SELECT 1 FROM document_fetch f WHERE f.sha256 = doc.sha256 AND f.kind IN :kinds)",
    "kinds",
)


def domain_view(engine: Engine, domain: str) -> DomainView:
    """Return what the audit trail shows in public about the registrable domain *domain*.

    *domain* is compared as stored: lower-case, IDNA-encoded (:func:`audit.registrable_domain`).
    """
    dialect = engine.dialect.name
    groups_sql = _expanding(
        _GROUPS_SQL.format(month=_MONTH.get(dialect, _MONTH["sqlite"])), "origins"
    ).columns(**_TIMES, item_first=UTCDateTime(), item_last=UTCDateTime())
    with reading(engine) as conn:
        registry = tuple(registry_covering(conn, domain))
        origins = {r.id: (r.origin, r.host) for r in conn.execute(_ORIGINS_SQL, {"domain": domain})}
        if not origins:
            return replace(fold(domain, {}, [], {}, [], {}, {}, {}), registry=registry)
        ids = sorted(origins)
        rows = list(conn.execute(groups_sql, {"origins": ids}))
        groups = [Group(*row[:_GROUP_COLUMNS]) for row in rows]
        outcomes = _with_signals(conn, {r.outcome_id: r for r in rows if r.crawl is not None})
        if len(outcomes) != len({g.outcome_id for g in groups}):
            raise IntegrityError("a decision of the domain has an outcome that is not stored")
        docs = _documents(conn, ids, origins, outcomes)
        tokens = {r.run_id: r.product_token for r in rows if r.product_token is not None}
        kept, totals = kept_after(conn, groups, outcomes, origins)
    view = fold(domain, origins, groups, outcomes, docs, tokens, kept, totals)
    return replace(view, registry=registry) if registry else view


_GROUP_COLUMNS = len(Group._fields)


def _with_signals(conn: Connection, rows: Mapping[int, Any]) -> dict[int, Outcome]:
    """Return the outcomes of *rows* (id → a row with the outcome's columns), with the signals
    they list."""
    listed = {i: [int(s) for s in json.loads(r.signal_ids)] for i, r in rows.items()}
    signals: dict[int, dict[str, Any]] = {}
    wanted = sorted({s for ids_ in listed.values() for s in ids_})
    for chunk in _chunks(wanted):
        for row in conn.execute(_SIGNALS_SQL, {"ids": chunk}):
            data = dict(row._mapping)
            data["purposes"] = parse_purposes(data["purposes"])
            data["detail"] = signal_detail(data)
            signals[data["id"]] = data
    out = {}
    for i, r in sorted(rows.items()):  # by id, as the meanings of a document are listed
        found = [signals[s] for s in listed[i] if s in signals]
        if len(found) != len(listed[i]):
            raise IntegrityError(f"outcome {i} lists a signal that is not stored")
        out[i] = Outcome(i, r.crawl, r.use, r.purpose, tuple(json.loads(r.reasons)), found)
    return out


def _documents(
    conn: Connection,
    ids: list[int],
    origins: dict[int, tuple[str, str]],
    outcomes: dict[int, Outcome],
) -> list[DocumentVersion]:
    """Return every version of every signal document of the origins *ids*, with the signals
    the crawler's decisions read from it."""
    meanings: dict[tuple[str, str], dict[Meaning, None]] = {}
    for outcome in outcomes.values():
        for s in outcome.signals:
            if s["sha256"] and s["source"]:
                key = (s["sha256"], s["source"])
                meanings.setdefault(key, {})[outcome.meaning(s)] = None
    out = []
    params = {"origins": ids, "kinds": list(SIGNAL_DOCUMENT_KINDS)}
    rows = sorted(conn.execute(_DOCUMENTS_SQL, params), key=lambda r: (r.url, r.first or _NEVER))
    merged: dict[tuple[int, str, str, str], list[Any]] = {}
    for r in rows:  # one version per URL and hash, whatever statuses its retrievals got
        merged.setdefault((r.origin_id, r.kind, r.url, r.sha256), []).append(r)
    for (origin_id, kind, url, sha), parts in merged.items():
        origin, host = origins[origin_id]
        firsts = [p.first for p in parts if p.first is not None]
        lasts = [p.last for p in parts if p.last is not None]
        out.append(
            DocumentVersion(
                origin=origin,
                host=host,
                kind=kind,
                url=url,
                sha256=sha,
                size=int(parts[0].size),
                statuses=tuple(sorted({p.status for p in parts if p.status is not None})),
                errors=tuple(sorted({p.error for p in parts if p.error})),
                first_seen=min(firsts) if firsts else None,
                last_seen=max(lasts) if lasts else None,
                retrievals=sum(int(p.retrievals) for p in parts),
                truncated=any(bool(p.truncated) for p in parts),
                meanings=tuple(meanings.get((sha, url), {})),
            )
        )
    return out


_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)


def signal_document(engine: Engine, sha256: str) -> bytes:
    """Return the exact bytes of the signal document *sha256* (64 hex digits), verified.

    Only documents the crawler fetched as signals (:data:`SIGNAL_DOCUMENT_KINDS`) are
    returned. Raises TargetError for a malformed hash, NotFoundError when there is no such
    document, and IntegrityError when the stored bytes do not hash to their key.
    """
    key = sha256.strip().lower()
    if len(key) != 64 or not set(key) <= _HEX:
        raise TargetError(f"{sha256!r} is not a sha256 (64 hex digits)")
    with reading(engine) as conn:
        row = conn.execute(
            _DOCUMENT_SQL, {"sha256": key, "kinds": list(SIGNAL_DOCUMENT_KINDS)}
        ).first()
    if row is None:
        raise NotFoundError(f"no signal document with sha256 {key}")
    body = bytes(row.body)
    if hashlib.sha256(body).hexdigest() != key or len(body) != row.size:
        raise IntegrityError(f"document {key} fails verification")
    return body


def _chunks(values: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]
