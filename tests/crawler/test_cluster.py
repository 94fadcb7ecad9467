"""One crawl on many workers (``heed crawl --redis``): real Redis, real PostgreSQL, real processes.

A local web of 20 hosts is crawled by 3 worker processes sharing a run. The web's own log is the
witness: each origin's robots.txt fetched once across the cluster, no page requested twice,
nothing robots.txt disallows requested; the audit database answers for every page; the workers'
datasets together hold each page once. A worker SIGKILLed mid-crawl, and Redis restarted
mid-crawl, change none of that: the crawl ends with the same pages as one worker's.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import create_engine, make_url, text

from audit import open_reader
from audit.logcheck import verify_log
from crawler.cluster.run import ClusterRun
from tests.audit.conftest import PG_ENV, postgres_schema
from tests.crawler.conftest import REDIS_ENV
from tests.crawler.crawlrun import heed_command, heed_env
from tests.support.clusterweb import DISALLOWED, ClusterWeb, expected_pages
from tests.support.services import service_url, wait_until
from tests.support.tcpproxy import TcpProxy
from tests.support.virtualweb import VirtualWeb

pytestmark = pytest.mark.timeout(300)

#: Every worker process a test started: killed at its end, whatever happened.
_STARTED: list[subprocess.Popen[str]] = []
SEED = "http://h0.test/p0"
TIMEOUT = 90


@pytest.fixture(autouse=True)
def _no_worker_left() -> Iterator[None]:
    yield
    while _STARTED:
        proc = _STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """Yield the test Redis; every run a test makes there is deleted afterwards."""
    url = service_url(REDIS_ENV)
    yield url
    server = redis.Redis.from_url(url)
    for key in server.scan_iter(match="heed:*"):
        server.delete(key)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """Yield a PostgreSQL URL on a schema of its own."""
    with postgres_schema(service_url(PG_ENV)) as (url, _, _):
        yield url


class OwnRedis:
    """A redis-server of this test's own (append-only file, fsync always), to restart."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        for _ in range(500):  # until it answers (each try fails fast: connection refused)
            try:
                if client.ping():
                    return
            except redis.exceptions.RedisError:
                continue
        raise RuntimeError("redis-server did not start")

    def restart(self) -> None:
        """Shut down (writing its data) and start again on the same port and files."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        self.restarts += 1
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def heed(web: VirtualWeb, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``heed ARGS`` against *web*; return it finished, output captured."""
    return subprocess.run(
        heed_command(*args),
        env=heed_env(web),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def seed(web: VirtualWeb, redis_at: str, run: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """Seed *run* from ``h0.test`` with scope all."""
    return heed(web, "cluster", "seed", "--redis", redis_at, "--run", run, "--scope", "all",
                *extra, SEED)  # fmt: skip


def worker(
    web: VirtualWeb, redis_at: str, run: str, pg: str, work: Path, n: int, *extra: str
) -> subprocess.Popen[str]:
    """Start worker *n* of *run* (its output in files in *work*)."""
    args = heed_command(
        "crawl", "--redis", redis_at, "--run", run, "--db", pg, "--out", str(work / "out"),
        "-s", "HEED_CLUSTER_LEASE=2", "-s", "HEED_AUDIT_MAX_DELAY=0.05",
        "-s", "CONCURRENT_REQUESTS=8", *extra,
    )  # fmt: skip
    with (work / f"out{n}.txt").open("w") as out, (work / f"err{n}.txt").open("w") as err:
        proc = subprocess.Popen(args, env=heed_env(web), stdout=out, stderr=err, text=True)
    _STARTED.append(proc)
    return proc


def wait_all(
    workers: list[subprocess.Popen[str]], work: Path, redis_at: str, run: str
) -> list[int]:
    """Return the workers' exit codes; on a timeout, fail with the run's state and their logs."""
    try:
        return [w.wait(timeout=TIMEOUT) for w in workers]
    except subprocess.TimeoutExpired:
        for w in workers:
            w.kill()
            w.wait()
        server = redis.Redis.from_url(redis_at)
        keys = {k: server.type(k) for k in server.scan_iter(match=f"heed:{{{run}}}:*")}
        leased = server.zrange(f"heed:{{{run}}}:leased", 0, -1)
        held = [server.hget(f"heed:{{{run}}}:req", str(i)) for i in leased]
        logs = "".join(p.read_text()[-3000:] for p in sorted(work.glob("err*.txt")))
        pytest.fail(f"workers did not finish: {sorted(keys)}\nleased: {held}\n{logs}")


def datasets(work: Path) -> list[dict[str, Any]]:
    """Return the lines of every worker's dataset."""
    lines = []
    for path in sorted((work / "out").glob("worker-*/dataset.jsonl")):
        lines += [json.loads(line) for line in path.read_text().splitlines() if line]
    return lines


def recorded(pg: str, run: str) -> list[tuple[str, str]]:
    """Return ``(url, action)`` of every decision of *run* in the audit database."""
    engine = create_engine(pg.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT d.url, d.action FROM decision d JOIN crawl_run r ON r.id = d.run_id "
                    "WHERE r.run_key = :k"
                ),
                {"k": run},
            )
            return [(str(u), str(a)) for u, a in rows]
    finally:
        engine.dispose()


def check_crawl(
    cweb: ClusterWeb, work: Path, pg: str, run: str, *, redone_ok: bool, robots_max: int = 1
) -> None:
    """The promises of a finished shared crawl, from the web's log, the datasets and the audit."""
    pages = cweb.page_requests()
    assert not [p for p in pages if DISALLOWED in p]  # nothing robots.txt disallows
    if not redone_ok:
        assert len(pages) == len(set(pages))  # no URL requested twice
    robots = cweb.robots_requests()
    # Once per TTL, cluster-wide (a fetch that straddled a Redis outage could not be shared).
    assert set(robots) == {f"h{i}.test" for i in range(20)}
    assert max(robots.values()) <= robots_max, robots
    lines = datasets(work)
    urls = Counter(line["url"] for line in lines)
    missing = expected_pages() - set(urls)
    assert not missing, [(u, [d for d in recorded(pg, run) if d[0] == u]) for u in missing]
    assert set(urls) == expected_pages()  # the pages a single worker's crawl stores
    if redone_ok:  # a line written twice (a kill between writing and marking it): same item
        items = {(line["url"], line["item_id"]) for line in lines}
        assert len(items) == len(urls)
    else:
        assert max(urls.values()) == 1  # no duplicates
    decided = {url for url, _ in recorded(pg, run)}
    assert set(pages) <= decided  # the audit trail answers for every page requested
    # The workers' commits, interleaved, make one audit log that the rows rebuild.
    engine = open_reader(pg)
    try:
        log = verify_log(engine)
    finally:
        engine.dispose()
    assert log.ok, log.problems[:5]
    assert log.leaves >= len(decided)


def test_three_workers_share_one_crawl(
    virtual_web: VirtualWeb, redis_url: str, pg_url: str, tmp_path: Path
) -> None:
    cweb = ClusterWeb(virtual_web)
    run = f"t-{uuid.uuid4().hex[:8]}"
    seeded = seed(virtual_web, redis_url, run)
    assert seeded.returncode == 0, seeded.stderr
    assert f"Run {run} created: 1 seed requests queued" in seeded.stdout
    workers = [worker(virtual_web, redis_url, run, pg_url, tmp_path, n) for n in range(3)]
    assert wait_all(workers, tmp_path, redis_url, run) == [0, 0, 0]
    check_crawl(cweb, tmp_path, pg_url, run, redone_ok=False)
    actions = Counter(action for _, action in recorded(pg_url, run))
    assert actions == {"fetched-stored": 300, "skipped-robots": 300}
    status = heed(virtual_web, "cluster", "status", "--redis", redis_url, "--run", run,
                  "--db", pg_url, "--json")  # fmt: skip
    report = json.loads(status.stdout)
    assert report["state"] == "finished"
    assert (report["queued"], report["leased"]) == (0, 0)
    assert report["actions"] == {"fetched-stored": 300, "skipped-robots": 300}
    assert len(report["workers"]) == 3
    assert not any(w["alive"] for w in report["workers"])


def test_a_worker_killed_mid_crawl_loses_nothing(
    virtual_web: VirtualWeb, redis_url: str, pg_url: str, tmp_path: Path
) -> None:
    cweb = ClusterWeb(virtual_web)
    run = f"t-{uuid.uuid4().hex[:8]}"
    assert seed(virtual_web, redis_url, run).returncode == 0
    workers = [worker(virtual_web, redis_url, run, pg_url, tmp_path, n) for n in range(3)]
    victim = workers[0]
    cweb.arm(60, lambda: os.kill(victim.pid, signal.SIGKILL))
    codes = wait_all(workers, tmp_path, redis_url, run)
    assert codes[0] == -signal.SIGKILL
    assert codes[1:] == [0, 0]
    # An origin whose documents the victim was fetching when it died is fetched again by the
    # worker that takes its lock over: robots.txt at most twice.
    check_crawl(cweb, tmp_path, pg_url, run, redone_ok=True, robots_max=2)
    figures = redis.Redis.from_url(redis_url).get(f"heed:{{{run}}}:requeued")
    assert figures is None or int(figures) >= 0  # put back, if the victim held any


def test_redis_restarted_mid_crawl(virtual_web: VirtualWeb, pg_url: str, tmp_path: Path) -> None:
    service_url(REDIS_ENV)  # the same machine's redis-server binary runs our own
    own = OwnRedis(tmp_path)
    own.start()
    try:
        cweb = ClusterWeb(virtual_web)
        run = f"t-{uuid.uuid4().hex[:8]}"
        assert seed(virtual_web, own.url, run).returncode == 0
        workers = [worker(virtual_web, own.url, run, pg_url, tmp_path, n) for n in range(2)]
        cweb.arm(80, own.restart)
        assert wait_all(workers, tmp_path, own.url, run) == [0, 0]
        assert own.restarts == 1
        check_crawl(cweb, tmp_path, pg_url, run, redone_ok=True, robots_max=2)
        logs = "".join((tmp_path / f"err{n}.txt").read_text() for n in range(2))
        assert "unavailable" in logs
        assert "answers again: resuming" in logs
    finally:
        own.stop()


def states(redis_at: str, run: str) -> dict[str, tuple[str, float]]:
    """Return each worker's state and the time of its last heartbeat."""
    workers = ClusterRun(redis.Redis.from_url(redis_at), run).workers()
    return {name: (w["state"], w["seen"]) for name, w in workers.items()}


def test_an_audit_database_outage_pauses_the_workers_until_it_returns(
    virtual_web: VirtualWeb, redis_url: str, pg_url: str, tmp_path: Path
) -> None:
    real = make_url(pg_url)
    proxy = TcpProxy((real.host or "127.0.0.1", real.port or 5432))
    proxy.start()
    through = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        cweb = ClusterWeb(virtual_web)
        run = f"t-{uuid.uuid4().hex[:8]}"
        assert seed(virtual_web, redis_url, run).returncode == 0
        workers = [worker(virtual_web, redis_url, run, through, tmp_path, n) for n in range(2)]
        cweb.arm(60, proxy.cut)
        waiting = "waiting for the audit database"
        wait_until(lambda: proxy.cuts == 1, "the cut")
        wait_until(
            lambda: [s for s, _ in states(redis_url, run).values()] == [waiting] * 2,
            "both workers waiting for the audit database",
        )
        # Fail closed: while it is away, nothing more is requested (two more heartbeats each).
        requested = cweb.count
        beats = {name: seen for name, (_, seen) in states(redis_url, run).items()}

        def beaten_twice() -> bool:
            now = states(redis_url, run)
            return all(now[name][1] > seen + 0.9 for name, seen in beats.items())

        wait_until(beaten_twice, "two more heartbeats")
        assert cweb.count == requested
        assert all(state == waiting for state, _ in states(redis_url, run).values())
        proxy.restore()
        assert wait_all(workers, tmp_path, redis_url, run) == [0, 0]
        # Nothing was lost or fetched again: the leases were kept, the rows buffered.
        check_crawl(cweb, tmp_path, pg_url, run, redone_ok=False)
        logs = "".join((tmp_path / f"err{n}.txt").read_text() for n in range(2))
        assert logs.count("unavailable (") == 2, logs[-3000:]
        assert logs.count("answers again after") == 2
        assert "Traceback" not in logs
    finally:
        proxy.close()


def test_a_stopped_run_stops_its_workers_and_resumes(
    virtual_web: VirtualWeb, redis_url: str, pg_url: str, tmp_path: Path
) -> None:
    cweb = ClusterWeb(virtual_web)
    run = f"t-{uuid.uuid4().hex[:8]}"
    assert seed(virtual_web, redis_url, run).returncode == 0
    status = ("cluster", "status", "--redis", redis_url, "--run", run)
    one = worker(virtual_web, redis_url, run, pg_url, tmp_path, 0)

    def stop() -> None:
        heed(virtual_web, *status, "--stop")

    cweb.arm(40, stop)
    assert one.wait(timeout=TIMEOUT) == 0
    assert "stopped" in heed(virtual_web, *status).stdout
    refused = worker(virtual_web, redis_url, run, pg_url, tmp_path, 1)
    assert refused.wait(timeout=TIMEOUT) == 2
    assert "was stopped" in (tmp_path / "err1.txt").read_text()
    assert heed(virtual_web, *status, "--resume").returncode == 0
    again = worker(virtual_web, redis_url, run, pg_url, tmp_path, 2)
    assert again.wait(timeout=TIMEOUT) == 0
    check_crawl(cweb, tmp_path, pg_url, run, redone_ok=True)


def test_a_shared_crawl_refuses_sqlite_and_unknown_runs(
    virtual_web: VirtualWeb, redis_url: str, pg_url: str, tmp_path: Path
) -> None:
    sqlite = heed(virtual_web, "crawl", "--redis", redis_url, "--db", str(tmp_path / "h.db"), SEED)
    assert sqlite.returncode == 2
    assert "give --db postgresql://" in sqlite.stderr
    assert "Traceback" not in sqlite.stderr
    unknown = heed(virtual_web, "crawl", "--redis", redis_url, "--db", pg_url, "--run", "nope-x1")
    assert unknown.returncode == 2
    assert "no run nope-x1 on this Redis: seed it first" in unknown.stderr
    down = heed(virtual_web, "crawl", "--redis", "redis://127.0.0.1:1/0", "--db", pg_url, SEED)
    assert down.returncode == 2
    assert "Redis at redis://127.0.0.1:1/0 does not answer" in down.stderr
    jobdir = heed(virtual_web, "crawl", "--redis", redis_url, "--jobdir", str(tmp_path / "j"), SEED)
    assert jobdir.returncode == 2
    assert "--redis and --jobdir" in jobdir.stderr
