"""Domain verification in headless Chromium against a real ``heed serve``: the form, the
token served as an HTTP file by a local web server, the check, the verified owner's page and
its CSV export; no script, nothing loaded from elsewhere, no CSP violation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.heed.serve.owners import MINE, copy_db
from tests.heed.serve.server import Server, heed_serve
from tests.support.browser import Browser, launch_browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_browser() as launched:
        yield launched


@pytest.fixture
def server(demo_db: Path, tmp_path: Path, httpserver: HTTPServer) -> Iterator[Server]:
    db = copy_db(demo_db, tmp_path)
    port = httpserver.port
    args = ["--verify-allow-private", "127.0.0.1/32"]
    for p in (80, 443):
        args += ["--verify-connect-to", f"{MINE}:{p}:127.0.0.1:{port}"]
    with heed_serve(db, *args) as running:
        yield running


def test_verify_by_http_file_then_the_owner_view_and_export(
    browser: Browser, server: Server, httpserver: HTTPServer
) -> None:
    with browser.open_url(f"{server.url}/verify") as loaded:
        page = loaded.page
        page.fill("#domain", MINE)
        with page.expect_navigation():
            page.click("form.verify button")
        token = page.inner_text("#token").strip()
        assert page.inner_text("#dns-name") == f"_heed-challenge.{MINE}"
        httpserver.expect_request(f"/.well-known/heed-verification/{token}").respond_with_data(
            token
        )
        with page.expect_navigation():
            page.click("#check-http")
        assert "is verified" in page.inner_text("#verified")
        assert page.inner_text("#credential").startswith("heed_")
        with page.expect_navigation():
            page.click("#owner-view")
        rows = loaded.texts("table.decisions tr")
        assert any(f"http://{MINE}/books/novel" in r and "skipped-reservation" in r for r in rows)
        assert any("yes: run" in r for r in rows)
        # the export, with the browser's own cookie
        href = page.get_attribute("#export-csv", "href")
        assert href is not None
        export = page.request.get(server.url + href if href.startswith("/") else href)
        assert export.status == 200
        assert export.text().startswith("decision_id,")
        assert page.evaluate("() => document.scripts.length") == 0
        assert loaded.errors == []
        assert not loaded.left_page
