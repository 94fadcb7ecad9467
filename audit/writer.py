"""The writer's database side: the transactions an AuditStore runs, each short and explicit.

Everything runs in the caller's thread: the recording process's (inline), or a writer process's
(:mod:`audit.background`). A background writer *thread* was tried and measured no faster: the
drivers release the GIL for every row of an ``executemany``, and the resulting hand-offs with
the recording thread cost as much as the overlap gained.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from audit.batch import Batch, BatchWriter, Mismatch, dialect_insert
from audit.log import StoredCheckpoint, sign_checkpoint
from audit.models import CRAWL_RUN_T, DECISION_T, ID_BLOCK_T, POLICY_T
from optout.decision import Policy

#: The short transactions :meth:`DbWriter.call` runs.
OPERATIONS = frozenset(
    {"register_policy", "start_run", "end_run", "allocate", "decision_exists", "checkpoint"}
)


class DbWriter:
    """Runs an AuditStore's transactions on its engine."""

    #: Whether :meth:`submit` returns before the commit (see :mod:`audit.background`).
    pipelined = False

    def __init__(self, engine: Engine, *, log: bool = True) -> None:
        """Write through *engine*; *log*: append the rows to the audit log."""
        self.engine = engine
        self._writer = BatchWriter(engine.dialect, log=log)
        self._insert = dialect_insert(engine.dialect.name)

    def call(self, name: str, *args: Any) -> Any:
        """Run the operation *name* (a method below) in one transaction; return its result."""
        if name not in OPERATIONS:
            raise ValueError(f"not a writer operation: {name!r}")
        with self.engine.begin() as conn:
            return getattr(self, name)(conn, *args)

    def write(self, batch: Batch) -> None:
        """Commit *batch* in one transaction (redone in checked mode if rows were stored)."""
        try:
            with self.engine.begin() as conn:
                self._writer.write(conn, batch, checked=False)
        except Mismatch:
            # Rolled back: some rows were stored before (a resume or a replay). Redo the batch,
            # asking the database first which rows exist.
            with self.engine.begin() as conn:
                self._writer.write(conn, batch, checked=True)

    def submit(self, batch: Batch) -> None:
        """Commit *batch* (inline: before returning; :meth:`collect` has nothing to wait for)."""
        self.write(batch)

    def ready(self) -> bool:
        """Return whether a submitted batch awaits :meth:`collect` (inline: never)."""
        return False

    def collect(self, batch: Batch) -> None:
        """Nothing to wait for: :meth:`submit` committed *batch*."""

    def close(self) -> None:
        """Close the connections."""
        self.engine.dispose()

    # -- operations, run through call() -------------------------------------------------------

    def register_policy(self, conn: Connection, policy: Policy, protocol_set: str) -> int:
        """Store *policy* once per (digest, protocol set); return its id."""
        digest = policy.digest()
        knobs = json.dumps(policy.as_dict(), sort_keys=True, separators=(",", ":"))
        conn.execute(
            self._insert(POLICY_T)
            .values(digest=digest, protocol_set=protocol_set, knobs=knobs)
            .on_conflict_do_nothing()
        )
        c = POLICY_T.c
        stmt = select(c.id).where(c.digest == digest, c.protocol_set == protocol_set)
        return int(conn.execute(stmt).scalar_one())

    def start_run(
        self,
        conn: Connection,
        run_key: str,
        identity: dict[str, object],
        config: str,
        now: dt.datetime,
    ) -> int:
        """Insert run *run_key*, or resume it if it exists with the same identity."""
        c = CRAWL_RUN_T.c
        row = conn.execute(select(CRAWL_RUN_T).where(c.run_key == run_key)).first()
        if row is None:
            stmt = (
                CRAWL_RUN_T.insert()
                .values(run_key=run_key, config=config, started_at=now, resumed=0, **identity)
                .returning(c.id)
            )
            try:
                with conn.begin_nested():  # workers of a shared crawl may start it together
                    return int(conn.execute(stmt).scalar_one())
            except SAIntegrityError:
                row = conn.execute(select(CRAWL_RUN_T).where(c.run_key == run_key)).one()
        stored = {name: row._mapping[name] for name in identity}
        if stored != identity:
            changed = ", ".join(sorted(k for k in identity if stored[k] != identity[k]))
            raise ValueError(f"run {run_key!r} exists with a different {changed}")
        run_id = int(row._mapping["id"])
        conn.execute(
            update(CRAWL_RUN_T).where(c.id == run_id).values(resumed=c.resumed + 1, ended_at=None)
        )
        return run_id

    def end_run(self, conn: Connection, run_id: int, ended_at: dt.datetime) -> None:
        """Record the end time of run *run_id*."""
        conn.execute(
            update(CRAWL_RUN_T).where(CRAWL_RUN_T.c.id == run_id).values(ended_at=ended_at)
        )

    def allocate(self, conn: Connection, name: str, size: int) -> tuple[int, int]:
        """Reserve *size* ids of sequence *name*; return ``(first, end)``."""
        c = ID_BLOCK_T.c
        stmt = (
            update(ID_BLOCK_T)
            .where(c.name == name)
            .values(next_id=c.next_id + size)
            .returning(c.next_id)
        )
        end = int(conn.execute(stmt).scalar_one())
        return end - size, end

    def checkpoint(self, conn: Connection, signer: str, now: dt.datetime) -> StoredCheckpoint:
        """Sign and store a checkpoint of the audit log with the signer key *signer*."""
        return sign_checkpoint(conn, signer, now)

    def decision_exists(self, conn: Connection, decision_id: int) -> bool:
        """Return whether decision *decision_id* is stored."""
        stmt = select(DECISION_T.c.id).where(DECISION_T.c.id == decision_id)
        return conn.execute(stmt).first() is not None
