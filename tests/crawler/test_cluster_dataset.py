"""The datasets of a shared crawl's workers: a page's line is never lost and written once, at
whatever moment its worker dies (crawler.cluster.parts.DatasetMarks, real Redis).

Worker A's death is placed exactly: after its commit (before its line), between its line and
its mark, or after its mark. Worker B then writes the same page fetched again — its item is
*redone*: the audit trail mapped it to the decision A stored, so it has A's ids.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
import redis

from crawler.cluster.keys import RunKeys
from crawler.cluster.parts import DatasetMarks
from crawler.items import PageItem
from crawler.pipelines import DatasetWriter
from tests.crawler.conftest import UNIT_RUNS


class Died(Exception):
    """Worker A stops here (SIGKILL, as far as the dataset can tell)."""


class DiesBeforeMarking(DatasetMarks):
    def mark(self, decision_id: int) -> None:
        raise Died


def page(*, redone: bool) -> PageItem:
    return PageItem(
        url="http://h0.test/p1", status=200, fetched_at="2026-12-05T12:00:00Z",
        content_type="text/html", size=4, sha256="ab" * 32, text="page",
        decision_id=41, item_id=7, redone=redone,
    )  # fmt: skip


def lines(out: Path) -> list[tuple[int, int]]:
    found = []
    for path in sorted(out.glob("worker-*/dataset.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            found.append((record["decision_id"], record["item_id"]))
    return found


@pytest.mark.parametrize(
    ("dies", "written"),
    [
        ("after its commit", [(41, 7)]),  # B writes it: nothing lost
        ("after its mark", [(41, 7)]),  # B sees the mark: not written twice
        ("between its line and its mark", [(41, 7), (41, 7)]),  # the same ids: export keeps one
    ],
)
def test_a_page_fetched_again_after_its_worker_died(
    redis_client: redis.Redis, tmp_path: Path, dies: str, written: list[tuple[int, int]]
) -> None:
    key = RunKeys(f"{UNIT_RUNS}{uuid.uuid4().hex[:8]}").key("written")
    marks = DatasetMarks(redis_client, key)
    a = DatasetWriter(
        tmp_path / "worker-a-1",
        marks=DiesBeforeMarking(redis_client, key) if dies.startswith("between") else marks,
    )
    a.directory.mkdir()
    a.open()
    try:
        if dies == "after its mark":
            assert a.write(page(redone=False))
        elif dies.startswith("between"):
            with pytest.raises(Died):
                a.write(page(redone=False))
    finally:
        a.close()
    b = DatasetWriter(tmp_path / "worker-b-2", marks=marks)
    b.directory.mkdir()
    b.open()
    try:
        assert b.write(page(redone=True)) == (dies != "after its mark")
        assert not b.write(page(redone=True))  # and never twice by one worker
    finally:
        b.close()
    assert lines(tmp_path) == written
    assert redis_client.sismember(key, "41")


def test_a_page_fetched_once_does_not_ask_redis(redis_client: redis.Redis, tmp_path: Path) -> None:
    """Only a redone page is looked up: a first fetch cannot have been written elsewhere."""
    key = RunKeys(f"{UNIT_RUNS}{uuid.uuid4().hex[:8]}").key("written")
    redis_client.sadd(key, "41")  # even if the set said so (it cannot), a first fetch is written
    writer = DatasetWriter(tmp_path / "worker-a-1", marks=DatasetMarks(redis_client, key))
    writer.directory.mkdir()
    writer.open()
    try:
        assert writer.write(page(redone=False))
    finally:
        writer.close()
    assert lines(tmp_path) == [(41, 7)]


def test_the_lines_of_one_turn_of_the_event_loop_are_marked_together(
    redis_client: redis.Redis,
) -> None:
    key = RunKeys(f"{UNIT_RUNS}{uuid.uuid4().hex[:8]}").key("written")
    marks = DatasetMarks(redis_client, key)

    async def one_turn() -> None:
        for decision_id in (1, 2, 3):
            marks.mark(decision_id)
        assert not redis_client.exists(key)  # not yet: at the end of this turn
        await asyncio.sleep(0)
        assert redis_client.smembers(key) == {b"1", b"2", b"3"}

    asyncio.run(one_turn())


def test_marks_fail_towards_writing_when_redis_is_away(tmp_path: Path) -> None:
    away = redis.Redis(port=1, socket_connect_timeout=1)
    marks = DatasetMarks(away, "heed:{t-marks-x}:written")
    assert not marks.written(41)  # unknown: write (a line is never lost for Redis)
    marks.mark(41)  # not made; no error
    away.close()
