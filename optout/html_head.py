"""A small, bounded reader of the ``<meta>`` and ``<link>`` elements of an HTML document.

Shared by TDMRep (``tdm-reservation``/``tdm-policy`` meta), robots meta (``noai``) and RSL
(``<link rel="license">``). Lenient on purpose: elements misplaced in ``<body>`` still count
(N13), broken markup never raises, and only the first *limit* bytes are read so a hostile page
cannot make parsing expensive.

Read once, and only as far as needed: the elements are read where they may begin — each
``<meta`` or ``<link`` in the text, read as a browser's tokenizer reads a start tag (the first of
a repeated attribute wins, as in the DOM) — and nowhere else. Every element Chromium's DOM or a
parse of the whole text has is collected (tests/optout/test_html_head_scan.py compares them);
one written inside a comment, a script or an attribute value counts too, which can only add a
reservation. The head is parsed (html.parser, a chunk at a time, until it ends) only when the
document was not read to its end: only then does it matter where the head ends.

Bounded, but never silently short (fail closed). The result says whether the read is complete
(:attr:`HtmlHead.incomplete` is None) — that is, whether every element that can carry a
page-level signal was seen:

* the head must be seen to end within the bytes read: ``</head>``, ``<body>``, or whatever else
  ends it in an HTML parser (another element's start tag, text outside the head's own elements).
  A head still open where the scan stopped — the *limit* reached inside ``<head>`` or inside one
  of its ``<script>``/``<style>`` elements, a body the I/O layer cut short (*truncated*), markup
  the parser gave up on — leaves the read incomplete, with the reason. A document read to its
  end is complete wherever its head ends; a head that ends within the limit is complete
  whatever follows it;
* bytes are decoded as browsers decode them (:mod:`optout.charset`); bytes that cannot be read
  in the encoding so determined leave the read incomplete too. The elements that could be read
  are still returned, so that a reservation that is there still counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser

from optout.charset import decode_html

#: Bytes of a page read for meta/link elements: heads are rarely above a few KiB; 512 KiB leaves
#: room for pages that inline large scripts before their meta tags.
DEFAULT_LIMIT = 512 * 1024


@dataclass(frozen=True, slots=True)
class Meta:
    """One ``<meta>`` element: ``name`` (or ``property``) lower-cased, ``content`` as written."""

    name: str
    content: str
    #: 1-based line of the element in the document, for evidence.
    line: int
    #: The element as written (attributes re-serialised), for evidence.
    text: str


@dataclass(frozen=True, slots=True)
class Link:
    """One ``<link>`` element with its ``rel`` tokens lower-cased."""

    rel: tuple[str, ...]
    href: str
    type: str
    line: int


@dataclass(frozen=True, slots=True)
class HtmlHead:
    """The meta and link elements found in a document."""

    metas: tuple[Meta, ...] = ()
    links: tuple[Link, ...] = ()
    #: The document is longer than the bytes (or characters) read.
    truncated: bool = False
    #: The end of the head was seen within what was read; None when the document was read to its
    #: end (then where its head ends does not matter, and it is not looked for).
    head_ended: bool | None = None
    #: Why the read is not complete (a page-level signal may have been missed), or None.
    incomplete: str | None = None
    #: The encoding the bytes were read in and where it came from (``bom``, ``content-type``,
    #: ``meta``, ``xml-declaration``, ``default``); empty for text passed as ``str``.
    encoding: str = ""
    encoding_source: str = ""
    _by_name: dict[str, list[Meta]] = field(default_factory=dict, repr=False, compare=False)

    def meta(self, name: str) -> list[Meta]:
        """Return every meta element whose name (or property) is *name*, case-insensitive."""
        if not self._by_name and self.metas:
            for m in self.metas:
                self._by_name.setdefault(m.name, []).append(m)
        return self._by_name.get(name.lower(), [])


#: Elements that may stand in a head (WHATWG "in head" insertion mode); any other start tag,
#: ``<body>`` included, ends the head.
_HEAD_ELEMENTS = frozenset(
    {"html", "head", "base", "basefont", "bgsound", "link", "meta", "title", "noscript"}
    | {"noframes", "style", "script", "template"}
)
#: Head elements whose content is text (or, for ``<template>`` and ``<noscript>`` with scripting
#: on, never part of the head's own markup): nothing inside them ends the head.
_TEXT_ELEMENTS = frozenset({"title", "noscript", "noframes", "style", "script", "template"})
#: End tags that end the head.
_HEAD_ENDS = frozenset({"head", "body", "html", "br"})
_SPACE = " \t\n\f\r"
#: Characters of the head given to the parser at a time, so that little of the body past the
#: head's end is parsed; more while the parser holds back a long element's text unparsed (a large
#: inline script), so that such a head still costs linear time.
_CHUNK = 1024
#: Where a ``<meta>`` or ``<link>`` element may begin, and what ends such a tag's name (else
#: it is another tag, ``<metadata>``).
_CANDIDATE = re.compile(r"<(?:meta|link)", re.IGNORECASE)
_TAG_NAME_END = re.compile(r"[\t\n\f\r />]")
#: A ``<meta>``/``<link>`` start tag read to its ``>`` as the WHATWG tokenizer reads it: the
#: name, then separators (whitespace, ``/``) and attributes — a name (which may begin with ``=``)
#: with an optional value after ``=``: double-quoted, single-quoted or unquoted (up to
#: whitespace or ``>``). A quote opened where a value begins must close (else the tag runs on).
#: Atomic groups and possessive quantifiers: no backtracking, so a tag that never ends costs one
#: linear scan.
_WS = r"\t\n\f\r "
_VALUE = rf""""[^"]*+"|'[^']*+'|(?!["'])[^{_WS}>]*+"""
_ATTRIBUTE_RE = rf"[^{_WS}/>][^{_WS}/>=]*+(?>[{_WS}]*+=[{_WS}]*+(?:{_VALUE})|(?![{_WS}]*+=))"
_START_TAG = re.compile(
    rf"<(meta|link)(?=[{_WS}/>])(?>[{_WS}/]++|{_ATTRIBUTE_RE})*+>", re.IGNORECASE
)
#: One attribute of a start tag that :data:`_START_TAG` matched: its name and its value as
#: written (quotes included), None when it has none.
_ATTRIBUTE = re.compile(rf"([^{_WS}/>][^{_WS}/>=]*)(?:[{_WS}]*=[{_WS}]*({_VALUE}))?")
#: Longest ``<meta>``/``<link>`` start tag read (an inline ``data:`` icon can take tens of KiB).
_TAG_MAX = 64 * 1024
#: ``<meta``/``<link`` tags without an end before the read is given up as not complete:
#: each costs a scan of up to _TAG_MAX characters, so a page made of unclosed ``<meta a='`` (a
#: parser's worst case) is bounded work and a deferral, not minutes of parsing.
_UNREAD_MAX = 32


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.head_ended = False
        #: The parser gave up on the markup.
        self.failed = False
        #: The head element whose text content the parser is in (``style``, ``script``, …),
        #: and how deeply it is nested in itself (``<template>`` in ``<template>``).
        self.inside: str | None = None
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.head_ended:
            return
        if self.inside is not None:
            # Markup inside <title>, <noscript>, <template> is their content, as in browsers.
            self.depth += tag == self.inside
        elif tag not in _HEAD_ELEMENTS:
            self.head_ended = True
        elif tag in _TEXT_ELEMENTS:
            self.inside, self.depth = tag, 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.head_ended and self.inside is None and tag not in _HEAD_ELEMENTS:
            self.head_ended = True

    def handle_endtag(self, tag: str) -> None:
        if tag == self.inside:
            self.depth -= 1
            if self.depth == 0:
                self.inside = None
        elif self.inside is None and tag in _HEAD_ENDS:
            self.head_ended = True

    def handle_data(self, data: str) -> None:
        if not self.head_ended and self.inside is None and data.strip(_SPACE):
            self.head_ended = True  # text outside the head's own elements starts the body


def _element(tag: str, a: dict[str, str], line: int, metas: list[Meta], links: list[Link]) -> None:
    """Add the ``<meta>`` or ``<link>`` element *tag* with attributes *a* to *metas* or *links*."""
    if tag == "meta":
        name = (a.get("name") or a.get("property") or a.get("http-equiv") or "").strip().lower()
        if name:
            text = "<meta " + " ".join(f'{k}="{v}"' for k, v in a.items()) + ">"
            metas.append(Meta(name, a.get("content", ""), line, text))
    else:
        rel = tuple(a.get("rel", "").lower().split())
        if rel:
            links.append(Link(rel, a.get("href", "").strip(), a.get("type", "").lower(), line))


def _attributes(tag: str) -> dict[str, str]:
    """Return the attributes of *tag* (a whole start tag, ``<`` to ``>``), lower-cased names, as
    the DOM has them: the first of a repeated name wins; character references decoded."""
    attrs: dict[str, str] = {}
    for found in _ATTRIBUTE.finditer(tag, 5, len(tag) - 1):  # past '<meta' or '<link'
        key, value = found.group(1).lower(), found.group(2) or ""
        if value[:1] in ("'", '"'):
            value = value[1:-1]
        if key not in attrs:
            attrs[key] = unescape(value) if "&" in value else value
    return attrs


def _elements(text: str, metas: list[Meta], links: list[Link]) -> str | None:
    """Add the ``<meta>`` and ``<link>`` elements of *text* to *metas* and *links*; return why
    the read is not complete (None: it is).

    Only the places where such an element may begin are read (``<meta`` or ``<link`` in any
    case), each as a browser's tokenizer reads the start tag there; the markup between them is
    not. So every
    element a browser or a parse of the whole text sees is seen, wherever it stands (misplaced in
    the body, N13; after a comment a browser closes early, as ``<!-->``), and a few they would not
    (one written inside a comment, a script or an attribute value) count too: more
    reservations, never fewer. A tag is read up to its ``>``, at most :data:`_TAG_MAX`
    characters, never the rest of the page.
    """
    end = len(text)
    line, counted, unread = 1, 0, 0
    for match in _CANDIDATE.finditer(text):
        at = match.start()
        found = _START_TAG.match(text, at, min(end, at + _TAG_MAX))
        if found is not None:
            line += text.count("\n", counted, at)
            counted = at
            _element(found.group(1).lower(), _attributes(found.group()), line, metas, links)
        elif _TAG_NAME_END.match(text, match.end()) or match.end() == end:
            unread += 1  # no end within reach: a browser drops such a tag at the end of input
            if unread > _UNREAD_MAX:
                return f"more than {_UNREAD_MAX} <meta>/<link> tags without an end"
    return None


def _head_end(text: str) -> _Collector:
    """Parse the head of *text* (the start of a longer document), a chunk at a time, until it
    ends (or the text does); the collector says whether and where."""
    collector = _Collector()
    fed = 0
    try:
        while fed < len(text) and not collector.head_ended:
            chunk = max(_CHUNK, len(collector.rawdata))
            collector.feed(text[fed : fed + chunk])
            fed = min(len(text), fed + chunk)
        # No close(): the text is the start of a longer document, so markup the parser still
        # holds back (an unfinished tag, comment or element) has not ended, and neither has
        # the head. close() would also parse such a tail again from each of its '<' (quadratic).
    except Exception:  # noqa: BLE001 - hostile markup: the head's end was not seen
        collector.failed = True
    return collector


def parse_head(
    body: bytes | str,
    *,
    limit: int = DEFAULT_LIMIT,
    content_type: str | None = None,
    truncated: bool = False,
) -> HtmlHead:
    """Return the meta and link elements in the first *limit* bytes of an HTML document.

    *content_type* is the response's ``Content-Type`` value (its ``charset`` counts, see
    :mod:`optout.charset`); *truncated* says *body* is itself only the start of the document (the
    I/O layer's size cap). :attr:`HtmlHead.incomplete` says why the read may have missed an
    element, if it may have.
    """
    encoding = source = ""
    problem: str | None = None
    if isinstance(body, str):
        text, cut = body[:limit], len(body) > limit
    else:
        cut = len(body) > limit
        decoded = decode_html(body, content_type, limit=limit, truncated=truncated)
        text, problem = decoded.text, decoded.error
        encoding, source = decoded.encoding, decoded.source
    metas: list[Meta] = []
    links: list[Link] = []
    unread = _elements(text, metas, links)
    # Where the head ends matters only when the document was not read to its end: a document
    # read whole is complete wherever its head ends, so its head is not parsed at all.
    short = (cut or truncated) and problem is None and unread is None
    collector = _head_end(text) if short else None
    ended = collector.head_ended if collector is not None else None
    incomplete: str | None = None
    if problem is not None:
        incomplete = f"HTML page not decodable: {problem}"
    elif unread is not None:
        incomplete = f"HTML elements not read: {unread}"
    elif collector is not None and not ended:
        failed = collector.failed
        where = f"<{collector.inside}>" if collector.inside else "<head>"
        if failed:
            why = f"the parser gave up inside {where}"
        elif cut:
            unit = "characters" if isinstance(body, str) else "bytes"
            why = f"scan limit of {limit} {unit} reached inside {where}"
        else:
            why = f"body cut at the download size limit inside {where}"
        incomplete = f"HTML head not read to its end ({why})"
    return HtmlHead(
        tuple(metas),
        tuple(links),
        cut or truncated,
        head_ended=ended,
        incomplete=incomplete,
        encoding=encoding,
        encoding_source=source,
    )
