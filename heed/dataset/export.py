"""``heed dataset export --format parquet``: a Heed dataset as Parquet, with the rights
metadata a training pipeline filters on.

One row per item of ``dataset.jsonl``: ``id`` (the item id), ``url``, ``text``, then the
item's ``content_type``, ``bytes`` and ``content_sha256``, and from the audit trail its
``decision_id``, ``use`` (the use verdict it was kept under, or ``reserved`` / ``unknown``
when a later re-check found so), ``crawled_at`` (the decision's
time), ``run`` (the crawl run's key) and ``rechecked_at`` (the latest ``heed recheck`` of the
item; null if none). Written a row group at a time (:data:`ROW_GROUP_ROWS` rows), so memory stays
bounded and readers can stream it. An item whose decision the audit trail does not hold is
left out and counted: an item without evidence is not offered for training.

The dataset of a shared crawl (``heed crawl --redis``) is one directory per worker
(``worker-HOST-PID/dataset.jsonl``): given their parent, the export reads them all, in name
order, and keeps each item once (the rare line written twice when a worker died just after
writing it carries the same item id: crawler.cluster.parts.DatasetMarks).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Engine

from audit.datasets import item_rights
from audit.recheck import latest_rechecks
from heed.dataset.filter import DATASET_FILE, DatasetError
from optout.action import Action

#: The use an item has after a re-check that found it may no longer be used.
_RECHECKED_USE = {
    Action.RECHECKED_RESERVED.value: "reserved",
    Action.RECHECKED_UNKNOWN.value: "unknown",
}
#: Rows per row group: about 10-50 MB of text per group on web pages.
ROW_GROUP_ROWS = 10_000


@dataclass(slots=True)
class ExportReport:
    """What the export wrote and left out."""

    rows: int = 0
    row_groups: int = 0
    #: Items whose decision is not in the audit trail (left out).
    without_decision: int = 0
    #: Lines that are not an item (not JSON, or no ids): left out.
    unreadable: int = 0
    #: Lines of an item already exported (a shared crawl's workers): left out.
    repeated: int = 0


def schema() -> Any:
    """Return the Parquet schema of the export."""
    import pyarrow as pa

    stamp = pa.timestamp("us", tz="UTC")
    return pa.schema(
        [
            ("id", pa.int64()),
            ("url", pa.string()),
            ("text", pa.string()),
            ("content_type", pa.string()),
            ("bytes", pa.int64()),
            ("content_sha256", pa.string()),
            ("decision_id", pa.int64()),
            ("use", pa.string()),
            ("crawled_at", stamp),
            ("run", pa.string()),
            ("rechecked_at", stamp),
        ]
    )


def export_parquet(
    source: Path, out: Path, engine: Engine, *, row_group_rows: int = ROW_GROUP_ROWS
) -> ExportReport:
    """Write the dataset *source* to the Parquet file *out*; return what was written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = dataset_files(source)
    if out.exists():
        raise DatasetError(f"{out} exists: give a new file name")
    report = ExportReport()
    rechecked = latest_rechecks(engine)
    partial = out.with_name(out.name + ".partial")
    try:
        with pq.ParquetWriter(partial, schema(), compression="zstd") as writer:
            for batch in _batches(files, row_group_rows, report):
                rights = item_rights(engine, [r["decision_id"] for r in batch])
                rows = []
                for r in batch:
                    known = rights.get(r["decision_id"])
                    if known is None:
                        report.without_decision += 1
                        continue
                    rows.append(_row(r, known, rechecked.get(r["item_id"])))
                if rows:
                    writer.write_table(pa.Table.from_pylist(rows, schema=schema()))
                    report.rows += len(rows)
                    report.row_groups += 1
        partial.replace(out)  # a file under the name given is a complete one
    finally:
        partial.unlink(missing_ok=True)
    return report


def dataset_files(source: Path) -> list[Path]:
    """Return the dataset file of *source*, or its workers' (a shared crawl's ``--out``)."""
    if (source / DATASET_FILE).is_file():
        return [source / DATASET_FILE]
    workers = sorted(source.glob(f"worker-*/{DATASET_FILE}"))
    if not workers:
        raise DatasetError(f"{source}: no {DATASET_FILE} (not a Heed dataset directory)")
    return workers


def _batches(files: list[Path], size: int, report: ExportReport) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    seen: set[int] | None = set() if len(files) > 1 else None
    for path in files:
        with path.open("rb") as lines:
            for record in _records(lines, report):
                if seen is not None:
                    if record["item_id"] in seen:
                        report.repeated += 1
                        continue
                    seen.add(record["item_id"])
                batch.append(record)
                if len(batch) >= size:
                    yield batch
                    batch = []
    if batch:
        yield batch


def _records(lines: BinaryIO, report: ExportReport) -> Iterator[dict[str, Any]]:
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            report.unreadable += 1
            continue
        ids = (record.get("item_id"), record.get("decision_id")) if isinstance(record, dict) else ()
        if len(ids) != 2 or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            report.unreadable += 1
            continue
        yield record


def _row(record: dict[str, Any], rights: Any, latest: Any) -> dict[str, Any]:
    text = record.get("text")
    use, rechecked_at = rights.use, None
    if latest is not None:
        rechecked_at, action = latest
        # A later re-check that reserves, or could not read a source, is the item's verdict
        # now: a pipeline keeping "not-reserved" rows must not keep it.
        use = _RECHECKED_USE.get(action, use)
    return {
        "id": record["item_id"],
        "url": record.get("url"),
        "text": text if isinstance(text, str) else None,
        "content_type": record.get("content_type"),
        "bytes": record.get("bytes"),
        "content_sha256": record.get("sha256"),
        "decision_id": record["decision_id"],
        "use": use,
        "crawled_at": rights.decided_at,
        "run": rights.run,
        "rechecked_at": rechecked_at,
    }
