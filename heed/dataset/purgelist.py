"""The purge list: the kept items a training pipeline may no longer use, and why.

One row per item, sorted by item id, so that two lists diff line by line:

* ``item_id`` — the dataset item (``item_id`` of ``dataset.jsonl``, the audit ``stored_item``);
* ``url``, ``content_sha256`` — what was kept;
* ``run`` — the key of the crawl run that kept it;
* ``reason`` — why it may no longer be used, in words;
* ``evidence_sha256`` — the hash of the signal document (or registry snapshot) that says so,
  empty when the reason is a source that could not be read;
* ``found_at`` — when that was found (ISO 8601, UTC).

As JSON Lines (``.jsonl``) or Parquet (``.parquet``), with a manifest beside it
(``FILE.manifest.json``: the counts and the runs the list was made from). Reading checks every
row: a list that cannot be read whole is refused, naming the file and line, never half-applied.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, fields
from operator import attrgetter
from pathlib import Path
from typing import Any, Protocol

FORMATS = ("jsonl", "parquet")


class PurgeListError(ValueError):
    """A purge list that cannot be read (the message names the file, and the line)."""


@dataclass(slots=True, kw_only=True)
class PurgeEntry:
    """One kept item that may no longer be used (not frozen: a million are made at once)."""

    item_id: int
    url: str
    content_sha256: str
    run: str
    reason: str
    evidence_sha256: str
    found_at: str


FIELDS = tuple(f.name for f in fields(PurgeEntry))


class PurgeRow(Protocol):
    """What :func:`write_purge_list` writes: a :class:`PurgeEntry`, or any object with its
    fields (``found_at`` may be an aware datetime, written in UTC to the second)."""

    @property
    def item_id(self) -> int: ...
    @property
    def url(self) -> str: ...
    @property
    def content_sha256(self) -> str: ...
    @property
    def run(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def evidence_sha256(self) -> str: ...
    @property
    def found_at(self) -> str | dt.datetime: ...


_SECONDS: dict[int, str] = {}


def iso_second(when: str | dt.datetime) -> str:
    """Return *when* as ``YYYY-MM-DDTHH:MM:SSZ`` (text is returned as it is); formatted once
    per second: a re-check decides thousands of items a second, and formatting each took a
    sixth of a million-row list (measured)."""
    if isinstance(when, str):
        return when
    second = int(when.timestamp())
    text = _SECONDS.get(second)
    if text is None:
        text = _SECONDS[second] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
    return text


def list_format(path: Path) -> str:
    """Return ``jsonl`` or ``parquet`` from *path*'s suffix; PurgeListError otherwise."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise PurgeListError(f"{path}: a purge list ends in .jsonl or .parquet")
    return suffix


def manifest_path(path: Path) -> Path:
    """Return the manifest that goes with the purge list *path*."""
    return path.with_name(path.name + ".manifest.json")


def read_purge_list(path: Path) -> list[PurgeEntry]:
    """Return the entries of the purge list *path* (JSON Lines or Parquet)."""
    kind = list_format(path)
    if not path.is_file():
        raise PurgeListError(f"{path}: no such file")
    if kind == "parquet":
        return _read_parquet(path)
    entries = []
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            try:
                entries.append(_entry(json.loads(raw)))
            except (ValueError, TypeError) as exc:
                raise PurgeListError(f"{path}:{number}: {_why(exc)}") from None
    return entries


def _read_parquet(path: Path) -> list[PurgeEntry]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise PurgeListError(f"{path}: not a Parquet file: {exc}") from None
    missing = [name for name in FIELDS if name not in table.column_names]
    if missing:
        raise PurgeListError(f"{path}: no column {', '.join(missing)}")
    entries = []
    for number, row in enumerate(table.select(list(FIELDS)).to_pylist(), 1):
        try:
            entries.append(_entry(row))
        except (ValueError, TypeError) as exc:
            raise PurgeListError(f"{path}: row {number}: {_why(exc)}") from None
    return entries


def _entry(row: Any) -> PurgeEntry:
    if not isinstance(row, dict):
        raise TypeError("not a JSON object")
    item = row.get("item_id")
    if isinstance(item, bool) or not isinstance(item, int) or item < 1:
        raise ValueError("item_id must be a positive integer")
    values = {}
    for name in FIELDS[1:]:
        value = row.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise TypeError(f"{name} must be text")
        values[name] = value
    return PurgeEntry(item_id=item, **values)


def _why(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def write_purge_list(entries: Iterable[PurgeRow], path: Path, manifest: dict[str, Any]) -> int:
    """Write *entries* (sorted by item id) to *path* and *manifest* beside it; return the count."""
    rows = sorted(entries, key=attrgetter("item_id"))
    if list_format(path) == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = {name: [getattr(e, name) for e in rows] for name in FIELDS[:-1]}
        columns["found_at"] = [iso_second(e.found_at) for e in rows]
        schema = pa.schema([("item_id", pa.int64())] + [(name, pa.string()) for name in FIELDS[1:]])
        pq.write_table(pa.table(columns, schema=schema), path)
    else:
        import orjson

        with path.open("wb") as out:
            # orjson on plain dicts: asdict and the standard library's encoder took 30 s of
            # a million-row list, measured.
            out.writelines(
                orjson.dumps(
                    {
                        "item_id": e.item_id,
                        "url": e.url,
                        "content_sha256": e.content_sha256,
                        "run": e.run,
                        "reason": e.reason,
                        "evidence_sha256": e.evidence_sha256,
                        "found_at": iso_second(e.found_at),
                    },
                    option=orjson.OPT_APPEND_NEWLINE,
                )
                for e in rows
            )
    body = manifest | {"items": len(rows), "format": list_format(path), "fields": list(FIELDS)}
    manifest_path(path).write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n")
    return len(rows)
