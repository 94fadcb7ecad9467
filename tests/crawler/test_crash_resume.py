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
        self.times = 1
        self.signum = signal.SIGKILL
        self.pid: int | None = None
        web.add(f"http://{HOST}/robots.txt", body="User-agent: *\nDisallow: /never/\n")
        web.set_default(HOST, self.handle)

    def arm(
        self,
        pid: int,
        at: int | None,
        signum: signal.Signals = signal.SIGKILL,
        *,
        times: int = 1,
    ) -> None:
        """Signal *pid* with *signum* when the *at*-th page request arrives (None: never), and
        again at each of the next ``times - 1`` page requests."""
        with self.lock:
            self.count, self.at, self.signum, self.pid, self.times = 0, at, signum, pid, times

    def handle(self, request: Request) -> Response:
        """Serve page N (links to the next three and one never-allowed URL)."""
        with self.lock:
            self.count += 1
            at = self.at
            if self.pid is not None and at is not None and at <= self.count < at + self.times:
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
    """kill -9 with --jobdir, then resume: every page, none twice in the dataset, all lines
    durable."""
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
    assert set(urls) == all_pages()
    assert max(urls.values()) == 1
    assert len({line["decision_id"] for line in lines}) == len(lines)


# -- resume after a crash: the union of the runs is the uninterrupted crawl -----------------------


def outcome(work: Path) -> tuple[Counter[str], Counter[tuple[str, str]]]:
    """Return what a crawl in *work* left: the dataset's page URLs and the decided (URL, action)
    pairs, with their counts (every dataset line checked against the audit trail first)."""
    lines = check_dataset_rests_on_durable_rows(work)
    decided = query(work / "heed.db", "SELECT url, action FROM decision")
    return Counter(line["url"] for line in lines), Counter(decided)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Counter[str], Counter[Any]]:
    """Return the outcome of the crawl run once, without interruption."""
    work = tmp_path_factory.mktemp("uninterrupted")
    with VirtualWeb() as web:
        KillingSite(web)
        proc = start(web, work, "--jobdir", str(work / "job"))
        assert proc.wait(timeout=60) == 0, (work / "crawl.log").read_text()[-3000:]
    pages, decided = outcome(work)
    assert set(pages) == all_pages()
    assert max(pages.values()) == 1
    return pages, decided


def check_same_as_uninterrupted(
    work: Path, uninterrupted: tuple[Counter[str], Counter[Any]]
) -> None:
    """Assert the runs in *work* together left exactly what the uninterrupted crawl left."""
    pages, decided = outcome(work)
    assert pages == uninterrupted[0]  # every page, each exactly once
    assert decided == uninterrupted[1]  # every page (and every refused link) decided once
    db = work / "heed.db"
    assert query(db, "SELECT count(*), count(DISTINCT decision_id) FROM stored_item") == [
        (PAGES, PAGES)
    ]
    assert query(db, "SELECT count(*) FROM crawl_run") == [(1,)]


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_killed_at_random_moments_then_resumed_equals_an_uninterrupted_crawl(
    tmp_path: Path, seed: int, uninterrupted: tuple[Counter[str], Counter[Any]]
) -> None:
    """kill -9 at random page requests, once or several times, each time running the same
    command again with --jobdir; a last run finishes the crawl. Together the runs collect every
    page exactly once and decide every request once, as one uninterrupted crawl does."""
    rng = random.Random(seed)
    jobdir = str(tmp_path / "job")
    kills = 0
    with VirtualWeb() as web:
        site = KillingSite(web)
        for _ in range(rng.randint(1, 3)):
            proc = start(web, tmp_path, "--jobdir", jobdir)
            site.arm(proc.pid, rng.randrange(1, PAGES // 2))
            code = proc.wait(timeout=60)
            if code == 0:
                break  # what was left took fewer requests than the kill waited for
            assert code == -signal.SIGKILL, (tmp_path / "crawl.log").read_text()[-3000:]
            kills += 1
        site.arm(0, None)
        proc = start(web, tmp_path, "--jobdir", jobdir)
        assert proc.wait(timeout=60) == 0, (tmp_path / "crawl.log").read_text()[-3000:]
    assert kills
    check_same_as_uninterrupted(tmp_path, uninterrupted)
    # Resumed, not restarted: only pages in flight, or done since the frontier's last commit,
    # are requested again (about 10-20 a kill here; a restart would repeat every page so far).
    page_requests = [r for r in web.requests if r.path.startswith("/p")]
    assert len(page_requests) - PAGES <= kills * 40


def test_double_ctrl_c_then_resume_equals_an_uninterrupted_crawl(
    tmp_path: Path, uninterrupted: tuple[Counter[str], Counter[Any]]
) -> None:
    """Ctrl-C twice (Scrapy's forced shutdown: nothing is closed cleanly), then the same command
    with --jobdir: every page exactly once, as one uninterrupted crawl."""
    jobdir = str(tmp_path / "job")
    # One request at a time per site: the second SIGINT goes with the next page request, which
    # the crawl sends only after it has read the response the first SIGINT came with.
    serial = ("-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
    with VirtualWeb() as web:
        site = KillingSite(web)
        # Scrapy says at INFO which shutdown it did.
        proc = start(web, tmp_path, "--jobdir", jobdir, *serial, "--log-level", "INFO")
        site.arm(proc.pid, 70, signal.SIGINT, times=2)
        assert proc.wait(timeout=60) == 1
        log = (tmp_path / "crawl.log").read_text()
        assert "Received SIGINT twice, forcing unclean shutdown" in log, log[-3000:]
        first, _ = read_dataset(tmp_path / "out" / "dataset.jsonl")
        assert 0 < len(first) < PAGES
        site.arm(0, None)
        proc = start(web, tmp_path, "--jobdir", jobdir, *serial)
        assert proc.wait(timeout=60) == 0, (tmp_path / "crawl.log").read_text()[-3000:]
    check_same_as_uninterrupted(tmp_path, uninterrupted)


def test_a_resumed_crawl_keeps_its_page_budget(tmp_path: Path) -> None:
    """--max-pages counts across the runs of a crawl killed and resumed: the frontier commits the
    spider's count with the requests it counted (a fresh count would schedule 100 more)."""
    jobdir = str(tmp_path / "job")
    budget = ("--jobdir", jobdir, "--max-pages", "100")
    with VirtualWeb() as web:
        site = KillingSite(web)
        proc = start(web, tmp_path, *budget)
        site.arm(proc.pid, 40)
        assert proc.wait(timeout=60) == -signal.SIGKILL
        site.arm(0, None)
        proc = start(web, tmp_path, *budget)
        assert proc.wait(timeout=60) == 0, (tmp_path / "crawl.log").read_text()[-3000:]
    pages, decided = outcome(tmp_path)
    assert max(pages.values()) == 1
    # As many as an uninterrupted crawl, give or take a request scheduled in the last moments
    # before the kill that the resumed run, ordering its queue anew, left out of its budget.
    assert 100 <= len(decided) <= 108
    assert max(decided.values()) == 1
