"""A small, bounded reader of the ``<meta>`` and ``<link>`` elements of an HTML document.

Shared by TDMRep (``tdm-reservation``/``tdm-policy`` meta), robots meta (``noai``) and RSL
(``<link rel="license">``). Lenient on purpose: elements misplaced in ``<body>`` still count
(N13), broken markup never raises, and only the first *limit* bytes are read so a hostile page
cannot make parsing expensive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

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
    truncated: bool = False
    _by_name: dict[str, list[Meta]] = field(default_factory=dict, repr=False, compare=False)

    def meta(self, name: str) -> list[Meta]:
        """Return every meta element whose name (or property) is *name*, case-insensitive."""
        if not self._by_name and self.metas:
            for m in self.metas:
                self._by_name.setdefault(m.name, []).append(m)
        return self._by_name.get(name.lower(), [])


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.metas: list[Meta] = []
        self.links: list[Link] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("meta", "link"):
            return
        a = {k.lower(): (v or "") for k, v in attrs}
        line = self.getpos()[0]
        if tag == "meta":
            name = (a.get("name") or a.get("property") or a.get("http-equiv") or "").strip().lower()
            if name:
                text = "<meta " + " ".join(f'{k}="{v}"' for k, v in a.items()) + ">"
                self.metas.append(Meta(name, a.get("content", ""), line, text))
        else:
            rel = tuple(a.get("rel", "").lower().split())
            if rel:
                self.links.append(
                    Link(rel, a.get("href", "").strip(), a.get("type", "").lower(), line)
                )

    handle_startendtag = handle_starttag


def _decode(body: bytes) -> str:
    # Meta names and values we look for are ASCII; a wrong guess for other bytes is harmless.
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return body.decode("utf-16", errors="replace")
    return body.decode("utf-8", errors="replace")


def parse_head(body: bytes | str, *, limit: int = DEFAULT_LIMIT) -> HtmlHead:
    """Return the meta and link elements in the first *limit* bytes of an HTML document."""
    if isinstance(body, str):
        text, truncated = body[:limit], len(body) > limit
    else:
        text, truncated = _decode(body[:limit]), len(body) > limit
    collector = _Collector()
    try:
        collector.feed(text)
        collector.close()
    except Exception:  # noqa: BLE001, S110 - hostile markup: keep what was collected
        pass
    return HtmlHead(tuple(collector.metas), tuple(collector.links), truncated)
