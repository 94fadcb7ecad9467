"""FrontierStore: the crawl frontier in one SQLite file in ``JOBDIR``, written in small commits.

One row per request fingerprint the scheduler accepted: *pending* with the request itself
(Scrapy's ``Request.to_dict``, pickled — the same serialisation Scrapy's disk queues use), or
*done* (its data dropped). A small ``state`` table keeps the spider's ``state`` dict. Changes are
kept in memory and written by :meth:`FrontierStore.commit`, one transaction each, so a crash
(``kill -9``) leaves the file as of the last commit, never half a commit (SQLite in WAL mode; with
``synchronous=NORMAL`` a commit survives a crash of the process, as the audit database's do).

Per fingerprint only the last change since the previous commit is written: a request scheduled
and done between two commits costs one row write. Nothing here knows Scrapy's engine: the
scheduler (:mod:`crawler.frontier.scheduler`) decides what is pending and what is done, and when
a commit may make it so (docs/architecture.md#resuming-a-crawl).
"""

from __future__ import annotations

import fcntl
import os
import pickle
import sqlite3
from pathlib import Path
from typing import Any

#: The frontier's file in JOBDIR.
FRONTIER_FILE = "heed-frontier.sqlite3"
#: Bumped when the schema changes; a file of another version is refused, not guessed at.
SCHEMA_VERSION = 1
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS request (id INTEGER PRIMARY KEY,"
    + " fp BLOB NOT NULL UNIQUE, done INTEGER NOT NULL, data BLOB)",
    "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value BLOB NOT NULL)",
)
_UPSERT = (
    "INSERT INTO request (fp, done, data) VALUES (?, ?, ?) "
    "ON CONFLICT (fp) DO UPDATE SET done = excluded.done, data = excluded.data"
)


class FrontierError(RuntimeError):
    """The frontier cannot be used (another schema version, not a frontier, in use)."""


class FrontierStore:
    """Pending and done requests by fingerprint, committed in batches; see the module."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = _lock(self.path.with_suffix(".lock"))
        # Autocommit off by hand: each commit() is one explicit transaction.
        self._db = sqlite3.connect(self.path, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise FrontierError(f"{self.path}: frontier schema {version}, expected 1")
            for statement in _SCHEMA:
                self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            self.close()
            raise FrontierError(f"{self.path}: not a usable frontier file: {exc}") from exc
        except FrontierError:
            self.close()
            raise
        #: Changes since the last commit: fingerprint → pickled request (pending) or None (done).
        self._changes: dict[bytes, bytes | None] = {}
        self._state: bytes | None = None
        self._state_dirty = False

    # -- reading -----------------------------------------------------------------------------------

    def fingerprints(self) -> set[bytes]:
        """Return the fingerprint of every request recorded, pending or done."""
        return {fp for (fp,) in self._db.execute("SELECT fp FROM request")}

    def pending(self) -> list[tuple[bytes, dict[str, Any]]]:
        """Return the pending requests as ``(fingerprint, request dict)``, first scheduled first."""
        rows = self._db.execute("SELECT fp, data FROM request WHERE done = 0 ORDER BY id")
        return [
            (fp, pickle.loads(data)) for fp, data in rows
        ]  # our own JOBDIR file, as Scrapy's queues

    def done_count(self) -> int:
        """Return how many requests are recorded as done."""
        return int(self._db.execute("SELECT count(*) FROM request WHERE done = 1").fetchone()[0])

    def load_state(self) -> dict[str, Any] | None:
        """Return the spider state kept by the last commit, or None."""
        row = self._db.execute("SELECT value FROM state WHERE key = 'spider'").fetchone()
        if row is None:
            return None
        state = pickle.loads(row[0])  # our own JOBDIR file, as Scrapy's queues
        return state if isinstance(state, dict) else None

    # -- changing ----------------------------------------------------------------------------------

    def add(self, fp: bytes, request: dict[str, Any]) -> None:
        """Record the request *fp* as pending (at the next commit).

        Raise ValueError if the request cannot be pickled: it could not be resumed.
        """
        try:
            data = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise ValueError(str(exc)) from exc
        self._changes[fp] = data

    def done(self, fp: bytes) -> None:
        """Record the request *fp* as done (at the next commit)."""
        self._changes[fp] = None

    def set_state(self, state: dict[str, Any]) -> None:
        """Keep *state* (the spider's) with the next commit, if it changed."""
        data = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        if data != self._state:
            self._state = data
            self._state_dirty = True

    @property
    def changed(self) -> bool:
        """Return True if something changed since the last commit."""
        return bool(self._changes) or self._state_dirty

    def commit(self, *, done: bool = True) -> None:
        """Write the changes in one transaction; with ``done=False`` keep the done marks back
        (they wait for a later commit) and write only what became pending."""
        changes = self._changes
        if done:
            rows = [(fp, data is None, data) for fp, data in changes.items()]
            self._changes = {}
        else:
            rows = [(fp, False, data) for fp, data in changes.items() if data is not None]
            self._changes = {fp: None for fp, data in changes.items() if data is None}
        state = self._state if self._state_dirty else None
        if not rows and state is None:
            return
        db = self._db
        db.execute("BEGIN")
        try:
            db.executemany(_UPSERT, rows)
            if state is not None:
                db.execute(
                    "INSERT OR REPLACE INTO state (key, value) VALUES ('spider', ?)", (state,)
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._state_dirty = False

    def close(self) -> None:
        """Close the file (uncommitted changes are dropped: commit first) and release the lock."""
        self._db.close()
        os.close(self._lock)


def _lock(path: Path) -> int:
    """Return a descriptor holding an exclusive lock on *path*: one crawl per JOBDIR at a time.

    A separate file: closing another descriptor of the SQLite file would drop SQLite's locks.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        raise FrontierError(f"{path.parent} is being used by another crawl") from exc
    return fd
