"""robots.txt fetch outcomes (docs/protocols.md#robotstxt-status-codes, vectors F01-F14): never
fail open."""

from __future__ import annotations

from typing import Any

import pytest

from optout.decision import Crawl, Policy
from optout.document import FetchResult, normalize_headers
from optout.robots_fetch import cache_ttl, keep_last_good, outcome
from tests.optout.vectors import load

URL = "https://example.com/robots.txt"
CASES = {c["id"]: c for c in load("robots_fetch")}


def _result(status: int | None, **kw: Any) -> FetchResult:
    return FetchResult(url=URL, status=status, **kw)


@pytest.mark.parametrize("status", CASES["F01"]["inputs"]["robots_status"])
def test_f01_not_found_allows_all(status: int) -> None:
    """F01: 404/410 means no robots.txt: crawl allowed, logged as unavailable."""
    out = outcome(_result(status), Policy())
    assert out.crawl_all is Crawl.ALLOW
    assert "robots_unavailable" in out.flags


def test_f02_forbidden_disallows_by_default() -> None:
    """F02: 401/403 disallow unless robots_403_allow (RFC: MAY allow)."""
    assert outcome(_result(403), Policy()).crawl_all is Crawl.DISALLOW
    assert outcome(_result(401), Policy()).crawl_all is Crawl.DISALLOW
    assert outcome(_result(403), Policy(robots_403_allow=True)).crawl_all is Crawl.ALLOW


def test_f03_rate_limited_defers_for_retry_after() -> None:
    """F03: 429 defers all requests for Retry-After seconds."""
    out = outcome(_result(429, headers=normalize_headers({"Retry-After": "120"})), Policy())
    assert out.crawl_all is Crawl.DEFER
    assert out.retry_after == 120
    assert out.ttl == 120


@pytest.mark.parametrize("status", [500, 502, 503, 504, 599])
def test_f04_server_error_defers_and_is_not_cached(status: int) -> None:
    """F04: 5xx means complete disallow (DEFER); the failure is not cached."""
    out = outcome(_result(status, body=b"User-agent: *\nAllow: /"), Policy())
    assert out.crawl_all is Crawl.DEFER
    assert out.robots is None
    assert out.ttl == 0
    assert not out.usable


@pytest.mark.parametrize("error", ["dns", "connection", "connection_reset", "timeout", "tls"])
def test_f05_network_errors_defer(error: str) -> None:
    """F05: DNS failure, reset, TLS error, read timeout: DEFER."""
    out = outcome(FetchResult(url=URL, error=error), Policy())
    assert out.crawl_all is Crawl.DEFER
    assert out.signal is not None
    assert error in out.signal.reason


def test_f06_rules_of_the_final_file_apply() -> None:
    """F06: after redirects (within the limit) the final file's rules are parsed."""
    out = outcome(_result(200, body=b"User-agent: *\nDisallow: /", redirects=2), Policy())
    assert out.robots is not None
    assert out.robots.can_fetch("/x", "HeedBot")[0] is False


def test_f07_more_than_five_redirects_disallow() -> None:
    """F07: six consecutive redirects: unreachable, DISALLOW."""
    assert outcome(_result(200, redirects=6), Policy()).crawl_all is Crawl.DISALLOW
    assert (
        outcome(_result(301, error="too_many_redirects", redirects=6), Policy()).crawl_all
        is Crawl.DISALLOW
    )
    assert outcome(_result(200, redirects=5), Policy()).crawl_all is None


def test_f08_html_body_parses_to_allow_and_is_logged() -> None:
    """F08: a 200 HTML login page yields no rules (allow) and the flag robots_html_body."""
    body = b"<!DOCTYPE html><html><body><form>login</form></body></html>"
    out = outcome(_result(200, body=body), Policy())
    assert out.robots is not None
    assert "robots_html_body" in out.flags
    assert (
        outcome(_result(200, body=body), Policy(robots_html_strict=True)).crawl_all is Crawl.DEFER
    )


@pytest.mark.parametrize(
    ("header", "ttl"),
    [("max-age=3600", 3600), ("public, max-age=604800", 86400), ("no-store", 0), (None, 86400)],
)
def test_f09_f10_ttl_is_max_age_capped_at_a_day(header: str | None, ttl: int) -> None:
    """F09/F10: refresh after max-age, never later than 24 h."""
    headers = normalize_headers({"Cache-Control": header} if header else {})
    assert cache_ttl(headers) == ttl


def test_f11_refresh_error_keeps_last_good_copy() -> None:
    """F11/X08: a good cached copy survives a 503 refresh, flagged stale; X09: none ⇒ DEFER."""
    good = outcome(_result(200, body=b"User-agent: *\nAllow: /"), Policy())
    failed = outcome(_result(503), Policy())
    kept = keep_last_good(good, failed)
    assert kept.robots is good.robots
    assert "stale" in kept.flags
    assert keep_last_good(None, failed).crawl_all is Crawl.DEFER
    assert keep_last_good(failed, failed).crawl_all is Crawl.DEFER


def test_f13_truncated_body_defers() -> None:
    """F13: a body cut before Content-Length is unreachable, not a short file."""
    assert (
        outcome(FetchResult(url=URL, status=200, error="truncated"), Policy()).crawl_all
        is Crawl.DEFER
    )


def test_vectors_are_all_covered() -> None:
    """Every F vector has a test here, or (F12, F14) in the live-check tests."""
    assert set(CASES) == {f"F{n:02d}" for n in range(1, 15)}


@pytest.mark.parametrize("status", [100, 204, 302, 418, 451])
def test_odd_statuses_never_crash(status: int) -> None:
    """Any status maps to an explicit verdict or to rules."""
    out = outcome(_result(status), Policy())
    assert out.robots is not None or out.crawl_all is not None


def test_a_non_ascii_digit_in_retry_after_is_no_delay() -> None:
    """``Retry-After: ²`` (a superscript digit: isdigit() but not a number) is ignored, never a
    crash; the 429 still defers."""
    from optout.robots_fetch import retry_after

    assert retry_after((("retry-after", "²"),)) is None
    assert retry_after((("retry-after", "١٢"),)) is None
    assert retry_after((("retry-after", "120"),)) == 120.0
    result = FetchResult(
        url="http://a.test/robots.txt", status=429, headers=(("retry-after", "²"),)
    )
    assert outcome(result, Policy()).crawl_all is Crawl.DEFER
