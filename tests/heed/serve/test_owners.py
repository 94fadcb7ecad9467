"""The verified owner's view, and that a credential for one domain shows nothing of another:
every domain-scoped route tried with a foreign credential and foreign ids, and with expired,
forged and missing credentials."""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
from pathlib import Path

import pytest
from sqlalchemy import text

from audit import open_reader, record_check, start_verification
from tests.heed.serve.owners import MINE, THEIRS, bearer, copy_db, verified


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    return copy_db(demo_db, tmp_path)


def _ids(db: Path, domain: str) -> list[int]:
    engine = open_reader(str(db))
    try:
        with engine.connect() as conn:
            sql = "SELECT d.id FROM decision d JOIN origin o ON o.id = d.origin_id WHERE o.domain = :d"
            return sorted(conn.execute(text(sql), {"d": domain}).scalars())
    finally:
        engine.dispose()


def test_pages_by_cursor_cover_every_decision_once(db: Path) -> None:
    with verified(db) as (app, creds):
        seen: list[int] = []
        cursor = None
        while True:
            url = f"/api/v1/domains/{MINE}/decisions?limit=2" + (
                f"&cursor={cursor}" if cursor else ""
            )
            page = app.get(url, headers=bearer(creds[MINE]))
            assert page.status_code == 200, page.text
            body = page.json()
            assert body["domain"] == MINE
            seen += [d["id"] for d in body["decisions"]]
            cursor = body["next"]
            if cursor is None:
                break
    assert seen == _ids(db, MINE)
    assert len(seen) > 2


def test_a_decision_carries_its_evidence_and_dataset(db: Path) -> None:
    with verified(db) as (app, creds):
        rows = app.get(f"/api/v1/domains/{MINE}/decisions", headers=bearer(creds[MINE])).json()
        decisions = rows["decisions"]
        reserved = [d for d in decisions if d["action"] == "skipped-reservation"]
        assert reserved
        assert reserved[0]["use"] == "reserved"
        assert any(
            s["protocol"] == "tdmrep-file" and s["verdict"] == "reserved"
            for s in reserved[0]["signals"]
        )
        signal = next(s for s in reserved[0]["signals"] if s["sha256"])
        document = app.get(signal["href"])
        assert document.status_code == 200
        kept = [d for d in decisions if d["dataset"]]
        assert kept
        assert kept[0]["dataset"]["run"] == kept[0]["run"]
        assert kept[0]["dataset"]["item"]


def test_filters_by_prefix_and_time(db: Path) -> None:
    with verified(db) as (app, creds):
        h = bearer(creds[MINE])
        books = app.get(
            f"/api/v1/domains/{MINE}/decisions",
            params={"prefix": f"http://{MINE}/books/"},
            headers=h,
        ).json()
        assert books["decisions"]
        assert all(d["url"].startswith(f"http://{MINE}/books/") for d in books["decisions"])
        future = app.get(
            f"/api/v1/domains/{MINE}/decisions", params={"since": "2100-01-01T00:00:00Z"}, headers=h
        ).json()
        assert future["decisions"] == []
        past = app.get(
            f"/api/v1/domains/{MINE}/decisions", params={"until": "2000-01-01T00:00:00"}, headers=h
        ).json()
        assert past["decisions"] == []


def test_csv_export_has_every_decision(db: Path) -> None:
    with verified(db) as (app, creds):
        answer = app.get(
            f"/api/v1/domains/{MINE}/decisions?format=csv", headers=bearer(creds[MINE])
        )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert sorted(int(r["decision_id"]) for r in rows) == _ids(db, MINE)
    assert {r["in_dataset"] for r in rows} <= {"yes", "no"}


def test_an_invalid_cursor_is_refused(db: Path) -> None:
    with verified(db) as (app, creds):
        for cursor in ("xyz", "ZDE6LTE", "a" * 64):
            got = app.get(
                f"/api/v1/domains/{MINE}/decisions?cursor={cursor}", headers=bearer(creds[MINE])
            )
            assert got.status_code == 400


def _routes(domain: str) -> list[str]:
    return [
        f"/api/v1/domains/{domain}/decisions",
        f"/api/v1/domains/{domain}/decisions?format=csv",
        f"/api/v1/domains/www.{domain}/decisions",
        f"/owners/{domain}",
        f"/owners/{domain}?format=csv",
        f"/owners/{domain}?format=json",
    ]


def test_a_foreign_credential_sees_nothing_of_another_domain(db: Path) -> None:
    with verified(db) as (app, creds):
        mine = creds[MINE]
        for route in _routes(THEIRS):
            header = app.get(route, headers=bearer(mine))
            cookie = (
                app.get(route, headers={"Cookie": f"heed_owner={mine}"})
                if route.startswith("/owners")
                else header
            )
            for answer in (header, cookie):
                assert answer.status_code == 403, route
                assert THEIRS not in answer.text.replace(f"/{THEIRS}", "")
                assert "demo-news.test/article" not in answer.text
        # their verification's id with my key, or their key on my id: nothing either way
        for vid, key in (
            (creds[THEIRS + "#id"], creds[MINE + "#key"]),
            (creds[MINE + "#id"], creds[THEIRS + "#key"]),
        ):
            check = app.request(
                "POST", f"/api/v1/verifications/{vid}/check", json={"key": key, "method": "dns"}
            )
            assert check.status_code == 404
            page = app.get(f"/verify/{vid}", headers={"Cookie": f"heed_vkey={key}"})
            assert page.status_code == 404
        # and the credential still works on its own domain
        for route in _routes(MINE):
            assert app.get(route, headers=bearer(mine)).status_code == 200, route


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "heed_" + secrets.token_urlsafe(32),
        secrets.token_urlsafe(32),
        "heed_" + "A" * 500,
        "' OR 1=1 --",
    ],
)
def test_missing_or_forged_credentials_are_refused(db: Path, token: str | None) -> None:
    with verified(db) as (app, _):
        for route in _routes(MINE):
            headers = bearer(token) if token is not None else {}
            answer = app.get(route, headers=headers)
            assert answer.status_code == 401, route
            assert answer.headers["www-authenticate"].startswith("Bearer")


def test_an_expired_credential_is_refused(db: Path) -> None:
    with verified(db) as (app, creds):
        engine = open_reader(str(db))
        try:
            v, _ = start_verification(engine, MINE, valid_for=dt.timedelta(hours=1))
            old = record_check(
                engine, v.id, method="dns", error=None, valid_for=dt.timedelta(seconds=-1)
            )
        finally:
            engine.dispose()
        assert old is not None
        for route in _routes(MINE):
            assert app.get(route, headers=bearer(old)).status_code == 401
        assert app.get(_routes(MINE)[0], headers=bearer(creds[MINE])).status_code == 200


def test_a_verified_owner_gets_a_receipt_per_decision(db: Path) -> None:
    from urllib.parse import urlsplit

    from audit.receiptcheck import verify_receipt

    with verified(db) as (app, creds):
        rows = app.get(f"/api/v1/domains/{MINE}/decisions", headers=bearer(creds[MINE])).json()
        first = rows["decisions"][0]
        path = urlsplit(first["receipt"]).path
        assert path == f"/api/v1/domains/{MINE}/decisions/{first['id']}/receipt"
        got = app.get(path, headers=bearer(creds[MINE]))
        assert got.status_code == 200, got.text
        assert "attachment" in got.headers["content-disposition"]
        report = verify_receipt(got.json())
        assert report.ok, report.problems
        assert got.json()["url"] == first["url"]
        page = app.get(f"/owners/{MINE}", headers={"Cookie": f"heed_owner={creds[MINE]}"})
        assert f"/owners/{MINE}/decisions/{first['id']}/receipt" in page.text
        cookie = app.get(
            f"/owners/{MINE}/decisions/{first['id']}/receipt",
            headers={"Cookie": f"heed_owner={creds[MINE]}"},
        )
        assert cookie.status_code == 200
        # Theirs: not through my domain's path (404), not with my credential (403), not without.
        theirs = _ids(db, THEIRS)[0]
        mine_path = f"/api/v1/domains/{MINE}/decisions/{theirs}/receipt"
        assert app.get(mine_path, headers=bearer(creds[MINE])).status_code == 404
        their_path = f"/api/v1/domains/{THEIRS}/decisions/{theirs}/receipt"
        assert app.get(their_path, headers=bearer(creds[MINE])).status_code == 403
        assert app.get(their_path).status_code == 401


def test_every_decision_of_a_verified_owner_has_a_receipt_that_verifies(db: Path) -> None:
    """Both domains' decisions, those resting on a page's own TDMRep <meta> (whose bytes are not
    kept: named by hash) included."""
    from audit.receiptcheck import verify_receipt

    with verified(db) as (app, creds):
        for domain in (MINE, THEIRS):
            for decision_id in _ids(db, domain):
                path = f"/api/v1/domains/{domain}/decisions/{decision_id}/receipt"
                got = app.get(path, headers=bearer(creds[domain]))
                assert got.status_code == 200, got.text
                report = verify_receipt(got.json())
                assert report.ok, (decision_id, report.problems)


def test_no_receipt_while_no_checkpoint_covers_the_decision(db: Path) -> None:
    engine = open_reader(str(db))
    try:
        with engine.begin() as conn:  # an attacker's move, or a database no run has signed yet
            conn.execute(text("DROP TRIGGER trg_log_checkpoint_no_delete"))
            conn.execute(text("DELETE FROM log_checkpoint"))
    finally:
        engine.dispose()
    with verified(db) as (app, creds):
        first = _ids(db, MINE)[0]
        got = app.get(
            f"/api/v1/domains/{MINE}/decisions/{first}/receipt", headers=bearer(creds[MINE])
        )
        assert got.status_code == 409
        assert "No signed checkpoint of the audit log covers" in got.text
