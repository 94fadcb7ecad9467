"""Heed's promises under hostile and real-world input, checked from three independent witnesses.

One crawl over the hostile web (tests/support/hostileweb.py): the server's own log shows that
nothing disallowed was requested, the dataset that nothing reserved was kept, the audit database
that every request on the wire is answerable, and the crawl's peak memory stays bounded although
three 128 MiB gzip bombs and a 40 MiB page arrive at once.
"""

from __future__ import annotations

from pathlib import Path

from tests.crawler.crawlrun import CrawlOutput, run_crawl, served_requests
from tests.support import hostileweb
from tests.support.virtualweb import VirtualWeb


def test_every_promise_holds_on_the_hostile_web(virtual_web: VirtualWeb, tmp_path: Path) -> None:
    """Never disallowed, never reserved kept, every wire request answerable, bounded memory."""
    seeds = hostileweb.build(virtual_web)
    settings = {"DOWNLOAD_TIMEOUT": 3, "RETRY_TIMES": 2, "CONCURRENT_REQUESTS": 16}
    out: CrawlOutput = run_crawl(virtual_web, tmp_path, seeds, settings, follow=True, timeout=180)

    # 1. The server's log: nothing robots.txt disallows (however spelled), no forbidden file.
    assert hostileweb.violations(virtual_web) == []

    # 2. The dataset: nothing reserved, unknown or cut off was kept.
    dataset = (tmp_path / "dataset" / "dataset.jsonl").read_text(encoding="utf-8")
    assert hostileweb.RESERVED_MARK not in dataset
    kept = {item["url"] for item in out.items}
    assert kept <= {"http://evasive.test/", "http://bombs.test/", "http://flaky.test/"}

    # 3. The audit trail: the multiset of requests the server received equals the decisions on
    #    the wire plus the site documents' retrievals (each redirect hop a row of its own).
    served = served_requests(virtual_web)
    recorded = out.wire_requests()
    assert recorded == served, (recorded - served, served - recorded)

    # 4. Memory: every body is capped (DOWNLOAD_MAXSIZE), bombs included.
    peak_mib = out.stats["test/maxrss_kib"] / 1024
    assert peak_mib < 600, f"peak RSS {peak_mib:.0f} MiB"

    # And the reasons are recorded, not just the outcomes.
    reasons = {str(d["request_url"]): " ".join(d["reasons"]) for d in out.decisions}
    assert "too_large" in reasons["http://bombs.test/bomb1"]
    assert "decompression_error" in reasons["http://bombs.test/corrupt"]
    assert "too_many_wildcards" not in reasons.get("http://wild.test/", "")  # said in words:
    assert "wildcard rules" in reasons["http://wild.test/"]
    attempts = [d for d in out.decisions if d["request_url"] == "http://flaky.test/reset"]
    assert len(attempts) == 3  # the first try and two retries, each its own decision
