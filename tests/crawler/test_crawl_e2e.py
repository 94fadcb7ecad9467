"""Real Scrapy crawls through the rights-reservation middleware, against a local many-host web.

Each crawl runs in a subprocess (tests/crawler/crawlrun.py) with the project settings and the
``web`` spider. The VirtualWeb's own request log proves what was and was never requested; the
``optout_decided`` emissions, the items and the stats come back from the child as files.

Most scenarios share one crawl (one host each, ``crawl`` fixture, module scope) so that the file
stays fast; crawls that need other settings or link following run on their own.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import crawler.settings as project
from tests.crawler.crawlrun import (
    DOCUMENT_PATHS,
    CrawlOutput,
    chain_start,
    is_follow_up,
    run_crawl,
    served_requests,
)
from tests.support.virtualweb import Response, VirtualWeb

ALLOW_ALL = "User-agent: *\nAllow: /\n"
PAGE = "<html><head><title>t</title></head><body>free text</body></html>"
NOAI_META = '<html><head><meta name="robots" content="noai, noimageai"></head><body>m</body></html>'
PAYWALL = (
    '<html><head><script type="application/ld+json">{"@type": "NewsArticle", '
    '"isAccessibleForFree": false}</script></head><body>teaser</body></html>'
)
XMP_RESERVED = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:tdm="http://www.w3.org/ns/tdmrep/">'
    "<tdm:reservation>1</tdm:reservation></rdf:Description></rdf:RDF></x:xmpmeta>"
)


def pdf(xmp: str = "") -> Response:
    """Return a minimal PDF response, with *xmp* as its metadata stream when given."""
    body = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    if xmp:
        packet = xmp.encode()
        body += b"2 0 obj\n<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n" % len(packet)
        body += packet + b"\nendstream\nendobj\n"
    return Response(
        body=body + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n", content_type="application/pdf"
    )


BIG_ROBOTS = "User-agent: *\nDisallow: /early\n" + "# padding line\n" * 40_000 + "Disallow: /late\n"


def text(body: str) -> Response:
    """Return a text/plain response (robots.txt files served from odd paths)."""
    return Response(body=body, content_type="text/plain")


def html(body: str = PAGE, **kwargs: object) -> Response:
    """Return an HTML response."""
    return Response(body=body, content_type="text/html; charset=utf-8", **kwargs)  # type: ignore[arg-type]


def build_web(web: VirtualWeb) -> None:
    """Serve one host per scenario."""
    web.site(
        "open.test",
        {
            "/robots.txt": "User-agent: *\nDisallow: /private/\n",
            "/a": html(headers={"Set-Cookie": "session=abc; Path=/"}),
            "/gz": html(gzip=True),
            "/private/secret": "secret",
            "/private/hostile": "secret",
            "/to-private": Response(redirect="/private/secret"),
            "/to-a": Response(redirect="/a"),
        },
    )
    web.site("down.test", {"/robots.txt": Response(status=503), "/x": PAGE})
    web.site("reset.test", {"/robots.txt": Response(reset=True), "/x": PAGE})
    web.site("slow.test", {"/robots.txt": Response(body=ALLOW_ALL, delay=5.0), "/x": PAGE})
    web.site("crowd.test", {"/robots.txt": ALLOW_ALL, **{f"/p{i}": PAGE for i in range(20)}})
    web.site(
        "reserved.test",
        {
            "/robots.txt": ALLOW_ALL,
            "/ok": PAGE,
            "/header": html(headers={"tdm-reservation": "1"}),
            "/meta": NOAI_META,
            "/usage": html(headers={"Content-Usage": "train-ai=n"}),
            "/signal": html(headers={"Content-Signal": "ai-train=no"}),
            "/doc.pdf": pdf(XMP_RESERVED),
            "/free.pdf": pdf(),
        },
    )
    web.site(
        "tdm.test",
        {
            "/robots.txt": ALLOW_ALL,
            "/.well-known/tdmrep.json": '[{"location": "/books/*", "tdm-reservation": 1}]',
            "/books/1": PAGE,
            "/news/1": PAGE,
        },
    )
    web.site(
        "tdmdown.test",
        {"/robots.txt": ALLOW_ALL, "/.well-known/tdmrep.json": Response(status=500), "/x": PAGE},
    )
    web.site("heedbot.test", {"/robots.txt": "User-agent: HeedBot\nDisallow: /\n\n" + ALLOW_ALL})
    web.site("gptblock.test", {"/robots.txt": "User-agent: GPTBot\nDisallow: /\n\n" + ALLOW_ALL})
    # robots.txt redirected to a denylisted host: not followed (DEFER), the host never contacted.
    web.site("sneaky.test", {"/robots.txt": Response(redirect="http://www.pirate.test/robots.txt")})
    for host in ("pirate.test", "www.pirate.test"):
        web.site(host, {"/robots.txt": ALLOW_ALL, "/film": PAGE})
    web.site(
        "paywall.test",
        {
            "/robots.txt": ALLOW_ALL,
            "/forbidden": Response(status=403, body="forbidden"),
            "/unauth": Response(status=401, headers={"WWW-Authenticate": 'Basic realm="x"'}),
            "/pay": Response(status=402, body="pay"),
            "/walled": Response(redirect="/login?next=/walled"),
            "/login?next=/walled": html("<form><input type='password'></form>"),
            "/premium": html(PAYWALL),
        },
    )
    web.site(
        "hop-a.test",
        {
            "/robots.txt": ALLOW_ALL,
            "/go-secret": Response(redirect="http://hop-b.test/secret"),
            "/go-open": Response(redirect="http://hop-b.test/open"),
        },
    )
    web.site(
        "hop-b.test",
        {"/robots.txt": "User-agent: *\nDisallow: /secret\n", "/secret": PAGE, "/open": PAGE},
    )
    for host, hops in (("redir5.test", 5), ("redir6.test", 6)):
        chain = {"/robots.txt": Response(redirect="/r1")}
        chain |= {f"/r{i}": Response(redirect=f"/r{i + 1}") for i in range(1, hops)}
        chain[f"/r{hops}"] = text("User-agent: *\nDisallow: /no\n")
        web.site(host, {**chain, "/yes": PAGE, "/no": PAGE})
    web.site("big.test", {"/robots.txt": text(BIG_ROBOTS), "/early": PAGE, "/late": PAGE})
    web.site("gone.test", {"/robots.txt": Response(status=404), "/x": PAGE})
    web.site("locked.test", {"/robots.txt": Response(status=403), "/x": PAGE})
    web.site("retry.test", {"/robots.txt": ALLOW_ALL, "/flaky": Response(status=503)})
    web.site(
        "delay.test",
        {"/robots.txt": "User-agent: *\nCrawl-delay: 0.5\n", **{f"/d{i}": PAGE for i in range(3)}},
    )
    web.site(
        "capdelay.test",
        {"/robots.txt": "User-agent: *\nCrawl-delay: 60\n", **{f"/c{i}": PAGE for i in range(3)}},
    )


HOSTILE_META = {
    "dont_obey_robotstxt": True,
    "dont_redirect": True,
    "dont_retry": True,
    "dont_cache": True,
    "handle_httpstatus_all": True,
    "optout_internal": True,
    "_optout_internal": True,
}
SEEDS: list[str | dict[str, object]] = [
    "http://open.test/a",
    "http://open.test/gz",
    "http://open.test/private/secret",
    "http://open.test/to-private",
    "http://open.test/to-a",
    {"url": "http://open.test/private/hostile", "meta": HOSTILE_META},
    "http://down.test/x",
    "http://reset.test/x",
    "http://slow.test/x",
    *[f"http://crowd.test/p{i}" for i in range(20)],
    *[f"http://reserved.test/{p}" for p in ("ok", "header", "meta", "usage", "signal")],
    "http://reserved.test/doc.pdf",
    "http://reserved.test/free.pdf",
    "http://tdm.test/books/1",
    "http://tdm.test/news/1",
    "http://tdmdown.test/x",
    "http://heedbot.test/page",
    "http://gptblock.test/page",
    "http://pirate.test/film",
    "http://www.pirate.test/film",
    "http://sneaky.test/x",
    *[f"http://paywall.test/{p}" for p in ("forbidden", "unauth", "pay", "walled", "premium")],
    "http://hop-a.test/go-secret",
    "http://hop-a.test/go-open",
    "http://redir5.test/yes",
    "http://redir5.test/no",
    "http://redir6.test/yes",
    "http://big.test/early",
    "http://big.test/late",
    "http://gone.test/x",
    "http://locked.test/x",
    "http://retry.test/flaky",
    *[f"http://delay.test/d{i}" for i in range(3)],
    *[f"http://capdelay.test/c{i}" for i in range(2)],
    # A slot of its own would let this request run beside the others: it is not honoured.
    {"url": "http://capdelay.test/c2", "meta": {"download_slot": "my-own-slot"}},
    "ftp://ftp.test/file",  # not a seed Heed can request: skipped with a warning (the last line)
]
INVALID_SEEDS = ["ftp://ftp.test/file"]
#: The valid seeds: each one attempt, one decision.
SEED_URLS = [s if isinstance(s, str) else str(s["url"]) for s in SEEDS if s not in INVALID_SEEDS]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[VirtualWeb, CrawlOutput]]:
    """Crawl every scenario host once; yield the web (its request log) and the crawl's output."""
    workdir = tmp_path_factory.mktemp("crawl")
    denylist = workdir / "denylist.txt"
    denylist.write_text("# version: test-list-1\npirate.test\n", encoding="utf-8")
    settings = {
        "OPTOUT_DENYLIST": str(denylist),
        "OPTOUT_DOCUMENT_TIMEOUT": 1.0,
        "OPTOUT_ROBOTS_MAXSIZE": 512_000,
        "OPTOUT_CRAWL_DELAY_MAX": 0.6,
        "DOWNLOAD_TIMEOUT": 10,
    }
    with VirtualWeb() as web:
        build_web(web)
        out = run_crawl(web, workdir, SEEDS, settings)
        yield web, out
    web.assert_no_errors()


def page_requests(web: VirtualWeb, host: str) -> list[str]:
    """Return the paths of *host* requested, Heed's own document requests left out."""
    return [r.path for r in web.requests if r.host == host and r.path not in DOCUMENT_PATHS]


# -- every request accounted for -----------------------------------------------------------------


def test_every_attempt_has_exactly_one_final_decision(
    crawl: tuple[VirtualWeb, CrawlOutput],
) -> None:
    """One final decision per seed; each redirect hop and each retried attempt before it has a
    decision of its own (issue 11); none for Heed's documents."""
    _web, out = crawl
    finals = [chain_start(d) for d in out.decisions if not is_follow_up(d)]
    assert sorted(finals) == sorted(SEED_URLS)
    assert {chain_start(d) for d in out.decisions} == set(SEED_URLS)
    assert out.stats["optout/decisions"] == len(out.decisions)
    by_action = {k: v for k, v in out.stats.items() if k.startswith("optout/action/")}
    assert sum(by_action.values()) == len(out.decisions)
    assert out.stats["optout/action/redirected"] >= 1


def test_the_server_log_equals_the_audit_trail(crawl: tuple[VirtualWeb, CrawlOutput]) -> None:
    """Host by host, the requests the server received (method GET, URL) are exactly the
    requests the audit trail answers for: decisions on the wire plus site document retrievals."""
    web, out = crawl
    served, recorded = served_requests(web), out.wire_requests()
    assert {r.method for r in web.requests} == {"GET"}
    assert recorded == served, (recorded - served, served - recorded)


def test_every_requested_page_has_a_decision(crawl: tuple[VirtualWeb, CrawlOutput]) -> None:
    """Each page request the web saw has a decision of its own (its URL is the decision's
    request URL); robots.txt hops are Heed's own documents."""
    web, out = crawl
    decided = Counter(d["request_url"] for d in out.decisions if d["status"] or is_follow_up(d))
    robots_hops = {f"http://{h}/r{i}" for h in ("redir5.test", "redir6.test") for i in range(1, 7)}
    for request in web.requests:
        if request.path in DOCUMENT_PATHS or request.url in robots_hops:
            continue
        assert request.url in decided, request.url


NEVER = [
    "http://open.test/private/secret",
    "http://open.test/private/hostile",
    "http://down.test/x",
    "http://reset.test/x",
    "http://slow.test/x",
    "http://tdm.test/books/1",
    "http://tdmdown.test/x",
    "http://heedbot.test/page",
    "http://gptblock.test/page",
    "http://paywall.test/login?next=/walled",
    "http://hop-b.test/secret",
    "http://redir5.test/no",
    "http://redir6.test/yes",
    "http://big.test/early",
    "http://locked.test/x",
    "http://sneaky.test/x",
]


@pytest.mark.parametrize("url", NEVER)
def test_url_never_requested(crawl: tuple[VirtualWeb, CrawlOutput], url: str) -> None:
    """Disallowed, deferred, reserved, walled and redirected-into-disallowed URLs never leave."""
    web, out = crawl
    assert not web.requested(url)
    about = [d for d in out.decisions if url in (d["request_url"], chain_start(d))]
    assert about, url  # decided: as a seed, or as the hop a redirect led to
    assert all(d["action"] != "fetched-stored" for d in about)


def test_one_identity_and_no_cookies(crawl: tuple[VirtualWeb, CrawlOutput]) -> None:
    """Every request, Heed's own included, carries the one User-Agent and no cookie."""
    web, _ = crawl
    assert web.requests
    for request in web.requests:
        assert request.header("User-Agent") == project.USER_AGENT, request.url
        assert request.header("Cookie") is None, request.url


# -- robots.txt ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "error"),
    [("down.test", None), ("reset.test", "connection_reset"), ("slow.test", "timeout")],
)
def test_unreachable_robots_means_nothing_else_is_requested(
    crawl: tuple[VirtualWeb, CrawlOutput], host: str, error: str | None
) -> None:
    """robots.txt 503, connection reset or timeout: DEFER, and only robots.txt was requested."""
    web, out = crawl
    # A set: Twisted's connection pool re-sends a GET once when a reused keep-alive connection
    # is reset under it (the proxy connection is shared by every host here).
    assert {r.path for r in web.requests if r.host == host} == {"/robots.txt"}
    assert out.actions(host) == {f"http://{host}/x": "deferred"}
    (site,) = [s for s in out.sites if s["origin"] == f"http://{host}"]
    assert site["crawl_all"] == "defer"
    assert site["robots_error"] == error
    assert out.stats["web/dropped/OptoutDeferred"] >= 3


def test_robots_status_table(crawl: tuple[VirtualWeb, CrawlOutput]) -> None:
    """404: allow all (RFC 9309 §2.3.1.3); 403: complete disallow, nothing else requested (F02)."""
    web, out = crawl
    assert out.actions("gone.test") == {"http://gone.test/x": "fetched-stored"}
    assert out.actions("locked.test") == {"http://locked.test/x": "skipped-robots"}
    assert [r.path for r in web.requests if r.host == "locked.test"] == ["/robots.txt"]


def test_our_token_group_and_named_ai_blocks(crawl: tuple[VirtualWeb, CrawlOutput]) -> None:
    """A group for our token disallows; a GPTBot block at / is a reservation (X04): skipped."""
    _, out = crawl
    assert out.decision("http://heedbot.test/page")["action"] == "skipped-robots"
    blocked = out.decision("http://gptblock.test/page")
    assert blocked["action"] == "skipped-reservation"
    assert "robots.txt-ai-bot-block" in blocked["protocols"]


def test_robots_redirects_are_limited_to_five(crawl: tuple[VirtualWeb, CrawlOutput]) -> None:
    """Five robots.txt redirects are followed (rules apply); a sixth makes it unreachable."""
    web, out = crawl
    assert out.actions("redir5.test") == {
        "http://redir5.test/yes": "fetched-stored",
        "http://redir5.test/no": "skipped-robots",
    }
    five = next(s for s in out.sites if s["origin"] == "http://redir5.test")
    assert five["robots_redirects"] == 5
    six = out.decision("http://redir6.test/yes")
    assert six["action"] == "skipped-robots"
    assert any("more than 5 redirects" in r for r in six["reasons"])
    assert not web.requested("http://redir6.test/r6")  # the sixth hop is not followed
    assert page_requests(web, "redir6.test") == ["/r1", "/r2", "/r3", "/r4", "/r5"]


def test_robots_size_cap(crawl: tuple[VirtualWeb, CrawlOutput]) -> None:
    """Only OPTOUT_ROBOTS_MAXSIZE bytes are parsed: a rule before the cut applies, after it not."""
    _, out = crawl
    site = next(s for s in out.sites if s["origin"] == "http://big.test")
    assert site["robots_truncated"] is True
    assert site["robots_size"] == 512_001
    assert out.actions("big.test") == {
        "http://big.test/early": "skipped-robots",
        "http://big.test/late": "fetched-stored",
    }


def test_concurrent_requests_share_one_robots_fetch(crawl: tuple[VirtualWeb, CrawlOutput]) -> None:
    """Twenty requests to one origin at once: one robots.txt (and one tdmrep.json) request."""
    web, out = crawl
    assert web.count("http://crowd.test/robots.txt") == 1
    assert web.count("http://crowd.test/.well-known/tdmrep.json") == 1
    assert sorted(page_requests(web, "crowd.test")) == sorted(f"/p{i}" for i in range(20))
    assert set(out.actions("crowd.test").values()) == {"fetched-stored"}


def test_crawl_delay_is_honoured_and_capped(crawl: tuple[VirtualWeb, CrawlOutput]) -> None:
    """Crawl-delay 0.5 s spaces the pages; Crawl-delay 60 s is capped at OPTOUT_CRAWL_DELAY_MAX."""
    web, out = crawl
    for host, delay in (("delay.test", 0.5), ("capdelay.test", 0.6)):
        times = [r.time for r in web.requests if r.host == host and r.path not in DOCUMENT_PATHS]
        assert len(times) == 3
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert min(gaps) >= delay - 0.05, (host, gaps)
    assert out.stats["optout/crawl_delay/capped"] == 1
    assert "capped at OPTOUT_CRAWL_DELAY_MAX" in out.log


# -- redirects ---------------------------------------------------------------------------------


def test_redirect_hops_are_checked_before_they_are_requested(
    crawl: tuple[VirtualWeb, CrawlOutput],
) -> None:
    """A redirect into a disallowed area, same or other origin: the hop is never requested."""
    web, out = crawl
    same = out.decision("http://open.test/to-private")
    assert same["request_url"] == "http://open.test/private/secret"
    assert same["action"] == "skipped-robots"
    other = out.decision("http://hop-a.test/go-secret")
    assert (other["request_url"], other["action"]) == ("http://hop-b.test/secret", "skipped-robots")
    assert web.count("http://hop-b.test/robots.txt") == 1
    followed = out.decision("http://hop-a.test/go-open")
    assert followed["action"] == "fetched-stored"
    assert followed["redirect_urls"] == ["http://hop-a.test/go-open"]
    assert "http://hop-b.test/open" in out.item_urls()


# -- reservations ------------------------------------------------------------------------------


def test_reserved_content_never_reaches_the_spider(crawl: tuple[VirtualWeb, CrawlOutput]) -> None:
    """Header, noai meta, Content-Usage, Content-Signal, PDF XMP: fetched, never an item."""
    _, out = crawl
    reserved = [
        f"http://reserved.test/{p}" for p in ("header", "meta", "usage", "signal", "doc.pdf")
    ]
    for url in reserved:
        decision = out.decision(url)
        assert (decision["action"], decision["use"]) == ("fetched-excluded", "reserved"), url
    assert not set(reserved) & out.item_urls()
    assert "http://reserved.test/ok" in out.item_urls()
    assert "http://reserved.test/free.pdf" in out.item_urls()
    assert "tdmrep-pdf" in out.decision("http://reserved.test/doc.pdf")["protocols"]
    assert {i["use"] for i in out.items} == {"not-reserved"}
    assert out.stats["web/dropped/RightsReserved"] >= 5


def test_site_level_reservation_skips_the_download(crawl: tuple[VirtualWeb, CrawlOutput]) -> None:
    """tdmrep.json reserves /books/: not downloaded at all; /news/ is fetched and stored."""
    _, out = crawl
    assert out.actions("tdm.test") == {
        "http://tdm.test/books/1": "skipped-reservation",
        "http://tdm.test/news/1": "fetched-stored",
    }
    assert "tdmrep-file" in out.decision("http://tdm.test/books/1")["protocols"]


def test_unreadable_tdmrep_defers(crawl: tuple[VirtualWeb, CrawlOutput]) -> None:
    """tdmrep.json answers 500: the check cannot complete, so the page is not requested."""
    _, out = crawl
    assert out.actions("tdmdown.test") == {"http://tdmdown.test/x": "deferred"}


def test_gzip_page_is_decoded_before_the_checks(crawl: tuple[VirtualWeb, CrawlOutput]) -> None:
    """A gzip-encoded page is stored (its headers and meta were read decompressed)."""
    _, out = crawl
    assert out.decision("http://open.test/gz")["action"] == "fetched-stored"


# -- lawful access -----------------------------------------------------------------------------


def test_denylisted_domains_are_never_contacted(crawl: tuple[VirtualWeb, CrawlOutput]) -> None:
    """pirate.test and its subdomain: no request at all, not even robots.txt; version recorded."""
    web, out = crawl
    assert not [r for r in web.requests if r.host.endswith("pirate.test")]
    for url in ("http://pirate.test/film", "http://www.pirate.test/film"):
        decision = out.decision(url)
        assert decision["action"] == "denylisted"
        assert "test-list-1 (sha256:" in decision["reasons"][0]
    assert out.stats["optout/denylist/version"].startswith("test-list-1 (sha256:")
    assert out.decision("http://sneaky.test/x")["action"] == "deferred"
    assert out.stats["optout/documents/robots/error/refused"] == 1


@pytest.mark.parametrize("path", ["forbidden", "unauth", "pay"])
def test_access_restricted_status_is_requested_exactly_once(
    crawl: tuple[VirtualWeb, CrawlOutput], path: str
) -> None:
    """401/402/403: recorded access-restricted, requested once (no retry, no other identity)."""
    web, out = crawl
    url = f"http://paywall.test/{path}"
    assert web.count(url) == 1
    assert out.decision(url)["action"] == "access-restricted"


def test_login_wall_and_paywall(crawl: tuple[VirtualWeb, CrawlOutput]) -> None:
    """A redirect to a login page is not followed; paywall markup is access-restricted."""
    web, out = crawl
    walled = out.decision("http://paywall.test/walled")
    assert walled["action"] == "access-restricted"
    assert walled["request_url"] == "http://paywall.test/login?next=/walled"
    assert web.count("http://paywall.test/walled") == 1
    assert out.decision("http://paywall.test/premium")["action"] == "access-restricted"
    assert not {u for u in out.item_urls() if "paywall.test" in u}


# -- errors ------------------------------------------------------------------------------------


def test_retried_page_is_one_attempt(crawl: tuple[VirtualWeb, CrawlOutput]) -> None:
    """A 503 page is retried by Scrapy (three requests) and decided once, as an error."""
    web, out = crawl
    assert web.count("http://retry.test/flaky") == 3
    assert out.decision("http://retry.test/flaky")["action"] == "error"


def test_non_http_seed_is_skipped_with_a_warning(crawl: tuple[VirtualWeb, CrawlOutput]) -> None:
    """An ftp:// seed cannot be requested: skipped with a warning naming its line, counted,
    and the other seeds crawled; nothing is sent for it."""
    web, out = crawl
    assert out.stats["web/seeds/invalid"] == 1
    assert not [d for d in out.decisions if "ftp.test" in d["url"]]
    assert not [r for r in web.requests if r.host == "ftp.test"]
    line = len(SEEDS)
    assert (
        f"seeds.jsonl:{line}: not an http(s) URL: 'ftp://ftp.test/file' (seed skipped)" in out.log
    )


def test_stats_count_decisions_by_verdict_protocol_and_action(
    crawl: tuple[VirtualWeb, CrawlOutput],
) -> None:
    """Scrapy stats under optout/: decisions by action, crawl, use and protocol verdict."""
    _, out = crawl
    stats = out.stats
    stored = sum(d["action"] == "fetched-stored" for d in out.decisions)
    assert stats["optout/action/fetched-stored"] == stored
    assert stats["optout/use/reserved"] >= 4
    assert stats["optout/crawl/defer"] >= 3
    assert stats["optout/protocol/robots.txt/disallow"] >= 1
    assert stats["optout/protocol/tdmrep-header/reserved"] == 1
    assert stats["optout/documents/robots/status/503"] == 1
    assert stats["optout/cache/shared"] >= 19
    assert "optout/policy_digest" in stats


# -- separate crawls ---------------------------------------------------------------------------


def test_followed_links_are_checked_one_by_one(virtual_web: VirtualWeb, tmp_path: Path) -> None:
    """Link following: disallowed and reserved links are decided, never stored, each once."""
    virtual_web.site(
        "links.test",
        {
            "/robots.txt": "User-agent: *\nDisallow: /private/\n",
            "/": html(
                '<html><body><a href="/ok">ok</a> <a href="/private/x">p</a> '
                '<a href="/noai">n</a> <a href="/ok">again</a> '
                '<a href="http://elsewhere.test/">out</a></body></html>'
            ),
            "/ok": html('<html><body><a href="/">home</a></body></html>'),
            "/noai": html(NOAI_META),
            "/private/x": PAGE,
        },
    )
    out = run_crawl(virtual_web, tmp_path, ["http://links.test/"], follow=True)
    assert out.actions("links.test") == {
        "http://links.test/": "fetched-stored",
        "http://links.test/ok": "fetched-stored",
        "http://links.test/noai": "fetched-excluded",
        "http://links.test/private/x": "skipped-robots",
    }
    assert out.item_urls() == {"http://links.test/", "http://links.test/ok"}
    assert not virtual_web.requested("http://links.test/private/x")
    assert not [r for r in virtual_web.requests if r.host == "elsewhere.test"]
    assert json.loads(json.dumps(out.stats))["finish_reason"] == "finished"
