"""The local virtual web every end-to-end test runs against (tests/support/virtualweb.py)."""

from __future__ import annotations

import gzip
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.virtualweb import Request, Response, VirtualWeb, proxy_env


@pytest.fixture
def client(virtual_web: VirtualWeb) -> Iterator[httpx.Client]:
    """Yield an httpx client that finds the virtual web through the fixture's HTTP_PROXY."""
    with httpx.Client(timeout=10) as c:  # trust_env: proves the environment is set up
        yield c


def raw_exchange(web: VirtualWeb, data: bytes) -> bytes:
    """Send *data* on a fresh connection and return everything the server sends back."""
    with socket.create_connection(("127.0.0.1", web.port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_routes_by_host_and_port(virtual_web: VirtualWeb, client: httpx.Client) -> None:
    virtual_web.add("http://site-a.test/page", body="A")
    virtual_web.add("site-b.test/page", body="B")
    virtual_web.add("http://site-a.test:8080/page", body="A8080")
    virtual_web.add("http://Site-A.test:80/other", body="A-other")
    assert client.get("http://site-a.test/page").text == "A"
    assert client.get("http://site-b.test/page").text == "B"
    assert client.get("http://site-a.test:8080/page").text == "A8080"
    assert client.get("http://SITE-A.test/other").text == "A-other"


def test_origin_form_routes_by_host_header(virtual_web: VirtualWeb) -> None:
    virtual_web.add("site-a.test/x", body="hello")
    with httpx.Client(trust_env=False) as direct:
        resp = direct.get(virtual_web.proxy_url + "/x", headers={"Host": "site-a.test"})
    assert resp.text == "hello"
    assert virtual_web.requests[-1].proxied is False
    assert virtual_web.requests[-1].url == "http://site-a.test/x"


def test_unknown_host_or_path_is_a_local_404(virtual_web: VirtualWeb, client: httpx.Client) -> None:
    virtual_web.add("site-a.test/", body="home")
    for url in ("http://site-a.test/missing", "http://example.com/", "http://127.0.0.1:9/"):
        resp = client.get(url)
        assert resp.status_code == 404
        assert resp.text == f"virtual web: no route for {url}\n"


def test_default_per_host(virtual_web: VirtualWeb, client: httpx.Client) -> None:
    virtual_web.site("gone.test", {"/here": "yes"}, default=Response(status=410, body="gone"))
    virtual_web.set_default("echo.test", lambda req: Response(body=req.path))
    assert client.get("http://gone.test/here").text == "yes"
    assert client.get("http://gone.test/anything").status_code == 410
    assert client.get("http://echo.test/a?b=c").text == "/a?b=c"


@pytest.mark.parametrize("status", [200, 201, 301, 403, 404, 410, 429, 500, 503, 599])
def test_statuses(virtual_web: VirtualWeb, client: httpx.Client, status: int) -> None:
    virtual_web.add("site-a.test/s", status=status, body="body")
    resp = client.get("http://site-a.test/s")
    assert (resp.status_code, resp.text) == (status, "body")


@pytest.mark.parametrize("status", [204, 304])
def test_bodiless_statuses_keep_the_connection_usable(
    virtual_web: VirtualWeb, client: httpx.Client, status: int
) -> None:
    virtual_web.add("site-a.test/empty", status=status, body="ignored")
    virtual_web.add("site-a.test/next", body="next")
    resp = client.get("http://site-a.test/empty")
    assert (resp.status_code, resp.content, "content-length" in resp.headers) == (
        status,
        b"",
        False,
    )
    assert client.get("http://site-a.test/next").text == "next"


def test_headers_repeat_and_override(virtual_web: VirtualWeb, client: httpx.Client) -> None:
    virtual_web.add(
        "site-a.test/h",
        body="{}",
        headers=[("Link", "<a>; rel=x"), ("Link", "<b>; rel=y"), ("Content-Type", "app/x")],
    )
    virtual_web.add("site-a.test/d", headers={"X-Robots-Tag": "noai"}, content_type=None)
    resp = client.get("http://site-a.test/h")
    assert resp.headers.get_list("link") == ["<a>; rel=x", "<b>; rel=y"]
    assert resp.headers["content-type"] == "app/x"
    resp = client.get("http://site-a.test/d")
    assert resp.headers["x-robots-tag"] == "noai"
    assert "content-type" not in resp.headers


def test_rejects_headers_the_server_owns_and_other_schemes(virtual_web: VirtualWeb) -> None:
    with pytest.raises(ValueError, match="set by the virtual web"):
        virtual_web.add("site-a.test/x", headers={"Content-Length": "5"})
    with pytest.raises(ValueError, match="malformed header"):
        virtual_web.add("site-a.test/x", headers={"X-A": "1\r\nX-B: 2"})
    with pytest.raises(ValueError, match="http:// only"):
        virtual_web.add("https://site-a.test/x")


def test_redirects(virtual_web: VirtualWeb, client: httpx.Client) -> None:
    virtual_web.add("http://old.test/", redirect="http://new.test/landing")
    virtual_web.add("new.test/landing", status=301, redirect="/final")
    virtual_web.add("new.test/final", body="arrived")
    resp = client.get("http://old.test/", follow_redirects=True)
    assert resp.text == "arrived"
    assert [r.status_code for r in resp.history] == [302, 301]
    assert [r.url for r in virtual_web.requests] == [
        "http://old.test/",
        "http://new.test/landing",
        "http://new.test/final",
    ]


def test_redirect_loop(virtual_web: VirtualWeb) -> None:
    virtual_web.add("loop.test/a", redirect="/b")
    virtual_web.add("loop.test/b", redirect="/a")
    with (
        httpx.Client(max_redirects=5) as limited,
        pytest.raises(httpx.TooManyRedirects),
    ):
        limited.get("http://loop.test/a", follow_redirects=True)
    assert virtual_web.count("http://loop.test/a") == 3


def test_gzip(virtual_web: VirtualWeb, client: httpx.Client) -> None:
    text = "<html>" + "compressible " * 5000 + "é</html>"
    virtual_web.add("site-a.test/gz", body=text, gzip=True, content_type="text/html; charset=utf-8")
    resp = client.get("http://site-a.test/gz")
    assert resp.headers["content-encoding"] == "gzip"
    assert int(resp.headers["content-length"]) < len(text) // 10
    assert resp.text == text
    with client.stream("GET", "http://site-a.test/gz") as raw:
        assert gzip.decompress(b"".join(raw.iter_raw())) == text.encode()


def test_reset_is_a_connection_error(virtual_web: VirtualWeb, client: httpx.Client) -> None:
    virtual_web.add("site-a.test/reset", reset=True, body="never sent")
    virtual_web.add("site-a.test/ok", body="ok")
    with pytest.raises(httpx.ReadError):
        client.get("http://site-a.test/reset")
    assert client.get("http://site-a.test/ok").text == "ok"  # the server keeps serving


def test_truncate_is_an_incomplete_read(virtual_web: VirtualWeb, client: httpx.Client) -> None:
    virtual_web.add("site-a.test/t", body=b"x" * 10_000, truncate=True)
    virtual_web.add("site-a.test/empty", truncate=True)
    for url in ("http://site-a.test/t", "http://site-a.test/empty"):
        with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
            client.get(url)


def test_delay_times_out_a_client_and_stop_ends_it(virtual_web: VirtualWeb) -> None:
    virtual_web.add("site-a.test/slow", body="late", delay=60)
    with httpx.Client(timeout=0.2) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.get("http://site-a.test/slow")
    started = time.monotonic()
    virtual_web.stop()  # the 60 s wait is still pending on the server
    assert time.monotonic() - started < 5


def test_delay_does_not_block_other_requests(virtual_web: VirtualWeb) -> None:
    arrived = threading.Event()

    def slow(req: Request) -> Response:
        arrived.set()
        return Response(body="late", delay=60)

    virtual_web.add("site-a.test/slow", handler=slow)
    virtual_web.add("site-a.test/fast", body="fast")
    outcome: list[BaseException] = []

    def fetch_slow() -> None:
        with httpx.Client(timeout=30) as c:
            try:
                c.get("http://site-a.test/slow")
            except httpx.TransportError as exc:
                outcome.append(exc)

    worker = threading.Thread(target=fetch_slow)
    worker.start()
    assert arrived.wait(10)
    with httpx.Client(timeout=5) as c:
        assert c.get("http://site-a.test/fast").text == "fast"
    virtual_web.stop()  # closes the delayed connection: the slow client fails at once
    worker.join(10)
    assert not worker.is_alive()
    assert len(outcome) == 1


def test_request_log(virtual_web: VirtualWeb, client: httpx.Client) -> None:
    virtual_web.add("site-a.test/a", body="a")
    client.get("http://site-a.test/a", headers={"User-Agent": "HeedBot/1"})
    client.post("http://site-b.test/form?x=1", content=b"payload")
    first, second = virtual_web.requests
    assert (first.method, first.url, first.host, first.path) == (
        "GET",
        "http://site-a.test/a",
        "site-a.test",
        "/a",
    )
    assert first.header("user-agent") == "HeedBot/1"
    assert first.proxied
    assert (second.method, second.path, second.body) == ("POST", "/form?x=1", b"payload")
    assert first.time <= second.time
    assert virtual_web.requested("http://site-b.test/form?x=1")
    assert virtual_web.requested("site-a.test/a")
    assert not virtual_web.requested("http://site-a.test/b")
    virtual_web.clear_log()
    assert virtual_web.requests == []


def test_query_falls_back_to_the_bare_path(virtual_web: VirtualWeb, client: httpx.Client) -> None:
    virtual_web.add("site-a.test/p", body="bare")
    virtual_web.add("site-a.test/p?v=2", body="exact")
    assert client.get("http://site-a.test/p?v=1").text == "bare"
    assert client.get("http://site-a.test/p?v=2").text == "exact"


def test_head(virtual_web: VirtualWeb, client: httpx.Client) -> None:
    virtual_web.add("site-a.test/doc", body="twelve bytes", headers={"X-Robots-Tag": "noai"})
    resp = client.head("http://site-a.test/doc")
    assert resp.status_code == 200
    assert resp.content == b""
    assert resp.headers["content-length"] == "12"
    assert resp.headers["x-robots-tag"] == "noai"
    assert client.get("http://site-a.test/doc").text == "twelve bytes"  # same connection, intact
    assert [r.method for r in virtual_web.requests] == ["HEAD", "GET"]


@pytest.mark.parametrize("size", [400 * 1024, 2 * 1024 * 1024])
def test_large_binary_bodies(virtual_web: VirtualWeb, client: httpx.Client, size: int) -> None:
    body = random.Random(size).randbytes(size)
    virtual_web.add("site-a.test/blob", body=body, content_type="application/octet-stream")
    assert client.get("http://site-a.test/blob").content == body


def test_site_guesses_content_types(virtual_web: VirtualWeb, client: httpx.Client) -> None:
    base = virtual_web.site(
        "site-a.test",
        {
            "/robots.txt": "User-agent: *\nDisallow: /private",
            "/": "<html>café</html>",
            "/.well-known/tdmrep.json": "[]",
            "/doc.pdf": b"%PDF-1.7\xff",
            "/custom": Response(status=451, body="x"),
        },
    )
    assert base == "http://site-a.test"
    types = {
        path: client.get(base + path).headers.get("content-type")
        for path in ("/robots.txt", "/", "/.well-known/tdmrep.json", "/doc.pdf")
    }
    assert types == {
        "/robots.txt": "text/plain; charset=utf-8",
        "/": "text/html; charset=utf-8",
        "/.well-known/tdmrep.json": "application/json; charset=utf-8",
        "/doc.pdf": "application/pdf",
    }
    assert client.get(base + "/").text == "<html>café</html>"
    assert client.get(base + "/custom").status_code == 451


def test_handler_errors_answer_500_and_are_recorded(
    virtual_web: VirtualWeb, client: httpx.Client
) -> None:
    def broken(req: Request) -> Response:
        raise RuntimeError("boom")

    virtual_web.add("site-a.test/broken", handler=broken)
    resp = client.get("http://site-a.test/broken")
    assert resp.status_code == 500
    assert "RuntimeError: boom" in resp.text
    assert len(virtual_web.errors) == 1
    with pytest.raises(AssertionError, match="boom"):
        virtual_web.assert_no_errors()  # also clears them, so the fixture's teardown passes


def test_connect_is_refused_so_https_never_leaves(
    virtual_web: VirtualWeb, client: httpx.Client
) -> None:
    with pytest.raises(httpx.ProxyError, match="501"):
        client.get("https://example.com/")
    assert raw_exchange(virtual_web, b"CONNECT example.com:443 HTTP/1.1\r\n\r\n").startswith(
        b"HTTP/1.1 501 "
    )


def test_raw_protocol_edges(virtual_web: VirtualWeb) -> None:
    virtual_web.add("site-a.test/x", body="hi")
    # HTTP/1.0 and Connection: close end the connection after one answer (raw_exchange reads to EOF)
    for request in (
        b"GET http://site-a.test/x HTTP/1.0\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: site-a.test\r\nConnection: close\r\n\r\n",
    ):
        answer = raw_exchange(virtual_web, request)
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        assert answer.endswith(b"Connection: close\r\n\r\nhi")
    assert raw_exchange(virtual_web, b"garbage\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    two = b"GET http://site-a.test/x HTTP/1.1\r\n\r\n" * 2  # pipelined, then the client closes
    with socket.create_connection(("127.0.0.1", virtual_web.port), timeout=10) as sock:
        sock.sendall(two + b"GET /x HTTP/1.1\r\nHost: site-a.test\r\nConnection: close\r\n\r\n")
        answer = b"".join(iter(lambda: sock.recv(65536), b""))
    assert answer.count(b"HTTP/1.1 200 OK") == 3


def test_fixture_sets_the_proxy_environment(virtual_web: VirtualWeb) -> None:
    assert os.environ["HTTP_PROXY"] == os.environ["http_proxy"] == virtual_web.proxy_url
    assert os.environ["HTTPS_PROXY"] == virtual_web.proxy_url
    assert os.environ["NO_PROXY"] == os.environ["no_proxy"] == ""


def test_start_stop_and_context_manager() -> None:
    web = VirtualWeb()
    with web:
        web.add("a.test/", body="up")
        with httpx.Client(proxy=web.proxy_url, trust_env=False) as c:
            assert c.get("http://a.test/").text == "up"
        with pytest.raises(RuntimeError):
            web.start()
    web.stop()  # idempotent
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", web.port), timeout=1).close()


def test_proxy_env_reaches_a_subprocess(virtual_web: VirtualWeb) -> None:
    virtual_web.add("site-a.test/cli", body="from the virtual web")
    code = "import httpx; print(httpx.get('http://site-a.test/cli').text)"
    env = {**os.environ, **proxy_env(virtual_web)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "from the virtual web"


SPIDER = """
import json, sys
import scrapy
from scrapy.crawler import CrawlerProcess

class Spider(scrapy.Spider):
    name = "vw"
    start_urls = ["http://site-a.test/"]
    seen = {}

    def parse(self, response):
        self.seen[response.url] = [response.status, len(response.body)]
        yield from response.follow_all(css="a", callback=self.parse)

process = CrawlerProcess({"LOG_LEVEL": "ERROR", "TELNETCONSOLE_ENABLED": False,
                          "RETRY_ENABLED": False, "HTTPERROR_ALLOW_ALL": True})
process.crawl(Spider)
process.start()
print(json.dumps(Spider.seen))
"""


@pytest.mark.slow
def test_scrapy_crawls_through_the_proxy(virtual_web: VirtualWeb, tmp_path: Path) -> None:
    links = "".join(f'<a href="/p{i}">p</a>' for i in range(50))
    big = random.Random(1).randbytes(1024 * 1024)
    virtual_web.site(
        "site-a.test",
        {
            "/": f"<html>{links}<a href='/big'>b</a><a href='/gz'>g</a></html>",
            **{f"/p{i}": f"<html>page {i}</html>" for i in range(50)},
            "/big": Response(body=big, content_type="application/octet-stream"),
            "/gz": Response(body="<html>" + "z" * 50_000, gzip=True, content_type="text/html"),
        },
    )
    script = tmp_path / "spider.py"  # Scrapy reads callbacks' source, so no ``python -c``
    script.write_text(SPIDER, encoding="utf-8")
    env = {**os.environ, **proxy_env(virtual_web)}
    out = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(seen) == 53
    assert seen["http://site-a.test/big"] == [200, len(big)]
    assert seen["http://site-a.test/gz"] == [200, 50_006]
    assert all(r.proxied for r in virtual_web.requests)
