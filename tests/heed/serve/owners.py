"""What the verification and owner tests share: a writable copy of the demo database, the portal
on it with verification fetches allowed to reach 127.0.0.1, and a verified credential."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.heed.serve.portal import Portal, portal

#: Two domains of the demo: one verified in the tests, one foreign to it.
MINE, THEIRS = "demo-tdmrep.test", "demo-news.test"
LOOPBACK = ("127.0.0.1/32",)


def copy_db(demo_db: Path, directory: Path) -> Path:
    """Return a copy of the demo database the test may write verifications to."""
    target = directory / "heed.db"
    shutil.copyfile(demo_db, target)
    return target


def web_settings(port: int, *domains: str, **more: Any) -> dict[str, Any]:
    """Settings sending verification fetches of *domains* (ports 80 and 443) to 127.0.0.1:PORT."""
    pairs = tuple((f"{d}:{p}", f"127.0.0.1:{port}") for d in domains for p in (80, 443))
    return {"allow_private": LOOPBACK, "connect_to": pairs, **more}


@contextmanager
def verified(db: Path, **settings: Any) -> Iterator[tuple[Portal, dict[str, str]]]:
    """Yield the portal and ``{domain: credential}`` for MINE and THEIRS, verified by DNS."""
    from tests.support.dnsserver import dns_server

    with (
        dns_server() as (resolver, txt),
        portal(db, dns_resolver=resolver, **{"post_burst": 50, **settings}) as app,
    ):
        creds: dict[str, str] = {}
        for domain in (MINE, THEIRS):
            start = app.request("POST", "/api/v1/verifications", json={"domain": domain}).json()
            txt[f"_heed-challenge.{domain}"] = [start["token"]]
            done = app.request(
                "POST",
                f"/api/v1/verifications/{start['id']}/check",
                json={"key": start["key"], "method": "dns"},
            )
            assert done.status_code == 200, done.text
            creds[domain] = done.json()["credential"]
            creds[domain + "#id"] = start["id"]
            creds[domain + "#key"] = start["key"]
        yield app, creds


def bearer(token: str) -> dict[str, str]:
    """Return the Authorization header of *token*."""
    return {"Authorization": f"Bearer {token}"}
