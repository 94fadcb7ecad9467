"""A ``heed check`` run: many URLs, origins in parallel, each answer printed as soon as it is
known, and an overall deadline so that one slow or trickling server never holds up the rest."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Sequence

import httpx

from crawler.config import OptoutConfig
from crawler.denylist import Denylist
from heed.livecheck import CheckResult, LiveChecker
from optout.action import Action, unchecked
from optout.decision import Crawl
from optout.registry import Registry


def client_for(
    config: OptoutConfig,
    user_agent: str | None,
    timeout: float,
    *,
    limits: httpx.Limits | None = None,
    verify: ssl.SSLContext | bool = True,
) -> httpx.AsyncClient:
    """Return the httpx client of a check: the crawler's identity, no redirects, the proxy
    variables honoured."""
    return httpx.AsyncClient(
        headers={"User-Agent": user_agent or config.user_agent},
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=True,
        limits=limits or httpx.Limits(max_connections=CONCURRENCY * 2),
        verify=verify,
    )


#: URLs checked at once (origins are loaded once each, in parallel).
CONCURRENCY = 16


async def check_each(
    urls: Sequence[str],
    config: OptoutConfig,
    *,
    user_agent: str | None = None,
    denylist: Denylist | None = None,
    registry: Registry | None = None,
    timeout: float = 10.0,
    page_maxsize: int = 2 * 1024 * 1024,
    deadline: float | None = None,
) -> AsyncIterator[CheckResult]:
    """Yield each URL's result as soon as it is known (origins in parallel).

    Past *deadline* seconds the checks still running are cancelled and their URLs answered
    ``defer`` (nothing was decided: try again), so one slow server never holds up the run.
    """
    async with client_for(config, user_agent, timeout) as client:
        checker = LiveChecker(
            client,
            config,
            denylist=denylist,
            registry=registry,
            timeout=timeout,
            page_maxsize=page_maxsize,
        )
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(url: str) -> CheckResult:
            async with gate:
                return await checker.check(url)

        pending = {asyncio.ensure_future(one(u)): u for u in urls}
        end = None if deadline is None else asyncio.get_running_loop().time() + deadline
        try:
            while pending:
                left = None if end is None else max(0.0, end - asyncio.get_running_loop().time())
                done, _ = await asyncio.wait(
                    pending, timeout=left, return_when=asyncio.FIRST_COMPLETED
                )
                if not done:
                    break  # the deadline passed
                for task in done:
                    pending.pop(task)
                    yield task.result()
        finally:
            for task in pending:
                task.cancel()
        for url in pending.values():
            why = f"no answer within the {deadline:g} s deadline: not decided, try again"
            yield CheckResult(
                url=url,
                decision=unchecked(url, why, config.policy, Crawl.DEFER),
                action=Action.DEFERRED,
            )


async def check_urls(
    urls: Sequence[str],
    config: OptoutConfig,
    *,
    user_agent: str | None = None,
    denylist: Denylist | None = None,
    timeout: float = 10.0,
    page_maxsize: int = 2 * 1024 * 1024,
    deadline: float | None = None,
) -> list[CheckResult]:
    """Check every URL and return the results in input order (see :func:`check_each`)."""
    found: dict[str, CheckResult] = {}
    async for result in check_each(
        urls,
        config,
        user_agent=user_agent,
        denylist=denylist,
        timeout=timeout,
        page_maxsize=page_maxsize,
        deadline=deadline,
    ):
        found.setdefault(result.url, result)
    return [found[u] for u in urls]
