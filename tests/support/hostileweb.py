"""A hostile local web: each site attacks one of Heed's promises, on purpose or by accident.

Every site says which paths must never be requested (compared with the path a lenient server
would serve for each request it received: escapes decoded, dot segments resolved, backslashes
as slashes) and serves :data:`RESERVED_MARK` on every page whose text must never be kept.
``tests/crawler/test_hostile_web.py`` crawls all of it at once and checks, from the server's own
log, the dataset and the audit database, that the promises held.
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass, field
from urllib.parse import unquote

from heed.demo.sites import page
from optout.url import remove_dot_segments
from tests.support.virtualweb import Request, Response, VirtualWeb

#: Text on every page whose use is reserved or unknown: it must never reach the dataset.
RESERVED_MARK = "HOSTILE-RESERVED"
ALLOW = "User-agent: *\nAllow: /\n"


def reserved(title: str, **kwargs: object) -> Response:
    """Return a page whose text must never be kept."""
    return page(title, f"{RESERVED_MARK}: {title}", **kwargs)  # type: ignore[arg-type]


def gzip_bomb(size_mib: int) -> bytes:
    """Return a gzip stream inflating to *size_mib* MiB of spaces."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b" " * (1 << 20)
    parts = [packer.compress(b"<html><body>")]
    parts.extend(packer.compress(chunk) for _ in range(size_mib))
    parts.append(packer.flush())
    return b"".join(parts)


class AlwaysReset:
    """A handler whose every answer is a connection reset (Scrapy retries it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        return Response(reset=True)


@dataclass(frozen=True, slots=True)
class HostileSite:
    """One hostile site: its pages, the seeds into it, and the paths never to be requested."""

    host: str
    pages: dict[str, str | bytes | Response]
    seeds: tuple[str, ...] = ("/",)
    #: Served paths (or prefixes ending in "/") that must never be requested.
    never: tuple[str, ...] = ()
    handlers: dict[str, object] = field(default_factory=dict)


def _nested_json(depth: int) -> str:
    return "[" * depth + "]" * depth


EVASIVE = (
    "/./private/x",
    "/a/../private/x",
    "/%2e%2e/private/x",
    "/%2E/private/x",
    "/private\\x",
    "/a%2F..%2Fprivate/x",
    "/a%5C..%5Cprivate/x",
)

LATE_META = (
    "<!doctype html><html><head><style>"
    + "/*" + "x" * (600 * 1024) + "*/"
    + '</style><meta name="tdm-reservation" content="1"></head>'
    + f"<body><p>{RESERVED_MARK}: late meta</p></body></html>"
)  # fmt: skip
UTF16_PAGE = (
    '<html><head><meta name="robots" content="noai"></head>'
    f"<body><p>{RESERVED_MARK}: UTF-16</p></body></html>"
).encode("utf-16-le")

SITES: tuple[HostileSite, ...] = (
    HostileSite(
        "latemeta.test",  # a reservation behind 600 KiB of inline style: not complete, not kept
        {"/robots.txt": ALLOW, "/": Response(body=LATE_META, content_type="text/html")},
    ),
    HostileSite(
        "utf16.test",  # a page in UTF-16LE declared in Content-Type: its noai is read
        {
            "/robots.txt": ALLOW,
            "/": Response(body=UTF16_PAGE, content_type="text/html; charset=utf-16le"),
        },
    ),
    HostileSite(
        "bomrobots.test",  # robots.txt in UTF-16 with a byte-order mark: obeyed
        {
            "/robots.txt": Response(
                body="User-agent: *\nDisallow: /private/\n".encode("utf-16"),
                content_type="text/plain",
            ),
            "/private/x": reserved("private"),
        },
        seeds=("/private/x",),
        never=("/private/",),
    ),
    HostileSite(
        "hops.test",  # robots.txt behind two redirects: every hop is a recorded retrieval
        {
            "/robots.txt": Response(status=301, redirect="/r1"),
            "/r1": Response(status=302, redirect="/r2"),
            "/r2": "User-agent: *\nDisallow: /private/\n",
            "/private/x": reserved("private"),
        },
        seeds=("/private/x",),
        never=("/private/",),
    ),
    HostileSite(
        "binrobots.test",  # a robots.txt that is not text: the origin defers
        {
            "/robots.txt": Response(body=bytes(range(256)) * 8, content_type="text/plain"),
            "/": reserved("binary robots"),
        },
        never=("/",),
    ),
    HostileSite(
        "evasive.test",
        {
            "/robots.txt": "User-agent: *\nDisallow: /private/\n",
            "/": page("Links", "evasive links", EVASIVE),
            "/private/x": reserved("private"),
        },
        seeds=("/", *EVASIVE),
        never=("/private/",),
    ),
    HostileSite(
        "closed.test",  # a complete disallow: not even the signal files are requested
        {
            "/robots.txt": "User-agent: *\nDisallow: /\n",
            "/.well-known/tdmrep.json": "[]",
            "/ai.txt": "",
            "/": reserved("closed"),
        },
        never=("/", "/.well-known/tdmrep.json", "/ai.txt"),
    ),
    HostileSite(
        "hidden.test",  # robots.txt forbids the signal files: not fetched, nothing kept
        {
            "/robots.txt": "User-agent: *\nDisallow: /.well-known/\nDisallow: /ai.txt\n",
            "/.well-known/tdmrep.json": '[{"location": "/", "tdm-reservation": 1}]',
            "/": reserved("hidden"),
        },
        never=("/.well-known/", "/ai.txt"),
    ),
    HostileSite(
        "deepjson.test",  # a tdmrep.json nested 100,000 deep: unreadable, so nothing kept
        {
            "/robots.txt": ALLOW,
            "/.well-known/tdmrep.json": _nested_json(100_000),
            "/": reserved("deep json"),
        },
    ),
    HostileSite(
        "busy.test",  # 429 with a Retry-After in superscript digits: defer, no crash
        {"/robots.txt": Response(status=429, headers={"Retry-After": "²"}), "/": "x"},
        never=("/",),
    ),
    HostileSite(
        "wild.test",  # too many wildcard rules to compile: the origin defers
        {
            "/robots.txt": "User-agent: *\n"
            + "".join(f"Disallow: /*w{i}*z$\n" for i in range(6_000)),
            "/": reserved("wild"),
        },
        never=("/",),
    ),
    HostileSite(
        "bombs.test",  # gzip bombs, an oversized page, a corrupt stream: errors, bounded memory
        {
            "/robots.txt": ALLOW,
            "/": page("Bombs", "here", ("/bomb1", "/bomb2", "/bomb3", "/huge", "/corrupt")),
            **{
                f"/bomb{i}": Response(
                    body=gzip_bomb(128),
                    headers={"Content-Encoding": "gzip"},
                    content_type="text/html",
                )
                for i in (1, 2, 3)
            },
            "/huge": Response(body=b"x" * (40 << 20), content_type="text/html"),
            "/corrupt": Response(
                body=b"\x1f\x8b\x08\x00garbage", headers={"Content-Encoding": "gzip"}
            ),
        },
    ),
    HostileSite(
        "flaky.test",  # resets and cut-off bodies: every retried attempt has its decision
        {
            "/robots.txt": ALLOW,
            "/": page("Flaky", "links", ("/cut", "/slow")),
            "/cut": Response(body=f"<p>{RESERVED_MARK}</p>" * 100, truncate=True),
            "/slow": Response(body=f"<p>{RESERVED_MARK}</p>", trickle=0.5),
        },
        handlers={"/reset": AlwaysReset()},
        seeds=("/", "/reset"),
    ),
)


def build(web: VirtualWeb) -> list[str]:
    """Serve every hostile site on *web*; return the seed URLs."""
    seeds = []
    for site in SITES:
        web.site(site.host, site.pages)
        for path, handler in site.handlers.items():
            web.add(f"http://{site.host}{path}", handler=handler)  # type: ignore[arg-type]
        seeds.extend(f"http://{site.host}{path}" for path in site.seeds)
    return seeds


def served_path(path: str) -> str:
    """Return the path a lenient server serves for request-target *path*."""
    plain = unquote(path.partition("?")[0], errors="replace").replace("\\", "/")
    return remove_dot_segments(plain if plain.startswith("/") else "/" + plain)


def violations(web: VirtualWeb) -> list[str]:
    """Return the requests the server received for paths that must never be requested."""
    never = {site.host: site.never for site in SITES}
    found = []
    for request in web.requests:
        served = served_path(request.path)
        for forbidden in never.get(request.host, ()):
            hit = (
                served.startswith(forbidden)
                if forbidden.endswith("/") and forbidden != "/"
                else served == forbidden
            )
            if hit:
                found.append(f"{request.host}{request.path} (served as {served})")
    return found
