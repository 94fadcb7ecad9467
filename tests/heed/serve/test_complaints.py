"""Complaint intake in the portal (issue 15): the JSON API and the form, the claimant's status
page, the verified owner's mark, and bad input: malformed, oversized, forged, a flood."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from audit import open_publisher
from audit.complaints import record_step
from tests.heed.serve.owners import MINE, bearer, copy_db, verified
from tests.heed.serve.portal import Portal, portal

COMPLAINT: dict[str, Any] = {
    "claimant": "Example Press",
    "capacity": "rightsholder",
    "email": "rights@press.example",
    "concerns": ["https://press.example/books/", "The Novel"],
    "right_claimed": "copyright",
    "statement": "Our tdmrep.json reserved TDM; the crawler kept the books in March.",
    "requested": ["no-future-use", "removal"],
}
XSS = "<script>alert(1)</script>"


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    return copy_db(demo_db, tmp_path)


def _status_key(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_a_complaint_by_the_api_and_its_status(db: Path) -> None:
    with portal(db) as app:
        answer = app.request("POST", "/api/v1/complaints", json=COMPLAINT)
        assert answer.status_code == 201, answer.text
        data = answer.json()
        assert set(data) == {"id", "reference", "status_url"}
        assert data["reference"].startswith("HC-")
        key = _status_key(data["status_url"])
        assert data["status_url"] == f"/complaints/status/{key}"
        status = app.get(f"/api/v1/complaints/status/{key}").json()
        assert (status["reference"], status["status"]) == (data["reference"], "received")
        assert status["verified_domain"] is None
        engine = open_publisher(str(db))
        record_step(engine, data["reference"], "upheld", actor="lee", reason="founded")
        engine.dispose()
        page = app.get(data["status_url"])
        assert page.status_code == 200
        assert 'data-status="upheld"' in page.text
        assert "founded" in page.text
        assert "lee" not in page.text  # who handled it on the provider's side is not shown
        assert app.get("/api/v1/complaints/status/nope").status_code == 404
        assert app.get(f"/complaints/status/{key}x").status_code == 404


def test_a_verified_owner_is_marked(db: Path) -> None:
    with verified(db) as (app, creds):
        answer = app.request(
            "POST", "/api/v1/complaints", json=COMPLAINT, headers=bearer(creds[MINE])
        )
        key = _status_key(answer.json()["status_url"])
        assert app.get(f"/api/v1/complaints/status/{key}").json()["verified_domain"] == MINE
        forged = app.request(
            "POST", "/api/v1/complaints", json=COMPLAINT, headers=bearer("heed_forged")
        )
        key = _status_key(forged.json()["status_url"])
        assert app.get(f"/api/v1/complaints/status/{key}").json()["verified_domain"] is None


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"capacity": "owner"}, 400, "Capacity must be one of"),
        ({"email": XSS}, 400, "e-mail address"),
        ({"concerns": []}, 400, "Name the works"),
        ({"requested": ["money"]}, 400, "Say what is requested"),
        ({"statement": " "}, 400, "The statement is missing"),
        ({"statement": 5}, 400, "Invalid value for statement"),
        ({"concerns": "https://press.example/"}, 400, "Invalid value for concerns"),
        ({"statement": "x" * 20_000}, 413, ""),
    ],
)
def test_bad_complaints_are_refused(
    db: Path, change: dict[str, Any], status: int, words: str
) -> None:
    with portal(db) as app:
        answer = app.request("POST", "/api/v1/complaints", json=COMPLAINT | change)
    assert answer.status_code == status, answer.text
    assert words in answer.text
    assert "<script>" not in answer.text


def test_a_flood_of_complaints_meets_the_rate_limit(db: Path) -> None:
    with portal(db, posts_per_minute=1, post_burst=2) as app:
        codes = [
            app.request("POST", "/api/v1/complaints", json=COMPLAINT).status_code for _ in range(4)
        ]
    assert codes == [201, 201, 429, 429]


def _form(app: Portal) -> tuple[str, str]:
    page = app.get("/complaints")
    field = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert field is not None
    return field.group(1), page.cookies["heed_csrf"]


def _post(app: Portal, fields: dict[str, str], cookie: str) -> httpx.Response:
    return app.request(
        "POST",
        "/complaints",
        content=str(httpx.QueryParams(fields)),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )


def test_the_form_lodges_a_complaint_and_needs_its_csrf_token(db: Path) -> None:
    fields = {
        "claimant": "Example Press",
        "capacity": "representative",
        "email": "rights@press.example",
        "concerns": "https://press.example/books/\r\nThe Novel",
        "right_claimed": "copyright",
        "statement": "kept in March",
        "requested-no-future-use": "1",
    }
    with portal(db) as app:
        token, nonce = _form(app)
        refused = _post(app, fields, f"heed_csrf={nonce}")  # no csrf field
        assert refused.status_code == 403
        done = _post(app, fields | {"csrf": token}, f"heed_csrf={nonce}")
        assert done.status_code == 303
        status = app.get(done.headers["location"])
        assert 'data-status="received"' in status.text
        assert "The Novel" in status.text
        bad = _post(app, fields | {"csrf": token, "email": XSS}, f"heed_csrf={nonce}")
        assert bad.status_code == 400
        assert "<script>" not in bad.text
        assert "&lt;script&gt;" in bad.text  # the form keeps what was typed, escaped
