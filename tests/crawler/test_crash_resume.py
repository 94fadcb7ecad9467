"""Crash safety and resume of ``heed crawl``: killed at random moments, stopped and resumed.

The moment is chosen by the web itself: its handler counts page requests and signals the crawl
process when the count reaches a random number, so no test sleeps or polls. After a SIGKILL,
every complete dataset line must rest on a decision (and item row) durable in the audit
database; after a graceful stop and a resume from JOBDIR, every page is in the dataset exactly
once and decided exactly once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.crawler.crawlrun import heed_command, heed_env, query, read_dataset
from tests.support.virtualweb import Request, Response, VirtualWeb

PAGES = 240
HOST = "big.test"
SEED = f"http://{HOST}/p0"


class KillingSite:
    """A site of PAGES linked pages whose handler signals the crawl at the Nth page request."""

    def __init__(self, web: VirtualWeb) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.at: int | None = None
        self.signum = signal.SIGKILL
        self.pid: int | None = None
        web.add(f"http://{HOST}/robots.txt", body="User-agent: *\nDisallow: /never/\n")
        web.set_default(HOST, self.handle)

    def arm(self, pid: int, at: int | None, signum: signal.Signals = signal.SIGKILL) -> None:
        """Signal *pid* with *signum* when the *at*-th page request arrives (None: never)."""
        with self.lock:
            self.count, self.at, self.signum, self.pid = 0, at, signum, pid

    def handle(self, request: Request) -> Response:
        """Serve page N (links to the next three and one never-allowed URL)."""
        with self.lock:
            self.count += 1
            if self.pid is not None and self.at is not None and self.count == self.at:
                os.kill(self.pid, self.signum)
        n = int(request.path.removeprefix("/p") or 0) if request.path.startswith("/p") else 0
        links = "".join(f'<a href="/p{(n + k) % PAGES}">next</a>' for k in (1, 2, 3))
        body = f"<html><body><p>page {n}</p>{links}<a href='/never/{n}'>no</a></body></html>"
        return Response(body=body, content_type="text/html")


def start(web: VirtualWeb, work: Path, *extra: str) -> subprocess.Popen[str]:
    """Start ``heed crawl`` of the site in *work* (output to files there)."""
    args = heed_command(
        "crawl",
        SEED,
        "--db", str(work / "heed.db"),
        "--out", str(work / "out"),
        "-s", "HEED_AUDIT_MAX_DELAY=0.02",  # many small commits: many moments to die between
        "-s", "CONCURRENT_REQUESTS=8",
        "--log-level", "WARNING",
        *extra,
    )  # fmt: skip
    with (work / "crawl.log").open("a") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(args, env=heed_env(web), stdout=log, stderr=log, text=True)


def check_dataset_rests_on_durable_rows(work: Path) -> list[dict[str, Any]]:
    """Assert each complete dataset line's decision and item are stored; return the lines."""
    lines, torn = read_dataset(work / "out" / "dataset.jsonl")
    assert b"\n" not in torn
    db = work / "heed.db"
    if not lines:
        return lines
    decisions = dict(query(db, "SELECT id, url FROM decision WHERE action = 'fetched-stored'"))
    items = dict(query(db, "SELECT id, decision_id FROM stored_item"))
    for line in lines:
        assert decisions.get(line["decision_id"]) == line["url"], line["url"]
        assert items.get(line["item_id"]) == line["decision_id"], line["url"]
    return lines


@pytest.mark.parametrize(("seed", "background"), [(1, False), (2, False), (3, True), (4, True)])
def test_sigkill_never_leaves_an_item_without_its_decision(
    tmp_path: Path, seed: int, background: bool
) -> None:
    """kill -9 at a random page request: no dataset line without its durable decision (with
    the batches committed in the crawl process, or by a writer process)."""
    at = random.Random(seed).randrange(15, PAGES)
    with VirtualWeb() as web:
        site = KillingSite(web)
        proc = start(web, tmp_path, "-s", f"HEED_AUDIT_BACKGROUND={background}")
        site.arm(proc.pid, at)
        assert proc.wait(timeout=60) == -signal.SIGKILL, (tmp_path / "crawl.log").read_text()
    lines = check_dataset_rests_on_durable_rows(tmp_path)
    assert len({line["url"] for line in lines}) == len(lines)
    assert not [r for r in web.requests if r.path.startswith("/never/")]


def all_pages() -> set[str]:
    """Return every page URL of the site (all reachable from the seed)."""
    return {f"http://{HOST}/p{n}" for n in range(PAGES)}


@pytest.mark.parametrize("background", [False, True], ids=["inline", "background"])
def test_graceful_stop_then_resume_without_duplicates(tmp_path: Path, background: bool) -> None:
    """SIGINT mid-crawl, then the same command with --jobdir: every page exactly once."""
    jobdir = str(tmp_path / "job")
    mode = ("-s", f"HEED_AUDIT_BACKGROUND={background}")
    with VirtualWeb() as web:
        site = KillingSite(web)
        proc = start(web, tmp_path, "--jobdir", jobdir, *mode)
        site.arm(proc.pid, 60, signal.SIGINT)
        assert proc.wait(timeout=60) == 1  # "did not finish normally (shutdown)"
        first, _ = read_dataset(tmp_path / "out" / "dataset.jsonl")
        assert 0 < len(first) < PAGES
        site.arm(0, None)
        proc = start(web, tmp_path, "--jobdir", jobdir, *mode)
        assert proc.wait(timeout=60) == 0, (tmp_path / "crawl.log").read_text()[-3000:]
    lines = check_dataset_rests_on_durable_rows(tmp_path)
    urls = Counter(line["url"] for line in lines)
    assert set(urls) == all_pages()
    assert max(urls.values()) == 1
    assert len({line["decision_id"] for line in lines}) == PAGES
    db = tmp_path / "heed.db"
    assert query(db, "SELECT count(*), max(resumed) FROM crawl_run") == [(1, 1)]
    decided = Counter(url for (url,) in query(db, "SELECT url FROM decision"))
    pages = {u: n for u, n in decided.items() if "/never/" not in u}
    assert set(pages) == all_pages()
    assert max(pages.values()) == 1


def test_sigkill_then_resume_writes_no_duplicates(tmp_path: Path) -> None:
    """kill -9 with --jobdir, then resume: no page twice in the dataset, all lines durable."""
    jobdir = str(tmp_path / "job")
    with VirtualWeb() as web:
        site = KillingSite(web)
        proc = start(web, tmp_path, "--jobdir", jobdir)
        site.arm(proc.pid, 80)
        assert proc.wait(timeout=60) == -signal.SIGKILL
        site.arm(0, None)
        proc = start(web, tmp_path, "--jobdir", jobdir)
        proc.wait(timeout=60)
    lines = check_dataset_rests_on_durable_rows(tmp_path)
    urls = Counter(line["url"] for line in lines)
    assert max(urls.values()) == 1
    assert len({line["decision_id"] for line in lines}) == len(lines)
