"""Bounded resources: gzip bombs, oversized and corrupt bodies cost bounded memory and each gets
a decision (``error``, with the reason) — Scrapy would otherwise drop them without one."""

from __future__ import annotations

import zlib
from pathlib import Path

from tests.crawler.crawlrun import run_crawl
from tests.support.virtualweb import Response, VirtualWeb

ALLOW = "User-agent: *\nAllow: /\n"


def gzip_bomb(size: int) -> bytes:
    """Return a gzip stream that inflates to *size* bytes of HTML whitespace."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip container
    chunk = b" " * (1 << 20)
    parts = [packer.compress(b"<html><body>")]
    parts.extend(packer.compress(chunk) for _ in range(size >> 20))
    parts.append(packer.flush())
    return b"".join(parts)


def test_bombs_and_oversized_bodies_get_decisions_in_bounded_memory(
    virtual_web: VirtualWeb, tmp_path: Path
) -> None:
    """Three 256 MiB gzip bombs at once, a 40 MiB page and a corrupt gzip stream: each is an
    ``error`` decision naming why, nothing reaches the dataset, and the crawl stays far below
    the bombs' size (DOWNLOAD_MAXSIZE, 32 MiB by default, caps every body)."""
    bomb = gzip_bomb(256 << 20)
    gz = {"Content-Encoding": "gzip"}
    pages: dict[str, str | bytes | Response] = {"/robots.txt": ALLOW}
    for i in range(3):
        pages[f"/bomb{i}"] = Response(body=bomb, headers=gz, content_type="text/html")
    pages["/huge"] = Response(body=b"x" * (40 << 20), content_type="text/html")
    pages["/corrupt"] = Response(body=b"\x1f\x8b\x08\x00garbage", headers=gz)
    pages["/fine"] = Response(body=b"<html><p>fine</p></html>", content_type="text/html")
    virtual_web.site("bomb.test", pages)
    urls = [f"http://bomb.test{p}" for p in pages if p != "/robots.txt"]
    out = run_crawl(virtual_web, tmp_path, urls, timeout=120)

    reasons = {d["url"]: (d["action"], " ".join(d["reasons"])) for d in out.decisions}
    for i in range(3):
        assert reasons[f"http://bomb.test/bomb{i}"][0] == "error"
        assert "too_large" in reasons[f"http://bomb.test/bomb{i}"][1]
    assert reasons["http://bomb.test/huge"][0] == "error"
    assert "too_large" in reasons["http://bomb.test/huge"][1]
    assert reasons["http://bomb.test/corrupt"][0] == "error"
    assert "decompression_error" in reasons["http://bomb.test/corrupt"][1]
    assert reasons["http://bomb.test/fine"][0] == "fetched-stored"
    assert out.item_urls() == {"http://bomb.test/fine"}
    peak_mib = out.stats["test/maxrss_kib"] / 1024
    assert peak_mib < 600, f"peak RSS {peak_mib:.0f} MiB"
