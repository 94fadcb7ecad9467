"""A status line redrawn in place at the foot of a terminal, with log output scrolling above it.

:class:`LiveLine` wraps the terminal's stream (stderr). :meth:`LiveLine.show` redraws the line: a
carriage return, the text cut to the terminal's width (so that it never wraps), then spaces over
what is left of the previous text — plain characters, no escape sequences, so that any terminal
shows it. Once :meth:`LiveLine.attach` has pointed the log handlers that write to the terminal
(and ``sys.stderr``) at it, everything else written there first wipes the line, is written, and
the line is drawn again beneath it as soon as a whole line has been written: a warning logged
while the line shows is never garbled by it. :meth:`LiveLine.close` leaves the last text on a
line of its own and gives the handlers their stream back.

Writes may come from any thread (a log record from a worker thread): one lock orders them.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import IO, Any, TextIO, cast

#: Columns assumed when the terminal does not say.
DEFAULT_COLUMNS = 80


def terminal_columns(stream: IO[str]) -> int:
    """Return the width of the terminal *stream* writes to, in columns (80 if unknown)."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        columns = 0
    return columns if columns > 0 else DEFAULT_COLUMNS


def is_terminal(stream: IO[str] | None) -> bool:
    """Return True if *stream* writes to a terminal."""
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, OSError, ValueError):
        return False


def fit(text: str, width: int) -> str:
    """Return *text* cut to *width* characters, ending in ``...`` when cut."""
    if len(text) <= width:
        return text
    if width <= 3:
        return text[: max(width, 0)]
    return text[: width - 3] + "..."


class LiveLine:
    """A line of status at the foot of the terminal *stream*, redrawn by :meth:`show`.

    Also a text stream: what is written through it appears above the line.
    """

    def __init__(self, stream: TextIO, columns: Callable[[], int] | None = None) -> None:
        self.stream = stream
        self._columns = columns or (lambda: terminal_columns(stream))
        self._lock = threading.RLock()
        self._text = ""
        #: Characters of the line now on the screen (0: not drawn).
        self._drawn = 0
        #: Something written through the line left the cursor in the middle of a line.
        self._midline = False
        self._closed = False
        self._handlers: list[tuple[logging.StreamHandler[Any], Any]] = []
        self._stderr: TextIO | None = None

    # -- the line --------------------------------------------------------------------------------

    def columns(self) -> int:
        """Return the terminal's width now, in columns."""
        return self._columns()

    def show(self, text: str) -> None:
        """Redraw the line with *text*."""
        with self._lock:
            if self._closed or (text == self._text and self._drawn):
                return
            self._text = text
            self._draw()
            self.stream.flush()

    def close(self, text: str | None = None) -> None:
        """Draw *text* (else the last text) one last time, end the line, and detach."""
        with self._lock:
            if not self._closed:
                if text is not None:
                    self._text = text
                if self._text:
                    self._draw()
                    self.stream.write("\n")
                    self._drawn = 0
                self._closed = True
                self.stream.flush()
        # Outside the lock: a handler's own lock is taken here, and a record being emitted in
        # another thread holds that one while it waits for ours.
        self.detach()

    def _draw(self) -> None:
        text = fit(self._text, max(self.columns() - 1, 1))
        if self._midline:
            self.stream.write("\n")
            self._midline = False
        spare = max(self._drawn - len(text), 0)
        self.stream.write("\r" + text + " " * spare)
        self._drawn = len(text) + spare

    def _wipe(self) -> None:
        if self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self._drawn = 0

    # -- a stream for everything else ------------------------------------------------------------

    def write(self, text: str) -> int:
        """Write *text* above the line."""
        with self._lock:
            if not text:
                return 0
            if self._closed:
                return self.stream.write(text)
            self._wipe()
            self.stream.write(text)
            self._midline = not text.endswith("\n")
            if not self._midline and self._text:
                self._draw()
            return len(text)

    def flush(self) -> None:
        """Flush the terminal stream."""
        with self._lock:
            self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        # fileno, isatty, encoding, …: those of the terminal stream.
        if name == "stream":
            raise AttributeError(name)
        return getattr(self.stream, name)

    # -- who writes through it -------------------------------------------------------------------

    def attach(self, logger: logging.Logger | None = None) -> None:
        """Point the stream handlers of *logger* (the root logger) that write to the terminal
        stream, and ``sys.stderr`` if it is that stream, at this line."""
        for handler in (logger or logging.getLogger()).handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is self.stream:
                previous = handler.setStream(cast(TextIO, self))
                self._handlers.append((handler, previous))
        if sys.stderr is self.stream:
            self._stderr = sys.stderr
            sys.stderr = cast(TextIO, self)

    def detach(self) -> None:
        """Give the handlers and ``sys.stderr`` their stream back."""
        handlers, self._handlers = self._handlers, []
        for handler, previous in handlers:
            if handler.stream is self:
                handler.setStream(previous)
        if self._stderr is not None and sys.stderr is cast(TextIO, self):
            sys.stderr = self._stderr
        self._stderr = None
