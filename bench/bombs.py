"""Benchmark: peak memory of a crawl that meets three gzip bombs at once.

    .venv/bin/python bench/bombs.py [--size-mib 1024] [--bombs 3]

A local virtual web serves ``--bombs`` gzip streams, each inflating to ``--size-mib`` MiB, plus
one ordinary page; ``heed crawl`` (a real subprocess, as a user runs it) requests all of them at
once. It runs twice: with Heed's default ``DOWNLOAD_MAXSIZE`` (32 MiB) and with Scrapy's own
default (1 GiB), and prints the crawl process's peak RSS, its wall time and how each bomb was
recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from heed.demo.server import Response, VirtualWeb, proxy_env


def gzip_bomb(size_mib: int) -> bytes:
    """Return a gzip stream inflating to *size_mib* MiB of spaces."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b" " * (1 << 20)
    parts = [packer.compress(b"<html><body>")]
    parts.extend(packer.compress(chunk) for _ in range(size_mib))
    parts.append(packer.flush())
    return b"".join(parts)


def crawl(web: VirtualWeb, urls: list[str], maxsize: int, workdir: Path) -> dict[str, object]:
    """Run ``heed crawl`` on *urls* with DOWNLOAD_MAXSIZE *maxsize*; return its figures."""
    db = workdir / f"bombs-{maxsize}.db"
    code = (
        "import resource, runpy, sys\n"
        "sys.argv = ['heed'] + sys.argv[1:]\n"
        "try:\n    runpy.run_module('heed', run_name='__main__')\n"
        "finally:\n"
        "    print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    )
    argv = [sys.executable, "-c", code, "crawl", *urls, "--db", str(db), "--depth", "0",
            "-s", f"DOWNLOAD_MAXSIZE={maxsize}", "-s", "LOG_LEVEL=WARNING"]  # fmt: skip
    env = os.environ | proxy_env(web) | {"PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    rss = next(
        (int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("MAXRSS")),
        0,
    )
    status = subprocess.run(
        [sys.executable, "-m", "heed", "status", "bomb.test", "--db", str(db), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    decisions = json.loads(status.stdout or "[]")
    outcomes = sorted({f"{d['action']}: {'; '.join(d['reasons'])[:60]}" for d in decisions})
    return {"maxsize": maxsize, "peak_rss_mib": rss / 1024, "wall_s": wall, "outcomes": outcomes}


def main() -> None:
    """Serve the bombs, crawl twice, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--bombs", type=int, default=3)
    args = parser.parse_args()
    bomb = gzip_bomb(args.size_mib)
    print(f"{args.bombs} gzip bombs of {len(bomb) / 1024:.0f} KiB, {args.size_mib} MiB inflated")
    with VirtualWeb() as web, tempfile.TemporaryDirectory() as tmp:
        pages: dict[str, str | bytes | Response] = {"/robots.txt": "User-agent: *\nAllow: /\n"}
        for i in range(args.bombs):
            pages[f"/bomb{i}"] = Response(
                body=bomb, headers={"Content-Encoding": "gzip"}, content_type="text/html"
            )
        pages["/fine"] = Response(body=b"<html><p>fine</p></html>", content_type="text/html")
        web.site("bomb.test", pages)
        urls = [f"http://bomb.test{p}" for p in pages if p != "/robots.txt"]
        for maxsize in (32 << 20, 1 << 30):
            result = crawl(web, urls, maxsize, Path(tmp))
            print(
                f"DOWNLOAD_MAXSIZE {maxsize >> 20:>5} MiB: peak RSS {result['peak_rss_mib']:7.0f} MiB,"
                f" wall {result['wall_s']:.1f} s"
            )
            for outcome in result["outcomes"]:  # type: ignore[union-attr]
                print(f"    {outcome}")
    print(f"(this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)")


if __name__ == "__main__":
    main()
