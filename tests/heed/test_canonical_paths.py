"""The path checked is the path sent: evasive spellings of a disallowed path are never requested.

A normal server (nginx, Apache: RFC 3986 §6.2.2) serves ``/./private/x``, ``/a/../private/x``,
``/%2e%2e/private/x`` and ``/private\\x`` as ``/private/x``. Both front doors decide on the
canonical form (:mod:`optout.url`) and send exactly it; the server's own log proves that nothing
under ``/private/`` was requested, and the crawl's decisions record how the link was spelled.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from heed.cli import main
from heed.demo.sites import page
from optout.url import parse_url
from tests.crawler.crawlrun import run_crawl
from tests.support.virtualweb import VirtualWeb

EVASIVE = (
    "/./private/x",
    "/a/../private/x",
    "/%2e%2e/private/x",
    "/%2E/private/x",
    "/public/%2E%2E/private/x",
    "/private\\x",
    "/PUBLIC/../private/x",
)


def serve(web: VirtualWeb) -> list[str]:
    """Serve a site whose robots.txt disallows /private/; return the evasive URLs."""
    urls = [f"http://evasive.test{p}" for p in EVASIVE]
    links = tuple(EVASIVE)
    web.site(
        "evasive.test",
        {
            "/robots.txt": "User-agent: *\nDisallow: /private/\n",
            "/": page("Links", "Evasive links.", links),
            "/private/x": "RESERVED: must never be requested",
            "/public/ok": page("OK", "fine"),
        },
    )
    return urls


def private_requests(web: VirtualWeb) -> list[str]:
    """Return every requested path that a server would resolve under /private/."""
    found = []
    for request in web.requests:
        if parse_url(f"http://{request.host}{request.path}").path.startswith("/private"):
            found.append(request.path)
    return found


def test_crawl_never_requests_an_evasive_spelling(virtual_web: VirtualWeb, tmp_path: Path) -> None:
    """Seeds and followed links alike: canonicalised, decided, skipped; the spelling recorded."""
    urls = serve(virtual_web)
    out = run_crawl(virtual_web, tmp_path, ["http://evasive.test/", *urls], follow=True)
    assert private_requests(virtual_web) == []
    skipped = [d for d in out.decisions if d["action"] == "skipped-robots"]
    assert {d["url"] for d in skipped} == {"http://evasive.test/private/x"}
    assert all(
        any("requested in canonical form; the link said" in r for r in d["reasons"])
        for d in skipped
    ), skipped
    # Scrapy's duplicate filter already merges most spellings; what reaches the middleware in
    # another spelling is replaced by its canonical form before anything is decided.
    assert out.stats.get("optout/canonicalised", 0) >= 1


def test_check_never_requests_an_evasive_spelling(virtual_web: VirtualWeb) -> None:
    """``heed check`` decides on and requests the canonical form only."""
    urls = serve(virtual_web)
    result = CliRunner().invoke(main, ["check", "--json", *urls])
    assert result.exit_code in (0, 1), result.output  # 1: some URL not usable
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert sorted((r["url"], r["crawl"], r["action"]) for r in lines) == sorted(
        (u, "disallow", "skipped-robots") for u in urls
    )
    assert private_requests(virtual_web) == []
