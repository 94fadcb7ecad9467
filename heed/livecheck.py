"""The live check behind ``heed check``: fetch an origin's signal documents with httpx, then decide.

Per origin (scheme + host + port, F12) robots.txt, ``/.well-known/tdmrep.json`` and ``/ai.txt``
are fetched once per invocation, origins in parallel; RSL licences named by robots.txt follow.
A page is requested only when robots.txt allows it (never when robots.txt is unusable: the
engine says DEFER or DISALLOW and nothing is sent). Page redirects are followed by hand so that
every hop's origin is checked before the hop is requested (F14). Clients honour ``HTTP_PROXY`` /
``HTTPS_PROXY`` (httpx ``trust_env``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpx

from optout import rsl
from optout.decision import DEFAULT_POLICY, Crawl, Decision, Policy, Signal, Use, combine
from optout.document import FetchResult, normalize_headers
from optout.robots_fetch import outcome
from optout.site import Site, SiteDocuments

#: Size caps (bytes). robots.txt: the policy's parse limit plus room to notice truncation.
ROBOTS_CAP = DEFAULT_POLICY.robots_parse_limit + 1
TDMREP_CAP = 1024 * 1024
PAGE_CAP = 2 * 1024 * 1024
MAX_PAGE_REDIRECTS = 10
MAX_LICENSES = 3


def origin_of(url: str) -> str:
    """Return ``scheme://host[:port]`` of *url* (default ports dropped); raise ValueError if invalid."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port  # raises ValueError on a bad port
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = 80 if scheme == "http" else 443
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _error_kind(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "truncated" if "incomplete" in str(exc).lower() else "protocol_error"
    if isinstance(exc, httpx.ConnectError):
        return (
            "dns"
            if "name" in str(exc).lower() and "resolution" in str(exc).lower()
            else "connection"
        )
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return "connection_reset"
    if isinstance(exc, httpx.DecodingError):
        return "decoding_error"
    return type(exc).__name__


async def fetch(
    client: httpx.AsyncClient, url: str, *, cap: int, max_redirects: int, redirects_seen: int = 0
) -> FetchResult:
    """GET *url* following up to *max_redirects* redirects; read at most *cap* bytes; never raise."""
    hops = redirects_seen
    current = url
    while True:
        try:
            async with client.stream("GET", current) as resp:
                if resp.is_redirect and "location" in resp.headers:
                    if hops >= max_redirects:
                        return FetchResult(
                            url=url,
                            status=resp.status_code,
                            headers=normalize_headers(resp.headers.multi_items()),
                            error="too_many_redirects",
                            redirects=hops + 1,
                            final_url=current,
                            fetched_at=_now(),
                        )
                    current = urljoin(current, resp.headers["location"])
                    hops += 1
                    continue
                body = bytearray()
                truncated = False
                async for chunk in resp.aiter_bytes():
                    body += chunk
                    if len(body) >= cap:
                        truncated = True
                        break
                return FetchResult(
                    url=url,
                    status=resp.status_code,
                    headers=normalize_headers(resp.headers.multi_items()),
                    body=bytes(body[:cap]),
                    redirects=hops,
                    final_url=current,
                    fetched_at=_now(),
                    truncated=truncated,
                )
        except (httpx.HTTPError, OSError, ValueError) as exc:
            return FetchResult(
                url=url,
                error=_error_kind(exc),
                redirects=hops,
                final_url=current,
                fetched_at=_now(),
            )


@dataclass
class CheckResult:
    """One URL's answer: the decision, or the reason no decision could be made."""

    url: str
    decision: Decision
    final_url: str | None = None
    page_status: int | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """Return the ``--json`` line object."""
        data = self.decision.to_dict()
        data["url"] = self.url
        data["final_url"] = self.final_url
        data["page_status"] = self.page_status
        return data


def invalid_url_result(url: str, why: str, policy: Policy) -> CheckResult:
    """Return the result line for a URL that cannot be checked at all."""
    base = combine(url, (), policy=policy, complete=False)
    decision = replace(base, crawl=Crawl.DISALLOW, use=Use.UNKNOWN, notes=(f"invalid URL: {why}",))
    return CheckResult(url=url, decision=decision)


class LiveChecker:
    """Checks URLs against live servers, fetching each origin's documents once."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        token: str,
        policy: Policy = DEFAULT_POLICY,
        fetch_ai_txt: bool = True,
    ) -> None:
        self.client = client
        self.token = token
        self.policy = policy
        self.fetch_ai_txt = fetch_ai_txt
        self._sites: dict[str, asyncio.Task[Site]] = {}

    def site(self, origin: str) -> asyncio.Task[Site]:
        """Return the (shared) task that builds *origin*'s :class:`Site`."""
        task = self._sites.get(origin)
        if task is None:
            task = asyncio.ensure_future(self._load_site(origin))
            self._sites[origin] = task
        return task

    async def _load_site(self, origin: str) -> Site:
        policy = self.policy
        robots_f = fetch(
            self.client,
            origin + "/robots.txt",
            cap=ROBOTS_CAP,
            max_redirects=policy.robots_max_redirects,
        )
        tdm_f = fetch(
            self.client, origin + "/.well-known/tdmrep.json", cap=TDMREP_CAP, max_redirects=5
        )
        jobs = [robots_f, tdm_f]
        if self.fetch_ai_txt:
            jobs.append(fetch(self.client, origin + "/ai.txt", cap=TDMREP_CAP, max_redirects=5))
        results = await asyncio.gather(*jobs)
        robots, tdmrep = results[0], results[1]
        ai_txt = results[2] if self.fetch_ai_txt else None
        robots_outcome = outcome(robots, policy)
        licences: dict[str, FetchResult] = {}
        if robots_outcome.robots is not None:
            # RSL licences named by robots.txt are site-level documents too: fetch them before
            # compiling the site, so that every document is parsed exactly once.
            urls = [u for u, _line, _flag in rsl.license_urls(robots_outcome.robots, robots.url)]
            urls = urls[:MAX_LICENSES]
            fetched = await asyncio.gather(
                *(fetch(self.client, u, cap=TDMREP_CAP, max_redirects=5) for u in urls)
            )
            licences = dict(zip(urls, fetched, strict=True))
        docs = SiteDocuments(
            origin=origin, robots=robots, tdmrep=tdmrep, ai_txt=ai_txt, licenses=licences
        )
        return Site(docs, token=self.token, policy=policy, robots_outcome=robots_outcome)

    async def check(self, url: str) -> CheckResult:
        """Return the decision for *url*, requesting it only if robots.txt allows."""
        try:
            origin = origin_of(url)
        except ValueError as exc:
            return invalid_url_result(url, str(exc), self.policy)
        site = await self.site(origin)
        before = site.before_request(url)
        if before.crawl is not Crawl.ALLOW:
            return CheckResult(url=url, decision=before)
        via: list[tuple[Site, str]] = []
        current, current_site = url, site
        for _hop in range(MAX_PAGE_REDIRECTS + 1):
            response = await fetch(self.client, current, cap=PAGE_CAP, max_redirects=0)
            location = next(iter(response.header("location")), None)
            if response.error == "too_many_redirects" and location:
                nxt = urljoin(current, location)
                try:
                    nxt_site = await self.site(origin_of(nxt))
                except ValueError as exc:
                    return self._stopped(url, before, f"redirect to an invalid URL ({exc})")
                hop = nxt_site.before_request(nxt)
                if hop.crawl is not Crawl.ALLOW:
                    return self._stopped(
                        url,
                        before,
                        f"redirect to {nxt} not followed: {hop.reasons[0]}",
                        hop.signals,
                    )
                via.append((current_site, current))
                current, current_site = nxt, nxt_site
                continue
            decision = current_site.after_response(current, response, via=via)
            return CheckResult(
                url=url,
                decision=decision,
                final_url=current,
                page_status=response.status,
                notes=[f"page fetch failed: {response.error}"] if response.error else [],
            )
        return self._stopped(url, before, f"more than {MAX_PAGE_REDIRECTS} redirects")

    def _stopped(
        self, url: str, before: Decision, why: str, extra: Sequence[Signal] = ()
    ) -> CheckResult:
        signals = (*before.signals, *extra)
        base = combine(url, signals, policy=self.policy, complete=False)
        crawl = Crawl.DISALLOW if base.crawl is Crawl.DISALLOW else Crawl.DEFER
        decision = replace(base, crawl=crawl, notes=(why, *base.notes))
        return CheckResult(url=url, decision=decision)


async def check_urls(
    urls: Sequence[str],
    *,
    token: str,
    user_agent: str,
    timeout: float,
    policy: Policy = DEFAULT_POLICY,
    concurrency: int = 16,
) -> list[CheckResult]:
    """Check every URL (origins in parallel) and return the results in input order."""
    limits = httpx.Limits(max_connections=concurrency * 2)
    async with httpx.AsyncClient(
        headers={"User-Agent": user_agent},
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=True,
        limits=limits,
    ) as client:
        checker = LiveChecker(client, token=token, policy=policy)
        gate = asyncio.Semaphore(concurrency)

        async def one(u: str) -> CheckResult:
            async with gate:
                return await checker.check(u)

        return list(await asyncio.gather(*(one(u) for u in urls)))
