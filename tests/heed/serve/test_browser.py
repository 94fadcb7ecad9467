"""The portal's pages in headless Chromium (Debian's, through Playwright), from a real
``heed serve``: a look-up through the form, an XSS payload typed into it, and the published
pages, each loading nothing from elsewhere and breaking no Content Security Policy rule."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.heed.serve.server import Server, heed_serve
from tests.support.browser import Browser, launch_browser

XSS = '"><script>window.pwned=1</script><img src=x onerror="window.pwned=2">'


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_browser() as launched:
        yield launched


@pytest.fixture(scope="module")
def server(demo_db: Path) -> Iterator[Server]:
    with heed_serve(demo_db) as running:
        yield running


def test_a_lookup_through_the_form(browser: Browser, server: Server) -> None:
    with browser.open_url(f"{server.url}/") as loaded:
        page = loaded.page
        page.fill("#domain", "demo-tdmrep.test")
        with page.expect_navigation():
            page.click("form.lookup button")
        assert "/lookup?domain=demo-tdmrep.test" in page.url
        verdict = loaded.texts(".verdict .answer")
        assert verdict
        assert verdict[0].startswith("After your reservation was first seen on")
        assert "no content from the affected URLs was kept" in verdict[0]
        rows = loaded.texts("section.host table.cols tr")
        assert any(r.startswith("tdmrep.json") and "reserved for train-ai" in r for r in rows)
        assert loaded.errors == []
        assert not loaded.left_page
        # the document link serves the robots.txt exactly as fetched
        page.click("section.host tr:has-text('robots.txt') td.hash a")
        assert "User-agent" in page.inner_text("body")


def test_an_xss_payload_in_the_form_stays_text(browser: Browser, server: Server) -> None:
    with browser.open_url(f"{server.url}/lookup") as loaded:
        page = loaded.page
        page.fill("#domain", XSS)
        with page.expect_navigation():
            page.click("form.lookup button")
        assert page.evaluate("() => window.pwned") is None
        assert page.evaluate("() => document.scripts.length") == 0
        assert page.input_value("#domain") == XSS  # echoed as the value, not as markup
        assert loaded.texts("#lookup-error")[0].startswith("That is not a domain name")
        # the one console line is Chromium noting the 400 answer itself
        assert [e for e in loaded.errors if "status of 400" not in e] == []
        assert not loaded.left_page


@pytest.mark.parametrize(
    "path",
    ["/", "/crawler-info", "/policy", "/summary", "/versions", "/lookup?domain=demo-news.test"],
)
def test_pages_load_cleanly(browser: Browser, server: Server, path: str) -> None:
    with browser.open_url(f"{server.url}{path}") as loaded:
        assert loaded.errors == [], loaded.errors  # CSP violations are console errors
        assert not loaded.left_page, loaded.requests
        assert loaded.document_width() <= 1024
        assert loaded.visible("nav.portal") == [True]
