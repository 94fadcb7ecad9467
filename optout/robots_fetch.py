"""What a robots.txt retrieval outcome means for crawling (RFC 9309 §2.3-2.4,
docs/protocols.md#robotstxt-status-codes).

A pure function of status, error, redirect count and body — the status table Scrapy's stock
middleware gets wrong (it parses 5xx bodies and treats network errors as allow-all,
docs/protocols.md#scrapys-robots-middleware):

=========================  =============================================================
2xx                        parse; an HTML page with no rules is logged (F08)
3xx left unresolved        unreachable ⇒ DEFER
> max redirects            unreachable ⇒ DISALLOW (F07; RFC MAY treat as unavailable)
401 / 403                  DISALLOW unless ``robots_403_allow`` (F02; RFC says MAY allow)
429                        DEFER for Retry-After (F03)
other 4xx                  unavailable ⇒ ALLOW all (F01)
5xx, network error,        unreachable ⇒ DEFER: "MUST assume complete disallow" (§2.3.1.4)
truncated body
2xx not readable as text   DEFER, as unreachable (below)
=========================  =============================================================

Decoding (:func:`optout.charset.decode_robots`): RFC 9309 §2.3 says the file is UTF-8. A
byte-order mark names the encoding actually used (UTF-8, UTF-16LE/BE, UTF-32LE/BE) and is
honoured. Without one the file is read as UTF-8, a stray non-UTF-8 byte becoming U+FFFD (flag
``robots_non_utf8``), as before: URL normalisation maps such a byte in a URL to U+FFFD as well,
so a rule written in Latin-1 keeps matching the URLs written with its bytes. A 2xx body that is not text at all (NUL characters —
UTF-16 without a BOM, binary data — or many control characters) is not "an empty robots.txt":
rules may be there that Heed cannot read, so the origin is deferred like an unreachable file
(flag ``robots_undecodable``) and the file fetched again later.

Caching helpers: TTL = min(24 h, max-age) (F09, F10) and keep-last-good on refresh errors (F11).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from optout.decision import Crawl, Policy, Protocol, Signal
from optout.document import FetchResult, HeaderPairs, header_values
from optout.robots import PARSER, RobotsTxt, parse

#: RFC 9309 §2.4: "SHOULD NOT use the cached version for more than 24 hours".
MAX_TTL = 24 * 3600.0
_MAX_AGE = re.compile(r"(?:^|[,\s])(?:s-)?max-age\s*=\s*\"?([0-9]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class RobotsOutcome:
    """A robots.txt retrieval turned into rules, or into a verdict for every URL of the origin."""

    #: Parsed rules when the file was usable (2xx), else None.
    robots: RobotsTxt | None
    #: Verdict for every URL of the origin when there are no rules to apply, else None.
    crawl_all: Crawl | None
    #: The signal recorded when ``crawl_all`` applies (evidence of the status or error).
    signal: Signal | None
    #: Seconds to wait before retrying (429 Retry-After), when the server said.
    retry_after: float | None = None
    #: Seconds this outcome may be cached (successes and 4xx; errors are retried sooner).
    ttl: float = MAX_TTL
    flags: tuple[str, ...] = ()

    @property
    def usable(self) -> bool:
        """Return True if the outcome is a good copy worth keeping for later refresh failures."""
        return self.robots is not None or self.crawl_all is Crawl.ALLOW


def cache_ttl(headers: HeaderPairs) -> float:
    """Return the cache lifetime of a robots.txt response: max-age capped at 24 h (F09, F10)."""
    for value in header_values(headers, "cache-control"):
        if "no-store" in value.lower() or "no-cache" in value.lower():
            return 0.0
        m = _MAX_AGE.search(value)
        if m:
            return min(MAX_TTL, float(m.group(1)))
    return MAX_TTL


def retry_after(headers: HeaderPairs) -> float | None:
    """Return the Retry-After delay in seconds when it is given as a number (F03)."""
    for value in header_values(headers, "retry-after"):
        value = value.strip()
        if value.isascii() and value.isdigit():  # "²".isdigit() is True, float("²") fails
            return float(value)
    return None


def outcome(result: FetchResult, policy: Policy) -> RobotsOutcome:
    """Return what a robots.txt retrieval means for every URL of its origin.

    The table in docs/protocols.md#robotstxt-status-codes.
    """
    status, error = result.status, result.error

    def verdict(
        crawl: Crawl,
        reason: str,
        *,
        ttl: float,
        wait: float | None = None,
        flags: tuple[str, ...] = (),
    ) -> RobotsOutcome:
        sig = Signal(
            protocol=Protocol.ROBOTS_TXT,
            crawl=crawl,
            reason=reason,
            source=result.url,
            status=status,
            sha256=result.sha256 if result.body else None,
            parser=PARSER,
            fetched_at=result.fetched_at,
            flags=flags,
        )
        return RobotsOutcome(
            robots=None, crawl_all=crawl, signal=sig, retry_after=wait, ttl=ttl, flags=flags
        )

    if result.redirects > policy.robots_max_redirects or error == "too_many_redirects":
        return verdict(
            Crawl.DISALLOW,
            f"robots.txt unreachable: more than {policy.robots_max_redirects} redirects",
            ttl=3600.0,
        )
    if error is not None or status is None:
        # Network error, timeout, truncated body: unreachable ⇒ complete disallow, retried later.
        return verdict(Crawl.DEFER, f"robots.txt unreachable ({error or 'no response'})", ttl=0.0)
    if 200 <= status < 300:
        robots = parse(result.body, limit=policy.robots_parse_limit)
        flags = tuple(f"robots_{n}" for n in robots.notes)
        if "undecodable" in robots.notes:
            # NUL or control bytes: UTF-16/32 without a BOM, or not text at all. Rules it may
            # hold cannot be read, so it cannot be "empty": unreadable ⇒ complete disallow.
            return verdict(
                Crawl.DEFER,
                "robots.txt is not readable as text (NUL or control bytes; RFC 9309: UTF-8)",
                ttl=3600.0,
                flags=flags,
            )
        if "html_body" in robots.notes and policy.robots_html_strict:
            return verdict(Crawl.DEFER, "robots.txt answered with an HTML page", ttl=3600.0)
        return RobotsOutcome(
            robots=robots, crawl_all=None, signal=None, ttl=cache_ttl(result.headers), flags=flags
        )
    if status in (401, 403):
        if policy.robots_403_allow:
            return verdict(
                Crawl.ALLOW,
                f"robots.txt {status}: treated as unavailable (policy robots_403_allow)",
                ttl=cache_ttl(result.headers),
                flags=("robots_unavailable",),
            )
        return verdict(
            Crawl.DISALLOW,
            f"robots.txt {status}: access to it refused, complete disallow",
            ttl=cache_ttl(result.headers),
        )
    if status == 429:
        wait = retry_after(result.headers)
        return verdict(Crawl.DEFER, "robots.txt 429: rate limited", wait=wait, ttl=wait or 0.0)
    if 400 <= status < 500:
        return verdict(
            Crawl.ALLOW,
            f"robots.txt {status}: unavailable, no crawl restrictions (RFC 9309 §2.3.1.3)",
            ttl=cache_ttl(result.headers),
            flags=("robots_unavailable",),
        )
    # 5xx, unresolved 3xx and anything stranger: unreachable.
    return verdict(
        Crawl.DEFER,
        f"robots.txt {status}: unreachable, complete disallow (RFC 9309 §2.3.1.4)",
        ttl=0.0,
    )


def keep_last_good(cached: RobotsOutcome | None, fresh: RobotsOutcome) -> RobotsOutcome:
    """Return the outcome to use after a refresh: a good cached copy beats an unreachable file (F11).

    RFC 9309 §2.4 allows using the cached copy beyond 24 h while the file is unreachable; Heed
    never flips to allow-all because of an outage (X08, X09).
    """
    unreachable = fresh.crawl_all is Crawl.DEFER
    if unreachable and cached is not None and cached.usable:
        return replace(cached, flags=(*cached.flags, "stale"), ttl=fresh.ttl)
    return fresh
