"""Issue 15 end to end: a complaint lodged in headless Chromium against a real ``heed serve``,
acknowledged and upheld with a reservation on the command line; the claimant's status page and
e-mails follow each step; the next crawl of the local web never requests the registered prefix
(the web's request log) while it crawls the rest; ``heed check`` and the portal's look-up show
the entry; and the published copyright policy and summary count the complaint and what the
registry kept out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from heed.cli import main
from tests.crawler.crawlrun import run_heed
from tests.heed.serve.server import heed_serve
from tests.support.browser import Browser, launch_browser
from tests.support.smtpserver import smtp_server
from tests.support.virtualweb import Response, VirtualWeb

FROM = "Example AI crawler <crawler@example.ai>"
PAGE = Response(body="<html><body><p>An article.</p></body></html>", content_type="text/html")
ARCHIVE = ["http://news.test/archive/2019/a", "http://news.test/archive/2020/b"]
FREE = ["http://news.test/today", "http://other.test/page"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_browser() as launched:
        yield launched


def _crawl(web: VirtualWeb, db: Path, out: Path) -> set[str]:
    """Crawl the seeds; return the URLs the web was asked for during this crawl."""
    before = len(web.requests)
    done = run_heed(
        web, "crawl", *ARCHIVE, *FREE, "--db", str(db), "--out", str(out), "--depth", "0",
        "--log-level", "warning", "--progress", "off", timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return {f"http://{r.host}{r.path}" for r in web.requests[before:]}


def _cli(*args: str) -> str:
    done = CliRunner().invoke(main, list(args))
    assert done.exit_code == 0, done.output
    return done.stdout


def _published(db: Path) -> tuple[list[str], dict[str, Any]]:
    """Return the copyright policy's Measure 1.5 statements and the summary's §3.1."""
    policy = json.loads(_cli("report", "policy", "--db", str(db), "--format", "json"))
    summary = json.loads(_cli("report", "summary", "--db", str(db), "--format", "json"))
    return policy["document"]["sections"]["1.5"]["statements"], summary["sections"]["3.1"]


def test_a_complaint_from_the_browser_to_the_next_crawl(browser: Browser, tmp_path: Path) -> None:
    db = tmp_path / "heed.db"
    robots = "User-agent: *\nAllow: /\n"
    with VirtualWeb() as web, smtp_server() as box:
        web.site("news.test", {"/robots.txt": robots, "/today": PAGE} | {
            url.removeprefix("http://news.test"): PAGE for url in ARCHIVE
        })  # fmt: skip
        web.site("other.test", {"/robots.txt": robots, "/page": PAGE})
        first = _crawl(web, db, tmp_path / "out1")
        assert {*ARCHIVE, *FREE} <= first  # before the complaint, the archive is crawled
        policy_before, summary_before = _published(db)
        assert "No complaint has been lodged through the portal so far." in policy_before

        mail = ("--smtp", box.url, "--mail-from", FROM)
        with heed_serve(db, *mail) as server, browser.open_url(f"{server.url}/complaints") as tab:
            page = tab.page
            page.fill("#claimant", "News Test Ltd")
            page.select_option("#capacity", "representative")
            page.fill("#email", "rights@news.test")
            page.fill("#concerns", "https://news.test/archive/\nThe 2019 archive")
            page.fill("#right_claimed", "copyright in the articles")
            page.fill("#statement", "The archive was crawled after our letter of 2 November.")
            page.check("input[name='requested-no-future-use']")
            with page.expect_navigation():
                page.click("form.complaint button")
            status_url = page.url
            assert page.get_attribute("#complaint-status", "data-status") == "received"
            reference = page.inner_text("h1").split()[-1]
            assert reference.startswith("HC-")
            (receipt,) = box.wait_for(1)  # sent by the portal in the background
            assert receipt["To"] == "rights@news.test"
            assert status_url in receipt.get_content()

            assert "e-mail to the claimant sent" in _cli(
                "complaints", "ack", reference, "--by", "ops", *mail, "--db", str(db)
            )
            done = _cli(
                "complaints", "resolve", reference, "--upheld", "--reason",
                "the letter reserved it", "--reserve", "--by", "lee", *mail, "--db", str(db),
            )  # fmt: skip
            assert "prefix news.test/archive/" in done
            _, acked, upheld = box.wait_for(3)
            assert acked["Subject"] == f"Your complaint {reference} was acknowledged"
            assert upheld["Subject"] == f"Your complaint {reference} was upheld"
            assert "prefix news.test/archive/: reserved for" in upheld.get_content()
            page.goto(status_url)
            assert page.get_attribute("#complaint-status", "data-status") == "upheld"
            assert "the letter reserved it" in page.inner_text("table")
            page.goto(f"{server.url}/lookup?domain=news.test")
            rows = tab.texts("#registry tr")
            assert any("news.test/archive/" in r and f"complaint {reference}" in r for r in rows)
            looked_up = httpx.get(f"{server.url}/api/v1/domains/news.test", timeout=30).json()
            assert [e["target"] for e in looked_up["registry"]] == ["news.test/archive/"]
            assert tab.errors == []

        second = _crawl(web, db, tmp_path / "out2")
        assert not any("/archive/" in url for url in second), second  # never requested
        assert set(FREE) <= second  # the rest is crawled as before
        before_check = len(web.requests)
        checked = run_heed(web, "check", "--json", "-s", f"HEED_DB={db}", ARCHIVE[0], timeout=60)
        assert checked.returncode == 1, checked.stderr
        (answer,) = [json.loads(line) for line in checked.stdout.splitlines()]
        assert (answer["use"], answer["action"]) == ("reserved", "skipped-reservation")
        assert any(
            s["protocol"] == "registry" and f"complaint {reference}" in s["detail"]
            for s in answer["signals"]
        )
        assert not any("/archive/" in r.path for r in web.requests[before_check:])
    web.assert_no_errors()

    policy_after, summary_after = _published(db)
    assert policy_after != policy_before
    assert (
        "1 complaint lodged through the portal so far: 1 upheld, 0 rejected, 0 withdrawn, "
        "0 open; the median time from receipt to decision was 0 days."
    ) in policy_after
    registry_said = (
        "Reservations notified other than on the site itself (by letter, or by a complaint "
        "upheld) are kept in a reservations registry that the crawler applies before every "
        "request, as one more protocol: 1 entry in force (1 from upheld complaints); it kept "
        "out 2 URLs on 1 registrable domain in the crawls so far."
    )
    assert registry_said in policy_after
    table = summary_after["exclusions"]
    rows = dict(zip(table["keys"], table["rows"], strict=True))
    assert rows["registry"][1:] == [2, 1, 2]  # URLs, registrable domains, decisions
    assert "registry" not in summary_before["exclusions"]["keys"]
    measures = next(f for f in summary_after["fields"] if f["key"] == "measures")["value"]
    assert registry_said in measures
