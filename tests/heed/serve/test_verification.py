"""Domain verification through the API: by an HTTP file on a local web server and by a DNS TXT
record on a local DNS server, and the checks' fences (redirects, private addresses, expiry,
who may run a check)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from audit import find_credential, open_reader, start_verification
from tests.heed.serve.owners import MINE, THEIRS, copy_db, web_settings
from tests.heed.serve.portal import Portal, portal
from tests.support.dnsserver import dns_server


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    return copy_db(demo_db, tmp_path)


def _start(app: Portal, domain: str = MINE) -> dict[str, str]:
    answer = app.request("POST", "/api/v1/verifications", json={"domain": domain})
    assert answer.status_code == 201, answer.text
    data: dict[str, str] = answer.json()
    return data


def _check(app: Portal, start: dict[str, str], method: str = "http", key: str | None = None):  # type: ignore[no-untyped-def]
    return app.request(
        "POST",
        f"/api/v1/verifications/{start['id']}/check",
        json={"key": key or start["key"], "method": method},
    )


def test_start_gives_an_unguessable_token_and_both_ways(db: Path) -> None:
    with portal(db) as app:
        a, b = _start(app), _start(app, "www.demo-tdmrep.test")
    assert a["domain"] == b["domain"] == MINE  # a host asks for its registrable domain
    assert len(a["token"]) >= 32
    assert a["token"] != b["token"]
    assert a["id"] != b["id"]
    assert a["http"]["url"] == f"https://{MINE}/.well-known/heed-verification/{a['token']}"
    assert a["dns"] == {"name": f"_heed-challenge.{MINE}", "type": "TXT", "value": a["token"]}
    assert dt.datetime.fromisoformat(a["expires_at"]) > dt.datetime.now(dt.UTC)


@pytest.mark.parametrize("text", ["192.0.2.1", "localhost", "not a domain", "[::1]", ""])
def test_only_domain_names_can_be_verified(db: Path, text: str) -> None:
    with portal(db) as app:
        answer = app.request("POST", "/api/v1/verifications", json={"domain": text})
    assert answer.status_code == 400


def test_verification_by_http_file(db: Path, httpserver: HTTPServer) -> None:
    with portal(db, **web_settings(httpserver.port, MINE)) as app:
        start = _start(app)
        httpserver.expect_request(
            f"/.well-known/heed-verification/{start['token']}"
        ).respond_with_data(start["token"] + "\n")
        done = _check(app, start)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["verified"]
    assert body["domain"] == MINE
    assert body["method"] == "http"
    assert done.headers["cache-control"] == "no-store"
    engine = open_reader(str(db))
    try:
        found = find_credential(engine, body["credential"])
        assert found is not None
        assert found.domain == MINE
        # only the hash is stored
        with engine.connect() as conn:
            from sqlalchemy import text

            stored = conn.execute(text("SELECT token_sha256 FROM owner_credential")).scalars().all()
        assert body["credential"] not in stored
    finally:
        engine.dispose()


def test_a_file_without_the_token_does_not_verify(db: Path, httpserver: HTTPServer) -> None:
    with portal(db, **web_settings(httpserver.port, MINE)) as app:
        start = _start(app)
        httpserver.expect_request(
            f"/.well-known/heed-verification/{start['token']}"
        ).respond_with_data("nope")
        done = _check(app, start)
    assert done.status_code == 422
    assert "does not hold the token" in done.json()["error"]["message"]


def test_a_redirect_to_another_host_is_not_followed(db: Path, httpserver: HTTPServer) -> None:
    settings = web_settings(httpserver.port, MINE, THEIRS)
    with portal(db, **settings) as app:
        start = _start(app)
        path = f"/.well-known/heed-verification/{start['token']}"
        httpserver.expect_request(path).respond_with_response(
            Response(status=302, headers={"Location": f"http://{THEIRS}{path}"})
        )
        done = _check(app, start)
    assert done.status_code == 422
    assert "redirects to another host" in done.json()["error"]["message"]


def test_a_redirect_on_the_same_host_is_followed(db: Path, httpserver: HTTPServer) -> None:
    with portal(db, **web_settings(httpserver.port, MINE)) as app:
        start = _start(app)
        path = f"/.well-known/heed-verification/{start['token']}"
        httpserver.expect_request(path).respond_with_response(
            Response(status=301, headers={"Location": "/proof"})
        )
        httpserver.expect_request("/proof").respond_with_data(start["token"])
        assert _check(app, start).status_code == 200


def test_a_private_address_is_not_fetched_unless_allowed(db: Path, httpserver: HTTPServer) -> None:
    settings = web_settings(httpserver.port, MINE)
    settings["allow_private"] = ()
    with portal(db, **settings) as app:
        start = _start(app)
        httpserver.expect_request(
            f"/.well-known/heed-verification/{start['token']}"
        ).respond_with_data(start["token"])
        done = _check(app, start)
    assert done.status_code == 422
    assert "private or reserved address" in done.json()["error"]["message"]
    assert httpserver.log == []  # nothing was sent


def test_a_redirect_to_a_private_address_is_refused(db: Path, httpserver: HTTPServer) -> None:
    # The domain itself is allowed (mapped to loopback); the redirect names 10.0.0.1 on it.
    with portal(db, **web_settings(httpserver.port, MINE)) as app:
        start = _start(app)
        path = f"/.well-known/heed-verification/{start['token']}"
        httpserver.expect_request(path).respond_with_response(
            Response(status=302, headers={"Location": f"http://10.0.0.1{path}"})
        )
        done = _check(app, start)
    assert done.status_code == 422  # another host: not followed, 10.0.0.1 never reached


def test_verification_by_dns_txt(db: Path) -> None:
    with dns_server() as (resolver, txt), portal(db, dns_resolver=resolver) as app:
        start = _start(app)
        assert _check(app, start, "dns").status_code == 422  # not published yet
        txt[f"_heed-challenge.{MINE}"] = ["v=something-else", start["token"]]
        done = _check(app, start, "dns")
    assert done.status_code == 200, done.text
    assert done.json()["method"] == "dns"


def test_the_key_not_the_public_token_runs_the_check(db: Path) -> None:
    with dns_server() as (resolver, txt), portal(db, dns_resolver=resolver, post_burst=50) as app:
        mine, theirs = _start(app), _start(app, THEIRS)
        txt[f"_heed-challenge.{MINE}"] = [mine["token"]]
        # someone who read the token from DNS, or holds another verification's key: nothing
        assert _check(app, mine, "dns", key=mine["token"]).status_code == 404
        assert _check(app, mine, "dns", key=theirs["key"]).status_code == 404
        assert _check(app, theirs, "dns", key=mine["key"]).status_code == 404
        assert _check(app, {"id": "nope", "key": mine["key"]}, "dns").status_code == 404


def test_an_expired_verification_cannot_be_checked(db: Path) -> None:
    engine = open_reader(str(db))
    try:
        v, key = start_verification(engine, MINE, valid_for=dt.timedelta(seconds=-1))
    finally:
        engine.dispose()
    with portal(db) as app:
        done = _check(app, {"id": v.id, "key": key}, "dns")
    assert done.status_code == 410
