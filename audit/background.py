"""The writer's database side in a process of its own, so that writing overlaps recording.

An :class:`audit.store.AuditStore` spends about half of every decision building rows (Python)
and half having the database insert them (the driver and SQLite, in the same process). A thread
cannot overlap the two: the drivers take the GIL back for every row of an ``executemany``
(measured no faster). A child process can: while it commits batch *n*, the recording process
builds batch *n + 1* on the other core.

The child runs :class:`audit.writer.DbWriter` on its own engine and writes the batches it is
sent, in order, answering each with the commit's outcome (and the remapped ids of a resumed
run). The short transactions (runs, policies, id blocks) stay in the parent, on its own
connection. The parent keeps at most one batch in flight and keeps the batch itself until the
child says it is committed, so that a failed write can be retried and nothing recorded is lost.
If the child dies, the batch in flight fails with :class:`~audit.errors.AuditError` and the
next batch starts a new child.

The child is a fresh interpreter (``python -c``, calling :func:`main`), not a fork: the
recording process may run Twisted, Scrapy or other threads, which ``fork`` would copy half-way;
nor multiprocessing's ``spawn``, which re-runs the parent's main script in the child. It talks
over a socket pair (multiprocessing's framing), receives its settings there first, and ends when
the parent closes its end — or dies, since the socket then closes too — after finishing the
batch in hand. POSIX only.
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy import URL

from audit.batch import ROW_LISTS, Batch
from audit.engine import make_engine
from audit.errors import AuditError

#: The child's program (``-c``: ``-m audit.background`` would import this module twice).
_CHILD = "from audit.background import main; main()"
#: Seconds to wait for the child to finish its work and exit at close.
_JOIN_TIMEOUT = 60.0


class BackgroundWriter:
    """A DbWriter in a child process: ``submit`` a batch, ``collect`` its result later."""

    pipelined = True

    def __init__(
        self, url: URL, *, synchronous: str, foreign_keys: bool | None, log: bool = True
    ) -> None:
        """Write to *url* (SQLite pragmas as in :func:`audit.engine.make_engine`); *log*:
        append to the audit log (:mod:`audit.log`)."""
        if os.name != "posix" or not sys.executable:
            raise AuditError("a background writer process needs POSIX and sys.executable")
        # Sent over the pipe, not on the command line, where any local user could read a
        # password in the URL.
        self._settings = (
            url.render_as_string(hide_password=False),
            synchronous,
            foreign_keys,
            log,
        )
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        #: Whether a reply is owed for a submitted batch.
        self._in_flight = False

    # -- the child -----------------------------------------------------------------------------

    def _child(self) -> Connection:
        if self._conn is not None and self._process is not None and self._process.poll() is None:
            return self._conn
        self._stop(wait=False)
        ours, theirs = socket.socketpair()
        # The child imports audit from where this process does.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", _CHILD, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                env=env,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self._process = process
        self._conn = Connection(ours.detach())
        self._conn.send(self._settings)
        return self._conn

    def _receive(self) -> Any:
        conn = self._conn
        if conn is None:
            raise AuditError("audit writer process is not running")
        try:
            status, value = conn.recv()
        except (EOFError, OSError) as exc:
            code = self._process.poll() if self._process is not None else None
            self._stop(wait=False)
            raise AuditError(f"audit writer process died (exit code {code})") from exc
        if status == "error":
            raise value
        return value

    def _send(self, message: Any) -> None:
        conn = self._child()
        try:
            conn.send(message)
        except (OSError, ValueError) as exc:
            self._stop(wait=False)
            raise AuditError(f"audit writer process unreachable: {exc}") from exc

    def _stop(self, *, wait: bool) -> None:
        conn, process = self._conn, self._process
        self._conn = self._process = None
        self._in_flight = False
        if conn is not None:
            conn.close()  # the child reads EOF, finishes and exits
        if process is not None:
            try:
                process.wait(_JOIN_TIMEOUT if wait else 0.5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def submit(self, batch: Batch) -> None:
        """Send *batch* to be committed; :meth:`collect` waits for the commit."""
        if self._in_flight:
            raise RuntimeError("one batch in flight at a time")
        # Only the rows travel; the callbacks and ids stay here.
        self._send(tuple(getattr(batch, name) for name in ROW_LISTS))
        self._in_flight = True

    def ready(self) -> bool:
        """Return whether the reply for the batch in flight has arrived (never blocks)."""
        conn = self._conn
        if not self._in_flight or conn is None:
            return False
        try:
            return conn.poll()
        except (OSError, EOFError):
            return True  # collect() reports it

    def collect(self, batch: Batch) -> None:
        """Wait until the batch in flight (*batch*) is committed; fill its remaps or raise."""
        if not self._in_flight:
            raise RuntimeError("no batch in flight")
        self._in_flight = False
        remap, item_remap = self._receive()
        batch.remap.update(remap)
        batch.item_remap.update(item_remap)

    def close(self) -> None:
        """Let the child finish and exit."""
        self._stop(wait=True)


def serve(
    conn: Connection, url: str, synchronous: str, foreign_keys: bool | None, log: bool = True
) -> None:
    """The child's loop: write each batch sent until the parent closes the pipe."""
    from audit.engine import resolve_url
    from audit.writer import DbWriter

    engine = make_engine(
        resolve_url(url), writer=True, synchronous=synchronous, foreign_keys=foreign_keys
    )
    writer = DbWriter(engine, log=log)
    try:
        while True:
            try:
                rows = conn.recv()
            except (EOFError, OSError):
                return
            try:
                batch = Batch(**dict(zip(ROW_LISTS, rows, strict=True)))
                writer.write(batch)
                reply: tuple[str, Any] = ("ok", (batch.remap, batch.item_remap))
            except Exception as exc:  # noqa: BLE001 - the parent raises it
                reply = ("error", _portable(exc))
            try:
                conn.send(reply)
            except (OSError, ValueError):
                return
    finally:
        engine.dispose()


def _portable(exc: Exception) -> Exception:
    """Return *exc* if it survives pickling, else an AuditError that says what it was."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - any failure to round-trip means: send a description
        return AuditError(f"{type(exc).__name__}: {exc}")
    return exc


def main(argv: list[str] | None = None) -> None:
    """Entry point of the child: ``python -c "…main()" FD``; the settings come over FD first."""
    (fd,) = argv if argv is not None else sys.argv[1:]
    # Ctrl-C reaches the whole process group: the parent decides when to stop, and closes the
    # pipe once everything is written.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = Connection(int(fd))
    try:
        try:
            url, synchronous, foreign_keys, log = conn.recv()
        except (EOFError, OSError):
            return
        serve(conn, url, synchronous, foreign_keys, log)
    finally:
        conn.close()
