"""The published documents, live: the latest published version of each, every earlier one, the
crawler page's JSON and Atom feed; internal documents never; serving never publishes."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

from audit import open_publisher
from audit.publications import history, latest, publish
from tests.heed.serve.portal import Portal, portal

ATOM = "{http://www.w3.org/2005/Atom}"


def _publications(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM publication").fetchone()[0])


def test_every_page_renders_and_serving_publishes_nothing(demo: Portal, demo_db: Path) -> None:
    before = _publications(demo_db)
    pages = (
        "/",
        "/crawler-info",
        "/policy",
        "/summary",
        "/versions",
        "/crawler-info/v/1",
        "/policy/v/1",
        "/summary/v/1",
        "/lookup",
        "/lookup?domain=demo-robots.test",
    )
    for path in pages:
        response = demo.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert '<nav class="portal"' in response.text, path
        assert "<script" not in response.text.lower(), path
    assert _publications(demo_db) == before


def test_the_pages_are_policys_renderings(demo: Portal) -> None:
    home = demo.get("/").text
    assert "Test Provider" in home
    assert "legal@provider.test" in home
    crawler = demo.get("/crawler-info").text
    assert "<h1>Crawler information</h1>" in crawler
    assert "Version 1, published" in crawler
    assert 'href="/crawler-info.atom"' in crawler
    assert 'href="/crawler-info.json"' in crawler
    policy = demo.get("/policy").text
    assert "Copyright policy (public summary)" in policy
    assert "General Counsel" not in policy  # the internal variant names owners: never served
    summary = demo.get("/summary").text
    assert "Public Summary of Training Content: DemoLM 1" in summary
    assert demo.get("/summary", params={"model": "DemoLM 1"}).text == summary
    assert demo.get("/summary", params={"model": "Other"}).status_code == 404


def test_internal_documents_are_never_served(demo: Portal) -> None:
    for kind in ("policy", "statements", "nothing"):
        assert demo.get(f"/api/v1/publications/{kind}").status_code == 404
    listed = demo.get("/api/v1/publications").json()["publications"]
    assert {p["kind"] for p in listed} == {"crawler-info", "policy-public", "summary"}
    assert all("body" not in p for p in listed)


def test_a_new_version_is_served_with_the_earlier_ones(tmp_path: Path, demo_db: Path) -> None:
    db = tmp_path / "heed.db"
    db.write_bytes(demo_db.read_bytes())
    engine = open_publisher(str(db))
    first = latest(engine, "crawler-info")
    assert first is not None
    body = {**first.body, "purpose": "A purpose stated anew"}
    publish(engine, "crawler-info", body, changes=["Purpose changed"])
    versions = history(engine, "crawler-info")
    engine.dispose()
    with portal(db, public_url="https://bot.example.test/") as app:
        page = app.get("/crawler-info").text
        assert "Version 2, published" in page
        assert "A purpose stated anew" in page
        assert "Purpose changed" in page
        assert 'href="https://bot.example.test/crawler-info.atom"' in page
        old = app.get("/crawler-info/v/1").text
        assert "Version 1, published" in old
        assert "A purpose stated anew" not in old
        assert app.get("/crawler-info/v/3").status_code == 404
        doc = app.get("/crawler-info.json").json()
        assert doc["version"] == 2
        assert doc["information"]["purpose"] == "A purpose stated anew"
        assert [h["version"] for h in doc["history"]] == [2, 1]
        api = app.get("/api/v1/publications/crawler-info/1").json()
        assert api["sha256"] == versions[0].sha256
        assert api["body"] == versions[0].body
        assert api["html"] == "https://bot.example.test/crawler-info/v/1"
        feed = app.get("/crawler-info.atom")
        assert feed.headers["content-type"].startswith("application/atom+xml")
        root = ET.fromstring(feed.content)
        entries = root.findall(f"{ATOM}entry")
        assert [e.find(f"{ATOM}title").text for e in entries] == [  # type: ignore[union-attr]
            "Crawler information, version 2",
            "Crawler information, version 1",
        ]
        self_link = root.find(f"{ATOM}link[@rel='self']")
        assert self_link is not None
        assert self_link.get("href") == "https://bot.example.test/crawler-info.atom"
        versions_page = app.get("/versions").text
        assert "https://bot.example.test/crawler-info/v/2" in versions_page


def test_nothing_published_yet(tmp_path: Path, verdicts_db: Path) -> None:
    with portal(verdicts_db) as app:
        home = app.get("/")
        assert home.status_code == 200
        assert "not published yet" in home.text
        for path in ("/crawler-info", "/policy", "/summary", "/crawler-info.atom"):
            response = app.get(path)
            assert response.status_code == 404, path
            assert "has been published yet" in response.text


def test_the_audit_log_checkpoints_are_served(demo: Portal, verdicts_db: Path) -> None:
    """The demo's crawl ends with a signed checkpoint and its crawler page states the key: the
    portal serves the note as signed, and every checkpoint, and the page links both."""
    from audit.checkpoint import open_checkpoint, parse_verifier_key

    info = demo.get("/crawler-info.json").json()
    verifier = info["information"]["log_verifier_key"]
    assert info["log_checkpoints"] == {"latest": "/log/checkpoint", "all": "/log/checkpoints.json"}
    page = demo.get("/crawler-info").text
    assert verifier in page
    assert 'href="/log/checkpoint"' in page
    note = demo.get("/log/checkpoint")
    assert note.status_code == 200
    assert note.headers["content-type"].startswith("text/plain")
    name, public = parse_verifier_key(verifier)
    checkpoint = open_checkpoint(note.text, name, public)
    listed = demo.get("/log/checkpoints.json").json()
    assert listed["checkpoints"][-1]["note"] == note.text
    assert listed["checkpoints"][-1]["size"] == checkpoint.size == listed["log_size"]
    assert "PRIVATE" not in note.text + str(listed) + page
    with portal(verdicts_db) as app:  # nothing signed there: a clear 404
        for path in ("/log/checkpoint", "/log/checkpoints.json"):
            response = app.get(path)
            assert response.status_code == 404, path
            assert "No checkpoint of the audit log has been signed yet." in response.text
