"""What of the audit log is public: its signed checkpoints, one JSON shape everywhere.

``heed log show --json``, the ``log-checkpoints.json`` that ``heed report crawler-info`` writes
beside the crawler page, and the portal's ``/log/checkpoints.json`` give the same document, so
that a verifier written against one reads the others. A checkpoint's signed note is public by
design (C2SP tlog-checkpoint): it names the log, its size and root hash, and carries the
signature that the published verifier key checks; nothing here reads the signer key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from audit.log import LogReader, StoredCheckpoint, checkpoints

#: The files ``heed report crawler-info --out DIR`` writes beside the page, when there are
#: checkpoints: the latest signed note (text) and every checkpoint (JSON).
CHECKPOINT_FILE = "log-checkpoint.txt"
CHECKPOINTS_FILE = "log-checkpoints.json"
#: The portal's routes of the same.
CHECKPOINT_ROUTE = "/log/checkpoint"
CHECKPOINTS_ROUTE = "/log/checkpoints.json"


@dataclass(frozen=True, slots=True)
class LogView:
    """The audit log's size and its stored checkpoints, oldest first."""

    size: int
    checkpoints: list[StoredCheckpoint]

    @property
    def latest(self) -> StoredCheckpoint | None:
        """Return the newest checkpoint, or None before the first."""
        return self.checkpoints[-1] if self.checkpoints else None

    def document(self) -> dict[str, Any]:
        """Return the log as JSON: its size, the leaves not yet signed, every checkpoint."""
        latest = self.latest
        return {
            "log_size": self.size,
            "unsigned_leaves": self.size - (latest.size if latest else 0),
            "checkpoints": [checkpoint_json(c) for c in self.checkpoints],
        }


def read_log(engine: Engine) -> LogView:
    """Return the log of the audit database *engine*."""
    with engine.connect() as conn:
        return LogView(LogReader(conn).size(), checkpoints(conn))


def checkpoint_json(checkpoint: StoredCheckpoint) -> dict[str, Any]:
    """Return one checkpoint as JSON (the root in hex; the note exactly as signed)."""
    return {
        "id": checkpoint.id,
        "size": checkpoint.size,
        "root": checkpoint.root,
        "signed_at": utc(checkpoint.signed_at),
        "verifier_key": checkpoint.verifier_key,
        "note": checkpoint.note,
    }


def utc(value: dt.datetime) -> str:
    """Return *value* as ISO 8601 UTC with ``Z`` (a naive value is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def key_warning(view: LogView, verifier: str) -> str | None:
    """Return why the checkpoints published beside *verifier* (the published verifier key)
    would not check out with it, or None: a verifier must be able to trust both together."""
    from audit.checkpoint import CheckpointError, open_checkpoint, parse_verifier_key

    latest = view.latest
    if latest is None:
        return "the audit log has no signed checkpoint yet (heed log checkpoint signs one)"
    if latest.verifier_key != verifier:
        other = "+".join(latest.verifier_key.split("+")[:2])
        return (
            f"the latest checkpoint ({latest.id}) was signed with the key {other}, not the "
            "published one"
        )
    name, public = parse_verifier_key(verifier)
    try:
        open_checkpoint(latest.note, name, public)
    except CheckpointError as exc:
        return f"the latest checkpoint ({latest.id}) does not verify: {exc}"
    return None
