"""The demo web of ``heed demo``: one small site per behaviour, all on ``*.test`` hosts.

Each :class:`DemoSite` says what it shows and what Heed must do with each of its URLs
(:attr:`DemoSite.expect`), so that the demo can check itself and the tests can check the demo.
Served by :class:`heed.demo.server.VirtualWeb`, reached through ``HTTP_PROXY``; nothing leaves
the machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from heed.demo.server import Response, VirtualWeb

ALLOW_ALL = "User-agent: *\nAllow: /\n"


def page(
    title: str,
    text: str,
    links: tuple[str, ...] = (),
    *,
    head: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    """Return an HTML page with *text*, links to *links*, and extra *head* markup and *headers*."""
    anchors = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    body = (
        f"<!doctype html><html><head><title>{title}</title>{head}</head><body>"
        f"<h1>{title}</h1><p>{text}</p><ul>{anchors}</ul></body></html>"
    )
    return Response(body=body, content_type="text/html; charset=utf-8", headers=headers or {})


#: Text on every page whose use is reserved: the tests check it never reaches the dataset.
RESERVED_MARK = "RESERVED CONTENT"


def reserved_page(title: str, *, head: str = "", headers: dict[str, str] | None = None) -> Response:
    """Return a page whose text must never reach the dataset (it says so)."""
    text = f"{RESERVED_MARK} of {title}: must not appear in the dataset."
    return page(title, text, head=head, headers=headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoSite:
    """One demo site: its host, what it shows, its pages, and the action expected per URL."""

    host: str
    shows: str
    pages: dict[str, str | Response]
    #: Expected action per URL path (a redirect chain under the path it started at).
    expect: dict[str, str] = field(default_factory=dict)

    @property
    def seed(self) -> str:
        """Return the site's start URL."""
        return f"http://{self.host}/"


PAYWALL_HEAD = (
    '<script type="application/ld+json">{"@context": "https://schema.org", '
    '"@type": "NewsArticle", "isAccessibleForFree": false}</script>'
)

SITES: tuple[DemoSite, ...] = (
    DemoSite(
        host="demo-open.test",
        shows="an open site: no opt-out anywhere, everything may be used",
        pages={
            "/robots.txt": ALLOW_ALL,
            "/": page("Open site", "Welcome.", ("/about", "/blog/first-post")),
            "/about": page("About", "We publish openly."),
            "/blog/first-post": page("First post", "Hello, world."),
        },
        expect={
            "/": "fetched-stored",
            "/about": "fetched-stored",
            "/blog/first-post": "fetched-stored",
        },
    ),
    DemoSite(
        host="demo-robots.test",
        shows="robots.txt disallows /private/: never requested",
        pages={
            "/robots.txt": "User-agent: *\nDisallow: /private/\n",
            "/": page("Robots demo", "Public and private.", ("/public", "/private/report")),
            "/public": page("Public", "Anyone may read this."),
            "/private/report": reserved_page("Private report"),
        },
        expect={
            "/": "fetched-stored",
            "/public": "fetched-stored",
            "/private/report": "skipped-robots",
        },
    ),
    DemoSite(
        host="demo-down.test",
        shows="robots.txt answers 503: nothing else is requested (fail closed)",
        pages={"/robots.txt": Response(status=503, body="busy"), "/": reserved_page("Down site")},
        expect={"/": "deferred"},
    ),
    DemoSite(
        host="demo-tdmrep.test",
        shows="a TDMRep file (/.well-known/tdmrep.json) reserves /books/: not even downloaded",
        pages={
            "/robots.txt": ALLOW_ALL,
            "/.well-known/tdmrep.json": Response(
                body='[{"location": "/books/*", "tdm-reservation": 1}]',
                content_type="application/json",
            ),
            "/": page("Publisher", "Books and news.", ("/books/novel", "/news/today")),
            "/books/novel": reserved_page("A novel"),
            "/news/today": page("Today", "The news."),
        },
        expect={
            "/": "fetched-stored",
            "/books/novel": "skipped-reservation",
            "/news/today": "fetched-stored",
        },
    ),
    DemoSite(
        host="demo-news.test",
        shows="TDMRep in an HTTP header and in a <meta> tag: fetched, kept out of the dataset",
        pages={
            "/robots.txt": ALLOW_ALL,
            "/": page("News", "Articles.", ("/article-1", "/article-2", "/article-3")),
            "/article-1": reserved_page("Article 1", headers={"tdm-reservation": "1"}),
            "/article-2": reserved_page(
                "Article 2", head='<meta name="tdm-reservation" content="1">'
            ),
            "/article-3": page("Article 3", "No reservation here."),
        },
        expect={
            "/": "fetched-stored",
            "/article-1": "fetched-excluded",
            "/article-2": "fetched-excluded",
            "/article-3": "fetched-stored",
        },
    ),
    DemoSite(
        host="demo-usage.test",
        shows="IETF AIPREF Content-Usage: train-ai=n on one page",
        pages={
            "/robots.txt": ALLOW_ALL,
            "/": page("Essays", "Read on.", ("/essay",)),
            "/essay": reserved_page("Essay", headers={"Content-Usage": "train-ai=n"}),
        },
        expect={"/": "fetched-stored", "/essay": "fetched-excluded"},
    ),
    DemoSite(
        host="demo-signal.test",
        shows="Cloudflare Content-Signal: ai-train=no in robots.txt: the whole site is skipped",
        pages={
            "/robots.txt": "User-agent: *\nContent-Signal: search=yes, ai-train=no\nAllow: /\n",
            "/": reserved_page("Signal site"),
        },
        expect={"/": "skipped-reservation"},
    ),
    DemoSite(
        host="demo-noai.test",
        shows='<meta name="robots" content="noai, noimageai"> on a gallery page',
        pages={
            "/robots.txt": ALLOW_ALL,
            "/": page("Artist", "Portfolio.", ("/gallery",)),
            "/gallery": reserved_page(
                "Gallery", head='<meta name="robots" content="noai, noimageai">'
            ),
        },
        expect={"/": "fetched-stored", "/gallery": "fetched-excluded"},
    ),
    DemoSite(
        host="demo-paywall.test",
        shows="a paywall (schema.org isAccessibleForFree: false) and a 402: never circumvented",
        pages={
            "/robots.txt": ALLOW_ALL,
            "/": page("Daily", "Subscribe!", ("/premium", "/subscribers")),
            "/premium": page("Premium", "Teaser only.", head=PAYWALL_HEAD),
            "/subscribers": Response(status=402, body="Payment required"),
        },
        expect={
            "/": "fetched-stored",
            "/premium": "access-restricted",
            "/subscribers": "access-restricted",
        },
    ),
    DemoSite(
        host="demo-redirect.test",
        shows="a redirect into a robots.txt-disallowed area: the hop is never requested",
        pages={
            "/robots.txt": "User-agent: *\nDisallow: /members/\n",
            "/": page("Moved", "Old links.", ("/old-page",)),
            "/old-page": Response(status=301, redirect="/members/archive"),
            "/members/archive": reserved_page("Members' archive"),
        },
        expect={"/": "fetched-stored", "/old-page": "skipped-robots"},
    ),
    DemoSite(
        host="demo-pirate.test",
        shows="a domain on the infringing-site denylist: never contacted, not even robots.txt",
        pages={"/robots.txt": ALLOW_ALL, "/": reserved_page("Pirate site")},
        expect={"/": "denylisted"},
    ),
)

#: The demo's denylist file contents.
DENYLIST = "# version: heed-demo-1\ndemo-pirate.test\n"


def build(web: VirtualWeb) -> list[str]:
    """Serve every demo site on *web*; return the seeds, one per site."""
    for site in SITES:
        web.site(site.host, site.pages)
    return [site.seed for site in SITES]


def expected() -> dict[str, str]:
    """Return the expected action for every URL the demo crawl decides."""
    return {f"http://{s.host}{path}": action for s in SITES for path, action in s.expect.items()}
