"""The HTML verification flow through httpx, and its security: CSRF tokens on every form, XSS
payloads in echoed fields, and a flood of POSTs meeting the rate limit."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer

from tests.heed.serve.owners import MINE, copy_db, web_settings
from tests.heed.serve.portal import Portal, portal

XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>.example'


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    return copy_db(demo_db, tmp_path)


def _form(app: Portal, path: str = "/verify") -> tuple[str, str]:
    """Return ``(csrf field, csrf cookie)`` from the page at *path*."""
    page = app.get(path)
    field = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert field is not None, page.text
    return field.group(1), page.cookies["heed_csrf"]


def _post(
    app: Portal, path: str, fields: dict[str, str], cookie: str, **headers: str
) -> httpx.Response:
    return app.request(
        "POST",
        path,
        content=httpx.QueryParams(fields).__str__(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie, **headers},
    )


def test_every_form_carries_a_csrf_token(db: Path) -> None:
    with portal(db) as app:
        page = app.get("/verify")
        assert page.status_code == 200
        for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", page.text, re.DOTALL):
            assert 'name="csrf"' in form
        cookie = page.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie


def test_a_post_without_a_valid_csrf_token_is_refused(db: Path) -> None:
    with portal(db) as app:
        field, nonce = _form(app)
        other_field, other_nonce = _form(app)
        cases = [
            ({"domain": MINE}, f"heed_csrf={nonce}", {}),  # no field
            ({"domain": MINE, "csrf": field}, "", {}),  # no cookie
            ({"domain": MINE, "csrf": other_field}, f"heed_csrf={nonce}", {}),  # another's
            ({"domain": MINE, "csrf": "x" * 43}, f"heed_csrf={nonce}", {}),  # forged
            (
                {"domain": MINE, "csrf": field},
                f"heed_csrf={nonce}",
                {"Sec-Fetch-Site": "cross-site"},
            ),
        ]
        for fields, cookie, headers in cases:
            answer = _post(app, "/verify", fields, cookie, **headers)
            assert answer.status_code == 403, (fields, cookie, headers)
            assert "did not come from this site" in answer.text
        ok = _post(app, "/verify", {"domain": MINE, "csrf": field}, f"heed_csrf={nonce}")
        assert ok.status_code == 303
        assert other_nonce != nonce


def test_a_check_without_a_csrf_token_is_refused(db: Path) -> None:
    with portal(db) as app:
        field, nonce = _form(app)
        started = _post(app, "/verify", {"domain": MINE, "csrf": field}, f"heed_csrf={nonce}")
        where = started.headers["location"]
        key = started.cookies["heed_vkey"]
        answer = _post(
            app, f"{where}/check", {"method": "dns"}, f"heed_vkey={key}; heed_csrf={nonce}"
        )
        assert answer.status_code == 403


def test_an_xss_payload_in_the_domain_field_stays_text(db: Path) -> None:
    with portal(db) as app:
        field, nonce = _form(app)
        answer = _post(app, "/verify", {"domain": XSS, "csrf": field}, f"heed_csrf={nonce}")
        assert answer.status_code == 400
        assert "<script>" not in answer.text
        assert "<img src=x" not in answer.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text  # echoed, escaped
        api = app.request("POST", "/api/v1/verifications", json={"domain": XSS})
        assert api.status_code == 400
        assert "<script>" not in api.text
        owner = app.get(f"/owners/{XSS}", headers={"Authorization": "Bearer heed_x"})
        assert "<script>" not in owner.text


def test_an_xss_payload_in_the_owner_filters_stays_text(db: Path) -> None:
    from tests.heed.serve.owners import verified

    with verified(db) as (app, creds):
        answer = app.get(
            f"/owners/{MINE}",
            params={"prefix": XSS},
            headers={"Cookie": f"heed_owner={creds[MINE]}"},
        )
    assert answer.status_code == 200
    assert "<script>" not in answer.text
    assert 'value="&#34;&gt;&lt;script&gt;' in answer.text


def test_a_post_flood_meets_the_rate_limit(db: Path) -> None:
    with portal(db, posts_per_minute=1, post_burst=3, lookup_burst=100) as app:
        codes = [
            app.request("POST", "/api/v1/verifications", json={"domain": MINE}).status_code
            for _ in range(6)
        ]
        assert codes[:3] == [201] * 3
        assert set(codes[3:]) == {429}
        limited = app.request("POST", "/api/v1/verifications", json={"domain": MINE})
        assert int(limited.headers["retry-after"]) >= 1
        field, nonce = _form(app)  # the HTML form shares the POST bucket
        assert (
            _post(app, "/verify", {"domain": MINE, "csrf": field}, f"heed_csrf={nonce}").status_code
            == 429
        )
        assert app.get(f"/api/v1/domains/{MINE}").status_code == 200  # look-ups have their own


def test_the_html_flow_verifies_and_shows_the_owner_view(db: Path, httpserver: HTTPServer) -> None:
    with portal(db, **web_settings(httpserver.port, MINE)) as app:
        field, nonce = _form(app)
        started = _post(
            app, "/verify", {"domain": f"https://www.{MINE}/x", "csrf": field}, f"heed_csrf={nonce}"
        )
        assert started.status_code == 303
        key = started.cookies["heed_vkey"]
        where = started.headers["location"]
        cookies = f"heed_vkey={key}; heed_csrf={nonce}"
        challenge = app.get(where, headers={"Cookie": cookies})
        assert challenge.status_code == 200
        token = re.search(r'id="token">([^<]+)<', challenge.text)
        assert token is not None
        assert app.get(where).status_code == 404  # without the key: nothing
        httpserver.expect_request(
            f"/.well-known/heed-verification/{token.group(1)}"
        ).respond_with_data(token.group(1))
        field = re.search(r'name="csrf" value="([^"]+)"', challenge.text)
        assert field is not None
        done = _post(app, f"{where}/check", {"method": "http", "csrf": field.group(1)}, cookies)
        assert done.status_code == 200, done.text
        assert 'id="verified"' in done.text
        credential = done.cookies["heed_owner"]
        view = app.get(f"/owners/{MINE}", headers={"Cookie": f"heed_owner={credential}"})
        assert view.status_code == 200
        assert f"http://{MINE}/books/novel" in view.text
        export = app.get(
            f"/owners/{MINE}?format=csv", headers={"Cookie": f"heed_owner={credential}"}
        )
        assert export.text.startswith("decision_id,")
