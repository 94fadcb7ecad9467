"""A real ``heed serve`` process: the API over HTTP, the access log, forwarded headers only
from configured proxies, graceful shutdown, and one-line start-up errors."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

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
        (  # each worker gets 1/8 of each rate limit: a burst of 5 would let nobody through
            ["--workers", "8"],
            2,
            "--post-burst 5 is less than --workers 8: each worker gets 1/8 of the limits",
        ),
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


def test_workers_share_the_limits_and_the_csrf_secret(demo_db: Path, tmp_path: Path) -> None:
    """``--workers 2``: two processes answer on one port; each keeps half the rate limits, so
    a client never gets more than the configured burst in all, whichever worker it reaches;
    a form issued by one worker is accepted by the other (one CSRF secret, from the parent);
    SIGTERM stops both gracefully."""
    from tests.heed.serve.owners import MINE, copy_db

    db = copy_db(demo_db, tmp_path)
    limits = ("--lookups-per-minute", "1", "--lookup-burst", "2", "--post-burst", "100")
    with heed_serve(db, "--workers", "2", *limits) as server:
        codes = []
        for _ in range(8):  # a connection each: the kernel hands each to either worker
            with httpx.Client(timeout=30) as client:
                codes.append(client.get(f"{server.url}/api/v1/domains/demo-news.test").status_code)
        assert set(codes) <= {200, 429}
        assert 1 <= codes.count(200) <= 2, codes
        for _ in range(8):
            with httpx.Client(timeout=30) as client:
                page = client.get(f"{server.url}/verify")
                field = re.search(r'name="csrf" value="([^"]+)"', page.text)
                assert field is not None
                nonce = page.cookies["heed_csrf"]
            with httpx.Client(timeout=30) as client:
                answer = client.post(
                    f"{server.url}/verify",
                    data={"domain": MINE, "csrf": field.group(1)},
                    headers={"Cookie": f"heed_csrf={nonce}"},
                )
            assert answer.status_code == 303, answer.text
        code, out, err = server.stop()
    assert code in (0, -signal.SIGTERM), err[-2000:]
    assert err.count("Application startup complete") == 2
    assert err.count("Application shutdown complete") == 2
    assert '"GET /api/v1/domains/demo-news.test HTTP/1.1" 429' in out + err


def _workers_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and b"spawn_main" in command:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_workers_stop_when_the_supervisor_is_killed(demo_db: Path) -> None:
    """A worker left without its supervisor (SIGKILL, the OOM killer) stops instead of keeping
    the port: a restarted ``heed serve`` can bind it again."""
    with heed_serve(demo_db, "--workers", "2") as server:
        workers = _workers_of(server.process.pid)
        assert len(workers) == 2
        server.process.kill()
        server.process.wait(30)
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{pid}").exists() for pid in workers):
            assert time.monotonic() < deadline, "the workers outlived their supervisor"
            time.sleep(0.05)  # polling for an exit, bounded by the deadline
