"""The audit log in the database: an RFC 9162 Merkle tree over the committed evidence rows.

Every commit of the writer appends, in its own transaction, one leaf per row it inserted into
the logged tables (:data:`audit.leaves.LEAF_COLUMNS`: origins, signal documents and their
retrievals, signals, outcomes, decisions, stored items), in that order. What is stored:

* ``log_batch``: per commit, the index of its first leaf, the rows (by table and key) and their
  leaf hashes;
* ``log_state``: the size and compact state (:class:`audit.merkle.CompactTree`), one row,
  read and updated under a lock, so that appending costs O(log n) per commit and commits from
  several processes take their places one after the other;
* ``log_node``: the root of every complete subtree of :data:`NODE_LEVEL` levels (256 leaves) or
  more, so that a proof reads O(log n) rows (smaller subtrees come from the leaf hashes);
* ``log_checkpoint``: signed checkpoints (:mod:`audit.checkpoint`).

Rows are the source of truth: ``heed db verify`` (:mod:`audit.logcheck`) hashes them again and
rebuilds the tree; the stored hashes only serve proofs.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from audit.leaves import LEAF_COLUMNS
from audit.merkle import (
    HASH_SIZE,
    CompactTree,
    consistency_path,
    inclusion_path,
    root,
    subtree_root,
)
from audit.models import LOG_BATCH_T, LOG_CHECKPOINT_T, LOG_NODE_T, LOG_STATE_T

#: Complete subtrees of this many levels and more are stored in ``log_node``.
NODE_LEVEL = 8
#: The one row of ``log_state``.
STATE_ID = 1
#: A reference to a logged row: its table and key (an id, or a document's sha256).
Ref = tuple[str, Any]


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A row of ``log_checkpoint``."""

    id: int
    size: int
    root: str
    note: str
    verifier_key: str
    signed_at: dt.datetime


def encode_refs(refs: dict[str, list[Any]]) -> str:
    """Return *refs* (table → keys, in leaf order) as stored: runs of consecutive integer ids
    as ``[first, count]`` (decision and item ids are allocated in blocks, so a batch is a few
    runs), other keys as they are."""
    out: dict[str, list[Any]] = {}
    for table, keys in refs.items():
        if not keys:
            continue
        if isinstance(keys[0], int):
            start = keys[0]
            if keys[-1] - start == len(keys) - 1 and keys == list(range(start, start + len(keys))):
                out[table] = [[start, len(keys)]]  # the usual batch: one block of ids
                continue
            runs: list[list[int]] = []
            for key in keys:
                if runs and runs[-1][0] + runs[-1][1] == key:
                    runs[-1][1] += 1
                else:
                    runs.append([key, 1])
            out[table] = runs
        else:
            out[table] = list(keys)
    return json.dumps(out, separators=(",", ":"))


def decode_refs(text: str) -> list[Ref]:
    """Invert :func:`encode_refs`: the rows of a batch, in leaf order."""
    data = json.loads(text)
    refs: list[Ref] = []
    for table in LEAF_COLUMNS:  # the order leaves are appended in
        for key in data.get(table, ()):
            if isinstance(key, list):
                first, count = key
                refs.extend((table, first + i) for i in range(count))
            else:
                refs.append((table, key))
    return refs


def read_state(conn: Connection, *, lock: bool = False) -> CompactTree:
    """Return the log's compact state (*lock*: for update, on PostgreSQL)."""
    stmt = select(LOG_STATE_T.c.size, LOG_STATE_T.c.hashes).where(LOG_STATE_T.c.id == STATE_ID)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).one()
    blob = bytes.fromhex(row.hashes)
    hashes = [blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)]
    return CompactTree(int(row.size), hashes)


def append(conn: Connection, refs: dict[str, list[Any]], leaves: Sequence[bytes], now: Any) -> int:
    """Append *leaves* (the hashes of the rows *refs*, in order) in the caller's transaction;
    return the index of the first. *now* is the commit time as the driver takes it."""
    if not leaves:
        return -1
    tree = read_state(conn, lock=True)
    first = tree.size
    nodes = tree.extend(leaves, keep_from=NODE_LEVEL)
    batch = (first, len(leaves), encode_refs(refs), b"".join(leaves), now)
    columns = ("first", "size", "refs", "leaves", "committed_at")
    conn.exec_driver_sql(*_insert_sql(conn, LOG_BATCH_T, columns, [batch]))
    if nodes:
        conn.exec_driver_sql(*_insert_sql(conn, LOG_NODE_T, ("level", "position", "hash"), nodes))
    conn.execute(
        update(LOG_STATE_T)
        .where(LOG_STATE_T.c.id == STATE_ID)
        .values(size=tree.size, hashes=b"".join(tree.hashes).hex())
    )
    return first


def _insert_sql(
    conn: Connection, table: Any, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> tuple[str, Any]:
    """Return a driver-level executemany of *rows* into *table* (plain values, no type
    processing: the caller passes what the driver takes)."""
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join([mark] * len(columns))
    return f"INSERT INTO {table.name} ({names}) VALUES ({marks})", [tuple(r) for r in rows]


# -- reading: proofs ------------------------------------------------------------------------


class LogReader:
    """Reads the stored log for proofs: each subtree root from ``log_node`` or, below
    :data:`NODE_LEVEL`, from the leaf hashes of the batches that hold it."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._batches: dict[int, bytes] = {}

    def size(self) -> int:
        """Return the number of leaves in the log."""
        return read_state(self.conn).size

    def leaf_hashes(self, lo: int, hi: int) -> list[bytes]:
        """Return the stored hashes of leaves ``[lo, hi)``."""
        c = LOG_BATCH_T.c
        found: list[tuple[int, bytes]] = []
        head = self.conn.execute(
            select(c.first, c.leaves).where(c.first <= lo).order_by(c.first.desc()).limit(1)
        ).first()
        if head is not None:
            found.append((int(head.first), bytes(head.leaves)))
        rest = select(c.first, c.leaves).where(c.first > lo, c.first < hi).order_by(c.first)
        found.extend((int(r.first), bytes(r.leaves)) for r in self.conn.execute(rest))
        out: list[bytes] = []
        for first, blob in found:
            for i in range(max(lo, first), min(hi, first + len(blob) // HASH_SIZE)):
                k = (i - first) * HASH_SIZE
                out.append(blob[k : k + HASH_SIZE])
        if len(out) != hi - lo:
            raise LookupError(f"the log holds {len(out)} of leaves [{lo}, {hi})")
        return out

    def complete(self, level: int, index: int) -> bytes:
        """Return the root of the complete subtree *index* of *level*."""
        if level >= NODE_LEVEL:
            c = LOG_NODE_T.c
            found = self.conn.execute(
                select(c.hash).where(c.level == level, c.position == index)
            ).scalar()
            if found is None:
                raise LookupError(f"the log has no subtree {index} of level {level}")
            return bytes(found)
        return root(self.leaf_hashes(index << level, (index + 1) << level))

    def range_root(self, lo: int, hi: int) -> bytes:
        """Return the root of leaves ``[lo, hi)`` (a range a proof asks for)."""
        return subtree_root(lo, hi, self.complete)

    def root(self, size: int) -> bytes:
        """Return the root of the log's first *size* leaves, from the stored hashes."""
        return root([]) if size == 0 else self.range_root(0, size)

    def inclusion(self, index: int, size: int) -> list[bytes]:
        """Return the inclusion proof of leaf *index* in the tree of *size* leaves."""
        return inclusion_path(index, size, self.range_root)

    def consistency(self, size1: int, size2: int) -> list[bytes]:
        """Return the consistency proof from the tree of *size1* leaves to that of *size2*."""
        return consistency_path(size1, size2, self.range_root)

    def batches(self) -> Iterator[tuple[int, list[Ref], bytes]]:
        """Yield every batch as ``(first, refs, leaf hashes)``, in log order."""
        c = LOG_BATCH_T.c
        stmt = select(c.first, c.refs, c.leaves).order_by(c.first)
        for row in self.conn.execute(stmt):
            yield int(row.first), decode_refs(row.refs), bytes(row.leaves)

    def find(self, wanted: set[Ref]) -> dict[Ref, int]:
        """Return the leaf index of each of the rows *wanted* that the log holds (the first,
        if one was logged twice). Reads the batches in order until all are found."""
        found: dict[Ref, int] = {}
        for first, refs, _ in self.batches():
            for offset, ref in enumerate(refs):
                if ref in wanted and ref not in found:
                    found[ref] = first + offset
            if len(found) == len(wanted):
                break
        return found


# -- checkpoints -----------------------------------------------------------------------------


def sign_checkpoint(conn: Connection, signer: str, now: dt.datetime) -> StoredCheckpoint:
    """Sign a checkpoint of the log as it is with the signer key *signer*, store and return it.

    The checkpoint's origin is the key's name; its extension line ``time …`` says when.
    """
    # cryptography is imported by the writers that sign, not by every writer at start-up.
    from audit.checkpoint import Checkpoint, parse_signer_key, sign, verifier_key

    name, private = parse_signer_key(signer)
    tree = read_state(conn, lock=True)
    stamp = now.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    checkpoint = Checkpoint(name, tree.size, tree.root(), (f"time {stamp}",))
    note = sign(checkpoint, name, private)
    values: dict[str, Any] = {
        "size": tree.size,
        "root": checkpoint.root.hex(),
        "note": note,
        "verifier_key": verifier_key(name, private.public_key()),
        "signed_at": now,
    }
    new_id = conn.execute(
        insert(LOG_CHECKPOINT_T).values(**values).returning(LOG_CHECKPOINT_T.c.id)
    ).scalar_one()
    return StoredCheckpoint(id=int(new_id), **values)


def checkpoints(conn: Connection) -> list[StoredCheckpoint]:
    """Return the stored checkpoints, oldest first."""
    c = LOG_CHECKPOINT_T.c
    rows = conn.execute(select(LOG_CHECKPOINT_T).order_by(c.id)).all()
    return [
        StoredCheckpoint(
            id=int(r.id),
            size=int(r.size),
            root=r.root,
            note=r.note,
            verifier_key=r.verifier_key,
            signed_at=r.signed_at,
        )
        for r in rows
    ]
