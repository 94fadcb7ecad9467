"""Benchmark: what Heed's checks, audit trail and dataset cost a crawl, against plain Scrapy.

    .venv/bin/python bench/crawl_overhead.py [--web single|realistic|large|startup] [--rounds 2]
        [--concurrency 16] [--pages 20000] [--hosts 40] [--per-host 100] [--size 20]

The webs (``--web``, several allowed: ``--web realistic --web startup``), served by a small asyncio
server in its own process, which both crawls reach as their HTTP proxy (``HTTP_PROXY``: the server
answers for every host name, so both crawls see the same web):

* ``single`` — one host of ``--pages`` linked pages (about 5 KB of HTML each, ten links);
* ``realistic`` (the default) — ``--hosts`` hosts (40) of ``--per-host`` pages (100) of 20–60 KB
  laid out as sites are (bench/realweb.py: head with metas and inline CSS/JS, navigation, article,
  sidebar, footer, cookie banner), linked within and across hosts, a robots.txt per host (which
  disallows two paths every page links to); the seeds are each host's first page;
* ``large`` — the same layout with ``--size`` times longer articles (20: pages of 200 KB–1 MB),
  over ``--hosts`` × ``--per-host`` pages (default 10 × 30);
* ``startup`` — a site of one page (robots.txt and one link-free page), to measure what a crawl
  costs before and after its pages: the whole process's wall time of each.

Each web is crawled, in interleaved rounds, by:

* **plain** — Scrapy with ``ROBOTSTXT_OBEY=True`` and its stock middlewares, the same ``web``
  spider (same link following, same items, text extracted), items to a JSON-lines feed;
* **heed** — ``heed crawl`` exactly as a user runs it: every check (robots.txt, tdmrep.json,
  ai.txt, headers, meta), the audit trail on SQLite (a new database each run), the dataset
  written (each item after its decision is durable);
* **jobdir** (with ``--jobdir``) — the same ``heed crawl`` with ``--jobdir``: the crash-safe
  frontier in JOBDIR besides (every request recorded, marked done in small commits).

Both use the same concurrency and Scrapy settings. ``heed crawl`` tunes Python's garbage collector
while it crawls (``HEED_GC_TUNING``, crawler/extensions/gctune.py); ``--plain-gc-tuning`` gives
plain Scrapy the same tuning, and ``--plain-set NAME=VALUE`` any setting (Heed's
``CONCURRENT_ITEMS=10`` and ``ASYNCIO_EVENT_LOOP=uvloop.Loop``, crawler/settings.py), to compare
Heed's own work alone. For each run it prints pages/s (pages
over the crawl's own ``elapsed_time_seconds``), CPU milliseconds per page (user + system of the
crawl process, start-up included), peak RSS and the process's wall time; then per web the medians,
the pages/s ratio heed / plain, and for ``startup`` the wall-time difference.

Figures (2026-12-04, 2 cores, 3 interleaved rounds, medians; Heed's settings as shipped):

========================  ====================  ====================  =========================
web                       plain Scrapy          heed crawl            heed / plain
========================  ====================  ====================  =========================
realistic (40 x 100)      228 p/s, 4.58 ms CPU  258 p/s, 4.17 ms CPU  1.13; CPU -0.41 ms; RSS
                          114 MB                137 MB                1.20
single (2,000 x 5 KB)     432 p/s, 2.73 ms      644 p/s, 2.16 ms      1.49; RSS 1.28
large (10 x 30, ~540 KB)  57 p/s, 20.1 ms       52 p/s, 22.6 ms       0.91; +2.5 ms
startup (1 page)          0.84 s                1.18 s                +0.34 s
========================  ====================  ====================  =========================

With plain Scrapy given Heed's tuning (``--plain-set CONCURRENT_ITEMS=10 --plain-set
ASYNCIO_EVENT_LOOP=uvloop.Loop``), what Heed's own work costs: realistic 316 vs 264 p/s (0.84),
+0.70 CPU ms/page; single 671 vs 618 p/s (0.92), +0.28 ms.
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
sys.path.insert(0, str(ROOT / "bench"))

import realweb

LINKS = 10
#: The host of the single-host and start-up webs.
SINGLE_HOST = "bench.test"
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


def page(n: int, pages: int, *, links: bool = True) -> bytes:
    """Return page *n*: a few paragraphs and ten links (the next page first: all reachable)."""
    to = [(n + 1) % pages] + [(n * 7919 + k * 104729) % pages for k in range(1, LINKS)]
    to = to if links else []
    words = " ".join(_WORDS[(n + i) % len(_WORDS)] for i in range(120))
    paragraphs = "".join(f"<p>{words} ({n}.{i})</p>" for i in range(5))
    anchors = "".join(f'<li><a href="/p{k}">page {k}</a></li>' for k in to)
    return (
        f"<!doctype html><html><head><title>Page {n}</title><meta charset='utf-8'></head>"
        f"<body><h1>Page {n}</h1>{paragraphs}<ul>{anchors}</ul></body></html>"
    ).encode()


def response(status: str, body: bytes, ctype: bytes = b"text/html; charset=utf-8") -> bytes:
    """Return a keep-alive HTTP/1.1 response."""
    head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n".encode()
    return head + b"Content-Type: " + ctype + b"\r\n\r\n" + body


class Web:
    """The pages of one benchmark web, by (host, path): bytes ready to send."""

    def __init__(self, kind: str, pages: int, hosts: int, per_host: int, size: float) -> None:
        self.routes: dict[tuple[str, str], bytes] = {}
        robots = response("200 OK", b"User-agent: *\nAllow: /\n", b"text/plain")
        if kind == "single":
            self.routes[(SINGLE_HOST, "/robots.txt")] = robots
            for n in range(pages):
                self.routes[(SINGLE_HOST, f"/p{n}")] = response("200 OK", page(n, pages))
        elif kind == "startup":
            self.routes[(SINGLE_HOST, "/robots.txt")] = robots
            self.routes[(SINGLE_HOST, "/p0")] = response("200 OK", page(0, 1, links=False))
        else:
            for h in range(hosts):
                name = realweb.host_name(h)
                txt = realweb.robots_txt(h)
                self.routes[(name, "/robots.txt")] = response("200 OK", txt, b"text/plain")
                for n in range(per_host):
                    body = realweb.page_bytes(h, n, hosts=hosts, pages=per_host, size=size)
                    self.routes[(name, realweb.page_path(n))] = response("200 OK", body)
        self.missing = response("404 Not Found", b"not found\n", b"text/plain")

    def answer(self, host: str, path: str) -> bytes:
        """Return the response for *path* on *host*."""
        return self.routes.get((host, path), self.missing)


class Server(asyncio.Protocol):
    """A minimal keep-alive HTTP/1.1 server (GET only) for every host: a proxy's view of the web."""

    web: Web

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
            if "://" in target:  # absolute form, as sent to a proxy
                authority, _, rest = target.split("://", 1)[1].partition("/")
                path = "/" + rest
            else:
                path = target
                found = re.search(rb"\r\nhost:\s*([^\r]+)", head, re.IGNORECASE)
                authority = found.group(1).decode("latin-1").strip() if found else ""
            host = authority.lower().rsplit(":", 1)[0] if ":" in authority else authority.lower()
            self.transport.write(self.web.answer(host, path))


def serve(args: list[str], port_file: str) -> None:
    """Serve the web (built from *args*) on 127.0.0.1; write the port to *port_file*."""
    kind, pages, hosts, per_host, size = args[0], int(args[1]), int(args[2]), int(args[3]), args[4]
    Server.web = Web(kind, pages, hosts, per_host, float(size))

    async def main() -> None:
        sock = socket.create_server(("127.0.0.1", 0), backlog=1024)
        server = await asyncio.get_running_loop().create_server(Server, sock=sock)
        Path(port_file).write_text(str(sock.getsockname()[1]))
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# -- the crawls ----------------------------------------------------------------------------------


def plain_crawl(seed: str, out: str, concurrency: int, gc_tuning: bool, extra: list[str]) -> None:
    """Crawl with plain Scrapy (stock robots.txt middleware) and the same spider; *extra* are
    ``NAME=VALUE`` settings for it (``--plain-set``)."""
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
    for setting in extra:
        name, _, value = setting.partition("=")
        settings.set(name, value)
    process = CrawlerProcess(settings)
    process.crawl(WebSpider, urls=seed)
    process.start()


def common_settings(concurrency: int) -> dict[str, object]:
    """Return the Scrapy settings both crawls share."""
    return {"CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency}


@dataclass
class Run:
    """One crawl's figures."""

    web: str
    kind: str
    pages: int
    elapsed: float
    cpu: float
    rss_mb: float
    wall: float

    @property
    def rate(self) -> float:
        """Return pages per second."""
        return self.pages / self.elapsed if self.elapsed else 0.0

    @property
    def cpu_ms(self) -> float:
        """Return CPU milliseconds per page."""
        return 1000 * self.cpu / max(self.pages, 1)


def measure(web: str, kind: str, argv: list[str], log: Path, proxy: str) -> Run:
    """Run *argv* through *proxy*, wait for it with wait4, and return its figures."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env |= {"HTTP_PROXY": proxy, "http_proxy": proxy, "NO_PROXY": "", "no_proxy": ""}
    env["PYTHONPATH"] = str(ROOT)
    with log.open("w") as out:
        started = time.monotonic()
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=out)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text()
    if proc.returncode != 0:
        raise SystemExit(f"{kind} crawl failed ({proc.returncode}):\n{text[-3000:]}")
    elapsed = float(re.findall(r"'elapsed_time_seconds': ([\d.]+)", text)[-1])
    pages = int(re.findall(r"'item_scraped_count': (\d+)", text)[-1])
    cpu = usage.ru_utime + usage.ru_stime
    return Run(web, kind, pages, elapsed, cpu, usage.ru_maxrss / 1024, wall)


def seeds(web: str, hosts: int) -> list[str]:
    """Return the seed URLs of *web*."""
    if web in ("single", "startup"):
        return [f"http://{SINGLE_HOST}/p0"]
    return [f"http://{realweb.host_name(h)}{realweb.page_path(0)}" for h in range(hosts)]


def crawl_web(web: str, args: argparse.Namespace, work: Path) -> list[Run]:
    """Serve *web*, run the interleaved crawls, print each run; return the runs."""
    hosts = args.hosts or (10 if web == "large" else 40)
    per_host = args.per_host or (30 if web == "large" else 100)
    size = args.size if web == "large" else 1.0
    port_file = work / f"port-{web}"
    port_file.unlink(missing_ok=True)
    spec = [web, str(args.pages), str(hosts), str(per_host), str(size)]
    server = subprocess.Popen([sys.executable, __file__, "_serve", *spec, str(port_file)], cwd=ROOT)
    runs: list[Run] = []
    try:
        while not port_file.exists() or not port_file.read_text():
            if server.poll() is not None:
                raise SystemExit("the benchmark server did not start")
            time.sleep(0.05)  # the server writes its port once it listens
        proxy = f"http://127.0.0.1:{port_file.read_text()}"
        urls = " ".join(seeds(web, hosts))
        described = {
            "single": f"1 host, {args.pages:,} pages of ~5 KB",
            "startup": "1 host, 1 page",
        }.get(web, f"{hosts} hosts x {per_host} pages, size x{size:g}")
        print(
            f"[{web}] {described}; {args.rounds} interleaved rounds, "
            f"concurrency {args.concurrency}"
            + (", plain Scrapy with Heed's GC tuning" if args.plain_gc_tuning else "")
        )
        kinds = [args.only] if args.only else ["plain", "heed"] + ["jobdir"] * args.jobdir
        for n in range(args.rounds):
            for kind in kinds:
                here = work / f"{web}-{kind}-{n}"
                here.mkdir(exist_ok=True)
                if kind == "plain":
                    argv = [sys.executable, __file__, "_plain", urls, str(here / "items.jsonl")]
                    argv += [str(args.concurrency), str(int(args.plain_gc_tuning))]
                    argv += args.plain_set
                else:
                    argv = [sys.executable, "-m", "heed", "crawl", *urls.split()]
                    argv += ["--db", str(here / "heed.db"), "--out", str(here / "data")]
                    argv += ["--log-level", "INFO"]  # Scrapy's stats dump, read by measure()
                    if kind == "jobdir":
                        argv += ["--jobdir", str(here / "job")]
                    for name, value in common_settings(args.concurrency).items():
                        argv += ["-s", f"{name}={value}"]
                    for setting in args.heed_set:  # a setting under study, Heed's side only
                        argv += ["-s", setting]
                run = measure(web, kind, argv, here / "crawl.log", proxy)
                runs.append(run)
                print(
                    f"  {kind:<5} round {n + 1}: {run.pages:,} pages in {run.elapsed:6.2f} s = "
                    f"{run.rate:6.1f} pages/s, {run.cpu_ms:6.2f} CPU ms/page, "
                    f"peak RSS {run.rss_mb:5.0f} MB, process {run.wall:5.2f} s"
                )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()
    summary(web, runs)
    return runs


def main() -> None:
    """Run the interleaved crawls of each web asked for, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--web",
        action="append",
        choices=["single", "realistic", "large", "startup"],
        help="the web(s) to crawl (default: realistic)",
    )
    parser.add_argument("--pages", type=int, default=20_000, help="pages of the single-host web")
    parser.add_argument("--hosts", type=int, default=0, help="hosts (realistic 40, large 10)")
    parser.add_argument("--per-host", type=int, default=0, help="pages a host (100, large 30)")
    parser.add_argument("--size", type=float, default=20.0, help="article length factor (large)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--dir", help="working directory (default: a temporary one)")
    parser.add_argument("--only", choices=["plain", "heed"], help="run one kind only")
    parser.add_argument(
        "--heed-set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for heed crawl only (to measure a tuning against the same plain run)",
    )
    parser.add_argument(
        "--plain-set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for plain Scrapy only (to give it Heed's tuning, CONCURRENT_ITEMS=10 say)",
    )
    parser.add_argument(
        "--jobdir",
        action="store_true",
        help="also run heed crawl --jobdir (the crash-safe frontier) as a third kind",
    )
    parser.add_argument(
        "--plain-gc-tuning", action="store_true", help="give plain Scrapy Heed's GC tuning too"
    )
    args = parser.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="heed-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"work dir {work}")
    for web in args.web or ["realistic"]:
        crawl_web(web, args, work)


def summary(web: str, runs: list[Run]) -> None:
    """Print the medians and the ratios of one web's runs."""
    medians: dict[str, Run] = {}
    for kind in ("plain", "heed", "jobdir"):
        mine = [r for r in runs if r.kind == kind]
        if not mine:
            continue
        median = Run(
            web,
            kind,
            int(statistics.median(r.pages for r in mine)),
            statistics.median(r.elapsed for r in mine),
            statistics.median(r.cpu for r in mine),
            max(r.rss_mb for r in mine),
            statistics.median(r.wall for r in mine),
        )
        medians[kind] = median
        rate = statistics.median(r.rate for r in mine)
        cpu = statistics.median(r.cpu_ms for r in mine)
        print(
            f"  {kind:<5} median {rate:6.1f} pages/s, {cpu:6.2f} CPU ms/page, "
            f"peak RSS {median.rss_mb:.0f} MB, process {median.wall:.2f} s"
        )
    if "plain" in medians and "heed" in medians:
        plain, heed = medians["plain"], medians["heed"]
        if web == "startup":
            print(
                f"  one-page crawl, whole process: heed {heed.wall:.2f} s vs plain "
                f"{plain.wall:.2f} s (+{heed.wall - plain.wall:.2f} s); crawl itself "
                f"(elapsed_time_seconds) heed {heed.elapsed:.2f} s vs plain {plain.elapsed:.2f} s"
            )
        else:
            rates = {k: statistics.median(r.rate for r in runs if r.kind == k) for k in medians}
            cpus = {k: statistics.median(r.cpu_ms for r in runs if r.kind == k) for k in medians}
            print(
                f"  ratio heed / plain: pages/s {rates['heed'] / rates['plain']:.3f}, "
                f"CPU/page {cpus['heed'] / cpus['plain']:.3f} "
                f"(+{cpus['heed'] - cpus['plain']:.2f} ms), "
                f"peak RSS {heed.rss_mb / plain.rss_mb:.2f}"
            )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_serve":
        serve(sys.argv[2:7], sys.argv[7])
    elif len(sys.argv) > 1 and sys.argv[1] == "_plain":
        sys.path.insert(0, str(ROOT))
        plain_crawl(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1", sys.argv[6:])
    else:
        main()
