"""A real ``heed serve`` process: the API over HTTP, the access log, forwarded headers only
from configured proxies, graceful shutdown, and one-line start-up errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.heed.serve.portal import ROOT
from tests.heed.serve.server import heed_serve


def test_serve_answers_logs_and_stops_gracefully(demo_db: Path) -> None:
    with heed_serve(demo_db, "--public-url", "https://bot.example.test") as server:
        answer = httpx.get(f"{server.url}/api/v1/domains/demo-robots.test", timeout=30)
        assert answer.status_code == 200
        total = answer.json()["total"]
        assert total["verdict"]["status"] == "honoured"
        assert total["reservation"]["protocols"] == ["robots.txt"]
        href = next(d["href"] for d in total["documents"] if d["kind"] == "robots.txt")
        assert href.startswith("https://bot.example.test/api/v1/documents/")
        sha = href.rsplit("/", 1)[1]
        doc = httpx.get(f"{server.url}/api/v1/documents/{sha}", timeout=30)
        assert doc.status_code == 200
        assert b"Disallow: /private/" in doc.content
        assert httpx.get(f"{server.url}/api/v1/documents/{'0' * 64}", timeout=30).status_code == 404
        page = httpx.get(f"{server.url}/crawler-info", timeout=30)
        assert page.status_code == 200
        assert "server" not in page.headers
        code, out, err = server.stop()
    # uvicorn finishes the open requests, shuts the application down, then ends by the signal
    # it was sent (as a service manager expects of SIGTERM)
    assert code in (0, -signal.SIGTERM), err[-2000:]
    assert "Application shutdown complete" in err
    assert '"GET /api/v1/domains/demo-robots.test HTTP/1.1" 200' in out + err  # access log
    assert "Shutting down" in err


def _flood(url: str, forwarded: bool) -> list[int]:
    codes = []
    with httpx.Client(timeout=30) as client:
        for n in range(6):
            headers = {"X-Forwarded-For": f"203.0.113.{n}"} if forwarded else {}
            codes.append(
                client.get(f"{url}/api/v1/domains/demo-news.test", headers=headers).status_code
            )
    return codes


def test_forwarded_headers_only_from_trusted_proxies(demo_db: Path) -> None:
    limits = ("--lookups-per-minute", "1", "--lookup-burst", "2")
    with heed_serve(demo_db, *limits) as server:
        # not trusted: every request is the connection's own client, whatever it claims
        assert _flood(server.url, forwarded=True) == [200, 200, 429, 429, 429, 429]
    with heed_serve(demo_db, *limits, "--trusted-proxy", "127.0.0.1") as server:
        # behind a trusted proxy: each forwarded client has its own bucket
        assert _flood(server.url, forwarded=True) == [200] * 6
        assert _flood(server.url, forwarded=False)[-1] == 429


def test_start_up_errors_are_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cases = (
        (["--db", str(tmp_path / "missing.db")], 1, "no audit database at"),
        (["--public-url", "bot.example"], 2, "give an absolute http(s) URL"),
    )
    for args, status, words in cases:
        done = subprocess.run(
            [sys.executable, "-m", "heed", "serve", "--port", "0", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == status, done.stderr
        assert "Traceback" not in done.stderr
        last = done.stderr.strip().splitlines()[-1]
        assert last.startswith("Error: ")
        assert words in last


def test_the_csrf_secret_comes_from_the_environment() -> None:
    """$HEED_SERVE_SECRET signs the forms' CSRF tokens (so that they survive a restart); unset
    means a random one per process, and a short one is refused in one line."""
    import click
    import pytest

    from heed.cli.serve import MIN_SECRET, SECRET_ENV, serve_secret

    assert serve_secret({}) is None
    assert serve_secret({SECRET_ENV: ""}) is None
    assert serve_secret({SECRET_ENV: "k" * MIN_SECRET}) == b"k" * MIN_SECRET
    with pytest.raises(click.ClickException, match=f"{SECRET_ENV} is 5 characters"):
        serve_secret({SECRET_ENV: "short"})
