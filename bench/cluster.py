"""Benchmark: a shared crawl (``heed crawl --redis``) with 1, 2 and 3 workers against one local
``heed crawl`` of the same web, both recording into PostgreSQL.

    .venv/bin/python bench/cluster.py [--hosts 40] [--per-host 50] [--rounds 2]
        [--workers 1 2 3] [--round-trips]
        [--redis redis://127.0.0.1:6379/13] [--pg postgresql://postgres@127.0.0.1:5432/test]

The web is bench/crawl_overhead.py's ``realistic`` web (pages of 20–60 KB laid out as sites are,
a robots.txt per host), served from a process of its own. Per run it prints the wall time from
the first worker's start to the last one's end, pages/s over that time, CPU milliseconds per
page (user + system of every worker process, start-up included; seeding a shared run is not
counted, as a local crawl's reading of its seeds is), and Redis commands per page
(``INFO stats`` before and after: the commands scripts run inside Redis included; with
``--round-trips`` also the commands the workers sent, from ``redis-cli monitor``). Then per
number of workers the medians, the CPU a page costs a shared crawl over the local one (target ≤
1 ms), also as the median of each round's difference (the machine's speed drifts between
rounds), and the speed-up over one worker.

The machine this was written on has 2 cores: with 3 workers, the web server and PostgreSQL on
them, the speed-up is bounded by the cores, not by the cluster; CPU per page is the figure that
carries to bigger machines.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import realweb
import redis
from sqlalchemy import create_engine, text


@dataclass
class Run:
    """One crawl's figures."""

    kind: str
    workers: int
    pages: int
    wall: float
    cpu: float
    redis_ops: int
    #: Commands workers sent (round trips; a pipeline counts each command), with --round-trips.
    round_trips: int | None = None

    @property
    def rate(self) -> float:
        """Return pages per second over the wall time."""
        return self.pages / self.wall

    @property
    def cpu_ms(self) -> float:
        """Return CPU milliseconds per page, all workers together."""
        return 1000 * self.cpu / max(self.pages, 1)


def schema(pg: str) -> tuple[str, str]:
    """Create a PostgreSQL schema of its own; return its URL and its name."""
    name = f"heed_bench_{uuid.uuid4().hex[:12]}"
    engine = create_engine(pg.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    engine.dispose()
    return f"{pg}?options=-csearch_path%3D{name}", name


def drop(pg: str, name: str) -> None:
    """Drop the schema *name*."""
    engine = create_engine(pg.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    engine.dispose()


def redis_commands(server: redis.Redis) -> int:
    """Return the commands the Redis server has processed."""
    return int(server.info("stats")["total_commands_processed"])


def crawl(
    kind: str, workers: int, seeds: list[str], args: argparse.Namespace, env: dict[str, str],
    work: Path, extra: tuple[str, ...] = (),
) -> Run:  # fmt: skip
    """Run one crawl: ``local``, or ``cluster`` with *workers* workers; return its figures."""
    db, name = schema(args.pg)
    server = redis.Redis.from_url(args.redis)
    out = work / f"{kind}-{workers}-{uuid.uuid4().hex[:6]}"
    common = ["--db", db, "--out", str(out), "--progress", "off"]
    try:
        before = redis_commands(server)
        if kind == "local":
            argvs = [[sys.executable, "-m", "heed", "crawl", *seeds, *common, *extra]]
        else:
            run = f"bench-{uuid.uuid4().hex[:8]}"
            seed = [sys.executable, "-m", "heed", "cluster", "seed", "--redis", args.redis]
            subprocess.run(
                [*seed, "--run", run, *extra, *seeds], env=env, check=True, capture_output=True
            )
            worker = [sys.executable, "-m", "heed", "crawl", "--redis", args.redis, "--run", run]
            argvs = [[*worker, *common] for _ in range(workers)]
        monitor = None
        if args.round_trips and kind == "cluster":  # every command a client sends, from here on
            # Into a file: a pipe read only at the end would fill and stall the monitor.
            with (out.parent / f"{out.name}.monitor").open("w") as log:
                monitor = subprocess.Popen(["redis-cli", "-u", args.redis, "monitor"], stdout=log)
            while not (out.parent / f"{out.name}.monitor").read_text():
                time.sleep(0.01)  # "OK": monitoring
        started = time.monotonic()  # after seeding: a run is seeded once, by whoever
        procs = [
            subprocess.Popen(a, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for a in argvs
        ]  # fmt: skip
        cpu = 0.0
        for proc in procs:
            _, status, usage = os.wait4(proc.pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                assert proc.stderr is not None
                raise SystemExit(f"{kind} crawl failed:\n{proc.stderr.read().decode()[-3000:]}")
            cpu += usage.ru_utime + usage.ru_stime
        wall = time.monotonic() - started
        ops = redis_commands(server) - before
        trips = None
        if monitor is not None:
            time.sleep(0.5)  # the last lines reach the file
            monitor.terminate()
            monitor.wait()
            lines = (out.parent / f"{out.name}.monitor").read_text().splitlines()[1:]
            trips = sum(1 for line in lines if "lua]" not in line)
        pages = sum(len(p.read_text().splitlines()) for p in out.rglob("dataset.jsonl"))
        if kind == "cluster":
            for key in server.scan_iter(match="heed:{bench-*"):
                server.delete(key)
            server.srem("heed:runs", *server.smembers("heed:runs"))
        return Run(kind, workers, pages, wall, cpu, ops, trips)
    finally:
        drop(args.pg, name)


def main() -> None:
    """Serve the web, run the crawls in interleaved rounds, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=40)
    parser.add_argument("--per-host", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2, 3], help="Cluster sizes to run."
    )
    parser.add_argument(
        "--round-trips",
        action="store_true",
        help="Also count the commands the workers send (redis-cli monitor: slows Redis).",
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    work = Path(f"/tmp/heed-bench-cluster-{os.getpid()}")
    work.mkdir(parents=True, exist_ok=True)
    port_file = work / "port"
    spec = ["realistic", "0", str(args.hosts), str(args.per_host), "1"]
    overhead = ROOT / "bench" / "crawl_overhead.py"
    web = subprocess.Popen([sys.executable, str(overhead), "_serve", *spec, str(port_file)])
    try:
        while not port_file.exists() or not port_file.read_text():
            time.sleep(0.05)  # the server writes its port once it listens
        proxy = f"http://127.0.0.1:{port_file.read_text()}"
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env |= {"HTTP_PROXY": proxy, "http_proxy": proxy, "NO_PROXY": "", "no_proxy": ""}
        env["PYTHONPATH"] = str(ROOT)
        seeds = [f"http://{realweb.host_name(h)}{realweb.page_path(0)}" for h in range(args.hosts)]
        print(f"{args.hosts} hosts x {args.per_host} pages; {args.rounds} interleaved rounds")
        runs: list[Run] = []
        # A process's fixed cost (start-up, the first site's documents, the close), from a
        # one-page crawl: a bigger cluster pays it per worker.
        fixed: dict[str, list[float]] = {"local": [], "cluster": []}
        for n in range(args.rounds):
            for kind, cpus in fixed.items():
                one = crawl(kind, 1, seeds[:1], args, env, work, extra=("--depth", "0"))
                cpus.append(one.cpu)
            for kind, workers in [("local", 1)] + [("cluster", w) for w in args.workers]:
                run = crawl(kind, workers, seeds, args, env, work)
                runs.append(run)
                print(
                    f"  {kind:<7} x{workers} round {n + 1}: {run.pages:,} pages in "
                    f"{run.wall:6.2f} s = {run.rate:6.1f} pages/s, {run.cpu_ms:5.2f} CPU ms/page, "
                    f"{run.redis_ops / max(run.pages, 1):5.1f} Redis commands/page"
                    + (
                        f" ({run.round_trips / run.pages:4.2f} sent by the workers)"
                        if run.round_trips is not None and run.pages
                        else ""
                    )
                )
    finally:
        web.send_signal(signal.SIGTERM)
        web.wait()
    summary(runs, {kind: statistics.median(cpus) for kind, cpus in fixed.items()})


def summary(runs: list[Run], fixed: dict[str, float]) -> None:
    """Print the medians, the shared crawl's CPU overhead per page and its speed-up; then the
    same per page without each process's fixed cost (*fixed*: CPU seconds of a one-page crawl)."""

    def med(kind: str, workers: int, attr: str) -> float:
        return float(
            statistics.median(
                getattr(r, attr) for r in runs if (r.kind, r.workers) == (kind, workers)
            )
        )

    local_cpu = med("local", 1, "cpu_ms")
    sizes = sorted({r.workers for r in runs if r.kind == "cluster"})
    one = med("cluster", sizes[0], "rate") * (1 if sizes[0] == 1 else float("nan"))
    print("Medians:")
    print(f"  local     : {med('local', 1, 'rate'):6.1f} pages/s, {local_cpu:5.2f} CPU ms/page")
    for workers in sizes:
        cpu = med("cluster", workers, "cpu_ms")
        rate = med("cluster", workers, "rate")
        ops = statistics.median(
            r.redis_ops / max(r.pages, 1)
            for r in runs
            if (r.kind, r.workers) == ("cluster", workers)
        )
        # Each round's shared crawl against that round's local one: the machine's speed drifts
        # between rounds more than the difference measured.
        local_by_round = [r.cpu_ms for r in runs if r.kind == "local"]
        ours = [r.cpu_ms for r in runs if (r.kind, r.workers) == ("cluster", workers)]
        paired = statistics.median(c - l for c, l in zip(ours, local_by_round, strict=True))
        print(
            f"  cluster x{workers}: {rate:6.1f} pages/s (x{rate / one:4.2f} of one worker), "
            f"{cpu:5.2f} CPU ms/page (+{cpu - local_cpu:4.2f} over local; paired by round "
            f"{paired:+4.2f}), {ops:4.1f} Redis commands/page"
        )

    print(
        f"Fixed cost of a process (a one-page crawl): local {fixed['local']:.2f} s CPU, "
        f"a worker {fixed['cluster']:.2f} s CPU. Per page without it:"
    )

    def marginal(r: Run) -> float:
        return 1000 * (r.cpu - r.workers * fixed[r.kind]) / max(r.pages, 1)

    local_m = statistics.median(marginal(r) for r in runs if r.kind == "local")
    print(f"  local     : {local_m:5.2f} CPU ms/page")
    for workers in sizes:
        per_page = statistics.median(
            marginal(r) for r in runs if (r.kind, r.workers) == ("cluster", workers)
        )
        print(
            f"  cluster x{workers}: {per_page:5.2f} CPU ms/page "
            f"(+{per_page - local_m:4.2f} over local)"
        )


if __name__ == "__main__":
    main()
