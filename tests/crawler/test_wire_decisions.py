"""Every request on the wire has a decision: redirect hops, retries, and the pages themselves.

The server's own request log and the audit database are compared: for every host, the multiset
of ``(method, URL)`` the server received equals the decisions that went on the wire (each
redirect hop ``redirected`` with its status and Location, each retried attempt ``error`` with
what was retried) plus the site documents' retrievals.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

import pytest

from heed.demo.sites import page
from tests.crawler.crawlrun import query, run_heed
from tests.support.virtualweb import Request, Response, VirtualWeb

ALLOW = "User-agent: *\nAllow: /\n"


class Flaky:
    """A handler that fails the first *failures* times (503, or a reset), then serves a page."""

    def __init__(self, failures: int, *, reset: bool = False) -> None:
        self.left = failures
        self.reset = reset
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self.lock:
            failing = self.left > 0
            self.left -= 1
        if failing:
            return Response(reset=True) if self.reset else Response(status=503, body="busy")
        return page("Recovered", "now it works")


def build(web: VirtualWeb) -> None:
    """A site with a two-hop redirect chain across hosts, a retried 503 and a retried reset."""
    web.site(
        "wire.test",
        {
            "/robots.txt": ALLOW,
            "/": page("Home", "links", ("/go", "/flaky", "/reset", "/gone")),
            "/go": Response(status=302, redirect="/mid"),
            "/mid": Response(status=301, redirect="http://other.test/final"),
            "/gone": Response(status=404, body="no"),
        },
    )
    web.add("http://wire.test/flaky", handler=Flaky(1))
    web.add("http://wire.test/reset", handler=Flaky(1, reset=True))
    web.site("other.test", {"/robots.txt": ALLOW, "/final": page("Final", "arrived")})


@pytest.mark.parametrize("jobdir", [False, True], ids=["memory", "jobdir"])
def test_every_wire_request_is_answerable(
    virtual_web: VirtualWeb, tmp_path: Path, jobdir: bool
) -> None:
    """Server log == decisions on the wire + document retrievals, host by host. With a JOBDIR,
    the frontier ends with every request done: each redirect hop, retry and failure ended its
    request (else a resumed crawl would send it again)."""
    build(virtual_web)
    db = tmp_path / "heed.db"
    job = ("--jobdir", str(tmp_path / "job")) if jobdir else ()
    proc = run_heed(
        virtual_web, "crawl", "http://wire.test/", "--depth", "1", "--db", str(db),
        "--out", str(tmp_path / "data"), "-s", "RETRY_TIMES=2", *job,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    if jobdir:
        frontier = tmp_path / "job" / "heed-frontier.sqlite3"
        rows = query(frontier, "SELECT done, count(*) FROM request GROUP BY done")
        assert rows == [(1, 7)]  # /, its four links, and two redirect hops (a retry is no row)
    served = Counter((r.method, f"http://{r.host}{r.path}") for r in virtual_web.requests)

    recorded: Counter[tuple[str, str]] = Counter()
    decisions = []
    for host in ("wire.test", "other.test"):
        status = run_heed(virtual_web, "status", host, "--db", str(db), "--json")
        assert status.returncode == 0, status.stderr
        decisions.extend(json.loads(status.stdout))
    for d in decisions:
        on_wire = d["action"] in ("fetched-stored", "fetched-excluded", "redirected") or (
            d.get("http_status") is not None or any("download failed" in r for r in d["reasons"])
        )
        if on_wire:
            recorded[("GET", d["url"])] += 1
    # Site documents: one retrieval row per request (each redirect hop its own row, the last
    # one at its final URL); a file robots.txt
    # forbids is recorded without a request (its error says so).
    for url, status, error in query(
        db, "SELECT COALESCE(final_url, url), status, error FROM document_fetch"
    ):
        if status is not None or error not in ("disallowed_by_robots_txt",):
            recorded[("GET", url)] += 1
    assert recorded == served, (recorded, served)
    actions = Counter((d["url"], d["action"]) for d in decisions)
    assert actions[("http://wire.test/go", "redirected")] == 1
    assert actions[("http://wire.test/mid", "redirected")] == 1
    assert actions[("http://other.test/final", "fetched-stored")] == 1
    assert actions[("http://wire.test/flaky", "error")] == 1  # the 503, retried
    assert actions[("http://wire.test/flaky", "fetched-stored")] == 1
    assert actions[("http://wire.test/reset", "error")] == 1  # the reset, retried
    go = next(d for d in decisions if d["url"] == "http://wire.test/go")
    assert "HTTP 302 to /mid: redirected to http://wire.test/mid" in go["reasons"]
