"""``heed dataset filter`` and ``heed dataset export`` on a dataset a real crawl wrote (JSON
Lines and WARC, over a local web): the filtered copy lacks exactly the purged items, byte for
byte otherwise; the Parquet export carries each item's rights metadata and round-trips through
pyarrow and Hugging Face ``datasets``; bad input is one line and loses nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from heed.cli import main
from heed.dataset import PurgeEntry, write_purge_list
from tests.crawler.crawlrun import query, run_heed
from tests.support.virtualweb import VirtualWeb

PAGES = [f"http://site{n % 2}.test/page/{n}" for n in range(6)]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a directory holding ``heed.db`` and the ``dataset/`` (with WARC) of one crawl."""
    root = tmp_path_factory.mktemp("crawled")
    with VirtualWeb() as web:
        for n, url in enumerate(PAGES):
            body = f"<html><body><p>Page {n}: caf\u00e9 text.</p></body></html>"
            web.add(url, body=body, content_type="text/html")
        done = run_heed(
            web, "crawl", *PAGES, "--db", str(root / "heed.db"), "--out", str(root / "dataset"),
            "--depth", "0", "--warc", "--log-level", "warning", "--progress", "off", timeout=120,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return root


def _lines(directory: Path) -> list[bytes]:
    return (directory / "dataset.jsonl").read_bytes().splitlines(keepends=True)


def _items(directory: Path) -> dict[int, dict[str, Any]]:
    return {json.loads(line)["item_id"]: json.loads(line) for line in _lines(directory)}


def _warc(directory: Path) -> list[tuple[str, str | None]]:
    """Return (record type, item id or URL) of every record of the directory's WARC files."""
    out: list[tuple[str, str | None]] = []
    for path in sorted((directory / "warc").glob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "metadata":
                    out.append(
                        ("metadata", str(json.loads(record.content_stream().read())["item_id"]))
                    )
                else:
                    out.append((record.rec_type, record.rec_headers.get_header("WARC-Target-URI")))
    return out


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _entries(items: dict[int, dict[str, Any]], ids: list[int]) -> list[PurgeEntry]:
    return [
        PurgeEntry(
            item_id=i,
            url=items[i]["url"] if i in items else "http://gone.test/",
            content_sha256=items[i]["sha256"] if i in items else "",
            run="r",
            reason="robots.txt now disallows /page/",
            evidence_sha256="ab" * 32,
            found_at="2026-12-05T10:00:00Z",
        )
        for i in ids
    ]


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_filter_removes_exactly_the_purged_items(
    crawled: Path, tmp_path: Path, suffix: str
) -> None:
    source = crawled / "dataset"
    items = _items(source)
    assert len(items) == len(PAGES)
    purged = sorted(items)[1:3]
    listed = tmp_path / f"purge.{suffix}"
    write_purge_list(_entries(items, [*purged, 999]), listed, {"runs": ["r"]})
    assert json.loads((tmp_path / f"purge.{suffix}.manifest.json").read_text())["items"] == 3
    out = tmp_path / "filtered"
    code, said, err = _run(
        "dataset", "filter", str(source), "--purge-list", str(listed), "--out", str(out)
    )
    assert code == 0, err
    assert (
        said
        == f"{out}: 4 items kept, 2 removed (4 WARC records); 1 listed items were not in the dataset\n"
    )
    # every other line byte for byte, in order
    kept = [line for line in _lines(source) if json.loads(line)["item_id"] not in purged]
    assert _lines(out) == kept
    before, after = _warc(source), _warc(out)
    removed_urls = {items[i]["url"] for i in purged}
    assert after == [
        r for r in before
        if not (r[0] == "metadata" and int(r[1] or 0) in purged)
        and not (r[0] == "response" and r[1] in removed_urls)
    ]  # fmt: skip
    assert len(before) - len(after) == 4
    report = json.loads((out / "filter-report.json").read_text())
    assert [r["item_id"] for r in report["removed_items"]] == purged
    assert report["listed_but_absent"] == [999]


def test_filter_refuses_bad_input(crawled: Path, tmp_path: Path) -> None:
    source = crawled / "dataset"
    good = tmp_path / "good.jsonl"
    write_purge_list(_entries(_items(source), [1]), good, {})
    bad = tmp_path / "bad.jsonl"
    bad.write_text(good.read_text() + '{"item_id": "7"}\n')
    code, _, err = _run(
        "dataset", "filter", str(source), "--purge-list", str(bad), "--out", str(tmp_path / "o")
    )
    assert code == 1
    assert err.strip().splitlines()[-1] == f"Error: {bad}:2: item_id must be a positive integer"
    assert not (tmp_path / "o").exists()  # nothing half-written
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "x").write_text("mine")
    code, _, err = _run(
        "dataset", "filter", str(source), "--purge-list", str(good), "--out", str(taken)
    )
    assert code == 1
    assert "exists and is not empty: give a new directory" in err
    assert (taken / "x").read_text() == "mine"
    code, _, err = _run(
        "dataset", "filter", str(tmp_path), "--purge-list", str(good), "--out", str(tmp_path / "p")
    )
    assert (code, "no dataset.jsonl (not a Heed dataset directory)" in err) == (1, True)
    code, _, err = _run(
        "dataset",
        "filter",
        str(source),
        "--purge-list",
        str(tmp_path / "x.csv"),
        "--out",
        str(tmp_path / "q"),
    )
    assert (code, "a purge list ends in .jsonl or .parquet" in err) == (1, True)


def test_export_parquet_with_rights_metadata(crawled: Path, tmp_path: Path) -> None:
    source = tmp_path / "dataset"
    shutil.copytree(crawled / "dataset", source)
    with (source / "dataset.jsonl").open("ab") as extra:  # an item the audit trail never saw
        extra.write(b'{"decision_id": 987654, "item_id": 987654, "url": "http://x.test/"}\n')
        extra.write(b"not json\n")
    out = tmp_path / "export.parquet"
    db = str(crawled / "heed.db")
    code, said, err = _run(
        "dataset", "export", str(source), "--out", str(out), "--row-group-rows", "4", "--db", db
    )
    assert code == 0, err
    assert said == f"{out}: 6 rows in 2 row groups (parquet)\n"
    assert "left out: 1 items without a recorded decision, 1 unreadable lines" in err
    table = pq.read_table(out)
    assert pq.ParquetFile(out).metadata.num_row_groups == 2
    assert table.column_names == [
        "id", "url", "text", "content_type", "bytes", "content_sha256", "decision_id", "use",
        "crawled_at", "run", "rechecked_at",
    ]  # fmt: skip
    rows = {r["id"]: r for r in table.to_pylist()}
    items = _items(crawled / "dataset")
    assert set(rows) == set(items)
    truth = dict(
        query(
            crawled / "heed.db",
            "SELECT d.id, o.use FROM decision d JOIN outcome o ON o.id = d.outcome_id",
        )
    )
    for item_id, row in rows.items():
        assert row["url"] == items[item_id]["url"]
        assert row["text"] == items[item_id]["text"]
        assert "caf\u00e9" in row["text"]
        assert row["decision_id"] == items[item_id]["decision_id"]
        assert row["use"] == truth[row["decision_id"]]
        assert row["crawled_at"].tzinfo is not None
        assert row["rechecked_at"] is None
    code, _, err = _run("dataset", "export", str(source), "--out", str(out), "--db", db)
    assert (code, "exists: give a new file name" in err) == (1, True)


def test_the_export_loads_in_hugging_face_datasets(
    crawled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    out = tmp_path / "export.parquet"
    code, _, err = _run(
        "dataset",
        "export",
        str(crawled / "dataset"),
        "--out",
        str(out),
        "--db",
        str(crawled / "heed.db"),
    )
    assert code == 0, err
    import datasets

    loaded = datasets.load_dataset(
        "parquet", data_files=str(out), split="train", cache_dir=str(tmp_path / "cache")
    )
    assert loaded.num_rows == len(PAGES)
    assert sorted(loaded["url"]) == sorted(PAGES)
    assert set(loaded["use"]) == {"not-reserved"}
    streamed = datasets.load_dataset("parquet", data_files=str(out), split="train", streaming=True)
    assert sum(1 for _ in streamed) == len(PAGES)


def test_export_reads_a_shared_crawls_worker_directories_each_item_once(
    crawled: Path, tmp_path: Path
) -> None:
    """``--out`` of a shared crawl holds a directory per worker; a line written twice (a worker
    killed between writing it and marking it) is exported once."""
    lines = _lines(crawled / "dataset")
    source = tmp_path / "shared"
    for name, part in (("worker-a-1", lines[:3]), ("worker-b-2", lines[2:])):
        (source / name).mkdir(parents=True)
        (source / name / "dataset.jsonl").write_bytes(b"".join(part))
    out = tmp_path / "shared.parquet"
    code, said, err = _run(
        "dataset", "export", str(source), "--out", str(out), "--db", str(crawled / "heed.db")
    )
    assert code == 0, err
    assert said == f"{out}: 6 rows in 1 row groups (parquet)\n"
    assert "left out: 1 lines of items already exported" in err
    assert sorted(pq.read_table(out).column("id").to_pylist()) == sorted(
        _items(crawled / "dataset")
    )
    (tmp_path / "nothing").mkdir()
    db = str(crawled / "heed.db")
    code, _, err = _run(
        "dataset", "export", str(tmp_path / "nothing"), "--out", str(out) + "2", "--db", db
    )
    assert code == 1
    assert "no dataset.jsonl (not a Heed dataset directory)" in err
