"""No idle waits: when the engine has nothing in flight, waiting items are committed at once.

With a commit timer of an hour (``HEED_AUDIT_MAX_DELAY``), a crawl would otherwise keep its last
items waiting for that hour: it finishes only because the audit extension commits as soon as no
request is downloading or scheduled (issue 13, item 3). Speed itself is measured by
``bench/crawl_overhead.py --web startup``, not here.
"""

from __future__ import annotations

from pathlib import Path

from tests.crawler.crawlrun import query, read_dataset, run_heed
from tests.support.virtualweb import Response, VirtualWeb


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
    out, db = tmp_path / "data", tmp_path / "heed.db"
    done = run_heed(
        virtual_web,
        "crawl",
        "http://idle.test/",
        "--db",
        str(db),
        "--out",
        str(out),
        "-s",
        "HEED_AUDIT_MAX_DELAY=3600",
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    lines, torn = read_dataset(out / "dataset.jsonl")
    assert not torn
    assert sorted(line["url"] for line in lines) == ["http://idle.test/", "http://idle.test/next"]
    stored = dict(query(db, "SELECT id, url FROM decision WHERE action = 'fetched-stored'"))
    assert {stored[line["decision_id"]] for line in lines} == {line["url"] for line in lines}


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
    out, db = tmp_path / "data", tmp_path / "heed.db"
    done = run_heed(
        virtual_web,
        "crawl",
        "http://bound.test/",
        "--db",
        str(db),
        "--out",
        str(out),
        "--log-level",
        "INFO",
        "-s",
        "HEED_AUDIT_MAX_DELAY=3600",
        "-s",
        "HEED_AUDIT_MAX_WAITING=1",
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    lines, torn = read_dataset(out / "dataset.jsonl")
    assert not torn
    assert len(lines) == 6
    assert "'heed/audit/commit_waiting_bytes': 6" in done.stderr
    stored = dict(query(db, "SELECT id, url FROM decision WHERE action = 'fetched-stored'"))
    assert {stored[line["decision_id"]] for line in lines} == {line["url"] for line in lines}
