"""The rights-reservation middleware's parts, without a network.

docs/development.md#tests-without-a-network.

A real Crawler (``scrapy.utils.test.get_crawler``, project settings), real ``HtmlResponse``
objects; the site-level documents come from an in-memory table of FetchResults given to the
middleware's SiteCache (what the engine-backed DocumentFetcher returns in a crawl). The real
crawls are in test_crawl_e2e.py.
"""

from __future__ import annotations

import ast
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.utils.test import get_crawler

import crawler.settings as project
from crawler import defaults
from crawler.adapters import (
    error_kind,
    fetch_result,
    header_pairs,
)
from crawler.config import OptoutConfig
from crawler.denylist import Denylist, candidates
from crawler.exceptions import (
    AccessRestricted,
    Denylisted,
    FetchFailed,
    OptoutConfigError,
    OptoutDeferred,
    OptoutIgnoreRequest,
    RightsReserved,
    RobotsDisallowed,
)
from crawler.middleware import DECISION_META, RightsReservationMiddleware
from crawler.signals import optout_decided
from crawler.sitecache import SiteCache
from optout.access import access_restriction, login_redirect
from optout.action import Action
from optout.decision import Crawl, Decision, Purpose, Use
from optout.document import FetchResult
from tests.crawler.test_sitecache import Web, ok, status

T = TypeVar("T")
A = "http://a.test"
OPEN = {A + "/robots.txt": ok(A + "/robots.txt", "User-agent: *\nDisallow: /private/\n")}


def project_settings(**over: Any) -> dict[str, Any]:
    """Return crawler/settings.py's values (reactor left to get_crawler) with *over* applied."""
    values = {k: v for k, v in vars(project).items() if k.isupper() and k != "TWISTED_REACTOR"}
    # A dataset destination, so that usable pages are "stored" (the crawler is never started:
    # nothing is written there).
    values["HEED_OUT"] = "unused-dataset"
    return values | over


class Harness:
    """A middleware on a real (unstarted) crawler, its documents from an in-memory web."""

    def __init__(self, pages: dict[str, FetchResult] | None = None, **settings: Any) -> None:
        self.crawler = get_crawler(settings_dict=project_settings(**settings))
        self.mw = RightsReservationMiddleware.from_crawler(self.crawler)
        self.web = Web(pages if pages is not None else OPEN)
        self.mw.cache = SiteCache(self.web, token=self.mw.config.token, policy=self.mw.policy)
        self.decided: list[dict[str, Any]] = []
        self.crawler.signals.connect(self._record, signal=optout_decided)

    def _record(self, **kwargs: Any) -> None:
        self.decided.append(kwargs)

    @property
    def actions(self) -> list[Action]:
        """Return the actions recorded so far, in order."""
        return [d["action"] for d in self.decided]

    async def drop(self, request: Request) -> OptoutIgnoreRequest:
        """Return the exception process_request raises for *request*."""
        with pytest.raises(OptoutIgnoreRequest) as info:
            await self.mw.process_request(request)
        return info.value

    async def fetch(self, request: Request, response: Response) -> Response:
        """Pass *request* through process_request, then *response* through process_response."""
        await self.mw.process_request(request)
        return await self.mw.process_response(request, response)


def run(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine on a fresh loop (the middleware needs a running asyncio loop)."""

    async def main() -> T:
        return await make()

    return asyncio.run(main())


def html(url: str, body: str = "<html><head></head><body>hi</body></html>", **kw: Any) -> Response:
    """Return an HtmlResponse for *url*."""
    return HtmlResponse(url, body=body.encode(), encoding="utf-8", **kw)


# -- project settings --------------------------------------------------------------------------


def test_project_settings_swap_the_robots_middleware_and_close_remote_access() -> None:
    """Ours at 100 in place of RobotsTxtMiddleware; telnet and RemoteControl off; no cookies."""
    mws = project.DOWNLOADER_MIDDLEWARES
    assert mws["scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware"] is None
    assert mws["crawler.middleware.RightsReservationMiddleware"] == 100
    assert project.TELNETCONSOLE_ENABLED is False
    assert project.REMOTE_CONTROL_ENABLED is False
    assert project.EXTENSIONS["scrapy.extensions.remote_control.RemoteControl"] is None
    assert project.EXTENSIONS["scrapy.extensions.telnet.TelnetConsole"] is None
    assert project.COOKIES_ENABLED is False
    assert not {401, 402, 403} & set(project.RETRY_HTTP_CODES)
    assert project.OPTOUT_USER_AGENT_TOKEN in project.USER_AGENT
    assert project.USER_AGENT.startswith("Mozilla/5.0 (compatible; HeedBot/")


def test_every_heed_setting_is_commented() -> None:
    """Each OPTOUT_*/HEED_* setting in defaults.py has a comment right above it (the settings
    table), and the project's settings.py carries every one of them."""
    lines = Path(defaults.__file__).read_text(encoding="utf-8").splitlines()
    names = [n for n in vars(defaults) if n.startswith(("OPTOUT_", "HEED_"))]
    assert len(names) >= 25
    assert {n for n in vars(project) if n.startswith(("OPTOUT_", "HEED_"))} == set(names)
    for name in names:
        (index,) = [i for i, line in enumerate(lines) if line.startswith((f"{name} ", f"{name}:"))]
        assert lines[index - 1].startswith("#"), name


def test_defaults_module_imports_nothing() -> None:
    """crawler/defaults.py is import-free (Scrapy's default_settings.py is the model), so that
    anything may read Heed's defaults without loading the crawler."""
    tree = ast.parse(Path(defaults.__file__).read_text(encoding="utf-8"))
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]


def test_disabled_by_optout_enabled() -> None:
    """OPTOUT_ENABLED = False is the one switch that turns the checks off (NotConfigured)."""
    with pytest.raises(NotConfigured):
        run(lambda: _build(OPTOUT_ENABLED=False))


async def _build(**settings: Any) -> RightsReservationMiddleware:
    return RightsReservationMiddleware.from_crawler(
        get_crawler(settings_dict=project_settings(**settings))
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"COOKIES_ENABLED": True}, "COOKIES_ENABLED"),
        ({"RETRY_HTTP_CODES": [500, 403]}, "RETRY_HTTP_CODES"),
        ({"ROBOTSTXT_OBEY": True}, "ROBOTSTXT_OBEY"),
        ({"OPTOUT_USER_AGENT_TOKEN": "Heed Bot/1.0"}, "product token"),
        ({"OPTOUT_USER_AGENT_TOKEN": "*"}, "product token"),
        ({"OPTOUT_ROBOTS_MAXSIZE": 100_000}, "at least 512000 bytes"),
        ({"OPTOUT_POLICY": {"robots_403_alow": True}}, "unknown knobs"),
        ({"OPTOUT_POLICY": {"purpose": "gossip"}}, "purpose"),
        ({"OPTOUT_POLICY": {"robots_403_allow": "yes"}}, "true or false"),
        ({"OPTOUT_POLICY": {"robots_parse_limit": 10**7}}, "OPTOUT_ROBOTS_MAXSIZE"),
        ({"OPTOUT_CRAWL_DELAY_MAX": 0}, "OPTOUT_CRAWL_DELAY_MAX"),
        ({"OPTOUT_DENYLIST": "/nonexistent/denylist.txt"}, "OPTOUT_DENYLIST"),
    ],
)
def test_unsafe_settings_stop_the_crawl(settings: dict[str, Any], message: str) -> None:
    """A setting that would weaken compliance raises at start-up instead of being ignored."""
    with pytest.raises(OptoutConfigError, match=message):
        run(lambda: _build(**settings))


def test_config_from_settings() -> None:
    """Policy knobs, the robots.txt limit and the redirect cap come from the settings."""
    mw = run(
        lambda: _build(
            OPTOUT_POLICY={"purpose": "tdm", "robots_403_allow": True},
            OPTOUT_ROBOTS_MAXSIZE=600_000,
            OPTOUT_MAX_PAGE_REDIRECTS=50,
        )
    )
    assert mw.policy.purpose is Purpose.TDM
    assert mw.policy.robots_403_allow is True
    assert mw.policy.robots_parse_limit == 600_000
    assert mw.config.max_page_redirects == 19  # below REDIRECT_MAX_TIMES (20)
    assert mw.config.user_agent == project.USER_AGENT


def test_defaults_apply_outside_the_project() -> None:
    """Enabled in another project without OPTOUT_* settings, Heed's defaults apply."""
    crawler = get_crawler(settings_dict={"COOKIES_ENABLED": False})
    config = OptoutConfig.from_settings(crawler.settings)
    assert config.token == project.OPTOUT_USER_AGENT_TOKEN
    assert config.crawl_delay_max == project.OPTOUT_CRAWL_DELAY_MAX


# -- before the request ------------------------------------------------------------------------


def test_disallowed_request_is_dropped_with_its_decision() -> None:
    """robots.txt disallows: RobotsDisallowed (an IgnoreRequest) carrying the decision; one signal."""

    async def go() -> None:
        h = Harness()
        exc = await h.drop(Request(A + "/private/x"))
        assert isinstance(exc, RobotsDisallowed)
        assert isinstance(exc, IgnoreRequest)
        assert exc.action is Action.SKIPPED_ROBOTS
        assert exc.decision.crawl is Crawl.DISALLOW
        assert "Disallow: /private/" in exc.decision.reasons[0]
        assert h.actions == [Action.SKIPPED_ROBOTS]
        assert h.decided[0]["decision"] is exc.decision
        assert h.decided[0]["response"] is None
        stats = h.crawler.stats
        assert stats is not None
        assert stats.get_value("optout/action/skipped-robots") == 1
        assert stats.get_value("optout/protocol/robots.txt/disallow") == 1

    run(go)


def test_allowed_request_passes_with_the_one_user_agent() -> None:
    """An allowed request goes on, with Heed's User-Agent whatever the spider set; no signal yet."""

    async def go() -> None:
        h = Harness()
        request = Request(A + "/page", headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0)"})
        await h.mw.process_request(request)
        assert request.headers.get("User-Agent") == project.USER_AGENT.encode()
        assert h.decided == []

    run(go)


@pytest.mark.parametrize(
    ("pages", "url", "exc_type", "action"),
    [
        (
            {A + "/robots.txt": status(A + "/robots.txt", 503)},
            A + "/x",
            OptoutDeferred,
            Action.DEFERRED,
        ),
        (
            {A + "/robots.txt": status(A + "/robots.txt", 403)},
            A + "/x",
            RobotsDisallowed,
            Action.SKIPPED_ROBOTS,
        ),
        (
            {
                **OPEN,
                A + "/.well-known/tdmrep.json": ok(
                    A + "/.well-known/tdmrep.json",
                    '[{"location": "/books/*", "tdm-reservation": 1}]',
                ),
            },
            A + "/books/1",
            RightsReserved,
            Action.SKIPPED_RESERVATION,
        ),
        (
            {**OPEN, A + "/.well-known/tdmrep.json": status(A + "/.well-known/tdmrep.json", 500)},
            A + "/books/1",
            OptoutDeferred,
            Action.DEFERRED,
        ),
        ({}, "ftp://a.test/file", FetchFailed, Action.ERROR),
    ],
    ids=["robots-503", "robots-403", "tdmrep-reserved", "tdmrep-500", "not-http"],
)
def test_requests_that_never_leave(
    pages: dict[str, FetchResult], url: str, exc_type: type[Exception], action: Action
) -> None:
    """Each reason not to send a request has its exception and action."""

    async def go() -> None:
        h = Harness(pages)
        exc = await h.drop(Request(url))
        assert type(exc) is exc_type
        assert exc.action is action
        assert h.actions == [action]

    run(go)


def test_denylisted_domain_gets_no_request_at_all(tmp_path: Path) -> None:
    """A denylisted host is dropped before even its robots.txt is fetched; the version is noted."""
    path = tmp_path / "deny.txt"
    path.write_text("# version: 2026-11\npirate.co.uk\n", encoding="utf-8")

    async def go() -> None:
        h = Harness(OPTOUT_DENYLIST=str(path))
        exc = await h.drop(Request("http://www.pirate.co.uk/film"))
        assert isinstance(exc, Denylisted)
        assert exc.action is Action.DENYLISTED
        assert "2026-11 (sha256:" in exc.decision.reasons[0]
        assert h.web.calls == []
        await h.mw.process_request(Request("http://notpirate.co.uk/"))

    run(go)


def test_redirect_hops_are_checked_and_bounded() -> None:
    """A hop to a login page is access-restricted; a hop past the redirect cap is an error."""

    async def go() -> None:
        h = Harness(OPTOUT_MAX_PAGE_REDIRECTS=2)
        walled = Request(A + "/login?next=/story", meta={"redirect_urls": [A + "/story"]})
        exc = await h.drop(walled)
        assert isinstance(exc, AccessRestricted)
        assert "login" in exc.decision.reasons[0]
        assert f"redirect hop from {A}/story" in exc.decision.notes
        looping = Request(A + "/r3", meta={"redirect_urls": [A + "/r0", A + "/r1", A + "/r2"]})
        exc = await h.drop(looping)
        assert isinstance(exc, FetchFailed)
        assert "more than 2 redirects" in exc.decision.reasons[0]
        fine = Request(A + "/story", meta={"redirect_urls": [A + "/old"]})
        await h.mw.process_request(fine)

    run(go)


def test_spiders_cannot_mark_a_request_as_internal() -> None:
    """Only the DocumentFetcher's own request objects bypass the checks: no meta key does."""

    async def go() -> None:
        h = Harness()
        internal = h.mw.fetcher._request(A + "/private/robots-like", cap=10)
        await h.mw.process_request(internal)  # Heed's own: not decided
        forged = [
            Request(A + "/private/x", meta=dict(internal.meta)),
            internal.replace(url=A + "/private/y"),
            internal.copy(),
            Request(A + "/private/z", meta={"dont_obey_robotstxt": True, "_optout_internal": 1}),
        ]
        for request in forged:
            with pytest.raises(RobotsDisallowed):
                await h.mw.process_request(request)
        assert h.actions == [Action.SKIPPED_ROBOTS] * 4

    run(go)


# -- after the response --------------------------------------------------------------------------


def test_usable_response_reaches_the_spider_with_its_decision() -> None:
    """Not reserved: the response is returned, its decision in meta, fetched-stored recorded."""

    async def go() -> None:
        h = Harness()
        request = Request(A + "/page")
        response = html(A + "/page", request=request)
        assert await h.fetch(request, response) is response
        decision = response.meta[DECISION_META]
        assert isinstance(decision, Decision)
        assert decision.use is Use.NOT_RESERVED
        assert h.actions == [Action.FETCHED_STORED]
        assert h.decided[0]["response"] is response

    run(go)


@pytest.mark.parametrize(
    ("kwargs", "exc_type", "action"),
    [
        ({"headers": {"tdm-reservation": "1"}}, RightsReserved, Action.FETCHED_EXCLUDED),
        ({"headers": {"Content-Usage": "train-ai=n"}}, RightsReserved, Action.FETCHED_EXCLUDED),
        ({"headers": {"X-Robots-Tag": "noai"}}, RightsReserved, Action.FETCHED_EXCLUDED),
        (
            {"body": '<html><head><meta name="robots" content="noai"></head></html>'},
            RightsReserved,
            Action.FETCHED_EXCLUDED,
        ),
        ({"status": 403}, AccessRestricted, Action.ACCESS_RESTRICTED),
        ({"status": 401}, AccessRestricted, Action.ACCESS_RESTRICTED),
        ({"status": 402}, AccessRestricted, Action.ACCESS_RESTRICTED),
        ({"headers": {"cf-mitigated": "challenge"}}, AccessRestricted, Action.ACCESS_RESTRICTED),
        (
            {
                "body": '<html><head><script type="application/ld+json">{"@type": "NewsArticle",'
                ' "isAccessibleForFree": false}</script></head></html>'
            },
            AccessRestricted,
            Action.ACCESS_RESTRICTED,
        ),
        ({"status": 404}, FetchFailed, Action.ERROR),
        ({"status": 503}, FetchFailed, Action.ERROR),
    ],
    ids=[
        "tdm-reservation",
        "content-usage",
        "x-robots-tag",
        "meta-noai",
        "403",
        "401",
        "402",
        "challenge",
        "paywall",
        "404",
        "503",
    ],
)
def test_responses_that_never_reach_the_spider(
    kwargs: dict[str, Any], exc_type: type[Exception], action: Action
) -> None:
    """Reserved, restricted or failed responses are recorded and dropped (never stored)."""

    async def go() -> None:
        h = Harness()
        request = Request(A + "/page")
        response = html(A + "/page", request=request, **kwargs)
        with pytest.raises(OptoutIgnoreRequest) as info:
            await h.fetch(request, response)
        assert type(info.value) is exc_type
        assert h.actions == [action]
        assert h.decided[0]["response"] is response
        assert DECISION_META not in request.meta

    run(go)


def test_redirect_hops_tdmrep_files_count_after_the_response() -> None:
    """T24: a page reached through an origin whose tdmrep.json reserves the hop is excluded."""
    b = "http://b.test"
    pages = {
        **OPEN,
        b + "/robots.txt": ok(b + "/robots.txt", "User-agent: *\nAllow: /\n"),
        b + "/.well-known/tdmrep.json": ok(
            b + "/.well-known/tdmrep.json", '[{"location": "/*", "tdm-reservation": 1}]'
        ),
    }

    async def go() -> None:
        h = Harness(pages)
        await h.mw.cache.get(b)
        request = Request(A + "/landing", meta={"redirect_urls": [b + "/go"]})
        with pytest.raises(RightsReserved):
            await h.fetch(request, html(A + "/landing", request=request))

    run(go)


def test_failed_download_is_recorded_once() -> None:
    """An error after the gate: one `error` decision, the exception left to Scrapy."""

    async def go() -> None:
        h = Harness()
        request = Request(A + "/page")
        await h.mw.process_request(request)
        await h.mw.process_exception(request, TimeoutError("slow"))
        assert h.actions == [Action.ERROR]
        assert "download failed" in h.decided[0]["decision"].reasons[0]
        # Not again for the same attempt, nor for requests that never passed the gate.
        await h.mw.process_exception(request, TimeoutError("slow"))
        await h.mw.process_exception(Request(A + "/other"), TimeoutError())
        dropped = await h.drop(Request(A + "/private/x"))
        await h.mw.process_exception(Request(A + "/private/x"), dropped)
        assert h.actions == [Action.ERROR, Action.SKIPPED_ROBOTS]

    run(go)


# -- adapters ------------------------------------------------------------------------------------


def test_fetch_result_keeps_headers_and_marks_cuts() -> None:
    """Repeated headers stay in order; Heed's cap truncates; a network cut is an error."""
    response = TextResponse(
        "http://a.test/x",
        body=b"0123456789",
        headers=[("Link", "<a>; rel=license"), ("Link", "<b>; rel=license"), ("X-A", "1")],
    )
    assert header_pairs(response) == (
        ("link", "<a>; rel=license"),
        ("link", "<b>; rel=license"),
        ("x-a", "1"),
    )
    cut = fetch_result(response, cap=4)
    assert (cut.body, cut.truncated, cut.error) == (b"0123", True, None)
    stopped = fetch_result(response.replace(flags=["download_stopped"]))
    assert stopped.truncated
    assert stopped.error is None
    lost = fetch_result(response.replace(flags=["dataloss"]))
    assert lost.error == "truncated"


def test_error_kinds() -> None:
    """Download exceptions map to the short causes FetchResult.error uses."""
    from scrapy.exceptions import CannotResolveHostError, DownloadTimeoutError
    from scrapy.exceptions import DownloadConnectionRefusedError as Refused

    assert error_kind(DownloadTimeoutError()) == "timeout"
    assert error_kind(CannotResolveHostError()) == "dns"
    assert error_kind(Refused()) == "connection"
    assert error_kind(IgnoreRequest()) == "ignored"
    assert error_kind(KeyError()) == "KeyError"


@pytest.mark.parametrize(
    ("url", "wall"),
    [
        ("http://a.test/login?next=/x", True),
        ("http://a.test/account/sign-in", True),
        ("http://a.test/subscribe", True),
        ("https://auth.a.test/auth/", True),
        ("http://a.test/author/jane", False),
        ("http://a.test/blog/logins-explained", False),
        ("http://a.test/", False),
    ],
)
def test_login_redirect(url: str, wall: bool) -> None:
    """Redirect targets that are login, registration or subscription pages."""
    assert login_redirect(url) is wall


def test_access_restriction_needs_markup_not_words() -> None:
    """An article that merely mentions paywalls is not access-restricted."""
    response = html("http://a.test/x", body="<p>isAccessibleForFree is a schema.org field</p>")
    assert access_restriction(fetch_result(response)) is None


# -- denylist ------------------------------------------------------------------------------------


def test_denylist_parse_and_version() -> None:
    """Comments, pasted URLs, *. prefixes, ports and IDN entries; version = label + sha256."""
    data = (
        "# version: EU list 2026-11\n"
        "pirate.co.uk\n"
        "https://Films.Example.com/path  # pasted URL\n"
        "*.warez.test\n"
        "bücher.de:8080\n"
        "\n"
        "not a domain\n"
    ).encode()
    deny = Denylist.parse(data, source="deny.txt")
    assert deny.domains == {"pirate.co.uk", "films.example.com", "warez.test", "xn--bcher-kva.de"}
    assert deny.label == "EU list 2026-11"
    assert deny.digest.startswith("sha256:")
    assert len(deny.digest) == 71
    assert deny.version == f"EU list 2026-11 ({deny.digest})"


@pytest.mark.parametrize(
    ("host", "entry"),
    [
        ("pirate.co.uk", "pirate.co.uk"),
        ("www.pirate.co.uk", "pirate.co.uk"),
        ("a.b.pirate.co.uk", "pirate.co.uk"),
        ("films.example.com", "films.example.com"),
        ("hd.films.example.com", "films.example.com"),
        ("example.com", None),  # the listed subdomain does not cover its parent
        ("www.example.com", None),
        ("notpirate.co.uk", None),
        ("pirate.co.uk.evil.test", None),
        ("cdn.warez.test", "warez.test"),  # private TLD: PSL default rule "*"
        ("WWW.BÜCHER.DE", "xn--bcher-kva.de"),
        ("bbc.co.uk", None),
    ],
)
def test_denylist_matches_by_registrable_domain(host: str, entry: str | None) -> None:
    """A host matches itself or a listed parent down to its registrable domain, never above."""
    deny = Denylist.parse(
        b"pirate.co.uk\nfilms.example.com\nwarez.test\nbucher.de\nxn--bcher-kva.de\nco.uk\n",
        source="t",
    )
    assert deny.match(host) == entry


def test_denylist_candidates_stop_at_the_registrable_domain() -> None:
    """Parents are tried down to eTLD+1 only: a listed public suffix blocks nothing."""
    assert candidates("a.b.example.co.uk") == [
        "a.b.example.co.uk",
        "b.example.co.uk",
        "example.co.uk",
    ]
    assert candidates("127.0.0.1") == ["127.0.0.1"]
