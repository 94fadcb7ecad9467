"""The per-origin document cache (crawler/sitecache.py): sharing, TTL, keep-last-good, LRU.

No network and no Scrapy engine: the cache's fetch function is an in-memory table of
FetchResults (what the engine-backed DocumentFetcher returns), and the clock is a variable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from crawler.sitecache import SiteCache
from optout.decision import DEFAULT_POLICY, Crawl, Policy, Use
from optout.document import FetchResult
from optout.robots_fetch import MAX_TTL
from optout.site import Site, SiteDocuments

T = TypeVar("T")
ORIGIN = "http://a.test"
ROBOTS = ORIGIN + "/robots.txt"
TDMREP = ORIGIN + "/.well-known/tdmrep.json"
AI_TXT = ORIGIN + "/ai.txt"


def run(coro: Awaitable[T]) -> T:
    """Run *coro* on a fresh event loop."""

    async def main() -> T:
        return await coro

    return asyncio.run(main())


def ok(url: str, body: str, **headers: str) -> FetchResult:
    """Return a 200 retrieval of *url*."""
    pairs = tuple((k.replace("_", "-").lower(), v) for k, v in headers.items())
    return FetchResult(url=url, status=200, body=body.encode(), headers=pairs)


def status(url: str, code: int, **headers: str) -> FetchResult:
    """Return a body-less retrieval of *url* with status *code*."""
    pairs = tuple((k.replace("_", "-").lower(), v) for k, v in headers.items())
    return FetchResult(url=url, status=code, headers=pairs)


class Web:
    """An in-memory web for the cache: URL → FetchResult (404 otherwise), with a call log."""

    def __init__(self, pages: dict[str, FetchResult] | None = None) -> None:
        self.pages = dict(pages or {})
        self.calls: list[tuple[str, str]] = []
        self.gate: asyncio.Event | None = None

    async def __call__(self, url: str, kind: str) -> FetchResult:
        self.calls.append((url, kind))
        if self.gate is not None:
            await self.gate.wait()
        await asyncio.sleep(0)  # let other tasks run, as a real fetch would
        return self.pages.get(url) or status(url, 404)

    def count(self, url: str) -> int:
        """Return how often *url* was fetched."""
        return sum(u == url for u, _ in self.calls)


class Clock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def cache(web: Web, clock: Clock | None = None, **kwargs: Any) -> SiteCache:
    """Return a SiteCache over *web*."""
    kwargs.setdefault("policy", DEFAULT_POLICY)
    return SiteCache(web, token="HeedBot", clock=clock or Clock(), **kwargs)


def crawl_of(site: Site, path: str = "/page") -> Crawl:
    """Return the crawl verdict *site* gives for *path*."""
    return site.before_request(ORIGIN + path).crawl


def test_concurrent_requests_share_one_load() -> None:
    """Twenty concurrent gets: one robots.txt, one tdmrep.json, one ai.txt fetch, one Site."""
    web = Web({ROBOTS: ok(ROBOTS, "User-agent: *\nAllow: /\n")})
    events: list[str] = []
    sc = cache(web, on_event=events.append)

    async def go() -> list[Site]:
        return await asyncio.gather(*(sc.get(ORIGIN) for _ in range(20)))

    sites = run(go())
    assert len({id(s) for s in sites}) == 1
    assert [web.count(u) for u in (ROBOTS, TDMREP, AI_TXT)] == [1, 1, 1]
    assert events.count("miss") == 1
    assert events.count("shared") == 19


def test_origin_is_the_key() -> None:
    """http://a, https://a and http://a:8080 are three origins with three robots.txt files."""
    web = Web()
    sc = cache(web)

    async def go() -> None:
        for origin in ("http://a.test", "https://a.test", "http://a.test:8080", "http://a.test"):
            await sc.get(origin)

    run(go())
    robots = [u for u, kind in web.calls if kind == "robots"]
    assert robots == [
        "http://a.test/robots.txt",
        "https://a.test/robots.txt",
        "http://a.test:8080/robots.txt",
    ]


def test_hit_within_ttl_and_refresh_after() -> None:
    """A cached origin is reused until its TTL (max-age) passes, then fetched again."""
    web = Web({ROBOTS: ok(ROBOTS, "User-agent: *\nAllow: /\n", cache_control="max-age=120")})
    clock = Clock()
    events: list[str] = []
    sc = cache(web, clock, on_event=events.append)
    first = run(sc.get(ORIGIN))
    assert sc.expires_in(ORIGIN) == pytest.approx(120)
    clock.now += 119
    assert run(sc.get(ORIGIN)) is first
    clock.now += 2
    second = run(sc.get(ORIGIN))
    assert second is not first
    assert web.count(ROBOTS) == 2
    assert events == ["miss", "hit", "refresh"]


@pytest.mark.parametrize(
    ("cache_control", "ttl"),
    [
        ("max-age=999999", MAX_TTL),  # F10: never more than 24 h
        (None, MAX_TTL),  # no cache control: 24 h
        ("no-store", 60.0),  # zero, floored at min_ttl: not one robots.txt request per page
        ("max-age=5", 60.0),
        ("max-age=300", 300.0),
    ],
)
def test_ttl_from_cache_control(cache_control: str | None, ttl: float) -> None:
    """TTL = min(24 h, max-age) (F09, F10), never below the min_ttl floor."""
    headers = {"cache_control": cache_control} if cache_control else {}
    web = Web({ROBOTS: ok(ROBOTS, "User-agent: *\nAllow: /\n", **headers)})
    sc = cache(web, min_ttl=60.0)
    run(sc.get(ORIGIN))
    assert sc.expires_in(ORIGIN) == pytest.approx(ttl)


def test_other_documents_shorten_the_ttl() -> None:
    """tdmrep.json's own max-age, or an unreadable tdmrep.json, shortens the entry's life."""
    web = Web(
        {
            ROBOTS: ok(ROBOTS, "User-agent: *\nAllow: /\n"),
            TDMREP: ok(TDMREP, "[]", cache_control="max-age=900"),
        }
    )
    sc = cache(web)
    run(sc.get(ORIGIN))
    assert sc.expires_in(ORIGIN) == pytest.approx(900)
    web.pages[TDMREP] = status(TDMREP, 503)
    sc2 = cache(web, defer_ttl=123.0)
    run(sc2.get(ORIGIN))
    assert sc2.expires_in(ORIGIN) == pytest.approx(123)


@pytest.mark.parametrize(
    ("robots", "crawl"),
    [
        (status(ROBOTS, 503), Crawl.DEFER),
        (FetchResult(url=ROBOTS, error="timeout"), Crawl.DEFER),
        (status(ROBOTS, 429), Crawl.DEFER),
        (status(ROBOTS, 403), Crawl.DISALLOW),
        (
            FetchResult(url=ROBOTS, status=301, error="too_many_redirects", redirects=6),
            Crawl.DISALLOW,
        ),
    ],
)
def test_unusable_robots_fetches_nothing_else(robots: FetchResult, crawl: Crawl) -> None:
    """After an unreachable robots.txt or a complete disallow, no other document is requested."""
    web = Web({ROBOTS: robots})
    site = run(cache(web).get(ORIGIN))
    assert crawl_of(site) is crawl
    assert web.calls == [(ROBOTS, "robots")]


def test_unreachable_robots_is_retried_after_defer_ttl() -> None:
    """A 503 is cached for defer_ttl only (never as allow); 429 Retry-After is honoured."""
    web = Web({ROBOTS: status(ROBOTS, 503)})
    sc = cache(web, defer_ttl=600.0)
    run(sc.get(ORIGIN))
    assert sc.expires_in(ORIGIN) == pytest.approx(600)
    web.pages[ROBOTS] = status(ROBOTS, 429, retry_after="3600")
    sc2 = cache(web, defer_ttl=600.0)
    run(sc2.get(ORIGIN))
    assert sc2.expires_in(ORIGIN) == pytest.approx(3600)


def test_keep_last_good_on_refresh_error() -> None:
    """X08: robots.txt 503 on refresh, cached copy allows ⇒ allow, flagged stale; X09 otherwise."""
    good = ok(ROBOTS, "User-agent: *\nDisallow: /private\n", cache_control="max-age=100")
    web = Web({ROBOTS: good})
    clock = Clock()
    loaded: list[tuple[str, bool, SiteDocuments]] = []
    sc = cache(web, clock, on_loaded=lambda o, docs, site, stale: loaded.append((o, stale, docs)))
    run(sc.get(ORIGIN))
    clock.now += 101
    web.pages[ROBOTS] = status(ROBOTS, 503)
    stale = run(sc.get(ORIGIN))
    assert crawl_of(stale, "/page") is Crawl.ALLOW
    assert crawl_of(stale, "/private") is Crawl.DISALLOW
    assert "stale" in stale.before_request(ORIGIN + "/page").signals[0].flags
    assert stale.docs.robots is good  # the evidence is the copy actually used
    assert [s for _, s, _ in loaded] == [False, True]
    assert sc.expires_in(ORIGIN) == pytest.approx(600)  # retried after defer_ttl, not 24 h
    # Still down at the next refresh: still the good copy, not a copy of a copy.
    clock.now += 601
    again = run(sc.get(ORIGIN))
    assert again.robots_outcome.flags.count("stale") == 1
    # Back up: the fresh file wins again.
    clock.now += 601
    web.pages[ROBOTS] = ok(ROBOTS, "User-agent: *\nDisallow: /\n")
    assert crawl_of(run(sc.get(ORIGIN))) is Crawl.DISALLOW


def test_a_complete_disallow_is_not_forgotten_at_the_next_outage() -> None:
    """Allow, then 403 (complete disallow), then 503: DEFER — the old allow is not resurrected."""
    web = Web({ROBOTS: ok(ROBOTS, "User-agent: *\nAllow: /\n", cache_control="max-age=100")})
    clock = Clock()
    sc = cache(web, clock)
    run(sc.get(ORIGIN))
    for robots, crawl in (
        (status(ROBOTS, 403), Crawl.DISALLOW),
        (status(ROBOTS, 503), Crawl.DEFER),
    ):
        clock.now += MAX_TTL + 1
        web.pages[ROBOTS] = robots
        assert crawl_of(run(sc.get(ORIGIN))) is crawl


def test_lru_bound_and_recency() -> None:
    """At most max_size origins; the least recently used goes first and is fetched again later."""
    web = Web()
    events: list[str] = []
    sc = cache(web, max_size=2, on_event=events.append)
    a, b, c = "http://a.test", "http://b.test", "http://c.test"

    async def go() -> None:
        await sc.get(a)
        await sc.get(b)
        await sc.get(a)  # a is now the most recent
        await sc.get(c)  # evicts b

    run(go())
    assert len(sc) == 2
    assert a in sc
    assert c in sc
    assert b not in sc
    assert events.count("evicted") == 1
    run(sc.get(b))
    assert web.count(b + "/robots.txt") == 2


def test_an_origin_being_loaded_is_never_evicted() -> None:
    """With every entry loading, the cache goes over its bound rather than drop a shared load."""
    web = Web()
    sc = cache(web, max_size=1)

    async def go() -> list[Site]:
        web.gate = asyncio.Event()
        tasks = [asyncio.ensure_future(sc.get(o)) for o in ("http://a.test", "http://b.test")]
        await asyncio.sleep(0)
        assert len(sc) == 2
        web.gate.set()
        return await asyncio.gather(*tasks)

    assert len(run(go())) == 2
    assert len(sc) == 2  # trimmed at the next insertion
    run(sc.get("http://c.test"))
    assert len(sc) == 1


def test_a_cancelled_waiter_does_not_cancel_the_shared_load() -> None:
    """One request cancelled while waiting: the others still get the site, from one fetch."""
    web = Web()
    sc = cache(web)

    async def go() -> Site:
        web.gate = asyncio.Event()
        first = asyncio.ensure_future(sc.get(ORIGIN))
        second = asyncio.ensure_future(sc.get(ORIGIN))
        await asyncio.sleep(0)
        first.cancel()
        await asyncio.sleep(0)
        web.gate.set()
        with pytest.raises(asyncio.CancelledError):
            await first
        return await second

    assert isinstance(run(go()), Site)
    assert web.count(ROBOTS) == 1


def test_optional_documents() -> None:
    """ai.txt can be switched off; RSL licences named by robots.txt are fetched, at most N."""
    robots = (
        "User-agent: *\nAllow: /\nLicense: http://a.test/l1.xml\nLicense: http://a.test/l2.xml\n"
    )
    web = Web({ROBOTS: ok(ROBOTS, robots)})
    site = run(cache(web, fetch_ai_txt=False, max_licences=1).get(ORIGIN))
    assert web.count(AI_TXT) == 0
    assert [u for u, kind in web.calls if kind == "licence"] == ["http://a.test/l1.xml"]
    assert list(site.docs.licenses) == ["http://a.test/l1.xml"]


def test_site_level_reservation_is_known_before_the_request() -> None:
    """tdmrep.json reserving /books/ is compiled into the Site: before_request says reserved."""
    rules = '[{"location": "/books/*", "tdm-reservation": 1}]'
    web = Web({ROBOTS: ok(ROBOTS, "User-agent: *\nAllow: /\n"), TDMREP: ok(TDMREP, rules)})
    site = run(cache(web, policy=Policy()).get(ORIGIN))
    assert site.before_request(ORIGIN + "/books/1").use is Use.RESERVED
    assert site.before_request(ORIGIN + "/news/1").use is not Use.RESERVED


def test_loaded_hook_runs_before_the_site_is_used() -> None:
    """on_loaded (sync or async) sees each load's documents before any get returns."""
    web = Web({ROBOTS: ok(ROBOTS, "User-agent: *\nAllow: /\n")})
    seen: list[str] = []

    async def hook(origin: str, docs: SiteDocuments, site: Site, stale: bool) -> None:
        await asyncio.sleep(0)
        seen.append(origin)

    sc = cache(web, on_loaded=hook)

    async def go() -> None:
        await sc.get(ORIGIN)
        assert seen == [ORIGIN]

    run(go())


def test_rejects_a_cache_without_room() -> None:
    """max_size must be at least one origin."""
    fetch: Callable[[str, str], Awaitable[FetchResult]] = Web()
    with pytest.raises(ValueError, match="max_size"):
        SiteCache(fetch, token="HeedBot", policy=DEFAULT_POLICY, max_size=0)


# -- signal files obey robots.txt (issue 11) --------------------------------------------------------


def test_a_complete_disallow_fetches_no_signal_file() -> None:
    """``User-agent: *`` / ``Disallow: /``: no URL may be crawled, so nothing else is requested."""
    web = Web({ROBOTS: ok(ROBOTS, "User-agent: *\nDisallow: /\n")})
    site = run(cache(web).get(ORIGIN))
    assert web.calls == [(ROBOTS, "robots")]
    assert site.before_request(ORIGIN + "/x").crawl is Crawl.DISALLOW


def test_an_allow_rule_keeps_the_origin_crawlable() -> None:
    """``Disallow: /`` with an ``Allow: /public/``: some URLs may be crawled, files are read."""
    robots = "User-agent: *\nDisallow: /\nAllow: /public/\nAllow: /.well-known/\n"
    web = Web({ROBOTS: ok(ROBOTS, robots)})
    run(cache(web).get(ORIGIN))
    assert web.count(TDMREP) == 1
    assert web.count(AI_TXT) == 0  # /ai.txt itself is disallowed


def test_a_signal_file_robots_forbids_is_not_fetched_and_defers() -> None:
    """robots.txt forbids /.well-known/: tdmrep.json is not requested; what it could have
    reserved cannot be known, so the origin's pages may be crawled but not used (DEFER)."""
    web = Web({ROBOTS: ok(ROBOTS, "User-agent: *\nDisallow: /.well-known/\n")})
    site = run(cache(web).get(ORIGIN))
    assert web.count(TDMREP) == 0
    assert web.count(AI_TXT) == 1
    assert site.docs.tdmrep is not None
    assert site.docs.tdmrep.error == "disallowed_by_robots_txt"
    decision = site.before_request(ORIGIN + "/page")
    assert decision.crawl is Crawl.ALLOW
    assert decision.use is Use.UNKNOWN
    assert any("disallowed_by_robots_txt" in r for r in decision.reasons)


def test_a_licence_on_another_origin_obeys_that_origins_robots() -> None:
    """An RSL licence elsewhere is fetched only if that origin's robots.txt allows it; its
    robots.txt is kept with the documents as evidence."""
    other = "http://licences.test"
    robots = f"User-agent: *\nAllow: /\nLicense: {other}/closed.xml\nLicense: {ORIGIN}/own.xml\n"
    web = Web(
        {
            ROBOTS: ok(ROBOTS, robots),
            other + "/robots.txt": ok(other + "/robots.txt", "User-agent: *\nDisallow: /closed\n"),
        }
    )
    site = run(cache(web).get(ORIGIN))
    assert web.count(other + "/robots.txt") == 1
    assert web.count(other + "/closed.xml") == 0
    assert web.count(ORIGIN + "/own.xml") == 1
    assert site.docs.licenses[other + "/closed.xml"].error == "disallowed_by_robots_txt"
    assert set(site.docs.licence_robots) == {other}
