"""HTTP/1.1 messages of the virtual web (heed/demo/server.py): no I/O, just bytes.

``Request`` is what the server received, ``Response`` what a route answers; ``render`` turns a
Response into the bytes sent (once, at registration, for static routes) and ``parse_head`` reads a
request head. Routing keys are (host, path): host lower-cased with ``:80`` dropped, path with its
query exactly as sent.
"""

from __future__ import annotations

import gzip as gzip_module
import http
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

HeaderValue = str | bytes
Headers = Mapping[str, HeaderValue] | Iterable[tuple[str, HeaderValue]]
Handler = Callable[["Request"], "Response"]

# Framing is the server's job: a route that set these could desynchronise a keep-alive connection.
_SERVER_HEADERS = frozenset({"content-length", "connection", "transfer-encoding"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """One request as the virtual web received it."""

    method: str
    url: str  # "http://host[:port]/path?query", rebuilt from the routing key
    host: str  # routing host: lower-case, ":port" unless 80
    path: str  # path and query exactly as sent
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    time: float  # time.monotonic() at arrival
    proxied: bool  # absolute-form target, i.e. the client came through HTTP_PROXY

    def header(self, name: str) -> str | None:
        """Return the first value of header *name* (case-insensitive), or None."""
        wanted = name.lower()
        return next((v for n, v in self.headers if n.lower() == wanted), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    """What a route answers; the fields are those of VirtualWeb.add."""

    status: int = 200
    body: bytes | str = b""
    headers: Headers = ()
    content_type: str | None = "text/plain"
    gzip: bool = False
    redirect: str | None = None
    reset: bool = False
    truncate: bool = False
    delay: float = 0.0
    #: Seconds between body bytes: the head at once, then the body one byte at a time.
    trickle: float = 0.0


@dataclass(frozen=True, slots=True)
class Wire:
    """A response rendered to bytes, plus what the server must do around sending it."""

    head: bytes  # status line and header lines, without the blank line that ends them
    body: bytes  # what a GET gets (already cut short when truncating)
    delay: float = 0.0
    reset: bool = False
    truncate: bool = False
    trickle: float = 0.0

    def to_bytes(self, *, close: bool, head_only: bool) -> bytes:
        """Return the bytes to send, announcing ``Connection: close`` when *close*."""
        end = b"Connection: close\r\n\r\n" if close else b"\r\n"
        return self.head + end if head_only else self.head + end + self.body


@dataclass(frozen=True, slots=True)
class Head:
    """A parsed request head."""

    method: str
    target: str
    version: str
    headers: tuple[tuple[str, str], ...]
    fields: dict[str, str]  # lower-cased names; the last value wins


def split_target(target: str) -> tuple[str, str]:
    """Split ``host[:port][/path][?query]`` into a routing host and a raw path."""
    cut = min((i for i in (target.find("/"), target.find("?")) if i >= 0), default=len(target))
    netloc, path = target[:cut].rpartition("@")[2].lower(), target[cut:]
    netloc = netloc.removesuffix(":80").removesuffix(":")
    return netloc, ("/" + path if path.startswith("?") else path or "/")


def route_key(url: str) -> tuple[str, str]:
    """Return the (host, path) routing key of an ``http://`` URL or a bare ``host/path``."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() != "http":
        raise ValueError(f"virtual web serves http:// only, not {url!r}")
    netloc, path = split_target(rest if sep else url)
    if not netloc:
        raise ValueError(f"no host in {url!r}")
    return netloc, path


def _pairs(headers: Headers) -> list[tuple[str, bytes]]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    out = []
    for name, value in items:
        raw = value.encode() if isinstance(value, str) else bytes(value)
        if name.lower() in _SERVER_HEADERS:
            raise ValueError(f"header {name!r} is set by the virtual web itself")
        if not name or any(c in name for c in ":\r\n ") or b"\r" in raw or b"\n" in raw:
            raise ValueError(f"malformed header {name!r}: {value!r}")
        out.append((name, raw))
    return out


def render(resp: Response) -> Wire:
    """Render *resp* to bytes; raise ValueError on headers the server owns or cannot send."""
    if not isinstance(resp, Response):
        raise TypeError(f"expected a Response, got {type(resp).__name__}")
    body = resp.body.encode() if isinstance(resp.body, str) else bytes(resp.body)
    status = 302 if resp.redirect is not None and resp.status == 200 else resp.status
    given = _pairs(resp.headers)
    names = {name.lower() for name, _ in given}
    extra: list[tuple[str, bytes]] = []
    if resp.content_type is not None and "content-type" not in names:
        extra.append(("Content-Type", resp.content_type.encode()))
    if resp.redirect is not None and "location" not in names:
        extra.append(("Location", resp.redirect.encode()))
    if resp.gzip:
        body = gzip_module.compress(body, mtime=0)  # mtime 0: the same bytes every run
        extra.append(("Content-Encoding", b"gzip"))
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}".encode()]
    lines += [name.encode() + b": " + value for name, value in extra + given]
    if status < 200 or status in (204, 304):
        body = b""  # RFC 9110 §8.6: these carry no content and no Content-Length
    else:
        # Truncation declares the whole body (at least 1 byte), then sends only its first half.
        lines.append(b"Content-Length: %d" % (max(len(body), 1) if resp.truncate else len(body)))
    if resp.truncate:
        body = body[: len(body) // 2]
    head = b"\r\n".join(lines) + b"\r\n"
    return Wire(head, body, resp.delay, resp.reset, resp.truncate, resp.trickle)


def plain(status: int, text: str) -> Wire:
    """Render a text/plain answer of the server's own (404, 400, 501…)."""
    return render(Response(status=status, body=text))


def parse_head(raw: bytes) -> Head | Wire:
    """Parse a request head ending in CRLFCRLF; return the Head, or a 400 Wire if malformed."""
    # Leading empty lines are ignored (RFC 9112 §2.2); a header line without ':' is kept with an
    # empty value rather than refused: this server is lenient, clients under test are not its subject.
    lines = raw.removesuffix(b"\r\n\r\n").decode("latin-1").lstrip("\r\n").split("\r\n")
    method, target, version = [*lines[0].split(" "), "", ""][:3]
    if not method or not target or not version.startswith("HTTP/1."):
        return plain(400, "malformed request line\n")
    headers = tuple((n.strip(), v.strip()) for n, _, v in (ln.partition(":") for ln in lines[1:]))
    fields = {name.lower(): value for name, value in headers}
    return Head(method, target, version, headers, fields)
