"""What the portal tests share: a demo database, a database with the rare verdicts, and httpx
clients on the ASGI application or on a real ``heed serve`` process.

The demo database comes from ``heed demo`` itself (a local web, no network). The other is
written through :class:`audit.AuditStore` with decisions from the engine (optout.Site), so that
its rows are the crawler's own shapes: a site whose robots.txt refusal was withdrawn before a
page was kept (``withdrawn.test``), and one whose page was kept on a decision that refused it
(``fault.test``, a crawler fault the portal must name).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from audit import Action, AuditStore, open_reader
from heed.serve.app import create_app
from heed.serve.settings import ServeSettings
from optout import FetchResult, Site, SiteDocuments
from policy.provider import ProviderConfig, parse_provider_config

ROOT = Path(__file__).resolve().parents[3]
T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
DISALLOW = "User-agent: HeedBot\nDisallow: /\n"
ALLOW = "User-agent: *\nAllow: /\n"
#: A page URL of withdrawn.test: kept after its refusal was withdrawn. Never shown in public.
WITHDRAWN_PAGE = "http://withdrawn.test/secret-path?token=abc"


def run_demo(directory: Path) -> Path:
    """Run ``heed demo --dir DIRECTORY`` (offline) and return its audit database."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "heed", "demo", "--dir", str(directory)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return directory / "heed.db"


def _site(origin: str, robots: str, when: dt.datetime) -> Site:
    doc = FetchResult(
        url=f"{origin}/robots.txt",
        status=200,
        headers=(("content-type", "text/plain"),),
        body=robots.encode(),
        fetched_at=when.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    return Site(SiteDocuments(origin=origin, robots=doc), token="HeedBot")


def build_verdicts_db(path: Path | str) -> Path | str:
    """Write the database of the rare verdicts (see the module docstring) at *path* (a SQLite
    file or a database URL)."""
    with AuditStore.open(str(path)) as store:
        run = store.start_run(crawler_name="HeedBot", product_token="HeedBot", user_agent="t")
        n = 0

        def decide(site: Site, url: str, when: dt.datetime, action: Action, keep: bool) -> None:
            nonlocal n
            n += 1
            store.record_document(site.docs.robots, kind="robots.txt", run_id=run)
            decision = site.before_request(url)
            if keep:  # fetched: decided again on the response, as the crawler does
                page = FetchResult(
                    url=url, status=200, headers=(("content-type", "text/html"),), body=b"<p>x"
                )
                decision = site.after_response(url, page)
            did = store.record_decision(run, decision, action, time=when, request_key=f"k{n}")
            if keep:
                store.record_item(did, url=url, content_type="text/html", size=1234, time=when)

        refused = _site("http://withdrawn.test", DISALLOW, T0)
        decide(refused, WITHDRAWN_PAGE, T0, Action.SKIPPED_ROBOTS, False)
        allowed = _site("http://withdrawn.test", ALLOW, T0 + dt.timedelta(days=40))
        decide(allowed, WITHDRAWN_PAGE, T0 + dt.timedelta(days=40), Action.FETCHED_STORED, True)
        fault = _site("http://www.fault.test", DISALLOW, T0)
        decide(fault, "http://www.fault.test/kept", T0, Action.FETCHED_STORED, True)
        store.end_run(run)
    return path


def statements() -> ProviderConfig:
    """Return provider statements for an app built in-process."""
    return parse_provider_config(
        {"provider": {"name": "Test Provider", "contact_point": "legal@provider.test"}}
    )


@dataclass
class Portal:
    """The ASGI application on a database, called through httpx."""

    app: Any
    fastapi: Any

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request to the application (httpx.ASGITransport) and return the answer."""

        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as c:
                return await c.request(method, path, **kwargs)

        return asyncio.run(call())


@contextmanager
def portal(db: Path | str, **settings: Any) -> Iterator[Portal]:
    """Yield the portal's application over the database *db*."""
    engine = open_reader(str(db))
    try:
        fastapi, app = create_app(engine, statements(), ServeSettings(**settings))
        yield Portal(app, fastapi)
    finally:
        engine.dispose()
