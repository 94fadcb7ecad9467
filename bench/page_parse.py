"""Benchmark: what reading one page costs Heed — the head scan, the dataset text, the links.

    .venv/bin/python bench/page_parse.py [--pages 200] [--size 1.0] [--others]

Pages of the realistic synthetic web (bench/realweb.py: 20–60 KB, a CMS-like layout; ``--size``
scales the article) are read as a crawl reads them, each from a fresh Scrapy response:

* ``head scan`` — ``optout.html_head.parse_head``, what the reservation check reads (meta, link);
* ``text main`` / ``text visible`` — ``crawler.items.extract_text`` in each mode, Scrapy's parse
  of the page included;
* ``links`` — the spider's link extraction alone (the page's parse and urljoin included);
* ``page`` — all a crawl does with an HTML page: head scan, text (main) and links.

``--others`` also times other HTML libraries on the same pages when they are installed
(selectolax's lexbor parser, resiliparse's parser and main-content extractor, trafilatura), for
the choice of library. Milliseconds per page, best of three passes. For the figures of another
version of Heed, run this file with that version's tree first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
if not any(Path(p, "crawler").is_dir() for p in sys.path if p):
    sys.path.insert(1, str(ROOT))

from realweb import page_bytes
from scrapy.http import HtmlResponse, Request

from crawler import items
from optout.html_head import parse_head

try:
    from crawler.spiders.web import _hrefs
except ImportError:  # a version before issue 13 (run from its tree for the "before" figures)

    def _hrefs(response: Any) -> list[str]:
        return list(response.css("a::attr(href)").getall())


def extract_text(response: Any, content_type: str, mode: str) -> str | None:
    """Return the page's text in *mode* (a version without modes: its only text)."""
    try:
        return items.extract_text(response, content_type, mode)
    except TypeError:
        return items.extract_text(response, content_type)  # type: ignore[call-arg]


CTYPE = "text/html; charset=utf-8"


def responses(pages: list[bytes]) -> list[HtmlResponse]:
    """Return fresh responses of *pages* (nothing parsed yet)."""
    out = []
    for n, body in enumerate(pages):
        url = f"http://site{n % 40:02d}.test/news/article-{n}.html"
        out.append(
            HtmlResponse(url, body=body, headers={"Content-Type": CTYPE}, request=Request(url))
        )
    return out


def timed(pages: list[bytes], work: Callable[[Any], object], *, fresh: bool = True) -> float:
    """Return the best of three passes of *work* over responses of *pages*, ms per page."""
    best = float("inf")
    for _ in range(3):
        items: list[Any] = responses(pages) if fresh else pages
        if not fresh:
            pass
        start = time.perf_counter()
        for item in items:
            work(item)
        best = min(best, time.perf_counter() - start)
    return 1000 * best / len(pages)


def page_work(response: HtmlResponse) -> None:
    """Do what a crawl does with an HTML page."""
    parse_head(response.body, content_type=CTYPE)
    extract_text(response, "text/html", "main")
    [response.urljoin(h.strip()) for h in _hrefs(response)]


def others(pages: list[bytes]) -> None:
    """Time the other HTML libraries that are installed."""
    texts = [p.decode() for p in pages]
    try:
        from selectolax.lexbor import LexborHTMLParser
    except ImportError:
        print("  selectolax: not installed")
    else:

        def lexbor(text: str) -> None:
            tree = LexborHTMLParser(text)
            [a.attributes.get("href") for a in tree.css("a[href]")]
            tree.strip_tags(["script", "style", "noscript", "template"])
            body = tree.body
            if body is not None:
                body.text(separator=" ")

        row("selectolax (lexbor) parse", timed(texts, LexborHTMLParser, fresh=False))
        row("selectolax parse + links + visible text", timed(texts, lexbor, fresh=False))
    try:
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.html import HTMLTree
    except ImportError:
        print("  resiliparse: not installed")
    else:
        row("resiliparse parse", timed(texts, HTMLTree.parse, fresh=False))
        row(
            "resiliparse parse + main content",
            timed(
                texts,
                lambda t: extract_plain_text(HTMLTree.parse(t), main_content=True),
                fresh=False,
            ),
        )
    try:
        import trafilatura
    except ImportError:
        print("  trafilatura: not installed")
    else:
        row(
            "trafilatura extract (fast)",
            timed(texts, lambda t: trafilatura.extract(t, fast=True), fresh=False),
        )


def row(name: str, ms: float) -> None:
    """Print one figure."""
    print(f"  {name:<42} {ms:7.3f} ms/page")


def main() -> None:
    """Build the pages and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--size", type=float, default=1.0, help="scale the articles' length")
    parser.add_argument("--others", action="store_true", help="also time other HTML libraries")
    args = parser.parse_args()
    pages = [page_bytes(n % 40, n // 40, size=args.size) for n in range(args.pages)]
    kib = sum(map(len, pages)) / len(pages) / 1024
    print(f"{len(pages)} pages of {kib:.0f} KiB on average")
    row("head scan (parse_head)", timed(pages, lambda r: parse_head(r.body, content_type=CTYPE)))
    row("text main (parse included)", timed(pages, lambda r: extract_text(r, "text/html", "main")))
    row(
        "text visible (parse included)",
        timed(pages, lambda r: extract_text(r, "text/html", "visible")),
    )
    row(
        "links (parse included)",
        timed(pages, lambda r: [r.urljoin(h.strip()) for h in _hrefs(r)]),
    )
    row("page: head scan + text main + links", timed(pages, page_work))
    if args.others:
        others(pages)


if __name__ == "__main__":
    main()
