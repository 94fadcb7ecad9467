"""A local many-host web, reached as an HTTP proxy: ``heed demo``'s web and the tests'.

One asyncio HTTP/1.1 server on 127.0.0.1 (port chosen by the OS) runs in a daemon thread. Clients
reach it through ``HTTP_PROXY``/``http_proxy``: httpx (``trust_env``) and Scrapy's
HttpProxyMiddleware send absolute-form requests (``GET http://site-a.test/path HTTP/1.1``), so the
server routes by the absolute URL's host and port, falling back to the Host header for origin-form
requests. Nothing is ever forwarded: an unknown host or path gets a local 404 and CONNECT (HTTPS)
gets a 501, so a test cannot reach the internet through it. API::

    with VirtualWeb() as web:                      # or web.start() ... web.stop()
        web.proxy_url                               # "http://127.0.0.1:PORT"
        url = web.add("http://a.test/x", body="hi", status=200, headers={"X-Robots-Tag": "noai"},
                      content_type="text/plain", gzip=False, redirect=None,
                      reset=False, truncate=False, delay=0.0)     # returns "http://a.test/x"
        web.add("a.test/echo", handler=lambda req: Response(body=req.path))
        web.site("a.test", {"/robots.txt": "User-agent: *\\nDisallow: /p", "/": "<html>…"})
        web.set_default("a.test", Response(status=410))   # unrouted paths of a.test (404 if unset)
        web.requests; web.requested(url); web.count(url); web.clear_log()
        web.errors; web.assert_no_errors()          # exceptions raised by handlers

Routing: the key is (host, port) — host lower-cased, ``:80`` dropped — then the path with its query
exactly as sent; a path with a query that has no exact route falls back to the route without it.
``Content-Length`` and ``Connection`` belong to the server (ValueError if given in ``headers``);
given headers are sent in order (repeat a name with a list of pairs) and a given Content-Type wins
over ``content_type``. ``redirect`` sets Location and turns the default 200 into 302; ``gzip``
compresses the body (mtime 0) and adds Content-Encoding. ``delay`` waits on the event loop (other
requests go on; stop() cancels it), then ``reset`` aborts the connection with an RST and no
response, ``truncate`` declares the whole body's length, sends its first half and closes, and
``trickle`` sends the body one byte every ``trickle`` seconds.
HEAD gets the GET headers without a body; 1xx/204/304 carry neither body nor Content-Length.
Handlers run in a worker thread, must return a Response promptly; an exception in one answers 500
and is recorded in ``errors`` (the ``virtual_web`` fixture fails the test at teardown if any).
``Request`` (method, url, host, path, headers, body, time = ``time.monotonic()`` at arrival,
proxied) and ``Response`` live in heed/demo/wire.py with the byte-level rendering
(tests/support/virtualweb.py re-exports this module for the tests).
"""

from __future__ import annotations

import asyncio
import mimetypes
import socket
import struct
import threading
import time
import traceback
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from heed.demo.wire import (
    Handler,
    Headers,
    Request,
    Response,
    Wire,
    parse_head,
    plain,
    render,
    route_key,
    split_target,
)

__all__ = ["Handler", "Request", "Response", "VirtualWeb", "proxy_env"]

_MIME = mimetypes.MimeTypes()  # built-in table only, so guesses do not depend on /etc/mime.types
_HEAD_LIMIT = 64 * 1024  # a longer request head gets a 431


@dataclass(slots=True)
class _Host:
    pages: dict[str, Wire | Handler] = field(default_factory=dict)
    default: Wire | Handler | None = None

    def lookup(self, path: str) -> Wire | Handler | None:
        """Return the route for *path*: exact, else without the query, else the host default."""
        route = self.pages.get(path)
        if route is None and "?" in path:
            route = self.pages.get(path.partition("?")[0])
        return self.default if route is None else route


def proxy_env(web: VirtualWeb) -> dict[str, str]:
    """Return environment variables that send a process's HTTP(S) traffic to *web* only."""
    # HTTPS goes to the web too, where CONNECT gets a 501: an https:// URL fails instead of leaking.
    # Empty values (not deletions) so the dict can be merged over os.environ for a subprocess;
    # urllib and httpx treat an empty NO_PROXY/ALL_PROXY as unset.
    env = dict.fromkeys(("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"), web.proxy_url)
    return env | dict.fromkeys(("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"), "")


class VirtualWeb:
    """Serve many virtual http:// hosts from one local proxy-style server; see the module doc."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hosts: dict[str, _Host] = {}
        self._log: list[Request] = []
        self._errors: list[str] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="virtualweb-handler")
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind, listen and start serving in a background thread; return self."""
        if self._loop is not None:
            raise RuntimeError("VirtualWeb already started")
        sock = socket.create_server(("127.0.0.1", 0), backlog=1024)  # listening before we return
        self.port = sock.getsockname()[1]
        self._loop = loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="virtualweb", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._open(sock), loop).result(timeout=10)
        return self

    def stop(self) -> None:
        """Close every connection (ending delays early), stop the thread; idempotent."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._close(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def proxy_url(self) -> str:
        """Return the URL to use as HTTP_PROXY."""
        return f"http://127.0.0.1:{self.port}"

    # -- routes ----------------------------------------------------------------------------------

    def add(
        self,
        url: str,
        *,
        status: int = 200,
        body: bytes | str = b"",
        headers: Headers = (),
        content_type: str | None = "text/plain",
        gzip: bool = False,
        redirect: str | None = None,
        reset: bool = False,
        truncate: bool = False,
        delay: float = 0.0,
        handler: Handler | None = None,
    ) -> str:
        """Route *url* (``http://host/path`` or ``host/path``) to a response; return the URL."""
        resp = Response(status=status, body=body, headers=headers, content_type=content_type,
                        gzip=gzip, redirect=redirect, reset=reset, truncate=truncate, delay=delay)  # fmt: skip
        host, path = route_key(url)
        route = handler if handler is not None else render(resp)
        with self._lock:
            self._hosts.setdefault(host, _Host()).pages[path] = route
        return f"http://{host}{path}"

    def site(
        self,
        host: str,
        pages: Mapping[str, str | bytes | Response],
        *,
        default: Response | Handler | None = None,
    ) -> str:
        """Route many paths of *host* at once; str/bytes pages get a type guessed from the path."""
        netloc, _ = route_key(host)
        rendered: dict[str, Wire | Handler] = {}
        for path, page in pages.items():
            if not path.startswith("/"):
                raise ValueError(f"page path must start with '/': {path!r}")
            if not isinstance(page, Response):
                ctype = _MIME.guess_type("x" + path.partition("?")[0])[0] or "text/html"
                textual = ctype.startswith("text/") or ctype.endswith(("json", "xml"))
                if isinstance(page, str) and textual:
                    ctype += "; charset=utf-8"  # we encode str pages as UTF-8, so say so
                page = Response(body=page, content_type=ctype)
            rendered[path] = render(page)
        with self._lock:
            entry = self._hosts.setdefault(netloc, _Host())
            entry.pages.update(rendered)
            if default is not None:
                entry.default = default if callable(default) else render(default)
        return f"http://{netloc}"

    def set_default(self, host: str, response: Response | Handler) -> None:
        """Answer unrouted paths of *host* with *response* instead of 404."""
        netloc, _ = route_key(host)
        route = response if callable(response) else render(response)
        with self._lock:
            self._hosts.setdefault(netloc, _Host()).default = route

    # -- log -------------------------------------------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        """Return a snapshot of every request received, in arrival order."""
        with self._lock:
            return list(self._log)

    def count(self, url: str) -> int:
        """Return how many requests for *url* (exact host and path with query) arrived."""
        key = route_key(url)
        return sum((r.host, r.path) == key for r in self.requests)

    def requested(self, url: str) -> bool:
        """Return whether *url* was requested at least once."""
        return self.count(url) > 0

    def clear_log(self) -> None:
        """Forget the requests received so far."""
        with self._lock:
            self._log.clear()

    @property
    def errors(self) -> list[str]:
        """Return the tracebacks of handlers that raised (each answered 500)."""
        with self._lock:
            return list(self._errors)

    def assert_no_errors(self) -> None:
        """Raise AssertionError if a handler raised; clear the record either way."""
        with self._lock:
            errors, self._errors = self._errors, []
        if errors:
            raise AssertionError("virtual web handler raised:\n" + "\n".join(errors))

    # -- server (event-loop thread) --------------------------------------------------------------

    def _run(self) -> None:
        assert self._loop is not None
        self._loop.run_forever()
        self._loop.close()

    async def _open(self, sock: socket.socket) -> None:
        self._server = await asyncio.start_server(self._serve, sock=sock, limit=_HEAD_LIMIT)

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while not await self._exchange(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away: nothing to answer
        except asyncio.CancelledError:
            # stop() cancelled us. End normally: Python 3.11's start_server callback calls
            # task.exception() on a cancelled task and logs a spurious CancelledError traceback.
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; return True when the connection must close."""
        try:
            head = parse_head(await reader.readuntil(b"\r\n\r\n"))
        except asyncio.IncompleteReadError:
            return True  # closed between requests: the normal end of a keep-alive connection
        except asyncio.LimitOverrunError:
            head = plain(431, "request head too large\n")
        if isinstance(head, Wire):
            return self._send(writer, head, close=True)
        method, target, fields = head.method, head.target, head.fields
        proxied = target[:7].lower() == "http://"
        if method == "CONNECT":
            return self._send(writer, plain(501, "virtual web: no HTTPS/CONNECT\n"), close=True)
        if "transfer-encoding" in fields:
            return self._send(writer, plain(501, "no chunked request bodies\n"), close=True)
        if not proxied and not target.startswith("/"):
            return self._send(writer, plain(400, f"unsupported target {target!r}\n"), close=True)
        try:
            length = int(fields.get("content-length") or 0)
            body = await reader.readexactly(length) if length else b""
        except ValueError:  # not a number, or negative
            return self._send(writer, plain(400, "bad Content-Length\n"), close=True)
        host, path = (
            split_target(target[7:])
            if proxied
            else (split_target(fields.get("host", ""))[0], target)
        )
        close = head.version == "HTTP/1.0" or "close" in fields.get("connection", "").lower()
        req = Request(method=method, url=f"http://{host}{path}", host=host, path=path,
                      headers=head.headers, body=body, time=time.monotonic(), proxied=proxied)  # fmt: skip
        with self._lock:
            self._log.append(req)
            entry = self._hosts.get(host)
            route = None if entry is None else entry.lookup(path)
        if route is None:
            wire = plain(404, f"virtual web: no route for {req.url}\n")
        elif callable(route):
            wire = await self._call(route, req)
        else:
            wire = route
        if wire.delay > 0:
            await asyncio.sleep(wire.delay)  # cancelled by stop(), so a test never waits it out
        if wire.reset:
            sock = writer.get_extra_info("socket")
            with suppress(OSError, AttributeError):  # linger 0: closing sends RST, not FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return True
        if wire.trickle > 0 and method != "HEAD":
            await self._trickle(writer, wire, close)
            return close
        self._send(writer, wire, close or wire.truncate, head_only=method == "HEAD")
        await writer.drain()
        return close or wire.truncate

    @staticmethod
    async def _trickle(writer: asyncio.StreamWriter, wire: Wire, close: bool) -> None:
        """Send the head, then the body a byte every ``wire.trickle`` seconds (cancelled by
        stop(), and ended when the client goes away)."""
        writer.write(wire.to_bytes(close=close, head_only=True))
        for i in range(len(wire.body)):
            await writer.drain()
            if writer.is_closing():
                return
            await asyncio.sleep(wire.trickle)
            writer.write(wire.body[i : i + 1])
        await writer.drain()

    async def _call(self, handler: Handler, req: Request) -> Wire:
        loop = asyncio.get_running_loop()
        try:
            # A worker thread, so a slow handler does not hold up other connections.
            return render(await loop.run_in_executor(self._pool, handler, req))
        except Exception:  # noqa: BLE001 - any handler bug becomes a 500 and a recorded error
            text = f"{req.method} {req.url}\n{traceback.format_exc()}"
            with self._lock:
                self._errors.append(text)
            return plain(500, text)

    @staticmethod
    def _send(
        writer: asyncio.StreamWriter, wire: Wire, close: bool, head_only: bool = False
    ) -> bool:
        writer.write(wire.to_bytes(close=close, head_only=head_only))
        return close
