"""The dataset text of an HTML page: its readable text, with the page's boilerplate reduced.

Two modes (``HEED_TEXT``, ``heed crawl --text``):

* ``visible`` — every text a reader can see in the body: not scripts, styles, templates or
  ``<noscript>`` fallbacks;
* ``main`` (the default) — the visible text of the page's content: the ``<main>`` element (or
  ``role="main"``), else the one ``<article>``, else the body; without the navigation and
  furniture around it — ``<nav>``, ``<aside>``, page-level ``<header>`` and ``<footer>``, forms
  and buttons, elements whose ARIA role is navigation, banner, contentinfo, complementary or
  search, elements whose class or id names a menu, a breadcrumb trail, a sidebar, a cookie or
  consent banner, sharing buttons, a newsletter box, related links, comments or an advert (or,
  outside the content element, the page's header or footer), and lists that are mostly links (a menu written as ``<ul>``). When that leaves nothing, the visible text is
  used instead, so that a page with text never yields an empty one.

Blocks (paragraphs, headings, list items, table rows, …) become lines; the whitespace inside a
block is collapsed to single spaces. The tree walked is lxml's, the one Scrapy's selector (and so
the spider's link extraction) already parsed: a page is parsed once. tests/crawler/test_text.py
measures both modes on a few page layouts.
"""

from __future__ import annotations

from typing import Any

#: The dataset text modes.
TEXT_MODES = ("main", "visible")

#: Elements whose content a reader never sees as text.
_HIDDEN = frozenset({"script", "style", "noscript", "template", "head", "title", "iframe"})
_HIDDEN |= frozenset({"object", "embed", "canvas", "svg", "math", "select", "option", "datalist"})
#: Elements that are page furniture wherever they stand (``main`` mode).
_FURNITURE = frozenset({"nav", "aside", "form", "button", "dialog", "menu", "input", "textarea"})
#: Furniture when they belong to the page, not to the content (outside ``<main>``/``<article>``).
_PAGE_PARTS = frozenset({"header", "footer"})
_ROLES = frozenset(
    {"navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar"}
    | {"dialog", "alertdialog", "toolbar"}
)
#: Parts of a class or id (split at ``-``, ``_`` and spaces) that name furniture.
_FURNITURE_NAMES = frozenset(
    {"nav", "navbar", "navigation", "menu", "breadcrumb", "breadcrumbs", "sidebar", "cookie"}
    | {"cookies", "consent", "gdpr", "share", "sharing", "social", "newsletter", "related"}
    | {"advert", "advertisement", "ad", "ads", "sponsored", "promo", "skip", "widget", "popup"}
    | {"subscribe", "comments", "pagination", "toc"}
)
#: Parts of a class or id naming the page's own header or footer (outside the content only).
_PAGE_PART_NAMES = frozenset({"header", "footer", "masthead", "topbar", "colophon"})
_LISTS = frozenset({"ul", "ol", "dl", "table"})
#: Elements that stand on lines of their own.
_BLOCKS = frozenset(
    {"address", "article", "aside", "blockquote", "br", "dd", "details", "dialog", "div", "dl"}
    | {"dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5"}
    | {"h6", "header", "hgroup", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary"}
    | {"table", "tr", "ul", "caption", "body", "html", "center", "legend"}
)
#: Cells: on the row's line, apart.
_CELLS = frozenset({"td", "th"})
#: Separates blocks in the text collected (NUL: never in the text of an lxml tree, where the
#: parser turned it into U+FFFD; and not whitespace, so that it survives collapsing it).
_BREAK = "\x00"
#: A list whose link text is at least this share of its text is a menu.
_LINK_SHARE = 0.7


def html_text(root: Any, mode: str = "main") -> str:
    """Return the text of the lxml HTML tree *root* in *mode* (``main`` or ``visible``)."""
    if mode not in TEXT_MODES:
        raise ValueError(f"text mode must be one of {TEXT_MODES}, got {mode!r}")
    body = root.find("body") if root.tag == "html" else None
    if body is None:
        body = root if root.tag != "html" else None
    if body is None:  # no body at all (a bare title): whatever text there is
        return _lines("".join(root.itertext()))
    if mode == "main":
        content = _content(body)
        out: list[str] = []
        _walk(content, out, main=True, inside=content is not body)
        text = _lines("".join(out))
        if text:
            return text
    out = []
    _walk(body, out, main=False, inside=False)
    return _lines("".join(out))


def _content(body: Any) -> Any:
    """Return the element holding the page's content: main, else the one article, else body."""
    found = body.xpath(".//main[1] | .//*[@role='main'][1]")
    if found:
        return found[0]
    articles = body.xpath(".//article[not(ancestor::article)]")
    return articles[0] if len(articles) == 1 else body


def _walk(element: Any, out: list[str], *, main: bool, inside: bool) -> None:
    """Append the text of *element*'s children to *out* (recursively), block breaks included."""
    for child in element:
        tag = child.tag
        if type(tag) is str:  # an element (comments and processing instructions are not)
            if tag in _HIDDEN or (main and _furniture(child, tag, inside)):
                pass
            else:
                text = child.text
                if tag in _BLOCKS:
                    out.append(_BREAK)
                elif tag in _CELLS:
                    out.append(" ")
                if text:
                    out.append(text)
                if len(child):
                    _walk(
                        child,
                        out,
                        main=main,
                        inside=inside or tag == "article" or tag == "main",
                    )
            if tag in _BLOCKS:
                out.append(_BREAK)
            elif tag in _CELLS:
                out.append(" ")
        tail = child.tail
        if tail:
            out.append(tail)


def _furniture(element: Any, tag: str, inside: bool) -> bool:
    """Return True if *element* is page furniture rather than content (``main`` mode)."""
    if tag in _FURNITURE or (tag in _PAGE_PARTS and not inside):
        return True
    attributes = element.attrib
    if attributes:
        get = attributes.get
        if "hidden" in attributes or get("aria-hidden") == "true":
            return True
        role = get("role")
        if role and role.strip().lower() in _ROLES:
            return True
        for name in (get("class"), get("id")):
            if name:
                parts = name.lower().replace("-", " ").replace("_", " ").split()
                if not _FURNITURE_NAMES.isdisjoint(parts) or (
                    not inside and not _PAGE_PART_NAMES.isdisjoint(parts)
                ):
                    return True
    if tag in _LISTS:
        return _mostly_links(element)
    return False


def _mostly_links(element: Any) -> bool:
    """Return True for a list of three or more entries whose text is mostly link text."""
    if len(element) < 3:
        return False
    total = sum(len(t.strip()) for t in element.itertext())
    if not total:
        return False
    linked = sum(len(t.strip()) for a in element.iter("a") for t in a.itertext())
    return linked >= _LINK_SHARE * total


def _lines(text: str) -> str:
    """Return *text* with its whitespace collapsed within blocks, one non-empty block a line."""
    flat = " ".join(text.split())
    return "\n".join(line for block in flat.split(_BREAK) if (line := block.strip()))
