"""Versions of the documents a provider publishes, kept in the audit database (append-only).

policy/ renders the training-content summary, the copyright policy and the crawler information
from the audit trail; each rendering's JSON form is published here. A version is a new row only
when the content changed: publishing the same body again returns the latest version unchanged,
so that running a report twice does not invent a new version. Every version links to the one
before it (``previous_id``), and says what changed (``changes``, sentences for a feed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select

from audit.engine import reading
from audit.errors import IntegrityError
from audit.models import PUBLICATION_T

#: The kinds of document published.
#: ``statements``: the provider statements a publication was made from (policy.statements).
KINDS = ("summary", "policy", "policy-public", "crawler-info", "statements")


@dataclass(frozen=True, slots=True)
class Publication:
    """One published version."""

    id: int
    kind: str
    subject: str
    version: int
    created_at: dt.datetime
    sha256: str
    body: dict[str, Any]
    previous_id: int | None
    changes: tuple[str, ...]


def canonical_json(body: dict[str, Any]) -> str:
    """Return *body* as canonical JSON (keys sorted, compact, UTF-8 kept)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def body_sha256(body: dict[str, Any]) -> str:
    """Return the sha256 of *body*'s canonical JSON."""
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def publish(
    engine: Engine,
    kind: str,
    body: dict[str, Any],
    *,
    subject: str = "",
    changes: Sequence[str] = (),
    now: dt.datetime | None = None,
) -> tuple[Publication, bool]:
    """Publish *body* as the next version of ``(kind, subject)``; return it and whether it is new.

    If the latest version has the same body, nothing is written and that version is returned
    with ``False``. *body* must be JSON-serialisable and must not contain its own version or
    time (they are the row's).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown publication kind {kind!r}; known: {KINDS}")
    text = canonical_json(body)
    digest = hashlib.sha256(text.encode()).hexdigest()
    with engine.begin() as conn:
        latest = _latest(conn, kind, subject)
        if latest is not None and latest.sha256 == digest:
            return latest, False
        row = {
            "kind": kind,
            "subject": subject,
            "version": 1 if latest is None else latest.version + 1,
            "created_at": now or dt.datetime.now(dt.UTC),
            "sha256": digest,
            "body": text,
            "previous_id": None if latest is None else latest.id,
            "changes": json.dumps(list(changes), ensure_ascii=False),
        }
        new_id = conn.execute(insert(PUBLICATION_T).values(**row)).inserted_primary_key
        assert new_id is not None
        created = _by_id(conn, int(new_id[0]))
    assert created is not None
    return created, True


def latest(engine: Engine, kind: str, subject: str = "") -> Publication | None:
    """Return the latest version of ``(kind, subject)``, or None if none was published."""
    with reading(engine) as conn:
        return _latest(conn, kind, subject)


def history(engine: Engine, kind: str, subject: str | None = "") -> list[Publication]:
    """Return every version of *kind* (for *subject*, or all subjects if None), oldest first."""
    c = PUBLICATION_T.c
    stmt = select(PUBLICATION_T).where(c.kind == kind)
    if subject is not None:
        stmt = stmt.where(c.subject == subject)
    with reading(engine) as conn:
        return [_record(row) for row in conn.execute(stmt.order_by(c.subject, c.version))]


def get(engine: Engine, publication_id: int) -> Publication | None:
    """Return the publication with id *publication_id*, or None."""
    with reading(engine) as conn:
        return _by_id(conn, publication_id)


def _latest(conn: Connection, kind: str, subject: str) -> Publication | None:
    c = PUBLICATION_T.c
    top = select(func.max(c.version)).where(c.kind == kind, c.subject == subject).scalar_subquery()
    row = conn.execute(
        select(PUBLICATION_T).where(c.kind == kind, c.subject == subject, c.version == top)
    ).first()
    return None if row is None else _record(row)


def _by_id(conn: Connection, publication_id: int) -> Publication | None:
    row = conn.execute(select(PUBLICATION_T).where(PUBLICATION_T.c.id == publication_id)).first()
    return None if row is None else _record(row)


def _record(row: Any) -> Publication:
    m = row._mapping
    body = m["body"]
    if hashlib.sha256(body.encode()).hexdigest() != m["sha256"]:
        raise IntegrityError(f"publication {m['id']}: body does not match its sha256")
    return Publication(
        id=m["id"],
        kind=m["kind"],
        subject=m["subject"],
        version=m["version"],
        created_at=m["created_at"],
        sha256=m["sha256"],
        body=json.loads(body),
        previous_id=m["previous_id"],
        changes=tuple(json.loads(m["changes"])),
    )
