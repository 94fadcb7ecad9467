"""The portal's JSON API and pages through httpx against the ASGI application (in-process)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from tests.heed.serve.portal import T0, WITHDRAWN_PAGE, Portal, portal

XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def test_health_and_openapi(demo: Portal) -> None:
    assert demo.get("/api/v1/health").json() == {"status": "ok"}
    spec = demo.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/domains/{domain}", "/api/v1/documents/{sha256}", "/crawler-info.json"):
        assert path in spec["paths"]
    assert "DomainOut" in spec["components"]["schemas"]
    assert demo.get("/docs").status_code == 404  # no script-driven documentation pages


def test_lookup_of_a_demo_domain_shows_documents_meanings_and_verdict(demo: Portal) -> None:
    answer = demo.get("/api/v1/domains/demo-tdmrep.test").json()
    assert answer["found"]
    assert answer["domain"] == "demo-tdmrep.test"
    assert answer["tokens"] == ["HeedBot"]
    assert answer["purposes"] == ["train-ai"]
    total = answer["total"]
    assert total["verdict"]["status"] == "honoured"
    assert total["verdict"]["text"].startswith("After your reservation was first seen on ")
    assert "no content from the affected URLs was kept" in total["verdict"]["text"]
    assert total["reservation"]["protocols"] == ["tdmrep-file"]
    assert total["by_action"] == {"fetched-stored": 2, "skipped-reservation": 1}
    assert sum(m["actions"].get("fetched-stored", 0) for m in total["by_month"]) == 2
    assert total["kept"]["items"] == 2
    assert total["kept"]["bytes"] > 0
    docs = {d["kind"]: d for d in total["documents"]}
    assert set(docs) == {"robots.txt", "tdmrep.json", "ai.txt"}
    tdmrep = docs["tdmrep.json"]
    assert tdmrep["statuses"] == [200]
    assert [m["verdict"] for m in tdmrep["meanings"]] == ["reserved"]
    assert tdmrep["meanings"][0]["restricts"]
    # the link serves the document exactly as fetched
    body = demo.get(tdmrep["href"].removeprefix("http://portal.test"))
    assert body.status_code == 200
    assert hashlib.sha256(body.content).hexdigest() == tdmrep["sha256"]
    assert body.headers["content-type"] == "text/plain"
    assert body.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in body.headers["content-security-policy"]
    assert [h["name"] for h in answer["hosts"]] == ["demo-tdmrep.test"]


def test_a_host_asks_for_its_registrable_domain(demo: Portal) -> None:
    answer = demo.get("/api/v1/domains/WWW.Demo-News.test.").json()
    assert (answer["query"], answer["domain"]) == ("www.demo-news.test", "demo-news.test")
    assert answer["found"]
    url = demo.get("/api/v1/domains/http%3A%2F%2Fdemo-news.test%2Farticle-1").status_code
    assert url in (200, 404)  # a slash in a path segment is the router's to refuse


def test_a_domain_never_crawled(demo: Portal) -> None:
    answer = demo.get("/api/v1/domains/bücher.example").json()
    assert answer["domain"] == "xn--bcher-kva.example"
    assert not answer["found"]
    assert answer["total"]["verdict"]["status"] == "no-record"


@pytest.mark.parametrize(
    "bad", ["<script>", "a" * 64 + ".com", "x" * 400, "exa mple.com", "..", "-", XSS]
)
def test_invalid_domains_are_refused_without_echo(demo: Portal, bad: str) -> None:
    response = demo.get("/api/v1/domains/" + bad.replace("/", "%2F"))
    assert response.status_code in (400, 404)
    assert "<script" not in response.text
    assert "x" * 300 not in response.text


def test_documents_only_signal_documents(demo: Portal, demo_db: Path) -> None:
    with sqlite3.connect(demo_db) as conn:
        pages = [r[0] for r in conn.execute("SELECT content_sha256 FROM stored_item")]
        meta = [
            r[0]
            for r in conn.execute("SELECT sha256 FROM signal WHERE protocol LIKE 'tdmrep-meta'")
        ]
    assert pages
    assert meta
    for sha in [*pages, *meta, "0" * 64]:
        response = demo.get(f"/api/v1/documents/{sha}")
        assert response.status_code == 404, sha
        assert response.json()["error"]["status"] == 404
    assert demo.get("/api/v1/documents/16ceb5ee").status_code == 400  # no prefixes
    assert demo.get("/api/v1/documents/" + "z" * 64).status_code == 400


def test_security_headers_on_pages_api_and_errors(demo: Portal) -> None:
    for path in ("/", "/lookup?domain=demo-news.test", "/crawler-info", "/nope", "/api/v1/health"):
        response = demo.get(path)
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp, path
        assert "frame-ancestors 'none'" in csp, path
        assert "script-src" not in csp
        assert "unsafe-eval" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
        assert "server" not in response.headers


def test_xss_in_the_echoed_domain_is_escaped(demo: Portal) -> None:
    response = demo.get("/lookup", params={"domain": XSS})
    assert response.status_code == 400
    assert "<script>alert" not in response.text
    assert "<img src=x" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script" not in response.text.lower()


def test_a_flood_hits_the_rate_limit(demo_db: Path) -> None:
    with portal(demo_db, lookups_per_minute=1, lookup_burst=5) as app:
        codes = [app.get("/api/v1/domains/demo-news.test").status_code for _ in range(12)]
        assert codes[:5] == [200] * 5
        assert set(codes[5:]) == {429}
        limited = app.get("/lookup?domain=demo-news.test")
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert app.get("/api/v1/documents/" + "0" * 64).status_code == 429
        assert app.get("/crawler-info").status_code == 200  # published pages are not limited
        assert app.get("/lookup").status_code == 200  # the empty form costs nothing


def test_request_bodies_are_limited(demo: Portal) -> None:
    response = demo.request("POST", "/api/v1/health", content=b"x" * 100_000)
    assert response.status_code == 413
    assert demo.request("POST", "/api/v1/health", content=b"{}").status_code == 405


def test_internal_errors_show_no_details(tmp_path: Path, demo_db: Path) -> None:
    db = tmp_path / "copy.db"
    db.write_bytes(demo_db.read_bytes())
    with portal(db) as app:
        with sqlite3.connect(db) as conn:
            conn.execute("ALTER TABLE origin RENAME TO gone")
        for path, kind in (
            ("/lookup?domain=demo-news.test", "text/html"),
            ("/api/v1/domains/demo-news.test", "application/json"),
        ):
            response = app.get(path)
            assert response.status_code == 500
            assert response.headers["content-type"].startswith(kind)
            assert "internal error" in response.text
            for leak in ("Traceback", "sqlite", "origin", "SELECT", ".py"):
                assert leak not in response.text, leak


def test_verdict_names_items_kept_after_a_withdrawn_reservation(verdicts_db: Path) -> None:
    with portal(verdicts_db) as app:
        response = app.get("/api/v1/domains/withdrawn.test")
        answer = response.json()
        page = app.get("/lookup?domain=withdrawn.test").text
    verdict = answer["total"]["verdict"]
    assert verdict["status"] == "kept-after-reservation"
    assert verdict["text"].startswith(
        "After your reservation was first seen on 2 March 2026, 09:30 UTC (robots.txt), "
        "1 item from the affected URLs was kept."
    )
    assert len(verdict["items"]) == 1
    assert "11 April 2026" in verdict["items"][0]
    assert "not-reserved" in verdict["items"][0]
    assert answer["total"]["kept_after_reservation"] == 1
    assert answer["total"]["reservation"]["urls"] == 1
    robots = [d for d in answer["total"]["documents"] if d["kind"] == "robots.txt"]
    assert len(robots) == 2  # both versions, each with what it meant
    assert {m["verdict"] for d in robots for m in d["meanings"]} == {"allow", "disallow"}
    # aggregate figures only: the page URL is the verified owner's to see
    for text in (response.text, page):
        assert "secret-path" not in text
        assert "token=abc" not in text
    assert WITHDRAWN_PAGE.startswith("http://withdrawn.test/")
    assert T0.year == 2026


def test_verdict_names_a_crawler_fault(verdicts_db: Path) -> None:
    with portal(verdicts_db) as app:
        answer = app.get("/api/v1/domains/fault.test").json()
    assert [h["name"] for h in answer["hosts"]] == ["www.fault.test"]
    verdict = answer["total"]["verdict"]
    assert verdict["status"] == "kept-while-reserved"
    assert "fault of the crawler" in verdict["text"]
    assert len(verdict["items"]) == 1
    assert "crawl disallow" in verdict["items"][0]
    assert answer["hosts"][0]["verdict"]["status"] == "kept-while-reserved"


def test_the_lookup_lists_the_registry_entries_of_the_domain(demo_db: Path, tmp_path: Path) -> None:
    """Entries of the reservations registry in force for the domain, a host of it or a prefix
    on one are listed (JSON and page); withdrawn entries and other domains' are not."""
    from audit import add_registry_entry, open_publisher, remove_registry_entry
    from tests.heed.serve.owners import copy_db

    db = copy_db(demo_db, tmp_path)
    engine = open_publisher(str(db))
    add_registry_entry(engine, "demo-news.test", source="letter L-1", actor="t", now=T0)
    add_registry_entry(engine, "https://www.demo-news.test/archive/", actor="t", now=T0)
    gone = add_registry_entry(engine, "shop.demo-news.test", actor="t", now=T0)
    remove_registry_entry(engine, gone.id, actor="t")
    add_registry_entry(engine, "other-demo-news.test", actor="t", now=T0)  # not a subdomain
    add_registry_entry(engine, "https://demo-news.test.example/x", actor="t", now=T0)
    engine.dispose()
    with portal(db) as app:
        answer = app.get("/api/v1/domains/www.demo-news.test").json()
        page = app.get("/lookup", params={"domain": "demo-news.test"}).text
        never = app.get("/api/v1/domains/never-crawled.test").json()
    assert [(r["id"], r["scope"], r["target"]) for r in answer["registry"]] == [
        (1, "domain", "demo-news.test"),
        (2, "prefix", "www.demo-news.test/archive/"),
    ]
    assert answer["registry"][0]["purposes"] == ["tdm", "train-ai", "ai-input"]
    assert answer["registry"][0]["source"] == "letter L-1"
    assert "In the provider's reservations registry" in page
    assert "<code>www.demo-news.test/archive/</code>" in page
    assert never["registry"] == []
