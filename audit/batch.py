"""One flush of the writer: a batch of row tuples written in one transaction.

The batch is written with Core ``insert()`` statements (compiled once per dialect, with
``ON CONFLICT DO NOTHING``) executed as one driver-level ``executemany`` per table — on
PostgreSQL the decisions go through ``COPY`` — in dependency order: origins, documents,
fetches, signals, outcomes, decisions, stored items, then the run counters, which therefore
always agree with the committed rows. Plain tuples in table column order, no ORM objects and no
per-row SQLAlchemy processing: that per-row work cost more than the inserts (measured).

Idempotence: every row carries an id assigned before the first attempt, so replaying a batch
(after a lost commit acknowledgement, or a crawl resumed under the same run key) cannot duplicate
anything. The fast path inserts and compares row counts; if any decision or item was already
stored, the transaction is rolled back and redone in *checked* mode, which first asks the
database which rows exist, drops them, and maps re-recorded request keys to the decision ids
already stored (:attr:`Batch.remap`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, select

from audit.errors import IntegrityError
from audit.leaves import leaf_hashes
from audit.log import append as append_log
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
from audit.rows import now_function

_CHUNK = 500
#: Bound parameters in one multi-row INSERT (SQLite allows 32,766, PostgreSQL 65,535).
_MAX_PARAMETERS = 30_000
_FIRST = itemgetter(0)
#: Batch row lists and the logged table each holds, in the log's order.
_LOGGED = (
    ("origins", "origin"),
    ("documents", "document"),
    ("fetches", "document_fetch"),
    ("signals", "signal"),
    ("outcomes", "outcome"),
    ("decisions", "decision"),
    ("items", "stored_item"),
)
#: PostgreSQL batches with at least this many decisions are written with COPY.
_COPY_MIN = 100

#: Column positions in the decision and item row tuples (table column order).
D_ID, D_RUN, D_KEY, D_ATTEMPT, D_ACTION, D_HASH = 0, 1, 2, 3, 8, 11
I_ID, I_DECISION = 0, 1


#: The Batch fields that hold rows, in dependency order (the callbacks and ids are bookkeeping).
ROW_LISTS = ("documents", "fetches", "origins", "signals", "outcomes", "decisions", "items")


@dataclass(slots=True)
class Batch:
    """Rows buffered since the last flush, in table column order."""

    documents: list[tuple[Any, ...]] = field(default_factory=list)
    fetches: list[tuple[Any, ...]] = field(default_factory=list)
    origins: list[tuple[Any, ...]] = field(default_factory=list)
    signals: list[tuple[Any, ...]] = field(default_factory=list)
    outcomes: list[tuple[Any, ...]] = field(default_factory=list)
    decisions: list[tuple[Any, ...]] = field(default_factory=list)
    items: list[tuple[Any, ...]] = field(default_factory=list)
    #: ``(callback, id, is_item)`` to call once the batch is committed.
    callbacks: list[tuple[Callable[[int], None], int, bool]] = field(default_factory=list)
    #: Ids of the decisions in this batch (record_item checks against it).
    decision_ids: set[int] = field(default_factory=set)
    #: Filled by a checked write: decision id recorded → id already stored for that request.
    remap: dict[int, int] = field(default_factory=dict)
    #: Likewise for items: item id recorded → id of the item already stored for its decision.
    item_remap: dict[int, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.decisions) + len(self.items) + len(self.documents) + len(self.fetches)


class Mismatch(Exception):
    """Some rows were already stored: redo the batch in checked mode."""


def dialect_insert(name: str) -> Any:
    """Return the ``insert`` (with ON CONFLICT) of the dialect *name*: PostgreSQL's or SQLite's.

    Imported for the dialect in use only: the PostgreSQL dialect's modules cost an SQLite crawl's
    start-up some 25 ms.
    """
    if name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    from sqlalchemy.dialects import sqlite

    return sqlite.insert


class BatchWriter:
    """Compiled insert statements for one engine's dialect, and the flush transaction."""

    def __init__(self, dialect: Any, *, log: bool = True) -> None:
        """Compile for *dialect*; with *log*, append the rows inserted to the audit log."""
        self._dialect = dialect
        self._postgres = dialect.name == "postgresql"
        self._insert = dialect_insert(dialect.name)
        self.log = log
        self._now = now_function(dialect.name)
        tables = {
            "documents": DOCUMENT_T,
            "fetches": FETCH_T,
            "origins": ORIGIN_T,
            "signals": SIGNAL_T,
            "outcomes": OUTCOME_T,
            "decisions": DECISION_T,
            "items": ITEM_T,
        }
        # One driver-level executemany per table. Measured faster than multi-row VALUES on
        # both backends: SQLite runs those as a co-routine over a compound SELECT, and psycopg
        # pipelines executemany while a 1,000-row statement costs PostgreSQL more to plan.
        self._sql = {
            name: self._compile(
                self._insert(table).on_conflict_do_nothing(), [c.key for c in table.c]
            )
            for name, table in tables.items()
        }
        upsert = self._insert(COUNT_T)
        upsert = upsert.on_conflict_do_update(
            index_elements=[COUNT_T.c.run_id, COUNT_T.c.name],
            set_={"n": COUNT_T.c.n + upsert.excluded.n},
        )
        self._sql["counts"] = self._compile(upsert, ["run_id", "name", "n"])
        self._tables = tables

    def _compile(self, statement: Any, keys: list[str]) -> str:
        compiled = statement.compile(dialect=self._dialect)
        # The writer passes plain tuples: their order must be the statement's parameter order.
        if list(compiled.positiontup or ()) != keys:
            raise RuntimeError(f"unexpected parameter order {compiled.positiontup} for {keys}")
        return str(compiled)

    def write(self, conn: Connection, batch: Batch, *, checked: bool) -> None:
        """Write *batch* in the caller's transaction; raise Mismatch if rows were stored."""
        if checked:
            self._dedupe(conn, batch)
        logged: dict[str, list[tuple[Any, ...]]] = {}
        if self._shared(conn, "origins", batch.origins, logged) != len(batch.origins):
            self._verify(conn, ORIGIN_T, ORIGIN_T.c.origin, batch.origins, 1)
        self._shared(conn, "documents", batch.documents, logged)
        counts: Counter[tuple[int, str]] = Counter()
        for row in batch.fetches:
            if row[2] is not None:
                counts[row[2], "document_fetches"] += 1
        self._shared(conn, "fetches", batch.fetches, logged)
        if self._shared(conn, "signals", batch.signals, logged) != len(batch.signals):
            self._verify(conn, SIGNAL_T, SIGNAL_T.c.digest, batch.signals, 1)
        if self._shared(conn, "outcomes", batch.outcomes, logged) != len(batch.outcomes):
            self._verify(conn, OUTCOME_T, OUTCOME_T.c.digest, batch.outcomes, 1)
        if self._postgres and not checked and len(batch.decisions) >= _COPY_MIN:
            self._copy(conn, DECISION_T, batch.decisions)
        elif self._run(conn, "decisions", batch.decisions) != len(batch.decisions):
            raise Mismatch
        if self._run(conn, "items", batch.items) != len(batch.items):
            raise Mismatch
        for (run, action), n in Counter(map(itemgetter(D_RUN, D_ACTION), batch.decisions)).items():
            counts[run, "decisions"] += n
            counts[run, "action:" + action] += n
        if batch.items:
            runs = self._runs_of(conn, batch, [row[I_DECISION] for row in batch.items])
            for row in batch.items:
                counts[runs[row[I_DECISION]], "items"] += 1
        self._run(conn, "counts", [(run, name, n) for (run, name), n in sorted(counts.items())])
        if self.log:
            logged["decisions"] = batch.decisions
            logged["items"] = batch.items
            self._append_log(conn, logged)

    def _shared(
        self,
        conn: Connection,
        name: str,
        rows: list[tuple[Any, ...]],
        logged: dict[str, list[tuple[Any, ...]]],
    ) -> int:
        """Insert *rows* of a table whose rows writers share (content-derived keys, ON CONFLICT
        DO NOTHING); return how many were new. With the log on, the new ones (and only they:
        another writer logged the rest) go to *logged*, learnt from ``RETURNING``."""
        if not self.log:
            return self._run(conn, name, rows)
        if not rows:
            return 0
        # Usually every row is new (a writer's own cache keeps it from sending a row twice):
        # the plain executemany says so by its count. Otherwise undo it and ask RETURNING.
        savepoint = conn.begin_nested()
        if self._run(conn, name, rows) == len(rows):
            savepoint.commit()
            logged[name] = rows
            return len(rows)
        savepoint.rollback()
        table = self._tables[name]
        columns = ", ".join(f'"{c.name}"' for c in table.c)
        key = next(iter(table.c)).name
        mark = "?" if not self._postgres else "%s"
        row_marks = "(" + ", ".join([mark] * len(table.c)) + ")"
        new: set[Any] = set()
        per_statement = max(1, _MAX_PARAMETERS // len(table.c))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            sql = (
                f"INSERT INTO {table.name} ({columns}) VALUES "
                + ", ".join([row_marks] * len(chunk))
                + f' ON CONFLICT DO NOTHING RETURNING "{key}"'
            )
            params = tuple(value for row in chunk for value in row)
            new.update(conn.exec_driver_sql(sql, params).scalars())
        logged[name] = [row for row in rows if row[0] in new]
        return len(new)

    def _append_log(self, conn: Connection, logged: dict[str, list[tuple[Any, ...]]]) -> None:
        """Append the rows inserted by this batch to the audit log, in :data:`LEAF_COLUMNS`
        order (the tables' dependency order)."""
        refs: dict[str, list[Any]] = {}
        leaves: list[bytes] = []
        for name, table in _LOGGED:
            rows = logged.get(name)
            if not rows:
                continue
            if table == "document":  # the bytes are bound by their sha256
                rows = [(row[0], row[1], row[3]) for row in rows]
            refs[table] = list(map(_FIRST, rows))
            leaves.extend(leaf_hashes(table, rows))
        append_log(conn, refs, leaves, self._now())

    def _copy(self, conn: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
        """Insert *rows* with PostgreSQL's COPY; raise Mismatch if any is already stored.

        COPY has no ON CONFLICT: a stored row makes it fail, the transaction is rolled back and
        the batch redone in checked mode (``INSERT … ON CONFLICT DO NOTHING``). It is the fast
        path only: about three times the rate of a pipelined executemany (measured).
        """
        driver: Any = conn.connection.dbapi_connection
        columns = ", ".join(f'"{c.name}"' for c in table.c)
        try:
            with (
                driver.cursor() as cursor,
                cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        except self._dialect.dbapi.IntegrityError as exc:
            raise Mismatch from exc

    def _run(self, conn: Connection, name: str, rows: Sequence[tuple[Any, ...]]) -> int:
        """Insert *rows*; return how many were inserted (not skipped as already stored)."""
        if not rows:
            return 0
        return int(conn.exec_driver_sql(self._sql[name], list(rows)).rowcount)

    def _verify(
        self, conn: Connection, table: Table, column: Any, rows: list[tuple[Any, ...]], pos: int
    ) -> None:
        """Fail loudly if a content-derived id is stored with different content (a collision)."""
        wanted = {row[0]: row[pos] for row in rows}
        for chunk in _chunks(list(wanted)):
            for row_id, value in conn.execute(
                select(table.c.id, column).where(table.c.id.in_(chunk))
            ):
                if wanted[row_id] != value:
                    raise IntegrityError(f"id collision in {table.name}: {row_id}")

    def _runs_of(self, conn: Connection, batch: Batch, decision_ids: list[int]) -> dict[int, int]:
        runs = {row[D_ID]: row[D_RUN] for row in batch.decisions}
        missing = [d for d in decision_ids if d not in runs]
        for chunk in _chunks(missing):
            stmt = select(DECISION_T.c.id, DECISION_T.c.run_id).where(DECISION_T.c.id.in_(chunk))
            runs.update({row[0]: row[1] for row in conn.execute(stmt)})
        return runs

    def _dedupe(self, conn: Connection, batch: Batch) -> None:
        """Drop rows already stored; map re-recorded requests to their stored decision."""
        present = self._present(conn, DECISION_T.c.id, [row[D_ID] for row in batch.decisions])
        stored = self._stored_requests(conn, batch.decisions)
        keep: list[tuple[Any, ...]] = []
        for row in batch.decisions:
            row_id = row[D_ID]
            if row_id in present:
                continue  # a replay: stored by an earlier attempt
            if row[D_HASH] is not None:
                attempt = (row[D_RUN], row[D_KEY], row[D_ATTEMPT])
                other = stored.get(row[D_HASH])
                if other is not None:
                    if other[0] != attempt:
                        raise IntegrityError(
                            f"request hash collision: {attempt!r} and {other[0]!r} "
                            f"(decision {other[1]})"
                        )
                    batch.remap[row_id] = other[1]
                    continue
                # A second record of it in this batch maps to this one.
                stored[row[D_HASH]] = (attempt, row_id)
            keep.append(row)
        batch.decisions = keep
        items = [
            (row[I_ID], batch.remap.get(row[I_DECISION], row[I_DECISION]), *row[2:])
            for row in batch.items
        ]
        replayed = self._present(conn, ITEM_T.c.id, [row[I_ID] for row in items])
        with_item = self._stored_items(conn, [row[I_DECISION] for row in items])
        kept_items: list[tuple[Any, ...]] = []
        for row in items:
            item_id, decision_id = row[I_ID], row[I_DECISION]
            if item_id in replayed:
                continue
            if decision_id in with_item:  # one item per attempt: the one stored first stands
                batch.item_remap[item_id] = with_item[decision_id]
                continue
            with_item[decision_id] = item_id
            kept_items.append(row)
        batch.items = kept_items

    def _stored_items(self, conn: Connection, decision_ids: list[int]) -> dict[int, int]:
        """Return decision id → id of the item already stored for it."""
        stored: dict[int, int] = {}
        c = ITEM_T.c
        for chunk in _chunks(sorted(set(decision_ids))):
            stmt = select(c.decision_id, c.id).where(c.decision_id.in_(chunk))
            stored.update({row[0]: row[1] for row in conn.execute(stmt)})
        return stored

    def _present(self, conn: Connection, column: Any, values: Iterable[Any]) -> set[Any]:
        found: set[Any] = set()
        for chunk in _chunks(list(values)):
            found.update(conn.execute(select(column).where(column.in_(chunk))).scalars())
        return found

    def _stored_requests(
        self, conn: Connection, decisions: list[tuple[Any, ...]]
    ) -> dict[int, tuple[tuple[Any, ...], int]]:
        """Return request hash → ((run, request key, attempt), decision id), for those stored."""
        hashes = sorted({row[D_HASH] for row in decisions if row[D_HASH] is not None})
        stored: dict[int, tuple[tuple[Any, ...], int]] = {}
        t = DECISION_T.c
        for chunk in _chunks(hashes):
            stmt = select(t.request_hash, t.run_id, t.request_key, t.attempt, t.id).where(
                t.request_hash.in_(chunk)
            )
            for digest, run, key, attempt, row_id in conn.execute(stmt):
                stored[digest] = ((run, key, attempt), row_id)
        return stored


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]
