"""``heed check`` end to end against a real local many-host web (tests/support/virtualweb.py).

The server's own request log proves what was (never) requested.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from heed.cli import main
from tests.support.virtualweb import Response, VirtualWeb, proxy_env

OPEN_ROBOTS = "User-agent: *\nAllow: /\n"


def run_check(*args: str) -> list[dict[str, Any]]:
    """Run ``heed check --json`` in-process and return the parsed lines."""
    result = CliRunner().invoke(main, ["check", "--json", "--timeout", "2", *args])
    assert result.exit_code in (0, 1), result.output  # 1: some URL not usable
    return [json.loads(line) for line in result.output.splitlines() if line.strip()]


def one_with(*args: str) -> dict[str, Any]:
    """Check a single URL (the last argument) with options."""
    (line,) = run_check(*args)
    return line


def one(url: str) -> dict[str, Any]:
    """Check a single URL."""
    (line,) = run_check(url)
    assert line["url"] == url
    return line


def test_open_site_is_fetched_once_per_origin(virtual_web: VirtualWeb) -> None:
    """Robots allows, no signals: allow and not-reserved; site documents fetched once."""
    virtual_web.site(
        "open.test", {"/robots.txt": OPEN_ROBOTS, "/a": "<html>a</html>", "/b": "<p>b</p>"}
    )
    lines = run_check("http://open.test/a", "http://open.test/b")
    assert [(r["crawl"], r["use"]) for r in lines] == [("allow", "not-reserved")] * 2
    assert "no reservation found" in lines[0]["reasons"]
    assert virtual_web.count("http://open.test/robots.txt") == 1
    assert virtual_web.count("http://open.test/.well-known/tdmrep.json") == 1
    assert virtual_web.requested("http://open.test/a")
    assert virtual_web.requested("http://open.test/b")
    signal = lines[0]["signals"][0]
    assert signal["protocol"] == "robots.txt"
    assert signal["source"] == "http://open.test/robots.txt"
    assert {"protocol", "source", "verdict", "detail", "sha256", "line"} <= set(signal)


def test_disallowed_page_is_never_requested(virtual_web: VirtualWeb) -> None:
    """robots.txt disallows: the page is not requested; the evidence names the line."""
    virtual_web.site(
        "shop.test", {"/robots.txt": "User-agent: *\nDisallow: /private/\n", "/private/cart": "x"}
    )
    line = one("http://shop.test/private/cart")
    assert (line["crawl"], line["use"]) == ("disallow", "unknown")
    assert not virtual_web.requested("http://shop.test/private/cart")
    assert line["signals"][0]["line"] == 2
    assert "Disallow: /private/" in line["signals"][0]["detail"]


@pytest.mark.parametrize(
    ("route", "crawl"),
    [
        ({"status": 503, "body": "User-agent: *\nAllow: /"}, "defer"),
        ({"status": 500}, "defer"),
        ({"status": 429, "headers": {"Retry-After": "120"}}, "defer"),
        ({"status": 403}, "disallow"),
        ({"status": 401}, "disallow"),
        ({"status": 404}, "allow"),
        ({"status": 410}, "allow"),
        ({"reset": True}, "defer"),
        ({"truncate": True, "body": "User-agent: *\nAllow: /\n" * 20}, "defer"),
    ],
    ids=["503", "500", "429", "403", "401", "404", "410", "reset", "truncated"],
)
def test_robots_status_semantics(
    virtual_web: VirtualWeb, route: dict[str, Any], crawl: str
) -> None:
    """Errors never mean allow, and a page is requested only when crawl is allowed.

    docs/protocols.md#robotstxt-status-codes.
    """
    virtual_web.add("http://s.test/robots.txt", **route)
    virtual_web.add("http://s.test/page", body="<html>hi</html>", content_type="text/html")
    line = one("http://s.test/page")
    assert line["crawl"] == crawl
    assert virtual_web.requested("http://s.test/page") is (crawl == "allow")


def test_robots_redirects_five_followed_six_refused(virtual_web: VirtualWeb) -> None:
    """≤ 5 redirects are followed (rules apply to the initial origin); more ⇒ disallow."""
    for host, hops in (("five.test", 5), ("six.test", 6)):
        for i in range(hops):
            nxt = f"http://{host}/r{i + 1}" if i + 1 < hops else f"http://{host}/final.txt"
            virtual_web.add(
                f"http://{host}/{'robots.txt' if i == 0 else f'r{i}'}", redirect=nxt, status=301
            )
        virtual_web.add(f"http://{host}/final.txt", body="User-agent: *\nDisallow: /x\n")
        virtual_web.add(f"http://{host}/page", body="ok")
    assert one("http://five.test/page")["crawl"] == "allow"
    assert one("http://five.test/x")["crawl"] == "disallow"
    six = one("http://six.test/page")
    assert six["crawl"] == "disallow"
    assert not virtual_web.requested("http://six.test/page")


def test_robots_redirect_loop(virtual_web: VirtualWeb) -> None:
    """A redirect loop on robots.txt is unreachable: disallow, page untouched."""
    virtual_web.add("http://loop.test/robots.txt", redirect="http://loop.test/again", status=302)
    virtual_web.add("http://loop.test/again", redirect="http://loop.test/robots.txt", status=302)
    virtual_web.add("http://loop.test/page", body="x")
    assert one("http://loop.test/page")["crawl"] == "disallow"
    assert not virtual_web.requested("http://loop.test/page")


def test_gzip_and_non_utf8_robots(virtual_web: VirtualWeb) -> None:
    """A gzip-encoded robots.txt is decoded; stray non-UTF-8 bytes do not hide rules."""
    virtual_web.add("http://gz.test/robots.txt", body="User-agent: *\nDisallow: /no\n", gzip=True)
    virtual_web.add(
        "http://latin.test/robots.txt", body=b"# caf\xe9 \xff\xfe\nUser-agent: *\nDisallow: /no\n"
    )
    assert one("http://gz.test/no/x")["crawl"] == "disallow"
    assert one("http://latin.test/no/x")["crawl"] == "disallow"
    assert gzip  # the module is used by the server for the encoded body


def test_large_robots_rule_at_the_end(virtual_web: VirtualWeb) -> None:
    """A 400 KiB robots.txt with the deciding rule at its very end is read to the end."""
    filler = "# padding line for a large robots.txt file\n" * (400 * 1024 // 44)
    virtual_web.add(
        "http://big.test/robots.txt", body="User-agent: *\n" + filler + "Disallow: /late\n"
    )
    virtual_web.add("http://big.test/early", body="ok")
    assert one("http://big.test/late/x")["crawl"] == "disallow"
    assert one("http://big.test/early")["crawl"] == "allow"


def test_page_signals_reserve(virtual_web: VirtualWeb) -> None:
    """Headers and HTML meta of an allowed page are read: TDMRep, noai, Content-Usage."""
    virtual_web.site("pub.test", {"/robots.txt": OPEN_ROBOTS})
    virtual_web.add("http://pub.test/tdm", body="x", headers={"tdm-reservation": "1"})
    virtual_web.add(
        "http://pub.test/noai",
        body='<html><head><meta name="robots" content="noai"></head></html>',
        content_type="text/html",
    )
    virtual_web.add("http://pub.test/cu", body="x", headers={"Content-Usage": "train-ai=n"})
    lines = {
        r["url"]: r
        for r in run_check("http://pub.test/tdm", "http://pub.test/noai", "http://pub.test/cu")
    }
    for url, protocol in (
        ("http://pub.test/tdm", "tdmrep-header"),
        ("http://pub.test/noai", "robots-meta"),
        ("http://pub.test/cu", "content-usage-header"),
    ):
        assert lines[url]["use"] == "reserved", lines[url]
        assert any(
            s["protocol"] == protocol and s["verdict"] == "reserved" for s in lines[url]["signals"]
        )


def test_site_level_signals(virtual_web: VirtualWeb) -> None:
    """Content-Signal in robots.txt and a tdmrep.json reserve before the page is read."""
    virtual_web.site(
        "cf.test",
        {
            "/robots.txt": "User-Agent: *\nContent-Signal: search=yes, ai-train=no\nAllow: /\n",
            "/p": "x",
        },
    )
    virtual_web.site(
        "tdm.test",
        {
            "/robots.txt": OPEN_ROBOTS,
            "/.well-known/tdmrep.json": '[{"location": "/", "tdm-reservation": 1}]',
            "/p": "x",
        },
    )
    assert one("http://cf.test/p")["use"] == "reserved"
    assert one("http://tdm.test/p")["use"] == "reserved"


def test_tdmrep_file_server_error_is_not_permission(virtual_web: VirtualWeb) -> None:
    """A tdmrep.json that answers 503 leaves the use undecided, never not-reserved (T23)."""
    virtual_web.site("flaky.test", {"/robots.txt": OPEN_ROBOTS, "/p": "x"})
    virtual_web.add("http://flaky.test/.well-known/tdmrep.json", status=503)
    line = one("http://flaky.test/p")
    assert line["crawl"] == "allow"
    assert line["use"] == "unknown"


def test_redirect_into_disallowed_area_is_not_followed(virtual_web: VirtualWeb) -> None:
    """F14: every hop is checked before it is requested, across origins too."""
    virtual_web.site("a.test", {"/robots.txt": "User-agent: *\nDisallow: /secret/\n"})
    virtual_web.add("http://a.test/go", redirect="http://a.test/secret/x")
    virtual_web.add("http://a.test/secret/x", body="secret")
    virtual_web.add("http://a.test/away", redirect="http://b.test/page")
    virtual_web.site("b.test", {"/robots.txt": "User-agent: *\nDisallow: /\n", "/page": "b"})
    same = one("http://a.test/go")
    cross = one("http://a.test/away")
    assert same["crawl"] == cross["crawl"] == "disallow"
    assert not virtual_web.requested("http://a.test/secret/x")
    assert not virtual_web.requested("http://b.test/page")


def test_redirect_followed_when_allowed(virtual_web: VirtualWeb) -> None:
    """An allowed hop is decided, then followed; the final page's own signals decide."""
    virtual_web.site("old.test", {"/robots.txt": OPEN_ROBOTS})
    virtual_web.add("http://old.test/x", redirect="http://cdn.test/x", status=301)
    virtual_web.site("cdn.test", {"/robots.txt": OPEN_ROBOTS})
    virtual_web.add("http://cdn.test/x", body="content", headers={"tdm-reservation": "1"})
    line = one("http://old.test/x")
    assert line["final_url"] == "http://cdn.test/x"
    assert (line["use"], line["action"]) == ("reserved", "fetched-excluded")
    assert virtual_web.requested("http://cdn.test/x")


def test_site_level_reservation_means_no_page_request(virtual_web: VirtualWeb) -> None:
    """As in a crawl: a URL whose use a site-level file reserves is never requested
    (before issue 10, ``heed check`` fetched it anyway to read its headers)."""
    virtual_web.site(
        "old.test",
        {
            "/robots.txt": OPEN_ROBOTS,
            "/.well-known/tdmrep.json": '[{"location": "/", "tdm-reservation": 1}]',
            "/x": "content",
        },
    )
    line = one("http://old.test/x")
    assert (line["crawl"], line["use"], line["action"]) == (
        "allow",
        "reserved",
        "skipped-reservation",
    )
    assert not virtual_web.requested("http://old.test/x")


def test_unreachable_robots_means_no_other_document(virtual_web: VirtualWeb) -> None:
    """robots.txt 503: nothing else is requested from the origin — no tdmrep.json, no ai.txt —
    exactly as in a crawl (before issue 10, ``heed check`` still fetched both)."""
    virtual_web.add("http://down.test/robots.txt", status=503)
    virtual_web.site("down.test", {"/.well-known/tdmrep.json": "[]", "/ai.txt": "", "/p": "x"})
    line = one("http://down.test/p")
    assert (line["crawl"], line["action"]) == ("defer", "deferred")
    assert virtual_web.count("http://down.test/robots.txt") == 1
    for path in ("/.well-known/tdmrep.json", "/ai.txt", "/p"):
        assert not virtual_web.requested("http://down.test" + path)


def test_settings_from_config_and_set(virtual_web: VirtualWeb, tmp_path: Path) -> None:
    """``--config`` and ``-s`` are read as ``heed crawl`` reads them: the token, the denylist,
    the policy knobs and the document switches all apply."""
    virtual_web.site(
        "s.test",
        {
            "/robots.txt": "User-agent: OtherBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n",
            "/p": "x",
        },
    )
    virtual_web.site("bad.test", {"/robots.txt": OPEN_ROBOTS, "/p": "x"})
    (tmp_path / "deny.txt").write_text("# version: t-1\nbad.test\n", encoding="utf-8")
    config = tmp_path / "heed.toml"
    config.write_text(
        f'[crawl]\ntoken = "OtherBot"\n[settings]\nOPTOUT_DENYLIST = "{tmp_path / "deny.txt"}"\n',
        encoding="utf-8",
    )
    lines = run_check(
        "--config", str(config), "-s", "OPTOUT_AI_TXT=False", "http://s.test/p", "http://bad.test/p"
    )
    by_url = {r["url"]: r for r in lines}
    assert by_url["http://s.test/p"]["crawl"] == "disallow"  # OtherBot's group
    assert by_url["http://bad.test/p"]["action"] == "denylisted"
    assert "bad.test is on" in by_url["http://bad.test/p"]["reasons"][0]
    assert not virtual_web.requested("http://bad.test/robots.txt")
    assert not virtual_web.requested("http://s.test/ai.txt")
    assert by_url["http://s.test/p"]["policy"]["robots_403_allow"] is False
    result = CliRunner().invoke(
        main, ["check", "-s", 'OPTOUT_POLICY={"robots_403_allow": 1}', "http://s.test/p"]
    )
    assert result.exit_code == 2
    assert "OPTOUT_POLICY" in result.output


def test_origins_are_scheme_host_and_port(virtual_web: VirtualWeb) -> None:
    """F12: http://h and http://h:8080 have their own robots.txt."""
    virtual_web.add("http://p.test/robots.txt", body="User-agent: *\nDisallow: /\n")
    virtual_web.add("http://p.test:8080/robots.txt", body=OPEN_ROBOTS)
    virtual_web.add("http://p.test:8080/x", body="ok")
    assert one("http://p.test/x")["crawl"] == "disallow"
    assert one("http://p.test:8080/x")["crawl"] == "allow"


def test_timeout_defers(virtual_web: VirtualWeb) -> None:
    """A robots.txt slower than --timeout is unreachable: defer."""
    virtual_web.add("http://slow.test/robots.txt", body=OPEN_ROBOTS, delay=5)
    result = CliRunner().invoke(main, ["check", "--json", "--timeout", "0.3", "http://slow.test/p"])
    assert json.loads(result.output)["crawl"] == "defer"


def test_bad_urls_give_result_lines(virtual_web: VirtualWeb) -> None:
    """Malformed URLs get a clear line each, never a traceback."""
    lines = run_check("not a url", "ftp://files.test/x", "http://", "http://h.test:99999/")
    assert [r["crawl"] for r in lines] == ["disallow"] * 4
    assert all(r["reasons"][0].startswith("invalid URL") for r in lines)


def test_dead_proxy_defers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing listening: every URL defers with the network error as its reason."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{port}")
    line = one("http://dead.test/x")
    assert line["crawl"] == "defer"
    assert "unreachable" in " ".join(line["reasons"])


def test_human_output_and_subprocess(virtual_web: VirtualWeb) -> None:
    """The installed command prints a readable table (run as a real subprocess)."""
    virtual_web.site(
        "h.test", {"/robots.txt": "User-agent: *\nDisallow: /private\n", "/ok": "fine"}
    )
    proc = subprocess.run(
        [sys.executable, "-m", "heed", "check", "http://h.test/ok", "http://h.test/private"],
        capture_output=True,
        text=True,
        env={**os.environ, **proxy_env(virtual_web)},
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr  # h.test/private is disallowed
    assert "URL" in proc.stdout
    assert "CRAWL" in proc.stdout
    assert "disallow" in proc.stdout
    assert "Disallow: /private" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_a_trickling_server_is_cut_off(virtual_web: VirtualWeb) -> None:
    """A robots.txt sent one byte a second: the request's whole exchange is bounded by
    --timeout (not each read), so the URL defers instead of hanging."""
    body = "User-agent: *\nAllow: /\n" * 10
    virtual_web.site("trickle.test", {"/robots.txt": Response(body=body, trickle=1.0)})
    started = time.monotonic()
    line = one_with("--timeout", "1", "http://trickle.test/x")
    assert line["crawl"] == "defer"
    assert "timeout" in " ".join(line["reasons"])
    assert time.monotonic() - started < 20


def test_results_stream_and_the_deadline_answers_the_rest(virtual_web: VirtualWeb) -> None:
    """Each result is printed when known (the fast URL first, whatever the argument order);
    past --deadline the URLs still waiting defer, with the reason."""
    virtual_web.site("fast.test", {"/robots.txt": OPEN_ROBOTS, "/p": "ok"})
    virtual_web.add("http://stuck.test/robots.txt", body=OPEN_ROBOTS, delay=30)
    lines = run_check(
        "--timeout", "60", "--deadline", "1", "http://stuck.test/p", "http://fast.test/p"
    )
    assert [r["url"] for r in lines] == ["http://fast.test/p", "http://stuck.test/p"]
    assert (lines[0]["crawl"], lines[0]["action"]) == ("allow", "fetched-stored")
    assert (lines[1]["crawl"], lines[1]["action"]) == ("defer", "deferred")
    assert "deadline" in lines[1]["reasons"][0]


def test_an_origin_whose_documents_never_finish_loading_defers(virtual_web: VirtualWeb) -> None:
    """Each request within --timeout, but robots.txt behind a slow redirect chain: the origin's
    documents must load within four requests' time, else its URLs defer."""
    hops = {"/robots.txt": Response(status=301, redirect="/r1", delay=0.7)}
    for i in range(1, 5):
        hops[f"/r{i}"] = Response(status=301, redirect=f"/r{i + 1}", delay=0.7)
    hops["/r5"] = Response(body=OPEN_ROBOTS, delay=0.7)
    virtual_web.site("chain.test", hops)
    line = one_with("--timeout", "1", "http://chain.test/p")
    assert (line["crawl"], line["action"]) == ("defer", "deferred")
    assert "not loaded within 4 s" in line["reasons"][0]


def test_the_exit_status_says_whether_every_url_is_usable(virtual_web: VirtualWeb) -> None:
    """0: every URL may be crawled and used; 1: any may not (disallowed, deferred, reserved);
    2: a usage error. A script can gate on it."""
    virtual_web.site(
        "gate.test",
        {"/robots.txt": "User-agent: *\nDisallow: /no\n", "/ok": "fine", "/also": "fine"},
    )
    runner = CliRunner()
    assert (
        runner.invoke(main, ["check", "http://gate.test/ok", "http://gate.test/also"]).exit_code
        == 0
    )
    assert (
        runner.invoke(main, ["check", "http://gate.test/ok", "http://gate.test/no"]).exit_code == 1
    )
    assert runner.invoke(main, ["check", "--timeout", "-1", "http://gate.test/ok"]).exit_code == 2


def test_the_registry_of_the_audit_database_applies(
    virtual_web: VirtualWeb, tmp_path: Path
) -> None:
    """As in a crawl with the same settings: the reservations registry of the audit database
    reserves before any request, and the answer names the entry."""
    from audit import AuditStore, add_registry_entry, open_publisher

    db = tmp_path / "heed.db"
    with AuditStore.open(str(db)):
        pass
    engine = open_publisher(str(db))
    add_registry_entry(engine, "http://reg.test/private/", source="letter L-1", actor="t")
    engine.dispose()
    virtual_web.site("reg.test", {"/robots.txt": OPEN_ROBOTS, "/private/x": "c", "/open": "o"})
    reserved, free = run_check(
        "-s", f"HEED_DB={db}", "http://reg.test/private/x", "http://reg.test/open"
    )
    assert (reserved["use"], reserved["action"]) == ("reserved", "skipped-reservation")
    (signal,) = [s for s in reserved["signals"] if s["protocol"] == "registry"]
    assert signal["detail"] == (
        "reservations registry entry 1 (letter L-1) reserves tdm, train-ai, ai-input "
        "[entry 1: prefix reg.test/private/]"
    )
    assert not virtual_web.requested("http://reg.test/private/x")
    assert free["use"] == "not-reserved"
    # a registry that cannot be read stops the check, in one line
    db.write_bytes(b"not a database")
    result = CliRunner().invoke(main, ["check", "-s", f"HEED_DB={db}", "http://reg.test/open"])
    assert result.exit_code == 2
    assert "cannot read the reservations registry" in result.output.strip().splitlines()[-1]
