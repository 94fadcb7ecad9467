"""``heed crawl`` end to end: a local multi-host web, the audit database and the dataset it leaves.

Proved from the server's own request log: no disallowed URL was ever requested, and every page
request belongs to a decision in the audit database. Proved from the files: reserved content is
absent from the dataset, and every dataset line rests on a stored decision and item row.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.crawler.crawlrun import DOCUMENT_PATHS, query, read_dataset, run_heed
from tests.support.virtualweb import Response, VirtualWeb

MARK = "RESERVED-TEXT"
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def html(text: str, *links: str, head: str = "", **kwargs: Any) -> Response:
    """Return an HTML page with *text* and links."""
    anchors = "".join(f'<a href="{href}">{href}</a> ' for href in links)
    body = f"<html><head>{head}</head><body><p>{text}</p>{anchors}</body></html>"
    return Response(body=body, content_type="text/html; charset=utf-8", **kwargs)


def secret(name: str, **kwargs: Any) -> Response:
    """Return a page whose text must never reach the dataset."""
    return html(f"{MARK} {name}", **kwargs)


#: path → Location of the test web's redirects (a redirect source is accounted by its target).
REDIRECTS = {
    "http://www.alpha.test/to-private": "http://www.alpha.test/private/a",
    "http://www.alpha.test/to-about": "http://www.alpha.test/about",
}
NEVER_REQUESTED = [
    "http://www.alpha.test/private/a",
    "http://www.alpha.test/private/b",
    "http://blog.alpha.test/drafts/1",
    "http://closed.alpha.test/",
]
RESERVED_FETCHED = ["http://www.alpha.test/tdm", "http://www.alpha.test/noai"]


def build(web: VirtualWeb) -> None:
    """Serve alpha.test (three hosts), beta.test (out of scope), and a deep chain."""
    web.site(
        "www.alpha.test",
        {
            "/robots.txt": "User-agent: *\nDisallow: /private/\n",
            "/": html(
                "home",
                "/about",
                "/private/a",
                "/to-private",
                "/to-about",
                "/tdm",
                "/noai",
                "/paper.pdf",
                "/d1",
                "http://blog.alpha.test/",
                "http://closed.alpha.test/",
                "http://beta.test/",
                "mailto:someone@alpha.test",
            ),
            "/about": html("about us", "/private/b", "/"),
            "/private/a": secret("private a"),
            "/private/b": secret("private b"),
            "/to-private": Response(status=301, redirect="/private/a"),
            "/to-about": Response(status=302, redirect="/about"),
            "/tdm": secret("tdm header", headers={"tdm-reservation": "1"}),
            "/noai": secret("noai", head='<meta name="robots" content="noai">'),
            "/paper.pdf": Response(body=PDF, content_type="application/pdf"),
            "/d1": html("depth 1", "/d2"),
            "/d2": html("depth 2", "/d3"),
            "/d3": html("depth 3"),
        },
    )
    web.site(
        "blog.alpha.test",
        {
            "/robots.txt": "User-agent: *\nAllow: /\nSitemap: http://blog.alpha.test/sitemap.xml\n",
            "/.well-known/tdmrep.json": Response(
                body='[{"location": "/drafts/*", "tdm-reservation": 1}]',
                content_type="application/json",
            ),
            "/": html("blog", "/post", "/drafts/1"),
            "/post": html("a post"),
            "/drafts/1": secret("draft"),
            "/sitemap.xml": Response(
                body=(
                    '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    "<url><loc>http://blog.alpha.test/only-in-sitemap</loc></url>"
                    "<url><loc>http://beta.test/from-sitemap</loc></url></urlset>"
                ),
                content_type="application/xml",
            ),
            "/only-in-sitemap": html("found through the sitemap"),
        },
    )
    web.site("closed.alpha.test", {"/robots.txt": "User-agent: TestBot\nDisallow: /\n", "/": "x"})
    web.site("beta.test", {"/robots.txt": "", "/": html("beta", "/b2"), "/b2": html("beta 2")})


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Crawl alpha.test once with every option on; yield the web, the process and the files."""
    work = tmp_path_factory.mktemp("dataset")
    with VirtualWeb() as web:
        build(web)
        proc = run_heed(
            web,
            "crawl",
            "http://www.alpha.test/",
            "--token", "TestBot",
            "--db", str(work / "heed.db"),
            "--out", str(work / "out"),
            "--warc",
            "--sitemaps",
            "-s", "HEED_PROGRESS_INTERVAL=0.2",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-4000:]
        yield {"web": web, "proc": proc, "db": work / "heed.db", "out": work / "out"}
    web.assert_no_errors()


def page_urls(web: VirtualWeb) -> list[str]:
    """Return the page URLs the web received (Heed's own document requests left out)."""
    return [r.url for r in web.requests if r.path not in DOCUMENT_PATHS]


def decided(db: Path) -> dict[str, list[str]]:
    """Return ``{url: [action, ...]}`` of the decisions in the audit database."""
    found: dict[str, list[str]] = {}
    for url, action in query(db, "SELECT url, action FROM decision ORDER BY id"):
        found.setdefault(url, []).append(action)
    return found


def test_disallowed_and_site_reserved_urls_are_never_requested(crawl: dict[str, Any]) -> None:
    """robots.txt, a redirect into a disallowed area, a TDMRep file, a token group: no request."""
    web, db = crawl["web"], crawl["db"]
    requested = set(page_urls(web))
    for url in NEVER_REQUESTED:
        assert url not in requested, url
    actions = decided(db)
    assert actions["http://www.alpha.test/private/a"] == ["skipped-robots", "skipped-robots"]
    assert actions["http://www.alpha.test/private/b"] == ["skipped-robots"]
    assert actions["http://blog.alpha.test/drafts/1"] == ["skipped-reservation"]
    assert actions["http://closed.alpha.test/"] == ["skipped-robots"]
    closed = [r.path for r in web.requests if r.host == "closed.alpha.test"]
    assert "/robots.txt" in closed
    assert "/" not in closed


def test_every_requested_page_has_a_decision(crawl: dict[str, Any]) -> None:
    """Each page request in the server log is a decided URL (a redirect source: its target)."""
    web, db = crawl["web"], crawl["db"]
    actions = decided(db)
    for url in page_urls(web):
        assert REDIRECTS.get(url, url) in actions, url
    # The redirect to an already-crawled page ends its attempt with a decision of its own.
    assert actions["http://www.alpha.test/about"].count("error") == 1


def test_scope_depth_one_identity(crawl: dict[str, Any]) -> None:
    """Seeds' registrable domain only; the token's User-Agent on every request."""
    web = crawl["web"]
    hosts = {r.host for r in web.requests}
    assert hosts == {"www.alpha.test", "blog.alpha.test", "closed.alpha.test"}
    assert "http://www.alpha.test/d3" in page_urls(web)  # no depth limit by default
    for request in web.requests:
        agent = request.header("User-Agent") or ""
        assert "TestBot/" in agent, request.url
        assert "+https://" in agent


def test_sitemap_pages_are_crawled_in_scope(crawl: dict[str, Any]) -> None:
    """The sitemap robots.txt names is read; its in-scope page crawled, the other skipped."""
    urls = page_urls(crawl["web"])
    assert "http://blog.alpha.test/only-in-sitemap" in urls
    assert "http://beta.test/from-sitemap" not in urls


def test_dataset_lines_rest_on_stored_decisions(crawl: dict[str, Any]) -> None:
    """Each line: the fields, a stored fetched-stored decision, and its stored-item row."""
    lines, torn = read_dataset(crawl["out"] / "dataset.jsonl")
    assert not torn
    assert lines
    db = crawl["db"]
    stored = dict(query(db, "SELECT id, url FROM decision WHERE action = 'fetched-stored'"))
    items = dict(query(db, "SELECT decision_id, id FROM stored_item"))
    for line in lines:
        assert {"url", "fetched_at", "content_type", "bytes", "decision_id", "sha256"} <= set(line)
        assert "text" in line or "body" in line
        assert stored[line["decision_id"]] == line["url"]
        assert items[line["decision_id"]] == line["item_id"]
    urls = [line["url"] for line in lines]
    assert len(urls) == len(set(urls))
    assert len(lines) == len(items)
    home = next(line for line in lines if line["url"] == "http://www.alpha.test/")
    assert home["content_type"] == "text/html"
    assert home["text"].startswith("home")
    pdf = next(line for line in lines if line["url"].endswith(".pdf"))
    assert base64.b64decode(pdf["body"]) == PDF
    assert pdf["bytes"] == len(PDF)


def test_reserved_content_is_absent_from_the_dataset(crawl: dict[str, Any]) -> None:
    """Pages reserved by header or meta were fetched and decided, never written."""
    out, db = crawl["out"], crawl["db"]
    lines, _ = read_dataset(out / "dataset.jsonl")
    assert MARK not in (out / "dataset.jsonl").read_text(encoding="utf-8")
    for line in lines:
        if "body" in line:
            assert MARK.encode() not in base64.b64decode(line["body"])
    actions = decided(db)
    for url in RESERVED_FETCHED:
        assert actions[url] == ["fetched-excluded"], url
        assert url in page_urls(crawl["web"])


def test_warc_holds_a_response_and_a_decision_per_line(crawl: dict[str, Any]) -> None:
    """WARC: a response record and a metadata record (the decision) for each dataset line."""
    out = crawl["out"]
    lines, _ = read_dataset(out / "dataset.jsonl")
    (warc,) = (out / "warc").glob("*.warc.gz")
    responses: dict[str, bytes] = {}
    metadata: dict[str, dict[str, Any]] = {}
    with warc.open("rb") as handle:
        for record in ArchiveIterator(handle):
            uri = record.rec_headers.get_header("WARC-Target-URI")
            if record.rec_type == "response":
                responses[uri] = record.content_stream().read()
            elif record.rec_type == "metadata":
                metadata[uri] = json.loads(record.content_stream().read())
    assert set(responses) == set(metadata) == {line["url"] for line in lines}
    for line in lines:
        meta = metadata[line["url"]]
        assert (meta["decision_id"], meta["use"]) == (line["decision_id"], "not-reserved")
        assert meta["signals"]
    assert b"home" in responses["http://www.alpha.test/"]
    assert all(MARK.encode() not in body for body in responses.values())


def test_progress_line_and_summary(crawl: dict[str, Any]) -> None:
    """A progress line (pages/s, stored, skipped by reason) and the end-of-crawl summary."""
    proc = crawl["proc"]
    assert "pages/s" in proc.stderr
    assert "skipped (robots " in proc.stderr
    assert "Crawl finished:" in proc.stdout
    assert "skipped-robots" in proc.stdout
    assert "Audit:" in proc.stdout


def test_scope_all_depth_and_page_limits(tmp_path: Path) -> None:
    """--scope all follows beta.test; --depth 1 stops at /d1; --max-pages caps page requests."""
    with VirtualWeb() as web:
        build(web)
        proc = run_heed(
            web,
            "crawl",
            "http://www.alpha.test/",
            "--scope", "all",
            "--depth", "1",
            "--db", str(tmp_path / "all.db"),
            "--out", str(tmp_path / "all"),
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        urls = set(page_urls(web))
        assert "http://beta.test/" in urls
        assert "http://www.alpha.test/d1" in urls
        assert "http://www.alpha.test/d2" not in urls  # depth 2
        assert "http://beta.test/b2" not in urls
        web.clear_log()
        proc = run_heed(
            web,
            "crawl",
            "http://www.alpha.test/",
            "--max-pages", "4",
            "--db", str(tmp_path / "max.db"),
            "--out", str(tmp_path / "max"),
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        # The page budget counts attempts: a redirect hop is a decision, not another page.
        sql = "SELECT count(*) FROM decision WHERE action <> 'redirected'"
        attempts = query(tmp_path / "max.db", sql)[0][0]
        assert attempts == 4
        assert len({REDIRECTS.get(u, u) for u in page_urls(web)}) <= 4


def test_json_line_keeps_non_ascii_text_as_it_is() -> None:
    """A dataset line is one line of UTF-8 JSON; non-ASCII text is kept, not escaped, and
    control characters are escaped (the line stays one line)."""
    from crawler.pipelines import json_line

    record = {"decision_id": 7, "text": "Grüße — 東京\nnext\u2028line", "redirect_urls": []}
    line = json_line(record)
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    assert "Grüße — 東京".encode() in line
    assert json.loads(line) == record
    assert line.startswith(b'{"decision_id":7')
