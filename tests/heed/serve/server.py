"""A real ``heed serve`` process on a free local port, for the tests.

The command binds its socket before it prints ``Serving on http://HOST:PORT/``, so once that line
is read the port accepts connections (they queue until uvicorn takes them): the test waits for
the line and then for the health endpoint, never for a fixed time.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from tests.heed.serve.portal import ROOT

_LINE = re.compile(r"^Serving on (http://[^ ]+/) ")


@dataclass
class Server:
    """A running ``heed serve``: its base URL and process."""

    url: str
    process: subprocess.Popen[str]
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    readers: list[threading.Thread] = field(default_factory=list)

    def start_draining(self) -> None:
        """Read standard output and error into :attr:`out` and :attr:`err` as they come."""
        for stream, lines in ((self.process.stdout, self.out), (self.process.stderr, self.err)):
            reader = threading.Thread(target=_drain, args=(stream, lines), daemon=True)
            reader.start()
            self.readers.append(reader)

    def stop(self, timeout: float = 30) -> tuple[int, str, str]:
        """Send SIGTERM; return the exit status and what it printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        for reader in self.readers:
            reader.join(timeout)
        return code, "".join(self.out), "".join(self.err)


def _drain(stream: IO[str] | None, lines: list[str]) -> None:
    if stream is not None:
        lines.extend(stream)


@contextmanager
def heed_serve(db: Path, *args: str, cwd: Path | None = None) -> Iterator[Server]:
    """Start ``heed serve --db DB --port 0 ARGS``; yield it once it answers; stop it."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, "-m", "heed", "serve", "--db", str(db), "--port", "0", *args],
        cwd=cwd or db.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: workers included, killed together
    )
    readers: list[threading.Thread] = []
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = _LINE.match(line)
        if found is None:
            os.killpg(process.pid, signal.SIGKILL)
            _, err = process.communicate(timeout=30)
            raise AssertionError(f"heed serve did not start: {line!r} {err[-2000:]}")
        server = Server(found.group(1).rstrip("/"), process)
        # Drain both pipes as the server writes (its access log would fill a pipe and stall it).
        server.start_draining()
        readers = server.readers
        health = httpx.get(f"{server.url}/api/v1/health", timeout=30)
        assert health.json() == {"status": "ok"}
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        for reader in readers:
            reader.join(30)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
