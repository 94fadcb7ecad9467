"""AuditStore: the one writer of the audit trail (docs/development.md#the-audit-trail-is-data,
docs/regulation.md AC-03, AC-20).

Rows are buffered and written in batches (:mod:`audit.batch`, :mod:`audit.writer`): when
``batch_size`` decisions are pending, when the oldest pending row is ``max_delay`` seconds old
(checked on every call), on :meth:`AuditStore.flush`, and on :meth:`AuditStore.close` / leaving
the ``with`` block.

Ordering guarantee — a stored item's decision is durable before the item is handed to the
dataset writer:

* :meth:`AuditStore.record_item` without a callback commits the item *and every row recorded
  before it* (its decision included) before it returns. Hand the item to the dataset writer
  only after it returns.
* With ``on_durable=callback`` the item is batched; the callback runs right after the commit
  that made the item and its decision durable (inside whichever call triggered that flush).
  Hand the item over inside the callback. This is the fast path for a crawler that stores most
  of what it fetches.
* :meth:`AuditStore.record_decision` takes the same ``on_durable`` callback, for a crawler that
  must not send a request before its decision row is durable (AC-03 pre-request gate).

Background writing: with ``background=True`` (:meth:`AuditStore.open`) the batches are committed
by a writer process (:mod:`audit.background`) while this process goes on recording. A batch
that fills up is sent off and the next one is built meanwhile; at most one batch is in flight.
The guarantees above are unchanged — callbacks still run only after the commit, in this
process: inside the next store call that finds the commit done (calls check every
``POLL_INTERVAL`` seconds), in :meth:`AuditStore.poll`, or in :meth:`AuditStore.flush`, which
always waits for everything. A crawler that records little should call :meth:`poll` from a
timer, as it would call flush.

"Durable" means committed: it survives a crash of the process (SQLite in WAL mode with
``synchronous=NORMAL``; see :mod:`audit.engine` for power loss). Rows still buffered when the
process is killed are lost — at most one batch, or ``max_delay`` seconds of them — and nothing
that was handed on can be among them.

Outages: a commit that fails puts its rows back in front of the batch, so a later flush retries
them. A commit triggered inside a record call raises, unless :attr:`AuditStore.on_commit_error`
is set: then the store is *held* (:attr:`AuditStore.held`: record calls only buffer) and the
error goes to that callback, which decides when to :meth:`flush` again.

Resuming: :meth:`AuditStore.start_run` with the ``run_key`` of an earlier run continues that run.
Decisions carry a ``request_key`` (and ``attempt``); re-recording a request already stored writes
nothing and maps to the stored decision (:meth:`AuditStore.resolve`). A batch replayed after a
failed commit is written at most once. Call the store from one thread.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time as _time
import uuid
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, cast

from sqlalchemy import URL, Engine

from audit.background import BackgroundWriter
from audit.batch import I_DECISION, ROW_LISTS, Batch
from audit.engine import make_engine, resolve_url
from audit.migrate import ensure_schema
from audit.rowcache import PREFIX, RowCache
from audit.rows import now_function, request_hash, time_converter
from audit.vocab import Modality, estimate_tokens, modality_of
from audit.writer import DbWriter
from optout.action import Action
from optout.decision import DEFAULT_POLICY, PROTOCOL_SET_VERSION, Decision, Policy

if TYPE_CHECKING:
    from audit.log import StoredCheckpoint

logger = logging.getLogger(__name__)
#: Ids reserved per round trip to ``id_block``. Large: with a writer process, reserving waits
#: for the batch in flight to commit (SQLite has one writer at a time). Unused ids cost nothing.
ID_BLOCK = 1 << 20
#: Seconds between checks, inside record calls, for a background commit that has completed.
POLL_INTERVAL = 0.02


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


#: The kinds of run: a crawl, or a re-check of what crawls kept (heed recheck).
RUN_KINDS = ("crawl", "recheck")


class AuditStore(RowCache):
    """Buffered, batched, append-only writer of crawl runs, decisions, documents and items."""

    def __init__(
        self,
        engine: Engine,
        *,
        batch_size: int = 50_000,
        max_delay: float = 2.0,
        background: BackgroundWriter | None = None,
        log: bool = True,
    ) -> None:
        """Write through *engine*, whose database must already be at the current schema.

        With *background*, batches are committed by that writer process (see the module text).
        *log*: append every committed row to the audit log (:mod:`audit.log`); off only to
        measure what it costs.
        """
        if batch_size < 1 or max_delay < 0:
            raise ValueError("batch_size must be ≥ 1 and max_delay ≥ 0")
        self.engine = engine
        self.batch_size = batch_size
        self.max_delay = max_delay
        super().__init__(time_converter(engine.dialect.name), now_function(engine.dialect.name))
        self._db = DbWriter(engine, log=log)
        #: The signer key (``PRIVATE+KEY+…``) that signs checkpoints of the audit log at the end
        #: of each run and every :attr:`checkpoint_interval` seconds; None: none are signed.
        self.signer: str | None = None
        self.checkpoint_interval: float | None = None
        self._checkpoint_at = _time.monotonic()
        #: Commits the batches: the writer process, or this process's DbWriter.
        self._batches: DbWriter | BackgroundWriter = background or self._db
        #: The batch the writer process is committing, if any.
        self._inflight: Batch | None = None
        self._poll_at = 0.0
        #: ``(first, end)`` of the decision id blocks this store reserved.
        self._blocks: list[tuple[int, int]] = []
        self._oldest: float | None = None
        self._next_decision = self._end_decision = self._next_item = self._end_item = 0
        self._runs: set[int] = set()
        self._policies: dict[tuple[str, str], int] = {}
        self._remap: dict[int, int] = {}
        self._item_remap: dict[int, int] = {}
        self._closed = False
        #: While True, record calls only buffer: nothing is committed before :meth:`flush`.
        self.held = False
        #: Every row recorded before this time (``time.monotonic()``) is committed.
        self.committed_at = 0.0
        self._inflight_taken = 0.0
        #: Given a commit that failed inside a record call (the rows stay buffered, the store
        #: is then held): called instead of raising. None: such a failure raises.
        self.on_commit_error: Callable[[BaseException], None] | None = None

    @classmethod
    def open(
        cls,
        db: str | URL | None = None,
        *,
        batch_size: int = 50_000,
        max_delay: float = 2.0,
        synchronous: str = "NORMAL",
        foreign_keys: bool | None = None,
        create: bool = True,
        background: bool = False,
        log: bool = True,
    ) -> Self:
        """Open the store at *db* (URL, SQLite path, ``$HEED_DB`` or ``heed.db``).

        A new, empty database gets the schema (*create*); an older one must be upgraded first.
        *synchronous* and *foreign_keys* apply to SQLite (see :func:`audit.engine.make_engine`).
        *background*: commit batches in a writer process, overlapping with recording (for
        long runs at high rates: it costs a process start).
        """
        url = db if isinstance(db, URL) else resolve_url(db)
        writer = None
        if background:  # starts its process with the first batch
            writer = BackgroundWriter(
                url, synchronous=synchronous, foreign_keys=foreign_keys, log=log
            )
        engine = make_engine(url, writer=True, synchronous=synchronous, foreign_keys=foreign_keys)
        try:
            ensure_schema(engine, create=create)
        except Exception:
            engine.dispose()
            raise
        return cls(engine, batch_size=batch_size, max_delay=max_delay, background=writer, log=log)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
            return
        try:  # the rows recorded before the failure are still true: keep them
            self.close()
        except Exception:
            logger.exception("audit store: flush on error exit failed")

    # -- runs and policies -------------------------------------------------------------------

    def register_policy(self, policy: Policy, protocol_set: str = PROTOCOL_SET_VERSION) -> int:
        """Store *policy*'s knob values once; return its id."""
        key = (policy.digest(), protocol_set)
        if key not in self._policies:
            self._policies[key] = int(self._db.call("register_policy", policy, protocol_set))
        return self._policies[key]

    def start_run(
        self,
        *,
        crawler_name: str,
        product_token: str,
        user_agent: str,
        config: Mapping[str, Any] | str | None = None,
        policy: Policy = DEFAULT_POLICY,
        protocol_set: str = PROTOCOL_SET_VERSION,
        run_key: str | None = None,
        started_at: dt.datetime | None = None,
        kind: str = "crawl",
    ) -> int:
        """Record the start of a crawl run, or resume the run *run_key*; return the run id.

        *config* is the crawler configuration (stored as text with its sha256). Resuming
        requires the same crawler identity, configuration, policy and protocol set. *kind* is
        ``crawl`` or ``recheck`` (:data:`RUN_KINDS`).
        """
        if kind not in RUN_KINDS:
            raise ValueError(f"run kind must be one of {', '.join(RUN_KINDS)}")
        if isinstance(config, str):
            config_text = config
        else:
            config_text = json.dumps(config or {}, sort_keys=True, ensure_ascii=False, default=str)
        identity: dict[str, object] = {
            "crawler_name": crawler_name,
            "product_token": product_token,
            "user_agent": user_agent,
            "config_sha256": hashlib.sha256(config_text.encode()).hexdigest(),
            "policy_id": self.register_policy(policy, protocol_set),
            "protocol_set": protocol_set,
            "kind": kind,
        }
        now = started_at or dt.datetime.now(dt.UTC)
        run_key = run_key or uuid.uuid4().hex
        run_id = int(self._db.call("start_run", run_key, identity, config_text, now))
        self._runs.add(run_id)
        # Reserve the id blocks now, while the database answers: a first item recorded during an
        # outage would otherwise need the database for its id, and be dropped.
        if self._next_decision >= self._end_decision:
            self._next_decision, self._end_decision = self._allocate("decision")
        if self._next_item >= self._end_item:
            self._next_item, self._end_item = self._allocate("item")
        return run_id

    def end_run(self, run_id: int, *, ended_at: dt.datetime | None = None) -> None:
        """Flush, then record the end of run *run_id* (and sign a checkpoint, with a signer)."""
        self._check_run(run_id)
        self.flush()
        self._db.call("end_run", run_id, ended_at or dt.datetime.now(dt.UTC))
        if self.signer is not None:
            self.sign_checkpoint()

    def sign_checkpoint(self) -> StoredCheckpoint:
        """Commit what is pending, then sign and store a checkpoint of the audit log."""
        if self.signer is None:
            raise ValueError("no signer key: set AuditStore.signer (heed log key)")
        self.flush()
        self._checkpoint_at = _time.monotonic()
        return cast("StoredCheckpoint", self._db.call("checkpoint", self.signer, _utc_now()))

    # -- rows ----------------------------------------------------------------------------------

    def record_decision(
        self,
        run_id: int,
        decision: Decision,
        action: Action | str,
        *,
        time: dt.datetime | None = None,
        request_key: str | None = None,
        attempt: int = 1,
        http_status: int | None = None,
        denylist_version: str | None = None,
        on_durable: Callable[[int], None] | None = None,
    ) -> int:
        """Buffer one request attempt's decision and its signals; return the decision id.

        *request_key* (e.g. the request fingerprint) with *attempt* identifies the attempt
        within the run: recording it again, e.g. after a resume, stores nothing new.
        """
        if run_id not in self._runs:
            self._check_run(run_id)
        # The caches below are keyed by object identity and hold a reference to the object, so
        # an id found there cannot belong to another live object: no identity check needed.
        policy = decision.policy
        cached_policy = self._policy_objs.get(id(policy))
        if cached_policy is None or cached_policy[1] != decision.protocol_set:
            cached_policy = self._policy_obj(policy, decision.protocol_set)
        policy_id = cached_policy[2]
        action_value = action._value_ if isinstance(action, Action) else Action(action)._value_
        url = decision.url
        match = PREFIX.match(url)
        if match is None:
            raise ValueError(f"not an absolute URL: {url!r}")
        # Only a decision that will be recorded takes an id: every id of this store's blocks
        # below _next_decision is a recorded decision (see _known_decision).
        next_id = self._next_decision
        if next_id >= self._end_decision:
            next_id, self._end_decision = self._allocate("decision")
        self._next_decision = next_id + 1
        prefix = match.group()
        origin = self._origins.get(prefix)
        if origin is None:
            origin = self._origin(prefix)
        if origin[1] != prefix:
            url = origin[1] + url[match.end() :]
        # Signal objects are built once per matched rule and reused (optout.site), so an
        # identity cache answers most look-ups; the content key catches equal new objects.
        signal_objs = self._signal_objs
        signal_ids = []
        for signal in decision.signals:
            hit = signal_objs.get(id(signal))
            signal_ids.append(self._signal_id(signal) if hit is None else hit[1])
        # An outcome is a function of the signals, policy, notes and verdicts (not of the URL);
        # equal inputs share one outcome row. The per-purpose verdicts are compared, not hashed.
        shape = (
            policy_id,
            tuple(signal_ids),
            decision.notes,
            decision.crawl,
            decision.use,
            decision.purpose,
            decision.complete,
            decision.licence_required,
        )
        outcome = self._outcomes.get(shape)
        if outcome is None or outcome[1] != decision.purposes:
            outcome = self._outcome(shape, decision, signal_ids, policy_id)
        batch = self._batch
        batch.decisions.append(
            (
                next_id,
                run_id,
                request_key,
                attempt,
                self._now() if time is None else self._time(time),
                origin[0],
                url,
                outcome[0],
                action_value,
                http_status,
                denylist_version,
                None if request_key is None else request_hash(run_id, request_key, attempt),
            )
        )
        batch.decision_ids.add(next_id)
        if on_durable is not None:
            batch.callbacks.append((on_durable, next_id, False))
        # _pending(), inlined: this runs for every request of a crawl.
        now = _time.monotonic()
        if self._oldest is None:
            self._oldest = now
        if len(batch.decisions) >= self.batch_size or now - self._oldest >= self.max_delay:
            self._flush_ahead()
        elif self._inflight is not None and now >= self._poll_at:
            self._poll_at = now + POLL_INTERVAL
            self._poll_ahead()
        return next_id

    def record_item(
        self,
        decision_id: int,
        *,
        url: str,
        content_type: str,
        size: int,
        modality: Modality | str | None = None,
        tokens: int | None = None,
        content_sha256: str | None = None,
        time: dt.datetime | None = None,
        on_durable: Callable[[int], None] | None = None,
    ) -> int:
        """Record content entering the dataset, resting on *decision_id*; return the item id.

        Without *on_durable*, returns only once the item and its decision are committed; with
        it, the item is batched and *on_durable(item_id)* runs after the commit. One item per
        decision: recording another for a decision that has one (a resumed run) stores nothing,
        and the id returned (or passed to *on_durable*) is the stored item's.
        """
        decision_id = self._remap.get(decision_id, decision_id)
        if not self._known_decision(decision_id):
            raise ValueError(f"no decision {decision_id} to rest the item on")
        kind = Modality(modality) if modality is not None else modality_of(content_type)
        if tokens is None and kind is Modality.TEXT:
            tokens = estimate_tokens(size)
        next_id = self._next_item
        if next_id >= self._end_item:
            next_id, self._end_item = self._allocate("item")
        self._next_item = next_id + 1
        when = self._now() if time is None else self._time(time)
        row = (next_id, decision_id, when, url, content_type, kind._value_, size, tokens)
        self._batch.items.append((*row, content_sha256))
        if on_durable is None:
            self.flush()
            return self._item_remap.get(next_id, next_id)
        self._batch.callbacks.append((on_durable, next_id, True))
        self._pending()
        return next_id

    def resolve(self, decision_id: int) -> int:
        """Return the stored id for *decision_id* (differs when it re-recorded a stored request)."""
        return self._remap.get(decision_id, decision_id)

    @property
    def pending(self) -> int:
        """Return the number of rows recorded and not yet committed (in flight included)."""
        inflight = self._inflight
        return len(self._batch) + (len(inflight) if inflight is not None else 0)

    def flush(self) -> None:
        """Commit every row recorded so far, then run the on-durable callbacks."""
        self._send(wait=True)

    def durable_since(self, when: float) -> bool:
        """Return True if every row recorded before *when* (``time.monotonic()``) is committed,
        without committing anything."""
        if self.committed_at >= when:
            return True
        return self._inflight is None and not len(self._batch) and not self._batch.callbacks

    def poll(self) -> None:
        """Run the callbacks of a background commit that has completed; never waits for one."""
        if self._inflight is not None and self._batches.ready():
            self._settle()

    def close(self) -> None:
        """Flush and release the database connections (and the writer process)."""
        if self._closed:
            return
        try:
            self.flush()
        finally:
            self._closed = True
            try:
                self._batches.close()
            finally:
                self._db.close()

    # -- internals -----------------------------------------------------------------------------

    def _pending(self) -> None:
        now = _time.monotonic()
        if self._oldest is None:
            self._oldest = now
        if len(self._batch.decisions) >= self.batch_size or now - self._oldest >= self.max_delay:
            self._flush_ahead()
        elif self._inflight is not None and now >= self._poll_at:
            self._poll_at = now + POLL_INTERVAL
            self._poll_ahead()

    def _poll_ahead(self) -> None:
        try:
            self.poll()
        except Exception as exc:  # noqa: BLE001 - re-raised or handed to on_commit_error
            self._commit_failed(exc)

    def _flush_ahead(self) -> None:
        """Commit the batch; with a writer process, send it off and return at once."""
        if self.held:
            return
        try:
            self._send(wait=not self._batches.pipelined)
        except Exception as exc:  # noqa: BLE001 - re-raised or handed to on_commit_error
            self._commit_failed(exc)

    def _commit_failed(self, exc: Exception) -> None:
        """A commit inside a record call failed (its rows are buffered again): hold the store
        and tell :attr:`on_commit_error`, or raise."""
        if self.on_commit_error is None:
            raise exc
        self.held = True
        self.on_commit_error(exc)

    def _send(self, *, wait: bool) -> None:
        """Submit the rows recorded so far (after the batch in flight); *wait* for the commit."""
        self._settle()
        taken = _time.monotonic()
        batch = self._take()
        if batch is None:
            return
        try:
            self._batches.submit(batch)  # inline: commits before returning
        except BaseException:
            self._restore(batch)
            raise
        self._inflight, self._inflight_taken = batch, taken
        if wait:
            self._settle()

    def _settle(self) -> None:
        """Wait for the batch in flight to commit, then run its callbacks."""
        batch = self._inflight
        if batch is None:
            return
        self._inflight = None
        try:
            self._batches.collect(batch)
        except BaseException:
            self._restore(batch)
            raise
        # Batches commit in order and a failed one returns to pending: what was recorded
        # before this one was taken is durable now.
        self.committed_at = max(self.committed_at, self._inflight_taken)
        self._complete(batch)
        interval = self.checkpoint_interval
        due = interval is not None and _time.monotonic() - self._checkpoint_at >= interval
        if due and self.signer is not None:
            self._interval_checkpoint()

    def _interval_checkpoint(self) -> None:
        """Sign the checkpoint an interval asks for; a failure waits for the next interval
        (the leaves are committed: a later checkpoint covers them)."""
        self._checkpoint_at = _time.monotonic()
        try:
            self._db.call("checkpoint", self.signer, _utc_now())
        except Exception:  # logged; the next interval or the run's end retries
            logger.warning("audit log: signing a checkpoint failed", exc_info=True)

    def _take(self) -> Batch | None:
        """Return the rows recorded so far as the batch to commit, or None if there are none."""
        batch = self._batch
        if not len(batch) and not batch.callbacks:
            return None
        if self._remap:  # items recorded against a decision that turned out to be stored already
            batch.items = [
                (row[0], self._remap.get(row[I_DECISION], row[I_DECISION]), *row[2:])
                for row in batch.items
            ]
        self._batch = Batch()
        self._oldest = None
        return batch

    def _complete(self, batch: Batch) -> None:
        """*batch* is committed: remember its remaps and run its callbacks."""
        self._remap.update(batch.remap)
        self._item_remap.update(batch.item_remap)
        error: BaseException | None = None
        for callback, row_id, is_item in batch.callbacks:
            remap = batch.item_remap if is_item else batch.remap
            try:
                callback(remap.get(row_id, row_id))
            except Exception as exc:  # noqa: BLE001 - run every callback, re-raise the first error
                error = error or exc
        if error is not None:
            raise error

    def _restore(self, batch: Batch) -> None:
        # Put the failed batch back in front, so that a later flush (or close) retries it.
        newer, self._batch = self._batch, batch
        for name in ROW_LISTS:
            getattr(batch, name).extend(getattr(newer, name))
        batch.callbacks.extend(newer.callbacks)
        batch.decision_ids |= newer.decision_ids
        batch.remap.clear()
        batch.item_remap.clear()
        self._oldest = _time.monotonic()

    def _known_decision(self, decision_id: int) -> bool:
        if decision_id in self._batch.decision_ids:
            return True
        inflight = self._inflight
        if inflight is not None and decision_id in inflight.decision_ids:
            return True
        # An id of this store's that is neither pending nor in flight was committed (a failed
        # batch goes back to pending); one of a re-recorded request was remapped before this.
        if decision_id < self._next_decision and any(
            first <= decision_id < end for first, end in self._blocks
        ):
            return True
        self._settle()  # an id from elsewhere (an earlier run): ask the database
        return bool(self._db.call("decision_exists", decision_id))

    def _check_run(self, run_id: int) -> None:
        if run_id not in self._runs:
            raise ValueError(f"run {run_id} was not started or resumed by this store")

    def _allocate(self, name: str) -> tuple[int, int]:
        # With a writer process committing, this waits for the SQLite write lock: rare, as the
        # blocks are large.
        first, end = self._db.call("allocate", name, ID_BLOCK)
        if name == "decision":
            self._blocks.append((first, end))
        return first, end
