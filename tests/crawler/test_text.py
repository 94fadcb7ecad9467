"""The dataset text: the page's readable text, its boilerplate reduced (issue 13, item 2).

Four layouts a crawl meets (tests/data/pages/): a news article in HTML5 sectioning elements, a
WordPress-style blog of ``<div id=…>`` soup, a documentation page with a navigation sidebar and
``role="main"``, and a shop page laid out with ARIA roles and class names. For each, phrases of its
content and phrases of its furniture (menus, sidebars, footers, banners) are listed: ``main``
mode keeps every content phrase and drops every furniture phrase; ``visible`` keeps both.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request

from crawler.items import PageItem, extract_text
from tests.crawler.crawlrun import read_dataset, run_heed
from tests.support.virtualweb import Response, VirtualWeb

PAGES = Path(__file__).parents[1] / "data" / "pages"

#: Per layout: phrases of the content, phrases of the furniture.
LAYOUTS = {
    "news.html": (
        [
            "Harbour reopens after storm repairs",
            "By Mara Olsen",
            "The fishing harbour at Kelby reopened on Tuesday",
            "granite blocks brought by barge",
            "Boats returning to Kelby harbour on Tuesday morning.",
            "A costly winter",
            "more than the original estimate",
            "lost several weeks of income.",
        ],
        [
            "Skip to main content",
            "Business",
            "Opinion",
            "Home › Local",
            "Advertisement",
            "Most read",
            "Ferry timetable",
            "Privacy policy",
            "All rights reserved",
            "We use cookies",
            "Accept all",
        ],
    ),
    "blog.html": (
        [
            "Sourdough in a cold kitchen",
            "my starter slows to a crawl",
            "The simplest fix is warm water",
            "with only the light switched on",
            "Fold every forty minutes.",
        ],
        [
            "Recipes",
            "Equipment",
            "Share this",
            "Facebook",
            "3 Responses",
            "Archives",
            "January 2026",
            "The Bread Lab",
            "Proudly powered by WordPress",
        ],
    ),
    "docs.html": (
        [
            "Configuring the importer",
            "The importer reads bank statements",
            "[importer] table of ledgerly.toml",
            'date_format = "%d.%m.%Y"',
            "default_account The account a line is booked to",
            "the first rule whose pattern matches the payee wins.",
        ],
        ["Installation", "Quick start", "API reference", "Copyright 2026", "documentation theme"],
    ),
    "shop.html": (
        [
            "Oak bread board, 40 cm",
            "€ 49.00",
            "Cut from a single plank of European oak",
            "the reverse side is flat for serving cheese.",
        ],
        [
            "My account",
            "Basket (0)",
            "Garden",
            "Add to basket",
            "You may also like",
            "Walnut spoon",
            "Join our newsletter",
            "Free delivery",
        ],
    ),
}


def _response(name: str) -> HtmlResponse:
    url = f"http://layouts.test/{name}"
    body = (PAGES / name).read_bytes()
    headers = {"Content-Type": "text/html; charset=utf-8"}
    return HtmlResponse(url, body=body, headers=headers, request=Request(url))


def _found(text: str, phrases: list[str]) -> list[str]:
    flat = " ".join(text.split())
    return [p for p in phrases if p in flat]


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_main_keeps_the_content_and_drops_the_furniture(name: str) -> None:
    """main: every content phrase, no furniture phrase; visible: all of both."""
    content, furniture = LAYOUTS[name]
    main = extract_text(_response(name), "text/html", "main")
    visible = extract_text(_response(name), "text/html", "visible")
    assert main is not None
    assert visible is not None
    assert _found(main, content) == content
    assert _found(main, furniture) == []
    assert _found(visible, content) == content
    assert _found(visible, furniture) == furniture
    assert len(main) < len(visible)


def test_furniture_share_of_the_text() -> None:
    """Across the layouts, main mode's text is content: the furniture's words are left out."""
    kept = dropped = 0
    for name in LAYOUTS:
        main = extract_text(_response(name), "text/html", "main") or ""
        visible = extract_text(_response(name), "text/html", "visible") or ""
        kept += len(main.split())
        dropped += len(visible.split()) - len(main.split())
    assert dropped > 0.3 * (kept + dropped)  # these pages are a third furniture or more


def test_blocks_become_lines_and_inline_markup_does_not_split_words() -> None:
    """Paragraphs and list items are lines; <b>W</b>ord stays one word; scripts never count."""
    body = (
        b"<html><head><title>t</title><script>var x = 1;</script></head><body><main>"
        b"<h1>Title</h1><p>One <b>bold</b>ly   written\n line.</p><ul><li>a</li><li>b</li></ul>"
        b"<script>document.write('no')</script><noscript>enable js</noscript></main></body></html>"
    )
    response = HtmlResponse("http://x.test/", body=body, headers={"Content-Type": "text/html"})
    assert extract_text(response, "text/html", "main") == "Title\nOne boldly written line.\na\nb"


def test_a_page_that_is_all_furniture_keeps_its_visible_text() -> None:
    """When main mode would leave nothing, the visible text is kept."""
    body = b"<html><body><nav><a href='/a'>Only a menu</a></nav></body></html>"
    response = HtmlResponse("http://x.test/", body=body, headers={"Content-Type": "text/html"})
    assert extract_text(response, "text/html", "main") == "Only a menu"


def test_the_item_takes_the_text_mode() -> None:
    """PageItem.from_response extracts in the mode asked for; an unknown mode is refused."""
    main = PageItem.from_response(_response("news.html"), None, text_mode="main")
    visible = PageItem.from_response(_response("news.html"), None, text_mode="visible")
    assert main.text is not None
    assert visible.text is not None
    assert "Most read" in visible.text
    assert "Most read" not in main.text
    with pytest.raises(ValueError, match="text mode"):
        PageItem.from_response(_response("news.html"), None, text_mode="all")


@pytest.mark.parametrize("mode", ["main", "visible"])
def test_heed_crawl_text_option(virtual_web: VirtualWeb, tmp_path: Path, mode: str) -> None:
    """``heed crawl --text MODE`` writes the page's text in that mode to the dataset."""
    virtual_web.site(
        "layouts.test",
        {
            "/robots.txt": "User-agent: *\nAllow: /\n",
            "/": Response(
                body=(PAGES / "news.html").read_bytes(), content_type="text/html; charset=utf-8"
            ),
        },
    )
    out = tmp_path / "data"
    done = run_heed(
        virtual_web,
        "crawl",
        "http://layouts.test/",
        "--depth",
        "0",
        "--db",
        str(tmp_path / "heed.db"),
        "--out",
        str(out),
        "--text",
        mode,
        "-s",
        f"HEED_TEXT={'visible' if mode == 'main' else 'main'}",  # the option wins
    )
    assert done.returncode == 0, done.stderr
    lines, _ = read_dataset(out / "dataset.jsonl")
    (line,) = lines
    assert "Harbour reopens after storm repairs" in line["text"]
    assert ("Most read" in line["text"]) is (mode == "visible")
