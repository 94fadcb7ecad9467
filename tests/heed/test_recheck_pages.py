"""``heed recheck --pages``: the kept pages robots.txt still allows are requested again, once
each, and decided on their current headers and HTML meta; a page robots.txt now disallows is
never requested; gone, moved or failing pages are unknown (fail closed)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.crawler.crawlrun import query, run_heed
from tests.support.virtualweb import VirtualWeb

OPEN = "User-agent: *\nAllow: /\n"
HTML = "<html><head><title>t</title></head><body><p>Text.</p></body></html>"
PAGES = {
    "same": "http://p.test/same",
    "noai-header": "http://p.test/header",
    "noai-meta": "http://p.test/meta",
    "gone": "http://p.test/gone",
    "moved": "http://p.test/moved",
    "failing": "http://p.test/failing",
    "closed": "http://p.test/closed/x",
}


def test_pages_are_read_again(tmp_path: Path) -> None:
    db, out = tmp_path / "heed.db", tmp_path / "dataset"
    with VirtualWeb() as web:
        web.add("http://p.test/robots.txt", body=OPEN)
        for url in PAGES.values():
            web.add(url, body=HTML, content_type="text/html")
        done = run_heed(
            web, "crawl", *PAGES.values(), "--db", str(db), "--out", str(out), "--depth", "0",
            "--log-level", "warning", "--progress", "off", timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        items = {
            json.loads(line)["url"]: json.loads(line)["item_id"]
            for line in (out / "dataset.jsonl").read_text().splitlines()
        }
        assert set(items) == set(PAGES.values())
        # The web changes.
        web.add("http://p.test/robots.txt", body="User-agent: *\nDisallow: /closed/\n")
        web.add(PAGES["noai-header"], body=HTML, content_type="text/html",
                headers=(("X-Robots-Tag", "noai"),))  # fmt: skip
        meta = HTML.replace("<title>", '<meta name="robots" content="noai"><title>')
        web.add(PAGES["noai-meta"], body=meta, content_type="text/html")
        web.add(PAGES["gone"], status=404, body="gone")
        web.add(PAGES["moved"], status=301, redirect="http://p.test/elsewhere")
        web.add(PAGES["failing"], status=503, body="busy")
        web.clear_log()
        done = run_heed(
            web, "recheck", "--db", str(db), "--pages", "--page-delay", "0", timeout=120
        )
        assert done.returncode == 0, done.stderr[-3000:]
        asked = [f"http://{r.host}{r.path}" for r in web.requests]
    web.assert_no_errors()
    assert PAGES["closed"] not in asked  # robots.txt disallows it now: never requested
    assert "http://p.test/elsewhere" not in asked  # redirects are not followed
    pages = [url for url in asked if url in PAGES.values()]
    assert sorted(pages) == sorted(set(PAGES.values()) - {PAGES["closed"]})  # once each
    rows = query(
        db,
        "SELECT d.request_key, d.action, d.http_status FROM decision d "
        "JOIN crawl_run r ON r.id = d.run_id WHERE r.kind = 'recheck'",
    )
    found = {int(key.split(":")[1]): (action, status) for key, action, status in rows}
    by_name = {name: found[items[url]] for name, url in PAGES.items()}
    assert by_name == {
        "same": ("rechecked-usable", 200),
        "noai-header": ("rechecked-reserved", 200),
        "noai-meta": ("rechecked-reserved", 200),
        "gone": ("rechecked-unknown", 404),
        "moved": ("rechecked-unknown", 301),
        "failing": ("rechecked-unknown", 503),
        "closed": ("rechecked-reserved", None),
    }
