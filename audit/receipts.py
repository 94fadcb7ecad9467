"""Receipts: what the audit log holds about one decision, with the proofs that it was logged.

A receipt (``heed receipt``, the portal's owner pages) is a JSON document anyone can check
offline with :func:`audit.receiptcheck.verify_receipt`. It holds:

* the signed checkpoint it proves against (the newest one covering every record) and the
  verifier key of its signature;
* one *record* per row the decision rests on — the decision, its outcome, the outcome's signals,
  the origin, the stored item if content was kept, the signal documents by sha256 — each with
  its leaf data (the exact bytes the log hashed), its index in the log and its inclusion proof;
* the signal documents' bytes (base64) up to :data:`MAX_INLINE` bytes each, else their hash and
  where they were fetched from. A signal read from the page itself (a TDMRep ``<meta>``) names
  the page's sha256, but pages are not kept: such a document has no record and no bytes (size
  null), only its hash and URL — the receipt cannot show what the page said beyond the signal.

A receipt is only issued for rows that still hash to their stored leaf: a database that no longer
agrees with its own log gets no receipt, but an error pointing to ``heed db verify``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from sqlalchemy import Connection, Engine, select

from audit.errors import IntegrityError, NotFoundError
from audit.leaves import KEY_COLUMN, LEAF_COLUMNS, leaf_data, parse_leaf
from audit.log import LogReader, checkpoints
from audit.merkle import leaf_hash
from audit.models import DECISION_T, DOCUMENT_T, Base
from audit.receiptcheck import MAX_INLINE, RECEIPT_FORMAT  # the checker's, so they agree


class ReceiptError(NotFoundError):
    """No receipt can be made (no such decision, no checkpoint covering it yet)."""


def decision_for_url(engine: Engine, url: str) -> int:
    """Return the id of the most recent decision about exactly *url*."""
    c = DECISION_T.c
    stmt = select(c.id).where(c.url == url).order_by(c.time.desc(), c.id.desc()).limit(1)
    with engine.connect() as conn:
        found = conn.execute(stmt).scalar()
    if found is None:
        raise ReceiptError(f"no decision recorded for {url}")
    return int(found)


def decision_domain(engine: Engine, decision_id: int) -> str | None:
    """Return the registrable domain decision *decision_id* is about (None: no such decision)."""
    origin = Base.metadata.tables["origin"]
    stmt = (
        select(origin.c.domain)
        .join(DECISION_T, DECISION_T.c.origin_id == origin.c.id)
        .where(DECISION_T.c.id == decision_id)
    )
    with engine.connect() as conn:
        found = conn.execute(stmt).scalar()
    return None if found is None else str(found)


def build_receipt(engine: Engine, decision_id: int) -> dict[str, Any]:
    """Return the receipt of decision *decision_id* (see the module text)."""
    with engine.connect() as conn:
        decision = _row(conn, "decision", decision_id)
        if decision is None:
            raise ReceiptError(f"no decision {decision_id}")
        fields = dict(zip(LEAF_COLUMNS["decision"], decision, strict=True))
        refs: list[tuple[str, Any]] = [("decision", decision_id)]
        outcome = _row(conn, "outcome", fields["outcome_id"])
        refs.append(("outcome", fields["outcome_id"]))
        refs.append(("origin", fields["origin_id"]))
        signal_ids = json.loads(outcome[7]) if outcome is not None else []
        refs.extend(("signal", sid) for sid in signal_ids)
        item = conn.execute(
            select(Base.metadata.tables["stored_item"].c.id).where(
                Base.metadata.tables["stored_item"].c.decision_id == decision_id
            )
        ).scalar()
        if item is not None:
            refs.append(("stored_item", int(item)))
        rows = {ref: _row(conn, *ref) for ref in refs}
        sources: dict[str, str | None] = {}
        for sid in signal_ids:
            signal = rows[("signal", sid)]
            if signal is not None:
                named = dict(zip(LEAF_COLUMNS["signal"], signal, strict=True))
                if named["sha256"]:
                    sources.setdefault(named["sha256"], named["source"])
        for sha in sources:
            document = _row(conn, "document", sha)
            if document is not None:  # pages' own bytes are not kept (see the module text)
                rows[("document", sha)] = document
        missing = [f"{t} {k}" for (t, k), row in rows.items() if row is None]
        if missing:
            raise IntegrityError(f"rows are missing: {', '.join(missing)}; run heed db verify")
        log = LogReader(conn)
        found = log.find(set(rows))
        unlogged = [f"{t} {k}" for (t, k) in rows if (t, k) not in found]
        if unlogged:
            raise IntegrityError(f"not in the audit log: {', '.join(unlogged)}; run heed db verify")
        needed = max(found.values()) + 1
        covering = [c for c in checkpoints(conn) if c.size >= needed]
        if not covering:
            raise ReceiptError(
                f"no signed checkpoint covers decision {decision_id} yet "
                "(sign one: heed log checkpoint)"
            )
        checkpoint = covering[-1]
        records = []
        for ref, values in rows.items():
            assert values is not None
            index = found[ref]
            data = leaf_data(ref[0], values)
            if log.leaf_hashes(index, index + 1)[0] != leaf_hash(data):
                raise IntegrityError(
                    f"{ref[0]} {ref[1]} no longer matches its leaf {index}; run heed db verify"
                )
            records.append(
                {
                    "table": ref[0],
                    "index": index,
                    "leaf": data.decode("utf-8"),
                    "fields": parse_leaf(data)[1],
                    "proof": [
                        base64.b64encode(h).decode() for h in log.inclusion(index, checkpoint.size)
                    ],
                }
            )
        documents = [_document(conn, sha, source) for sha, source in sources.items()]
    return {
        "format": RECEIPT_FORMAT,
        "decision": decision_id,
        "url": fields["url"],
        "checkpoint": {
            "id": checkpoint.id,
            "size": checkpoint.size,
            "note": checkpoint.note,
            "verifier_key": checkpoint.verifier_key,
        },
        "records": records,
        "documents": documents,
    }


def _row(conn: Connection, table: str, key: Any) -> tuple[Any, ...] | None:
    """Return the leaf column values of the row *key* of *table*, None if there is none."""
    t = Base.metadata.tables[table]
    stmt = select(*(t.c[c] for c in LEAF_COLUMNS[table])).where(t.c[KEY_COLUMN[table]] == key)
    found = conn.execute(stmt).first()
    return None if found is None else tuple(found)


def _document(conn: Connection, sha256: str, source: str | None) -> dict[str, Any]:
    """Return a signal document as a receipt carries it (size None: the database does not
    hold it)."""
    c = DOCUMENT_T.c
    size = conn.execute(select(c.size).where(c.sha256 == sha256)).scalar()
    body = None
    if size is not None and int(size) <= MAX_INLINE:  # a large body is not even read
        body = conn.execute(select(c.body).where(c.sha256 == sha256)).scalar_one()
    return {
        "sha256": sha256,
        "size": None if size is None else int(size),
        "source": source,
        "body_base64": None if body is None else base64.b64encode(bytes(body)).decode(),
    }
