"""The dataset: accepted pages as JSON Lines (and optionally WARC), each resting on a durable decision.

**Ordering guarantee.** A page enters the dataset only after its decision *and* its stored-item row
are committed to the audit database. :class:`DatasetPipeline` hands each
:class:`~crawler.items.PageItem` to
:meth:`crawler.extensions.audit.AuditExtension.item_durable`, which records the item with
:meth:`audit.AuditStore.record_item` and an ``on_durable`` callback; the store runs that callback
only after the commit that made the item and every row recorded before it (its decision
included) durable. The callback resolves the future the pipeline awaits, and only then
does the pipeline write the line (and hand the item on to later pipelines and feed exports). So a
crash at any moment can lose dataset lines whose decisions are durable, never the reverse: every
line's ``decision_id`` is in the database. The line carries the *stored* decision id (a resumed run
maps a re-recorded request to the decision stored first).

The files, in ``HEED_OUT``:

* ``dataset.jsonl`` — one JSON object per line, written with one ``write`` call on an ``O_APPEND``
  file: ``decision_id``, ``item_id``, ``url``, ``fetched_at``, ``status``, ``content_type``,
  ``bytes``, ``sha256``, ``redirect_urls``, then ``text`` and/or ``body`` (base64) per
  ``HEED_STORE`` (``text``: extracted text, or the body when there is no text; ``body``; ``both``);
* ``warc/heed-<time>-<pid>.warc.gz`` with ``HEED_WARC`` — per page a ``response`` record and a
  ``metadata`` record (``application/json``: the decision, its reasons and signals) that refers to it;
  one file per crawl process, so a torn record after a crash never precedes good ones.

One crawl writes to a directory at a time (an exclusive lock on ``dataset.jsonl``). On opening, a
line torn by a crash is cut off, and the decision ids already in the file are read, so that a
resumed crawl never writes a page twice.

A worker of a shared crawl (``heed crawl --redis``) writes into ``HEED_OUT/worker-HOST-PID/``,
and marks each decision id in the run's Redis set ``written`` once its line is written (the lines
of one audit commit together): a page
that a worker wrote and then died before acknowledging, and that another worker fetched again
(its item is *redone*: it maps to the decision stored first), is not written twice
(:class:`crawler.cluster.parts.DatasetMarks`).
"""

from __future__ import annotations

import base64
import fcntl
import io
import json
import logging
import mmap
import os
import re
import time
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson
from scrapy.exceptions import DropItem, NotConfigured

from crawler.cluster.parts import DatasetMarks, dataset_place
from crawler.extensions.audit import AuditExtension
from crawler.items import STORE_MODES, PageItem

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

DATASET_FILE = "dataset.jsonl"
WARC_DIR = "warc"
_DECISION_ID = re.compile(rb'^\{"decision_id": ?(\d+)', re.MULTILINE)
#: Hop-by-hop and framing headers: a WARC response record carries the decoded body.
_DROP_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length", "connection"})


def json_line(record: dict[str, Any]) -> bytes:
    """Return *record* as one line of JSON in UTF-8 (non-ASCII characters as they are).

    orjson: the standard library's encoder is slow on exactly this (a page's text with
    ``ensure_ascii=False``: 3.7 ms for a 600 KB page, 0.18 ms for a 40 KB one, against 0.06 and
    0.004 ms, bench/crawl_overhead.py's webs). Text orjson refuses (a lone surrogate) goes
    through the standard library, which then fails or not as it always did.
    """
    try:
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


class DatasetWriter:
    """Append accepted pages to ``dataset.jsonl`` (and a WARC file) in one directory."""

    def __init__(
        self,
        directory: str | Path,
        *,
        store: str = "text",
        warc: bool = False,
        marks: DatasetMarks | None = None,
    ) -> None:
        if store not in STORE_MODES:
            raise ValueError(f"HEED_STORE must be one of {STORE_MODES}, got {store!r}")
        self.directory = Path(directory)
        self.store = store
        self.warc = warc
        self.path = self.directory / DATASET_FILE
        self.warc_path: Path | None = None
        self.written: set[int] = set()
        #: The run's record of the lines every writer of a shared crawl has written.
        self.marks = marks
        self.lines = 0
        self._fd: int | None = None
        self._warc_file: BinaryIO | None = None
        self._warc_writer: Any = None

    def open(self) -> None:
        """Create the directory, lock and repair the dataset file, read the ids it holds."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise RuntimeError(f"{self.path} is being written by another crawl") from exc
        self._fd = fd
        self._repair_and_scan(fd)
        if self.warc:
            self._open_warc()

    def _repair_and_scan(self, fd: int) -> None:
        size = os.fstat(fd).st_size
        if not size:
            return
        with mmap.mmap(fd, size, access=mmap.ACCESS_READ) as data:
            end = data.rfind(b"\n") + 1
            self.written = {int(m.group(1)) for m in _DECISION_ID.finditer(data, 0, end)}
        if end < size:
            # A crash cut the last line short; its item is durable in the audit trail and was
            # never complete here: drop the fragment so the file stays valid JSON Lines.
            logger.warning("%s: cutting a torn last line (%d bytes)", self.path, size - end)
            os.ftruncate(fd, end)

    def _open_warc(self) -> None:
        from warcio.warcwriter import WARCWriter  # imported only when WARC output is on

        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
        directory = self.directory / WARC_DIR
        directory.mkdir(exist_ok=True)
        self.warc_path = directory / f"heed-{stamp}-{os.getpid()}.warc.gz"
        self._warc_file = self.warc_path.open("ab")
        self._warc_writer = WARCWriter(self._warc_file, gzip=True)
        info = {"software": "Heed", "format": "WARC File Format 1.1"}
        record = self._warc_writer.create_warcinfo_record(self.warc_path.name, info)
        self._warc_writer.write_record(record)

    def write(self, item: PageItem) -> bool:
        """Append *item*; return False if its decision is already in the dataset."""
        if self._fd is None:
            raise RuntimeError("DatasetWriter is not open")
        marks, decision_id = self.marks, item.decision_id
        if decision_id is not None:
            if decision_id in self.written:
                return False
            if marks is not None and item.redone and marks.written(decision_id):
                return False  # another worker wrote it before it died
            self.written.add(decision_id)
        if self._warc_writer is not None:
            self._write_warc(item)
        os.write(self._fd, self.line(item))
        self.lines += 1
        if marks is not None and decision_id is not None:
            marks.mark(decision_id)  # after the line: a line is never lost for its mark
        return True

    def line(self, item: PageItem) -> bytes:
        """Return *item*'s JSON line (decision id first: the file is scanned for it on open)."""
        record: dict[str, Any] = {
            "decision_id": item.decision_id,
            "item_id": item.item_id,
            "url": item.url,
            "fetched_at": item.fetched_at,
            "status": item.status,
            "content_type": item.content_type,
            "bytes": item.size,
            "sha256": item.sha256,
        }
        if item.redirect_urls:
            record["redirect_urls"] = item.redirect_urls
        if item.text is not None and self.store != "body":
            record["text"] = item.text
        if item.body is not None and (self.store != "text" or item.text is None):
            record["body"] = base64.b64encode(item.body).decode("ascii")
        return json_line(record)

    def _write_warc(self, item: PageItem) -> None:
        from warcio.statusandheaders import StatusAndHeaders

        writer = self._warc_writer
        body = item.body or b""
        headers = [(n, v) for n, v in item.headers if n not in _DROP_HEADERS]
        headers.append(("content-length", str(len(body))))
        try:
            phrase = HTTPStatus(item.status).phrase
        except ValueError:
            phrase = "Unknown"
        http = StatusAndHeaders(f"{item.status} {phrase}", headers, protocol="HTTP/1.1")
        response = writer.create_warc_record(
            item.url,
            "response",
            payload=io.BytesIO(body),
            http_headers=http,
            warc_headers_dict={"WARC-Date": item.fetched_at},
        )
        writer.write_record(response)
        meta = json.dumps(self.decision_record(item), ensure_ascii=False).encode("utf-8")
        metadata = writer.create_warc_record(
            item.url,
            "metadata",
            payload=io.BytesIO(meta),
            warc_content_type="application/json",
            warc_headers_dict={
                "WARC-Refers-To": response.rec_headers.get_header("WARC-Record-ID"),
                "WARC-Date": item.fetched_at,
            },
        )
        writer.write_record(metadata)
        assert self._warc_file is not None
        self._warc_file.flush()

    @staticmethod
    def decision_record(item: PageItem) -> dict[str, Any]:
        """Return the WARC metadata of *item*: its audit ids and its decision with evidence."""
        record: dict[str, Any] = {"decision_id": item.decision_id, "item_id": item.item_id}
        if item.decision is not None:
            record |= item.decision.to_dict()
        return record

    def close(self) -> None:
        """Mark what was written, close the files (releasing the lock)."""
        if self.marks is not None:
            self.marks.flush()
        if self._warc_file is not None:
            self._warc_file.close()
            self._warc_file = self._warc_writer = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class DatasetPipeline:
    """Write each page to the dataset once its decision is durable; see the module docstring."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        out = settings.get("HEED_OUT")
        self.writer: DatasetWriter | None = None
        if out:
            directory, marks = dataset_place(settings, out)
            self.writer = DatasetWriter(
                directory,
                store=settings.get("HEED_STORE") or "text",
                warc=settings.getbool("HEED_WARC"),
                marks=marks,
            )
        elif settings.getbool("HEED_WARC"):
            raise NotConfigured("HEED_WARC needs HEED_OUT (the dataset directory)")
        self.audit: AuditExtension | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Return the pipeline for *crawler* (Scrapy's component constructor)."""
        return cls(crawler)

    def open_spider(self) -> None:
        """Open the dataset files; find the audit extension."""
        self.audit = self.crawler.get_extension(AuditExtension)
        if self.audit is None:
            logger.warning(
                "No AuditExtension: dataset lines carry no decision id (HEED_AUDIT_ENABLED off?)",
                extra={"spider": self.crawler.spider},
            )
        if self.writer is not None:
            self.writer.open()
            logger.info(
                "Dataset: %s (%d pages already there)",
                self.writer.path,
                len(self.writer.written),
                extra={"spider": self.crawler.spider},
            )

    def close_spider(self) -> None:
        """Commit what is pending (waiting items go on), then close the files."""
        if self.audit is not None:
            self.audit.flush()
        if self.writer is not None:
            self.writer.close()

    async def process_item(self, item: Any) -> Any:
        """Wait until *item*'s decision and item row are durable, then write it out."""
        if not isinstance(item, PageItem):
            return item
        if self.audit is not None:
            item = await self.audit.item_durable(item)
        stats = self.crawler.stats
        if self.writer is not None:
            if not self.writer.write(item):
                if stats is not None:
                    stats.inc_value("heed/dataset/duplicate")
                # Expected when a resumed crawl requests again a page in flight at a crash:
                # counted, not a warning.
                raise DropItem(
                    f"already in the dataset: decision {item.decision_id} ({item.url})",
                    log_level="INFO",
                )
            if stats is not None:
                stats.inc_value("heed/dataset/lines")
        return item
