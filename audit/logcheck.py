"""``heed db verify``: rebuild the audit log from the rows and check every signed checkpoint.

The rows are the evidence; the log says in which order they were committed and the signed
checkpoints fix what the tree held at each signing. Verification:

1. every checkpoint's signature opens with its verifier key (or with one of the keys the
   caller trusts, e.g. the one published on the crawler page), and its size and root are the
   ones stored beside it;
2. every leaf is hashed again from the row it names (a document's bytes are hashed too):
   a row that is gone is reported *deleted*, one whose leaf differs *changed*;
3. the tree rebuilt from those leaves must have, at each checkpoint's size, that checkpoint's
   root; each problem names the first checkpoint it breaks (the first whose tree holds it);
4. consecutive checkpoints are consistent (RFC 9162 consistency proofs, from the stored tree):
   one log, never two histories shown to different people;
5. every row of the logged tables is in the log: one that is not was *inserted* behind the
   writer's back (or written with the log off);
6. the stored state (size, right edge) is the rebuilt tree's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from sqlalchemy import Connection, Engine, select

from audit.checkpoint import CheckpointError, open_checkpoint, parse_verifier_key
from audit.leaves import KEY_COLUMN, LEAF_COLUMNS, leaf_hashes
from audit.log import LogReader, StoredCheckpoint, checkpoints, read_state
from audit.merkle import HASH_SIZE, CompactTree, verify_consistency
from audit.models import LOG_BATCH_T, Base

#: What a deleted row's leaf counts as in the rebuilt tree (no row hashes to it).
_GONE = bytes(HASH_SIZE)
#: Keys read per query when a batch names rows one by one (documents).
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class LogProblem:
    """One thing verification found wrong."""

    #: ``changed``, ``deleted``, ``inserted``, ``duplicate``, ``checkpoint`` or ``log``.
    kind: str
    text: str
    table: str | None = None
    key: Any = None
    leaf: int | None = None
    #: Id of the first checkpoint this breaks (None: no checkpoint covers it yet).
    checkpoint: int | None = None


@dataclass(slots=True)
class LogReport:
    """What :func:`verify_log` checked and found."""

    leaves: int = 0
    checkpoints: int = 0
    #: Leaves after the newest checkpoint (not yet vouched for by a signature).
    unsigned: int = 0
    problems: list[LogProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return whether nothing was found wrong."""
        return not self.problems


def verify_log(engine: Engine, trusted_keys: tuple[str, ...] = ()) -> LogReport:
    """Verify the audit log of *engine*'s database (see the module text).

    *trusted_keys*: verifier keys the checkpoints must be signed with; empty: each stored
    checkpoint's own key (which proves less: whoever rewrote the database could have stored a
    key of their own).
    """
    report = LogReport()
    with engine.connect() as conn:
        signed = checkpoints(conn)
        report.checkpoints = len(signed)
        _check_signatures(signed, trusted_keys, report)
        tree = _rebuild(conn, signed, report)
        report.leaves = tree.size
        report.unsigned = tree.size - max((c.size for c in signed), default=0)
        _check_consistency(conn, signed, tree.size, report)
        stored = read_state(conn)
        rows_changed = any(p.kind in ("changed", "deleted") for p in report.problems)
        if not rows_changed and (stored.size, stored.hashes) != (tree.size, tree.hashes):
            report.problems.append(
                LogProblem(
                    "log",
                    f"the log's stored state (size {stored.size}) is not the tree "
                    f"its leaves make (size {tree.size})",
                )
            )
    return report


def _first_breaking(signed: list[StoredCheckpoint], leaf: int) -> int | None:
    """Return the id of the first checkpoint whose tree holds leaf *leaf*."""
    for checkpoint in signed:
        if checkpoint.size > leaf:
            return checkpoint.id
    return None


def _check_signatures(
    signed: list[StoredCheckpoint], trusted: tuple[str, ...], report: LogReport
) -> None:
    keys = []
    for text in trusted:
        keys.append(parse_verifier_key(text))
    for checkpoint in signed:
        where = f"checkpoint {checkpoint.id} (size {checkpoint.size})"
        try:
            candidates = keys or [parse_verifier_key(checkpoint.verifier_key)]
            opened, errors = None, []
            for name, public in candidates:
                try:
                    opened = open_checkpoint(checkpoint.note, name, public)
                    break
                except CheckpointError as exc:
                    errors.append(str(exc))
            if opened is None:
                raise CheckpointError(
                    errors[0] if len(errors) == 1 else "not signed by a trusted key"
                )
        except CheckpointError as exc:
            report.problems.append(
                LogProblem("checkpoint", f"{where}: {exc}", checkpoint=checkpoint.id)
            )
            continue
        if opened.size != checkpoint.size or opened.root.hex() != checkpoint.root:
            report.problems.append(
                LogProblem(
                    "checkpoint",
                    f"{where}: the signed note says size {opened.size}, root "
                    f"{opened.root.hex()[:16]}…, not the stored size and root",
                    checkpoint=checkpoint.id,
                )
            )


def _rebuild(conn: Connection, signed: list[StoredCheckpoint], report: LogReport) -> CompactTree:
    """Hash every leaf again from its row; compare with the stored leaves and checkpoints."""
    tree = CompactTree()
    due = sorted(signed, key=lambda c: (c.size, c.id))
    seen: dict[str, set[Any]] = {table: set() for table in LEAF_COLUMNS}
    c = LOG_BATCH_T.c
    for row in conn.execute(select(c.first, c.refs, c.leaves).order_by(c.first)):
        first, stored = int(row.first), bytes(row.leaves)
        if first != tree.size:
            report.problems.append(
                LogProblem(
                    "log",
                    f"the log's batch at leaf {first} follows leaf {tree.size - 1}: batches "
                    "were removed or inserted",
                    leaf=min(first, tree.size),
                    checkpoint=_first_breaking(signed, min(first, tree.size)),
                )
            )
        leaves = []
        for offset, (table, key, leaf) in enumerate(_rehash(conn, row.refs, report)):
            index = tree.size + offset
            keys = seen[table]
            name = f"{table} {key}"
            if key in keys:
                report.problems.append(
                    LogProblem(
                        "duplicate",
                        f"{name} is in the log twice (leaf {index})",
                        table,
                        key,
                        index,
                        _first_breaking(signed, index),
                    )
                )
            keys.add(key)
            old = stored[offset * HASH_SIZE : (offset + 1) * HASH_SIZE]
            if leaf is None:
                report.problems.append(
                    LogProblem(
                        "deleted",
                        f"{name} was deleted (leaf {index})",
                        table,
                        key,
                        index,
                        _first_breaking(signed, index),
                    )
                )
                leaf = _GONE
            elif leaf != old:
                report.problems.append(
                    LogProblem(
                        "changed",
                        f"{name} was changed (leaf {index})",
                        table,
                        key,
                        index,
                        _first_breaking(signed, index),
                    )
                )
            leaves.append(leaf)
        for leaf in leaves:
            while due and due[0].size == tree.size:
                _compare(tree, due.pop(0), report)
            tree.append(leaf)
    while due and due[0].size <= tree.size:
        _compare(tree, due.pop(0), report)
    for checkpoint in due:
        report.problems.append(
            LogProblem(
                "checkpoint",
                f"checkpoint {checkpoint.id} is of {checkpoint.size} leaves; the log has "
                f"{tree.size}: leaves were removed",
                checkpoint=checkpoint.id,
            )
        )
    _find_inserted(conn, seen, signed, report)
    return tree


def _compare(tree: CompactTree, checkpoint: StoredCheckpoint, report: LogReport) -> None:
    if tree.size == checkpoint.size and tree.root().hex() != checkpoint.root:
        report.problems.append(
            LogProblem(
                "checkpoint",
                f"checkpoint {checkpoint.id} (size {checkpoint.size}) does not match the rows "
                "its leaves were made from",
                checkpoint=checkpoint.id,
            )
        )


def _rehash(
    conn: Connection, refs_text: str, report: LogReport
) -> Iterator[tuple[str, Any, bytes | None]]:
    """Yield ``(table, key, leaf hash or None if the row is gone)`` for a batch, in order."""
    refs = json.loads(refs_text)
    tables = Base.metadata.tables
    for name, columns in LEAF_COLUMNS.items():
        entries = refs.get(name)
        if not entries:
            continue
        table = tables[name]
        key_column = table.c[KEY_COLUMN[name]]
        wanted = [table.c[col] for col in columns]
        if name == "document":
            wanted.append(table.c.body)
        keys: list[Any] = []
        rows: dict[Any, tuple[Any, ...]] = {}
        if isinstance(entries[0], list):
            for start, count in entries:
                keys.extend(range(start, start + count))
                stmt = select(*wanted).where(key_column >= start, key_column < start + count)
                rows.update((r[0], tuple(r)) for r in conn.execute(stmt))
        else:
            keys = list(entries)
            for i in range(0, len(keys), _CHUNK):
                stmt = select(*wanted).where(key_column.in_(keys[i : i + _CHUNK]))
                rows.update((r[0], tuple(r)) for r in conn.execute(stmt))
        present = [k for k in keys if k in rows]
        values = [rows[k] for k in present]
        if name == "document":
            values = [_document(v) for v in values]
        hashes = dict(zip(present, leaf_hashes(name, values), strict=True))
        for key in keys:
            yield name, key, hashes.get(key)


def _document(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Return a document's leaf values; bytes that no longer hash to their sha256 give the
    leaf the hash they have (so that changed bytes change the leaf)."""
    body = row[3]
    if isinstance(body, str):  # SQLite: bytes replaced by text
        body = body.encode()
    digest = hashlib.sha256(bytes(body)).hexdigest()
    return (row[0] if digest == row[0] else digest, row[1], row[2])


def _find_inserted(
    conn: Connection, seen: dict[str, set[Any]], signed: list[StoredCheckpoint], report: LogReport
) -> None:
    """Report the rows of the logged tables that no leaf names."""
    tables = Base.metadata.tables
    for name in LEAF_COLUMNS:
        key_column = tables[name].c[KEY_COLUMN[name]]
        keys = seen[name]
        for (key,) in conn.execute(select(key_column).order_by(key_column)):
            if key not in keys:
                report.problems.append(
                    LogProblem(
                        "inserted",
                        f"{name} {key} is not in the log: inserted outside "
                        "the writer (or written with the log off)",
                        name,
                        key,
                    )
                )


def _check_consistency(
    conn: Connection, signed: list[StoredCheckpoint], size: int, report: LogReport
) -> None:
    """Check that each checkpoint's tree is a prefix of the next one's (stored tree)."""
    reader = LogReader(conn)
    ordered = sorted(signed, key=lambda c: (c.size, c.id))
    for older, newer in pairwise(ordered):
        if newer.size > size:
            break
        try:
            proof = reader.consistency(older.size, newer.size)
        except LookupError as exc:
            report.problems.append(LogProblem("log", f"no consistency proof: {exc}"))
            continue
        if not verify_consistency(
            older.size, newer.size, proof, bytes.fromhex(older.root), bytes.fromhex(newer.root)
        ):
            report.problems.append(
                LogProblem(
                    "checkpoint",
                    f"checkpoints {older.id} and {newer.id} are not consistent: the log's "
                    "history was rewritten between them",
                    checkpoint=newer.id,
                )
            )
