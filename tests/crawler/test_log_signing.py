"""Crawls sign the audit log: with ``HEED_LOG_KEY`` a crawl ends with a checkpoint that verifies
with the published key and covers every leaf; a configured key that cannot be used stops the
crawl before any request; without a key the crawl says it signs nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from audit.checkpoint import open_checkpoint, parse_verifier_key
from audit.log import LogReader, checkpoints
from audit.logkey import create_key
from audit.queries import open_reader
from tests.crawler.crawlrun import ROOT, heed_env, run_crawl, run_heed
from tests.support.virtualweb import VirtualWeb

PAGES = {
    "/robots.txt": "User-agent: *\nDisallow: /private\n",
    "/": '<a href="/a">a</a> <a href="/b">b</a> <a href="/private">p</a> home',
    "/a": "<p>page a</p>",
    "/b": "<p>page b</p>",
}


def test_a_crawl_with_a_key_ends_with_a_verifying_checkpoint(tmp_path: Path) -> None:
    key = create_key(tmp_path / "log.key", "crawler.test/heed-log")
    name, public = parse_verifier_key(key.verifier)
    with VirtualWeb() as web:
        web.site("site.test", PAGES)
        out = run_crawl(
            web,
            tmp_path / "crawl",
            ["http://site.test/"],
            {"HEED_LOG_KEY": str(key.path), "HEED_LOG_CHECKPOINT_INTERVAL": 0.001},
            follow=True,
        )
    assert out.stats["finish_reason"] == "finished"
    assert "Audit log: checkpoints signed every 0.001 s and at the end of the run" in out.log
    engine = open_reader(str(tmp_path / "crawl" / "heed.db"))
    try:
        with engine.connect() as conn:
            reader = LogReader(conn)
            size = reader.size()
            stored = checkpoints(conn)
            assert size > 0
            assert len(stored) > 1, "the interval signed none during the crawl"
            last = stored[-1]
            # The end of the run: every leaf is covered, and the note verifies with the key.
            assert last.size == size
            assert last.verifier_key == key.verifier
            checkpoint = open_checkpoint(last.note, name, public)
            assert checkpoint.size == size
            assert checkpoint.root == reader.root(size)
            assert checkpoint.root.hex() == last.root
            for earlier in stored:  # those the interval signed verify too, and never shrink
                assert open_checkpoint(earlier.note, name, public).root == reader.root(earlier.size)
            assert [c.size for c in stored] == sorted(c.size for c in stored)
    finally:
        engine.dispose()


def test_a_crawl_without_a_key_says_it_signs_nothing(tmp_path: Path) -> None:
    with VirtualWeb() as web:
        web.site("site.test", PAGES)
        out = run_crawl(web, tmp_path / "crawl", ["http://site.test/"])
    assert "Audit log: no HEED_LOG_KEY, so no checkpoint is signed" in out.log
    engine = open_reader(str(tmp_path / "crawl" / "heed.db"))
    try:
        with engine.connect() as conn:
            assert LogReader(conn).size() > 0
            assert checkpoints(conn) == []
    finally:
        engine.dispose()


def test_a_key_that_cannot_be_used_stops_the_crawl_before_any_request(tmp_path: Path) -> None:
    """heed crawl: one line, exit 2; scrapy crawl: the spider closes at once (audit_unavailable).
    Never a crawl that runs unsigned when signing was asked for."""
    missing = tmp_path / "none.key"
    malformed = tmp_path / "bad.key"
    malformed.write_text("PRIVATE+KEY+x+00000000+AAAA\n", encoding="utf-8")
    db = tmp_path / "heed.db"
    with VirtualWeb() as web:
        web.site("site.test", PAGES)
        proc = run_heed(
            web, "crawl", "http://site.test/", "--db", str(db), "--log-key", str(missing)
        )
        assert proc.returncode == 2, proc.stderr[-2000:]
        assert proc.stderr == (
            f"Error: log key file {missing} does not exist (create one with: heed log key "
            "--create) (HEED_LOG_KEY)\n"
        )
        proc = run_heed(
            web, "crawl", "http://site.test/", "--db", str(db), "-s", f"HEED_LOG_KEY={malformed}"
        )
        assert proc.returncode == 2
        assert proc.stderr.startswith(f"Error: log key file {malformed} holds no signer key")
        assert proc.stderr.count("\n") == 1
        assert web.requests == []
        command = [sys.executable, "-m", "scrapy", "crawl", "web", "-a", "urls=http://site.test/"]
        proc = subprocess.run(
            [*command, "-s", f"HEED_DB={db}", "-s", f"HEED_LOG_KEY={missing}"],
            cwd=ROOT,
            env=heed_env(web),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        output = proc.stderr + proc.stdout
        assert "audit_unavailable" in output
        assert f"log key file {missing} does not exist" in output
        assert web.requests == []
