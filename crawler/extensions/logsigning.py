"""The audit extension's signing of the audit log: ``HEED_LOG_KEY``, read once at start-up.

A crawl configured to sign never runs unsigned: a key file that is missing or malformed stops
it before any request (the audit extension closes the spider, ``heed crawl`` refuses to start),
because a crawl the operator believes covered by checkpoints and that is not would only show
when a checkpoint is looked for — too late to sign what it recorded. A crawl with no key is
allowed, and says so once at start.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from audit.logkey import KEY_ENV, LogKey, LogKeyError, read_key

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

__all__ = ["LogKeyError", "LogSigning", "log_signing"]

#: Heed's default of ``HEED_LOG_CHECKPOINT_INTERVAL`` (seconds).
DEFAULT_INTERVAL = 3600.0


@dataclass(frozen=True, slots=True)
class LogSigning:
    """What the audit store signs with: the key (None: nothing is signed) and the interval
    between checkpoints during the crawl (None: only at the end of the run)."""

    key: LogKey | None
    interval: float | None

    def describe(self) -> str:
        """Return the start-up line saying how the audit log is signed."""
        if self.key is None:
            return (
                "Audit log: no HEED_LOG_KEY, so no checkpoint is signed "
                "(create a key with: heed log key --create)"
            )
        every = f"every {self.interval:g} s and " if self.interval else ""
        return f"Audit log: checkpoints signed {every}at the end of the run, key {self.key.name}"


def log_signing(settings: BaseSettings) -> LogSigning:
    """Return the signing *settings* ask for; LogKeyError (one line) if the key file named by
    ``HEED_LOG_KEY`` cannot be used or the interval is not a number."""
    try:
        interval = settings.getfloat("HEED_LOG_CHECKPOINT_INTERVAL", DEFAULT_INTERVAL)
    except (TypeError, ValueError):
        raise LogKeyError("HEED_LOG_CHECKPOINT_INTERVAL must be a number of seconds") from None
    # As ``heed log`` does: the environment variable when the setting is not given.
    path = settings.get("HEED_LOG_KEY") or os.environ.get(KEY_ENV) or None
    key = read_key(str(path)) if path is not None else None
    return LogSigning(key, interval if interval > 0 else None)
