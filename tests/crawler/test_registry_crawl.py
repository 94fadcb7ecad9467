"""A real crawl applies the reservations registry of its audit database (issue 15): URLs an
entry covers are never requested, their decisions name the entry, and the registry snapshot
they name is recorded as evidence; other URLs are crawled as usual."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from audit import AuditStore, add_registry_entry, open_publisher, remove_registry_entry
from tests.crawler.crawlrun import query, run_crawl
from tests.support.virtualweb import Response, VirtualWeb

PAGE = Response(body="<html><body>free text</body></html>", content_type="text/html")


def _registry(db: Path) -> None:
    with AuditStore.open(str(db)):
        pass  # the schema, as `heed db upgrade` makes it
    engine = open_publisher(str(db))
    try:
        add_registry_entry(engine, "https://news.test/Archive/", source="complaint C-7", actor="t")
        add_registry_entry(engine, "books.test", purposes=["search"], actor="t")  # not train-ai
        gone = add_registry_entry(engine, "open.test", actor="t")
        remove_registry_entry(engine, gone.id, actor="t")  # withdrawn: not applied
    finally:
        engine.dispose()


def test_a_crawl_skips_what_the_registry_reserves(tmp_path: Path) -> None:
    workdir = tmp_path / "crawl"
    workdir.mkdir()
    _registry(workdir / "heed.db")
    robots = "User-agent: *\nAllow: /\n"
    with VirtualWeb() as web:
        web.site("news.test", {"/robots.txt": robots, "/archive/2019/a": PAGE, "/today": PAGE})
        web.site("books.test", {"/robots.txt": robots, "/novel": PAGE})
        web.site("open.test", {"/robots.txt": robots, "/a": PAGE})
        seeds = [
            "http://news.test/archive/2019/a",
            "http://news.test/x/../ARCHIVE/2019/a",
            "http://news.test/today",
            "http://books.test/novel",
            "http://open.test/a",
        ]
        out = run_crawl(web, workdir, seeds)
        served = {f"{r.host}{r.path}" for r in web.requests}
    web.assert_no_errors()
    # never requested, under any spelling
    assert not any("archive" in path.lower() for path in served), served
    assert {"news.test/today", "books.test/novel", "open.test/a"} <= served
    skipped = [d for d in out.decisions if "rchive" in d["request_url"]]
    assert skipped
    for decision in skipped:
        assert decision["action"] == "skipped-reservation"
        assert "registry" in decision["protocols"]
        assert any(
            "reservations registry entry 1 (complaint C-7) reserves tdm, train-ai, ai-input" in r
            for r in decision["reasons"]
        )
    assert out.decision("http://books.test/novel")["action"] == "fetched-stored"
    assert out.decision("http://open.test/a")["action"] == "fetched-stored"
    # the snapshot the signals name is recorded, byte for byte, and is the run's version
    assert out.stats["optout/registry/entries"] == 2
    version = out.stats["optout/registry/version"]
    ((body, sha),) = query(
        workdir / "heed.db",
        "SELECT d.body, d.sha256 FROM document d JOIN document_fetch f ON f.sha256 = d.sha256 "
        "WHERE f.kind = 'registry'",
    )
    assert version == f"sha256:{sha}" == f"sha256:{hashlib.sha256(body).hexdigest()}"
    entries = json.loads(body)["registry"]
    assert [(e["id"], e["scope"], e["target"]) for e in entries] == [
        (1, "prefix", "news.test/Archive/"),
        (2, "domain", "books.test"),
    ]
    signal_rows = query(
        workdir / "heed.db", "SELECT DISTINCT sha256, rule FROM signal WHERE protocol = 'registry'"
    )
    # the books.test entry reserves search only: recorded with the novel's decision, not applied
    assert sorted(signal_rows) == [
        (sha, "entry 1: prefix news.test/Archive/"),
        (sha, "entry 2: domain books.test"),
    ]


def test_a_registry_that_cannot_be_read_stops_the_crawl(tmp_path: Path) -> None:
    """The audit database opens, but its registry cannot be read: the crawl stops before its
    first request (never crawling as if nothing were registered)."""
    workdir = tmp_path / "crawl"
    workdir.mkdir()
    db = workdir / "heed.db"
    _registry(db)
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE registry_entry")
    conn.close()
    with VirtualWeb() as web:
        web.site("news.test", {"/robots.txt": "User-agent: *\nAllow: /\n", "/today": PAGE})
        out = run_crawl(web, workdir, ["http://news.test/today"])
        assert web.requests == []
    assert out.stats["finish_reason"] == "audit_unavailable"
    assert "cannot read the reservations registry" in out.log
    assert out.decisions == []
