"""``heed dataset filter``: a copy of a Heed dataset without the items of a purge list.

The dataset is read as the crawl wrote it (crawler/pipelines.py): ``dataset.jsonl``, one object
per line with its ``item_id``, and, when written, ``warc/*.warc.gz``, where each page is a
``response`` record followed by a ``metadata`` record that refers to it and names the item.
The copy keeps every other line byte for byte and every other WARC record as its original
gzip member (offsets from warcio), so nothing kept is re-encoded. A line that is not JSON, or
names no item, is kept and counted: the filter removes what the list names, never guesses.

The report says what was removed (per item: the URL and the reason from the list), and which
listed items were not in the dataset at all.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from heed.dataset.purgelist import PurgeEntry

DATASET_FILE = "dataset.jsonl"
WARC_DIR = "warc"


class DatasetError(ValueError):
    """A dataset or output directory that cannot be used (one line, naming it)."""


@dataclass(slots=True)
class FilterReport:
    """What the filter kept and removed."""

    kept: int = 0
    removed: list[PurgeEntry] = field(default_factory=list)
    #: Lines without an item id (not JSON, or another writer's): kept, counted here.
    unidentified: int = 0
    warc_records_kept: int = 0
    warc_records_removed: int = 0
    #: Listed items found in no line of the dataset.
    absent: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """Return the report as written to ``filter-report.json``."""
        return {
            "kept": self.kept,
            "removed": len(self.removed),
            "unidentified_lines_kept": self.unidentified,
            "warc_records_kept": self.warc_records_kept,
            "warc_records_removed": self.warc_records_removed,
            "listed_but_absent": self.absent,
            "removed_items": [
                {"item_id": e.item_id, "url": e.url, "reason": e.reason}
                for e in sorted(self.removed, key=lambda e: e.item_id)
            ],
        }


def check_dirs(source: Path, out: Path) -> None:
    """Refuse a source that is no Heed dataset, and an output that would overwrite anything."""
    if not (source / DATASET_FILE).is_file():
        raise DatasetError(f"{source}: no {DATASET_FILE} (not a Heed dataset directory)")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DatasetError(f"{out} exists and is not empty: give a new directory")
    if out.resolve() == source.resolve():
        raise DatasetError("the output must be another directory than the dataset")


def filter_dataset(source: Path, entries: list[PurgeEntry], out: Path) -> FilterReport:
    """Write the dataset *source* to *out* without the items of *entries*; return the report."""
    check_dirs(source, out)
    purge = {e.item_id: e for e in entries}
    report = FilterReport()
    out.mkdir(parents=True, exist_ok=True)
    found: set[int] = set()
    with (source / DATASET_FILE).open("rb") as lines, (out / DATASET_FILE).open("wb") as kept:
        for line in lines:
            item = _item_id(line)
            if item is None:
                report.unidentified += 1
            elif item in purge:
                found.add(item)
                report.removed.append(purge[item])
                continue
            kept.write(line)
            report.kept += 1
    warcs = sorted((source / WARC_DIR).glob("*.warc.gz")) if (source / WARC_DIR).is_dir() else []
    if warcs:
        (out / WARC_DIR).mkdir()
    for warc in warcs:
        _filter_warc(warc, out / WARC_DIR / warc.name, set(purge), report)
    report.absent = sorted(set(purge) - found)
    (out / "filter-report.json").write_text(
        json.dumps(report.as_dict(), indent=1, ensure_ascii=False) + "\n"
    )
    return report


def _item_id(line: bytes) -> int | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    item = record.get("item_id") if isinstance(record, dict) else None
    return item if isinstance(item, int) and not isinstance(item, bool) else None


def _filter_warc(source: Path, target: Path, purge: set[int], report: FilterReport) -> None:
    """Copy *source* to *target* without the response and metadata records of purged items."""
    from warcio.archiveiterator import ArchiveIterator

    spans: list[tuple[int, int, str | None]] = []  # offset, length, record id
    dropped: set[str] = set()
    with source.open("rb") as stream:
        records = ArchiveIterator(stream)
        for record in records:
            headers = record.rec_headers
            rid = headers.get_header("WARC-Record-ID")
            if record.rec_type == "metadata":
                meta = _json(record.content_stream().read())
                item = meta.get("item_id") if isinstance(meta, dict) else None
                if isinstance(item, int) and item in purge and rid is not None:
                    dropped.add(rid)
                    refers = headers.get_header("WARC-Refers-To")
                    if refers:
                        dropped.add(refers)
            records.read_to_end()
            spans.append((records.get_record_offset(), records.get_record_length(), rid))
    with source.open("rb") as stream, target.open("wb") as copy:
        for offset, length, rid in spans:
            if rid is not None and rid in dropped:
                report.warc_records_removed += 1
                continue
            stream.seek(offset)
            left = length
            while left:  # in pieces: a record holds a whole page
                chunk = stream.read(min(left, 1 << 20))
                if not chunk:
                    raise DatasetError(f"{source}: cut short in a record at byte {offset}")
                copy.write(chunk)
                left -= len(chunk)
            report.warc_records_kept += 1
        copy.flush()
        os.fsync(copy.fileno())


def _json(data: bytes) -> object:
    try:
        return json.loads(data)
    except ValueError:
        return None
