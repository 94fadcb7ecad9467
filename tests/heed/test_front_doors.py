"""One engine, two front doors: ``heed crawl`` and ``heed check`` agree URL by URL.

Both run over the same local web — the demo's eleven sites and more cases of their own — with
the same settings (the same denylist). For every URL, the crawl's recorded decision (of the
attempt that started at that URL) and the live check's answer must name the same action, the
same crawl and use verdicts, and the same protocols behind them. Both doors load each origin
through the one site loader (crawler/sitecache.py), so a difference here is a bug.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from heed.cli import main
from heed.demo import sites
from heed.demo.server import Response
from tests.crawler.crawlrun import DOCUMENT_PATHS, run_crawl
from tests.support.virtualweb import VirtualWeb

ALLOW_ALL = sites.ALLOW_ALL

#: More behaviours than the demo shows: (host, pages, expected action per path).
EXTRA: tuple[tuple[str, dict[str, str | Response], dict[str, str]], ...] = (
    (
        "ai-block.test",  # robots.txt blocks a named AI training crawler: a reservation
        {"/robots.txt": "User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n", "/a": "a"},
        {"/a": "skipped-reservation"},
    ),
    (
        "no-robots.test",  # 404 robots.txt: everything allowed
        {"/a": sites.page("A", "a")},
        {"/a": "fetched-stored"},
    ),
    (
        "forbidden.test",  # 403 robots.txt: complete disallow
        {"/robots.txt": Response(status=403, body="no"), "/a": "a"},
        {"/a": "skipped-robots"},
    ),
    (
        "broken.test",  # the page itself fails
        {"/robots.txt": ALLOW_ALL, "/a": Response(status=500, body="oops")},
        {"/a": "error"},
    ),
    (
        "xrobots.test",  # X-Robots-Tag: noai on the response
        {"/robots.txt": ALLOW_ALL, "/a": sites.page("A", "a", headers={"X-Robots-Tag": "noai"})},
        {"/a": "fetched-excluded"},
    ),
    (
        "hop.test",  # a redirect to another allowed site, then to a login page
        {
            "/robots.txt": ALLOW_ALL,
            "/go": Response(status=302, redirect="http://land.test/page"),
            "/members": Response(status=302, redirect="/login?next=/members"),
            "/login": sites.page("Login", "Sign in"),
        },
        {"/go": "fetched-stored", "/members": "access-restricted"},
    ),
    ("land.test", {"/robots.txt": ALLOW_ALL, "/page": sites.page("Land", "landed")}, {}),
    (
        "aitxt.test",  # ai.txt disallows everything for AI
        {"/robots.txt": ALLOW_ALL, "/ai.txt": "User-Agent: *\nDisallow: /\n", "/a": "a"},
        {"/a": "skipped-reservation"},
    ),
)


def build(web: VirtualWeb) -> dict[str, str]:
    """Serve the shared web; return the expected action of every URL both doors decide."""
    sites.build(web)
    expected = sites.expected()
    for host, pages, expect in EXTRA:
        web.site(host, pages)
        expected |= {f"http://{host}{path}": action for path, action in expect.items()}
    return expected


def check_lines(*args: str) -> list[dict[str, Any]]:
    """Run ``heed check --json`` in-process and return its lines."""
    result = CliRunner().invoke(main, ["check", "--json", "--timeout", "5", *args])
    assert result.exit_code in (0, 1), result.output  # 1: some URL not usable
    return [json.loads(line) for line in result.output.splitlines() if line.strip()]


def test_crawl_and_check_agree_url_by_url(virtual_web: VirtualWeb, tmp_path: Path) -> None:
    """Same action, same verdicts, same protocols for every URL; and the check requested
    nothing the crawl did not (documents included)."""
    denylist = tmp_path / "denylist.txt"
    denylist.write_text(sites.DENYLIST, encoding="utf-8")
    settings = {"OPTOUT_DENYLIST": str(denylist)}
    web = virtual_web
    expected = build(web)
    urls = sorted(expected)
    crawl = run_crawl(web, tmp_path / "crawl", list(urls), settings)
    crawl_requests = Counter((r.host, r.path) for r in web.requests)
    web.clear_log()
    lines = check_lines("-s", f"OPTOUT_DENYLIST={denylist}", *urls)
    checked = {line["url"]: line for line in lines}
    check_requests = Counter((r.host, r.path) for r in web.requests)

    differences = []
    for url in urls:
        by_crawl = crawl.decision(url)
        by_check = checked[url]
        seen = (
            by_crawl["action"],
            by_crawl["crawl"],
            by_crawl["use"],
            sorted(by_crawl["protocols"]),
        )
        said = (
            by_check["action"],
            by_check["crawl"],
            by_check["use"],
            sorted(s["protocol"] for s in by_check["signals"]),
        )
        if seen != said:
            differences.append(f"{url}: crawl {seen} != check {said}")
        if by_check["action"] != expected[url]:
            differences.append(f"{url}: check {by_check['action']} != expected {expected[url]}")
    assert not differences, "\n".join(differences)

    # Site documents are loaded once per origin by each door; pages only where a crawl goes.
    assert set(check_requests) <= set(crawl_requests), set(check_requests) - set(crawl_requests)
    for (host, path), n in check_requests.items():
        if path in DOCUMENT_PATHS:
            assert n == 1, (host, path, n)
    assert not [k for k in check_requests if k[0] == "demo-pirate.test"]
