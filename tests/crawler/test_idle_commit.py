"""No idle waits: when the engine has nothing in flight, waiting items are committed at once.

With a commit timer of an hour (``HEED_AUDIT_MAX_DELAY``), a crawl would otherwise keep its last
items waiting for that hour: it finishes only because the audit extension commits as soon as no
request is downloading or scheduled (issue 13, item 3). Speed itself is measured by
``bench/crawl_overhead.py --web startup``, not here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.crawler.crawlrun import query, read_dataset, run_heed
from tests.support.virtualweb import Response, VirtualWeb


def _crawl_with_hour_long_timer(
    web: VirtualWeb, tmp_path: Path, seed: str, *settings: str
) -> tuple[list[dict[str, Any]], str]:
    """Crawl *seed* with a commit timer of an hour (and *settings*); return the dataset lines,
    after checking each rests on its committed decision, and the crawl's stderr."""
    out, db = tmp_path / "data", tmp_path / "heed.db"
    options = [arg for setting in settings for arg in ("-s", setting)]
    done = run_heed(
        web,
        "crawl",
        seed,
        "--db",
        str(db),
        "--out",
        str(out),
        "--log-level",
        "INFO",
        "-s",
        "HEED_AUDIT_MAX_DELAY=3600",
        *options,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    lines, torn = read_dataset(out / "dataset.jsonl")
    assert not torn
    stored = dict(query(db, "SELECT id, url FROM decision WHERE action = 'fetched-stored'"))
    assert {stored[line["decision_id"]] for line in lines} == {line["url"] for line in lines}
    return lines, done.stderr


def test_a_crawl_with_an_hour_long_commit_timer_finishes(
    virtual_web: VirtualWeb, tmp_path: Path
) -> None:
    """Every page reaches the dataset, each on a committed decision, without waiting an hour."""
    page = "<html><body><p>page {n}</p>{link}</body></html>"
    virtual_web.site(
        "idle.test",
        {
            "/robots.txt": "User-agent: *\nAllow: /\n",
            "/": Response(body=page.format(n=0, link='<a href="/next">next</a>')),
            "/next": Response(body=page.format(n=1, link="")),
        },
    )
    lines, _ = _crawl_with_hour_long_timer(virtual_web, tmp_path, "http://idle.test/")
    assert sorted(line["url"] for line in lines) == ["http://idle.test/", "http://idle.test/next"]


def test_pages_waiting_past_the_byte_bound_are_committed_at_once(
    virtual_web: VirtualWeb, tmp_path: Path
) -> None:
    """HEED_AUDIT_MAX_WAITING bounds the pages held in memory while they wait for their commit:
    past it they are committed at once (counted), and each line still rests on its decision."""
    page = "<html><body><p>page {n}</p>{links}</body></html>"
    links = "".join(f'<a href="/p{n}">{n}</a>' for n in range(1, 6))
    pages = {f"/p{n}": Response(body=page.format(n=n, links="")) for n in range(1, 6)}
    pages["/"] = Response(body=page.format(n=0, links=links))
    virtual_web.site("bound.test", pages)
    lines, log = _crawl_with_hour_long_timer(
        virtual_web, tmp_path, "http://bound.test/", "HEED_AUDIT_MAX_WAITING=1"
    )
    assert len(lines) == 6
    assert "'heed/audit/commit_waiting_bytes': 6" in log
