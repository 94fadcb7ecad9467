"""A local web of many hosts for the shared-crawl tests and bench (``heed crawl --redis``).

``HOSTS`` hosts ``h0.test`` … each with ``PAGES`` linked pages; every page links to the next
three of its host, to a page of the next host, and to a path robots.txt disallows. Page
requests are counted, and a *trigger* can be armed to run once at the Nth page request (kill a
worker, restart Redis): the moment is chosen by the web, so no test sleeps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from tests.support.virtualweb import Request, Response, VirtualWeb

HOSTS = 20
PAGES = 15
DISALLOWED = "/private/"


def host(i: int) -> str:
    """Return the name of host *i*."""
    return f"h{i % HOSTS}.test"


def expected_pages(hosts: int = HOSTS, pages: int = PAGES) -> set[str]:
    """Return the URL of every page a complete crawl from ``h0.test/p0`` stores."""
    return {f"http://{host(i)}/p{n}" for i in range(hosts) for n in range(pages)}


class ClusterWeb:
    """The hosts on *web*, counting page requests, with an optional one-shot trigger."""

    def __init__(self, web: VirtualWeb, *, hosts: int = HOSTS, pages: int = PAGES) -> None:
        self.web, self.hosts, self.pages = web, hosts, pages
        self.lock = threading.Lock()
        self.count = 0
        self._at: int | None = None
        self._trigger: Callable[[], None] | None = None
        for i in range(hosts):
            name = host(i)
            web.add(
                f"http://{name}/robots.txt",
                body=f"User-agent: *\nDisallow: {DISALLOWED}\n",
                headers=(("Cache-Control", "max-age=3600"),),
            )
            web.set_default(name, self._page(i))

    def arm(self, at: int, trigger: Callable[[], None]) -> None:
        """Run *trigger* (in a thread of its own) when the *at*-th page request arrives."""
        with self.lock:
            self.count, self._at, self._trigger = 0, at, trigger

    def _page(self, i: int) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            fire = None
            with self.lock:
                self.count += 1
                if self._at is not None and self.count == self._at:
                    fire, self._trigger = self._trigger, None
            if fire is not None:
                threading.Thread(target=fire, daemon=True).start()
            n = int(request.path.removeprefix("/p") or 0) if request.path.startswith("/p") else 0
            links = "".join(f'<a href="/p{(n + k) % self.pages}">next</a>' for k in (1, 2, 3))
            other = f'<a href="http://{host(i + 1)}/p{n}">other host</a>'
            private = f'<a href="{DISALLOWED}{n}">private</a>'
            text = f"<p>Host {i}, page {n}: " + "words of the page " * 20 + "</p>"
            body = f"<html><body>{text}{links}{other}{private}</body></html>"
            return Response(body=body, content_type="text/html")

        return handle

    def page_requests(self) -> list[str]:
        """Return the URL of every page request the web received, in order."""
        return [
            f"http://{r.host}{r.path}"
            for r in self.web.requests
            if r.host.endswith(".test")
            and r.path != "/robots.txt"
            and not r.path.startswith(("/.well-known/", "/ai.txt"))
        ]

    def robots_requests(self) -> dict[str, int]:
        """Return how many times each host's robots.txt was requested."""
        found: dict[str, int] = {}
        for r in self.web.requests:
            if r.path == "/robots.txt":
                found[r.host] = found.get(r.host, 0) + 1
        return found
