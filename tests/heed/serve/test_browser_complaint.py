"""A complaint lodged in headless Chromium against a real ``heed serve``, then upheld with a
reservation on the command line: the claimant's status page shows the decision, and the
look-up of the domain shows the registry entry (issue 15)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from heed.cli import main
from tests.heed.serve.owners import copy_db
from tests.heed.serve.server import heed_serve
from tests.support.browser import Browser, launch_browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_browser() as launched:
        yield launched


def test_a_complaint_from_the_browser_to_the_registry(
    browser: Browser, demo_db: Path, tmp_path: Path
) -> None:
    db = copy_db(demo_db, tmp_path)
    with heed_serve(db) as server, browser.open_url(f"{server.url}/complaints") as loaded:
        page = loaded.page
        page.fill("#claimant", "Demo News Ltd")
        page.select_option("#capacity", "representative")
        page.fill("#email", "rights@demo-news.test")
        page.fill("#concerns", "https://demo-news.test/archive/\nThe 2019 archive")
        page.fill("#right_claimed", "copyright in the articles")
        page.fill("#statement", "The archive was crawled after our letter of 2 November.")
        page.check("input[name='requested-no-future-use']")
        with page.expect_navigation():
            page.click("form.complaint button")
        status_url = page.url
        assert page.get_attribute("#complaint-status", "data-status") == "received"
        reference = page.inner_text("h1").split()[-1]
        assert reference.startswith("HC-")
        done = CliRunner().invoke(
            main,
            ["complaints", "resolve", reference, "--upheld", "--reason", "the letter reserved it",
             "--reserve", "--by", "lee", "--db", str(db)],
        )  # fmt: skip
        assert done.exit_code == 0, done.output
        assert "prefix demo-news.test/archive/" in done.output
        page.goto(status_url)
        assert page.get_attribute("#complaint-status", "data-status") == "upheld"
        assert "the letter reserved it" in page.inner_text("table")
        page.goto(f"{server.url}/lookup?domain=demo-news.test")
        rows = loaded.texts("#registry tr")
        assert any("demo-news.test/archive/" in r and f"complaint {reference}" in r for r in rows)
        assert page.evaluate("() => document.scripts.length") == 0
        assert loaded.errors == []
        assert not loaded.left_page
