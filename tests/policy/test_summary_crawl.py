"""The training-content summary of a real crawl: ``heed crawl`` over a local web whose right
answers are known, then ``heed report summary --format json`` on the audit database it wrote.

Eleven registrable domains get stored content, so the top 10 % lists two of them. Per host,
``mid.test`` (6,000 bytes) is the largest; per registrable domain ``big.test`` wins (its apex
and ``www`` host together hold 8,000), so the order proves the summing. ``reserved.test``
reserves TDM in its tdmrep.json: its 50,000-byte page would top the list if it were counted.
One URL of ``big.test`` is disallowed by robots.txt.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

from policy.summary.rules import month_year
from tests.crawler.crawlrun import heed_command, heed_env, query
from tests.support.virtualweb import VirtualWeb

#: URL → body size in bytes of every page that may be stored.
STORED = {
    "http://big.test/a": 2000,
    "http://big.test/b": 2000,
    "http://www.big.test/c": 4000,
    "http://mid.test/a": 3000,
    "http://mid.test/b": 3000,
    **{f"http://tiny{n}.test/": 100 + n for n in range(1, 10)},
}
RESERVED_PAGE = "http://reserved.test/huge"
DISALLOWED_PAGE = "http://big.test/private/x"


def page(size: int) -> str:
    """Return an HTML page of exactly *size* bytes (ASCII)."""
    shell = "<html><body><p></p></body></html>"
    return shell.replace("<p>", "<p>" + "x" * (size - len(shell)))


def build_web(web: VirtualWeb) -> None:
    for url, size in STORED.items():
        web.add(url, body=page(size), content_type="text/html")
    web.add("http://big.test/robots.txt", body="User-agent: *\nDisallow: /private/\n")
    web.add(DISALLOWED_PAGE, body=page(70_000), content_type="text/html")
    web.add(
        "http://reserved.test/.well-known/tdmrep.json",
        body='[{"location": "/*", "tdm-reservation": 1}]',
        content_type="application/json",
    )
    web.add(RESERVED_PAGE, body=page(50_000), content_type="text/html")


def crawl_and_summarise(tmp_path: Path) -> tuple[dict[str, Any], VirtualWeb]:
    db = tmp_path / "heed.db"
    with VirtualWeb() as web:
        build_web(web)
        seeds = [*STORED, RESERVED_PAGE, DISALLOWED_PAGE]
        env = heed_env(web)
        crawl = subprocess.run(
            heed_command(
                "crawl", *seeds, "--db", str(db), "--out", str(tmp_path / "out"),
                "--depth", "0", "--log-level", "warning",
            ),
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert crawl.returncode == 0, crawl.stderr[-3000:]
    report = subprocess.run(
        heed_command("report", "summary", "--db", str(db), "--format", "json"),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert report.returncode == 0, report.stderr[-3000:]
    return json.loads(report.stdout), web


def fields(section: dict[str, Any]) -> dict[str, Any]:
    return {f["key"]: f.get("value") for f in section["fields"]}


def test_summary_of_a_real_crawl(tmp_path: Path) -> None:
    """Crawlers, top domains summed per registrable domain, reserved content left out,
    exclusions per protocol, the period: all as the crawl actually went."""
    summary, web = crawl_and_summarise(tmp_path)
    requested = {f"http://{r.host}{r.path}" for r in web.requests}
    assert DISALLOWED_PAGE not in requested  # robots.txt was honoured before the summary
    stored = dict(query(tmp_path / "heed.db", "SELECT url, bytes FROM stored_item"))
    assert stored == STORED  # the truth the summary must reflect

    s23 = summary["sections"]["2.3"]
    assert s23["crawlers"] == ["HeedBot"]
    assert s23["top_domains"] == ["big.test", "mid.test"]
    ranking = {
        row["domain"]: (row["rank"], row["bytes"], row["items"])
        for row in s23["top_domains_ranking"]
    }
    assert ranking == {"big.test": (1, 8000, 3), "mid.test": (2, 6000, 2)}
    assert s23["top_domains_rule"]["n"] == 11  # reserved.test stored nothing, so is not counted
    month = month_year(dt.datetime.now(dt.UTC))
    assert fields(s23)["period"] == f"{month} to {month}"

    s13 = fields(summary["sections"]["1.3"])
    assert s13["modalities"] == ["Text"]
    assert s13["latest_collection"] == month
    total = sum(STORED.values())
    assert f"{len(STORED)} items, {total:,} bytes" in s13["sizes"][0]

    rows = {row[0]: row[1:] for row in summary["sections"]["3.1"]["exclusions"]["rows"]}
    assert rows["robots.txt"] == [1, 1, 1]  # URLs, registrable domains, decisions
    assert rows["TDMRep file /.well-known/tdmrep.json"] == [1, 1, 1]
