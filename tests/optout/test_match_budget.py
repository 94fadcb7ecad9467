"""Bounded robots.txt matching: a path too costly to match against a hostile file defers."""

from __future__ import annotations

from optout.decision import Crawl
from optout.document import FetchResult
from optout.site import MATCH_BUDGET, MAX_WILDCARD_RULES, Site, SiteDocuments


def site(body: str) -> Site:
    """Return the site of an origin whose robots.txt is *body*."""
    robots = FetchResult(url="http://a.test/robots.txt", status=200, body=body.encode())
    return Site(SiteDocuments(origin="http://a.test", robots=robots), token="HeedBot")


def test_a_hostile_file_defers_long_paths_instead_of_stalling() -> None:
    """5,000 wildcard rules × a 300-character path is past the budget: crawl DEFER, with the
    reason and the figures; never an allow."""
    rules = "".join(f"Disallow: /*q{i}*z$\n" for i in range(MAX_WILDCARD_RULES))
    hostile = site("User-agent: *\n" + rules)
    decision = hostile.before_request("http://a.test/" + "p" * 300)
    assert decision.crawl is Crawl.DEFER
    (signal,) = decision.signals
    assert "match_budget" in signal.flags
    assert f"{MAX_WILDCARD_RULES} wildcard rules" in signal.reason
    # A short path stays within the budget and is matched as usual.
    assert hostile.before_request("http://a.test/q7xz").crawl is Crawl.DISALLOW
    assert hostile.before_request("http://a.test/ok").crawl is Crawl.ALLOW


def test_ordinary_files_are_never_affected() -> None:
    """Literal rules cost nothing per character; a few wildcard rules allow long paths."""
    literal = site("User-agent: *\n" + "".join(f"Disallow: /p{i}/\n" for i in range(50_000)))
    assert literal.before_request("http://a.test/" + "x" * 5000).crawl is Crawl.ALLOW
    few = site("User-agent: *\nDisallow: /*.pdf$\nDisallow: /*?session=\n")
    assert few.before_request("http://a.test/" + "x" * (MATCH_BUDGET // 4)).crawl is Crawl.ALLOW


def test_a_group_too_large_to_compile_defers_the_whole_origin() -> None:
    """More wildcard rules than Heed compiles: not compiled at all (no event-loop stall), every
    URL defers, and nothing else is requested from the origin."""
    rules = "".join(f"Disallow: /*q{i}*z$\n" for i in range(MAX_WILDCARD_RULES + 1))
    hostile = site("User-agent: *\n" + rules)
    decision = hostile.before_request("http://a.test/ok")
    assert decision.crawl is Crawl.DEFER
    assert "too_many_wildcards" in decision.signals[0].flags
    assert not hostile.crawls_anything
    # Another crawler's group is unaffected.
    other = site("User-agent: HeedBot\nDisallow: /x\n\nUser-agent: *\n" + rules)
    assert other.before_request("http://a.test/ok").crawl is Crawl.ALLOW
