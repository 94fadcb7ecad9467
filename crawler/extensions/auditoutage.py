"""AuditOutage: a worker of a shared crawl waits out an audit database that stopped answering.

A lone crawl whose audit database fails closes (``audit_failed``): nothing it fetched after
that could be recorded. A worker of a shared crawl (``HEED_REDIS_URL``) is one of many that
share one PostgreSQL; when it stops answering (connection refused, lost, timed out:
:func:`audit.engine.is_outage`), the worker instead

* holds its store: what it recorded stays buffered in memory, nothing is committed;
* stops fetching: its scheduler hands out nothing and the middleware sends nothing it had not
  sent yet (the request goes back to the run's queue: :mod:`crawler.cluster.scheduler`);
* keeps its leases and its pages waiting for durability, and tries to commit every
  :data:`RETRY_FIRST` seconds, doubling up to :data:`RETRY_MAX`;
* resumes when a commit succeeds: the buffered rows are written, the waiting pages go to the
  dataset, and fetching starts again.

A failure that is not an outage (a fault of the data or the schema) still closes the crawl.
"""

from __future__ import annotations

import logging
import time

logger = logging.getLogger(__name__)

#: Seconds before the first retry of a commit after an outage began.
RETRY_FIRST = 0.25
#: The longest wait between two retries.
RETRY_MAX = 5.0


class AuditOutage:
    """The state of an audit database outage a worker is waiting out."""

    def __init__(self) -> None:
        #: Why the database is unavailable (one line), or None while it answers.
        self.reason: str | None = None
        self.began = 0.0
        self._retry_at = 0.0
        self._delay = RETRY_FIRST

    @property
    def active(self) -> bool:
        return self.reason is not None

    def begin(self, exc: BaseException, where: str, pending: int) -> bool:
        """Note that a commit failed with *exc*; return True if this began the outage."""
        now = time.monotonic()
        self._retry_at = now + self._delay
        if self.reason is not None:
            return False
        self.reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        self.began = now
        logger.error(
            "Audit database %s unavailable (%s): not fetching until it answers; the %d rows "
            "recorded are kept in memory and committed then",
            where,
            self.reason,
            pending,
        )
        return True

    def due(self) -> bool:
        """Return True when the next commit should be tried."""
        return self.reason is not None and time.monotonic() >= self._retry_at

    def still(self) -> None:
        """A retry failed: wait longer before the next."""
        self._delay = min(self._delay * 2, RETRY_MAX)
        self._retry_at = time.monotonic() + self._delay

    def end(self, where: str, committed: int) -> None:
        """A retry succeeded: the outage is over."""
        logger.warning(
            "Audit database %s answers again after %.1f s: %d rows committed, resuming",
            where,
            time.monotonic() - self.began,
            committed,
        )
        self.reason = None
        self._delay = RETRY_FIRST
