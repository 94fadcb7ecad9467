"""Benchmark: ``heed recheck`` origins per second, and ``heed purge-list`` on a million items.

    .venv/bin/python bench/recheck.py [--origins N] [--items-per-origin K] [--concurrency C]
                                      [--purge-items M] [--keep DIR]

1. **Re-check.** An audit database with N origins (``http://o<n>.test``) and K kept items each
   (default 10,000 × 10 = 100,000 items), re-checked against the local web (one server for all
   host names, through ``HTTP_PROXY``, in a process of its own as a real web would be: in this
   process its threads would compete for the interpreter lock; every origin answers robots.txt,
   tdmrep.json and ai.txt with 404, i.e. three requests per origin, as an origin without signal
   files costs a crawl).
   Printed: origins/s and items/s of :func:`heed.recheck.recheck` at concurrency C (default
   64), and as the floor, the same three requests per origin sent by bare httpx clients (one
   per origin, as heed recheck uses) at the same concurrency, nothing parsed or recorded.
2. **Purge list.** A database with M kept items (default 1,000,000), each with a re-check
   decision saying it is reserved (the worst case: all of them in the list), then ``heed purge-list`` to JSON Lines and to Parquet, timed
   as commands (target: ≤ 10 s for 1M items).

``--keep DIR`` keeps (and reuses) the databases there.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from audit import Action, AuditStore, open_reader
from audit.recheck import ITEM_KEY, kept_items
from crawler.config import OptoutConfig
from crawler.run import project_settings
from heed.recheck import recheck
from optout.document import FetchResult
from optout.site import Site, SiteDocuments

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def _site(origin: str) -> Site:
    robots = FetchResult(
        url=origin + "/robots.txt", status=404, body=b"", fetched_at="2026-03-01T00:00:00Z"
    )
    return Site(SiteDocuments(origin=origin, robots=robots), token="HeedBot")


def build_kept(db: str, origins: int, per_origin: int) -> None:
    """Write a crawl run keeping *per_origin* pages of each of *origins* origins."""
    with AuditStore.open(db) as store:
        run = store.start_run(crawler_name="HeedBot", product_token="HeedBot", user_agent="b")
        for n in range(origins):
            origin = f"http://o{n}.test"
            site = _site(origin)
            store.record_document(site.docs.robots, kind="robots.txt", run_id=run)
            for k in range(per_origin):
                url = f"{origin}/page/{k}"
                decision = site.before_request(url)
                did = store.record_decision(
                    run, decision, Action.FETCHED_STORED, time=T0, request_key=f"{n}/{k}"
                )
                store.record_item(
                    did,
                    url=url,
                    content_type="text/html",
                    size=1000,
                    content_sha256=f"{n:032x}{k:032x}",
                    on_durable=lambda _: None,
                )
        store.end_run(run)


_SERVER = (
    "import sys; from heed.demo.server import VirtualWeb\n"
    "with VirtualWeb() as web:\n"
    "    print(web.port, flush=True)\n"
    "    sys.stdin.read()\n"
)


@contextmanager
def serving_web() -> Iterator[dict[str, str]]:
    """Run the local web in a process of its own (as a real web is: its threads must not share
    this process's interpreter lock); yield the proxy variables that reach it."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        url = f"http://127.0.0.1:{port}"
        yield {"HTTP_PROXY": url, "http_proxy": url, "NO_PROXY": "", "no_proxy": ""}
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=30)


def bench_recheck(db: str, concurrency: int) -> None:
    config = OptoutConfig.from_settings(project_settings({"HEED_DB": db}))
    engine = open_reader(db)
    kept = kept_items(engine)
    engine.dispose()
    items = sum(len(v) for v in kept.values())
    with serving_web() as proxy:
        os.environ.update(proxy)

        async def floor() -> float:
            # The same three requests per origin, each origin on its own client as heed
            # recheck does, with nothing parsed, decided or recorded.
            tls = ssl.create_default_context()
            gate = asyncio.Semaphore(concurrency)

            async def one(origin: str) -> None:
                async with gate, httpx.AsyncClient(trust_env=True, verify=tls) as client:
                    for path in ("/robots.txt", "/.well-known/tdmrep.json", "/ai.txt"):
                        await client.get(origin + path)

            start = time.perf_counter()
            await asyncio.gather(*(one(o) for o in kept))
            return time.perf_counter() - start

        bare = asyncio.run(floor())
        with AuditStore.open(db) as store:
            run = store.start_run(
                crawler_name="HeedBot",
                product_token="HeedBot",
                user_agent=config.user_agent,
                kind="recheck",
            )
            start = time.perf_counter()
            report = asyncio.run(recheck(kept, config, store, run, concurrency=concurrency))
            store.end_run(run)
            took = time.perf_counter() - start
    print(f"re-check of {len(kept):,} origins, {items:,} kept items, concurrency {concurrency}:")
    print(
        f"  heed recheck   {took:7.1f} s  {len(kept) / took:7.0f} origins/s  "
        f"{items / took:8.0f} items/s  (usable {report.usable:,}, "
        f"unknown {report.unknown:,})"
    )
    print(
        f"  bare httpx     {bare:7.1f} s  {len(kept) / bare:7.0f} origins/s  (the same requests, "
        f"nothing parsed, decided or recorded)"
    )
    print(f"  ratio          {took / bare:7.2f}x the bare fetch time")


def build_rechecked(db: str, items: int) -> None:
    """Write *items* kept items over items/10 origins, each with a re-check decision."""
    per_origin = 10
    build_kept(db, items // per_origin, per_origin)
    engine = open_reader(db)
    kept = kept_items(engine)
    engine.dispose()
    with AuditStore.open(db) as store:
        run = store.start_run(
            crawler_name="HeedBot", product_token="HeedBot", user_agent="b", kind="recheck"
        )
        for origin, found in kept.items():
            site = _site(origin)
            for item in found:
                decision = site.before_request(item.url)
                store.record_decision(
                    run,
                    decision,
                    Action.RECHECKED_RESERVED,  # the worst case: every item in the list
                    time=T0,
                    request_key=f"{ITEM_KEY}{item.item_id}",
                )
        store.end_run(run)


def bench_purge_list(db: str, directory: Path) -> None:
    for suffix in ("jsonl", "parquet"):
        out = directory / f"purge.{suffix}"
        out.unlink(missing_ok=True)
        start = time.perf_counter()  # the command as a user runs it, interpreter start included
        done = subprocess.run(
            [sys.executable, "-m", "heed", "purge-list", "--db", db, "--out", str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        took = time.perf_counter() - start
        assert done.returncode == 0, done.stderr
        print(f"  heed purge-list --out {out.name:<14} {took:6.2f} s  ({done.stdout.strip()})")


def main() -> None:
    """Build the databases and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--origins", type=int, default=10_000)
    parser.add_argument("--items-per-origin", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--purge-items", type=int, default=1_000_000)
    parser.add_argument("--keep", help="directory to keep (and reuse) the databases in")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        directory = Path(args.keep or tmp)
        directory.mkdir(parents=True, exist_ok=True)
        kept_db = directory / f"recheck-{args.origins}x{args.items_per_origin}.db"
        if not kept_db.exists():
            build_kept(str(kept_db), args.origins, args.items_per_origin)
        work = directory / "recheck-run.db"
        work.write_bytes(kept_db.read_bytes())  # each run re-checks the same fresh copy
        bench_recheck(str(work), args.concurrency)
        if args.purge_items:
            purge_db = directory / f"purge-{args.purge_items}.db"
            if not purge_db.exists():
                start = time.perf_counter()
                build_rechecked(str(purge_db), args.purge_items)
                print(
                    f"built {args.purge_items:,} re-checked items in {time.perf_counter() - start:.0f} s"
                )
            print(f"purge list of {args.purge_items:,} re-checked items, all reserved:")
            bench_purge_list(str(purge_db), directory)


if __name__ == "__main__":
    main()
