"""Benchmark: what Heed's checks, audit trail and dataset cost a crawl, against plain Scrapy.

    .venv/bin/python bench/crawl_overhead.py [--pages 20000] [--rounds 2] [--concurrency 16] [--jobdir]

One local site of ``--pages`` linked pages (about 5 KB of HTML each, ten links) is served by a
small asyncio server in its own process. It is crawled, in interleaved rounds, by:

* **plain** — Scrapy with ``ROBOTSTXT_OBEY=True`` and its stock middlewares, the same ``web``
  spider (same link following, same items, text extracted), items to a JSON-lines feed;
* **heed** — ``heed crawl`` exactly as a user runs it: every check (robots.txt, tdmrep.json,
  ai.txt, headers, meta), the audit trail on SQLite, the dataset written (each item after its
  decision is durable);
* **jobdir** (with ``--jobdir``) — the same ``heed crawl`` with ``--jobdir``: the crash-safe
  frontier in JOBDIR besides (every request recorded, marked done in small commits).

Both use the same concurrency and Scrapy settings. ``heed crawl`` tunes Python's garbage collector
while it crawls (``HEED_GC_TUNING``, crawler/extensions/gctune.py); ``--plain-gc-tuning`` gives
plain Scrapy the same tuning, to compare Heed's own work alone. For each run it prints pages/s (pages over the
crawl's own ``elapsed_time_seconds``), CPU milliseconds per page (user + system of the crawl
process, start-up included) and peak RSS; then the medians and the pages/s ratio heed / plain.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINKS = 10
_WORDS = [
    "heed",
    "crawls",
    "the",
    "web",
    "for",
    "training",
    "data",
    "while",
    "honouring",
    "every",
    "machine",
    "readable",
    "opt",
    "out",
    "and",
    "records",
    "the",
    "evidence",
    "of",
    "each",
    "decision",
    "in",
    "an",
    "audit",
    "trail",
    "that",
    "can",
    "be",
    "queried",
    "later",
]


# -- the site ------------------------------------------------------------------------------------


def page(n: int, pages: int) -> bytes:
    """Return page *n*: a few paragraphs and ten links (the next page first: all reachable)."""
    links = [(n + 1) % pages] + [(n * 7919 + k * 104729) % pages for k in range(1, LINKS)]
    words = " ".join(_WORDS[(n + i) % len(_WORDS)] for i in range(120))
    paragraphs = "".join(f"<p>{words} ({n}.{i})</p>" for i in range(5))
    anchors = "".join(f'<li><a href="/p{k}">page {k}</a></li>' for k in links)
    return (
        f"<!doctype html><html><head><title>Page {n}</title><meta charset='utf-8'></head>"
        f"<body><h1>Page {n}</h1>{paragraphs}<ul>{anchors}</ul></body></html>"
    ).encode()


def response(status: str, body: bytes, ctype: bytes = b"text/html; charset=utf-8") -> bytes:
    """Return a keep-alive HTTP/1.1 response."""
    head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n".encode()
    return head + b"Content-Type: " + ctype + b"\r\n\r\n" + body


class Site(asyncio.Protocol):
    """A minimal keep-alive HTTP/1.1 server of the benchmark site (GET only)."""

    pages = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start a connection."""
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        """Answer each complete request head in the buffer."""
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            target = head.split(b" ", 2)[1].decode("latin-1")
            path = target.split("://", 1)[-1]
            path = path[path.find("/") :] if "://" in target else path
            self.transport.write(self.answer(path))

    def answer(self, path: str) -> bytes:
        """Return the response for *path*."""
        if path == "/robots.txt":
            return response("200 OK", b"User-agent: *\nAllow: /\n", b"text/plain")
        if path.startswith("/p") and path[2:].isdigit() and int(path[2:]) < self.pages:
            return response("200 OK", page(int(path[2:]), self.pages))
        return response("404 Not Found", b"not found\n", b"text/plain")


def serve(pages: int, port_file: str) -> None:
    """Serve the site on 127.0.0.1 (port chosen by the OS, written to *port_file*)."""
    Site.pages = pages

    async def main() -> None:
        sock = socket.create_server(("127.0.0.1", 0), backlog=1024)
        server = await asyncio.get_running_loop().create_server(Site, sock=sock)
        Path(port_file).write_text(str(sock.getsockname()[1]))
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# -- the crawls ----------------------------------------------------------------------------------


def plain_crawl(seed: str, out: str, concurrency: int, gc_tuning: bool) -> None:
    """Crawl with plain Scrapy (stock robots.txt middleware) and the same spider."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from crawler.spiders.web import WebSpider

    settings = Settings(
        {
            "BOT_NAME": "plain",
            "ROBOTSTXT_OBEY": True,
            "COOKIES_ENABLED": False,
            "TELNETCONSOLE_ENABLED": False,
            "EXTENSIONS": {"crawler.extensions.gctune.GcTuningExtension": 0} if gc_tuning else {},
            "REMOTE_CONTROL_ENABLED": False,
            "LOG_LEVEL": "INFO",
            "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
            "FEEDS": {out: {"format": "jsonlines"}},
            "FEED_EXPORT_FIELDS": ["url", "fetched_at", "content_type", "text", "size", "sha256"],
            **common_settings(concurrency),
        }
    )
    process = CrawlerProcess(settings)
    process.crawl(WebSpider, urls=seed)
    process.start()


def common_settings(concurrency: int) -> dict[str, object]:
    """Return the Scrapy settings both crawls share."""
    return {"CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency}


@dataclass
class Run:
    """One crawl's figures."""

    kind: str
    pages: int
    elapsed: float
    cpu: float
    rss_mb: float

    @property
    def rate(self) -> float:
        """Return pages per second."""
        return self.pages / self.elapsed

    @property
    def cpu_ms(self) -> float:
        """Return CPU milliseconds per page."""
        return 1000 * self.cpu / self.pages


def measure(kind: str, argv: list[str], log: Path) -> Run:
    """Run *argv*, wait for it with wait4, and return its figures (from its Scrapy stats)."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["PYTHONPATH"] = str(ROOT)
    with log.open("w") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=out)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text()
    if proc.returncode != 0:
        raise SystemExit(f"{kind} crawl failed ({proc.returncode}):\n{text[-3000:]}")
    elapsed = float(re.findall(r"'elapsed_time_seconds': ([\d.]+)", text)[-1])
    pages = int(re.findall(r"'item_scraped_count': (\d+)", text)[-1])
    cpu = usage.ru_utime + usage.ru_stime
    return Run(kind=kind, pages=pages, elapsed=elapsed, cpu=cpu, rss_mb=usage.ru_maxrss / 1024)


def main() -> None:
    """Serve the site, run the interleaved crawls, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--dir", help="working directory (default: a temporary one)")
    parser.add_argument("--only", choices=["plain", "heed", "jobdir"], help="run one kind only")
    parser.add_argument("--jobdir", action="store_true", help="also run heed crawl --jobdir")
    parser.add_argument(
        "--plain-gc-tuning", action="store_true", help="give plain Scrapy Heed's GC tuning too"
    )
    args = parser.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="heed-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    port_file = work / "port"
    port_file.unlink(missing_ok=True)
    server = subprocess.Popen(
        [sys.executable, __file__, "_serve", str(args.pages), str(port_file)], cwd=ROOT
    )
    try:
        while not port_file.exists() or not port_file.read_text():
            time.sleep(0.05)  # the server writes its port once it listens
        seed = f"http://127.0.0.1:{port_file.read_text()}/p0"
        print(
            f"{args.pages:,} pages, {args.rounds} interleaved rounds, "
            f"concurrency {args.concurrency}, work dir {work}"
            + (", plain Scrapy with Heed's GC tuning" if args.plain_gc_tuning else "")
        )
        runs: list[Run] = []
        kinds = [args.only] if args.only else ["plain", "heed"] + ["jobdir"] * args.jobdir
        for n in range(args.rounds):
            for kind in kinds:
                here = work / f"{kind}-{n}"
                here.mkdir(exist_ok=True)
                if kind == "plain":
                    argv = [sys.executable, __file__, "_plain", seed, str(here / "items.jsonl")]
                    argv += [str(args.concurrency), str(int(args.plain_gc_tuning))]
                else:
                    argv = [sys.executable, "-m", "heed", "crawl", seed]
                    argv += ["--db", str(here / "heed.db"), "--out", str(here / "data")]
                    argv += ["--log-level", "INFO"]  # Scrapy's stats dump, read by measure()
                    if kind == "jobdir":
                        argv += ["--jobdir", str(here / "job")]
                    for name, value in common_settings(args.concurrency).items():
                        argv += ["-s", f"{name}={value}"]
                run = measure(kind, argv, here / "crawl.log")
                runs.append(run)
                print(
                    f"  {kind:<5} round {n + 1}: {run.pages:,} pages in {run.elapsed:6.1f} s = "
                    f"{run.rate:6.1f} pages/s, {run.cpu_ms:5.2f} CPU ms/page, "
                    f"peak RSS {run.rss_mb:5.0f} MB"
                )
        summary(runs)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()


def summary(runs: list[Run]) -> None:
    """Print the medians and the ratio."""
    medians = {}
    for kind in ("plain", "heed", "jobdir"):
        mine = [r for r in runs if r.kind == kind]
        if not mine:
            continue
        rate = statistics.median(r.rate for r in mine)
        cpu = statistics.median(r.cpu_ms for r in mine)
        rss = max(r.rss_mb for r in mine)
        medians[kind] = rate
        print(
            f"{kind:<5} median {rate:6.1f} pages/s, {cpu:5.2f} CPU ms/page, peak RSS {rss:.0f} MB"
        )
    if "plain" in medians and "heed" in medians:
        print(f"ratio heed / plain (pages/s): {medians['heed'] / medians['plain']:.3f}")
    if "heed" in medians and "jobdir" in medians:
        print(f"ratio jobdir / heed (pages/s): {medians['jobdir'] / medians['heed']:.3f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_serve":
        serve(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "_plain":
        sys.path.insert(0, str(ROOT))
        plain_crawl(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1")
    else:
        main()
