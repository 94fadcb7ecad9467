"""The item the ``web`` spider yields for each page the rights-reservation middleware let through.

A :class:`PageItem` carries what the dataset stores (URL, time, media type, text and/or body,
size) and the id of the audit decision it rests on. The spider only ever builds one from a
response the middleware handed over (not reserved); the dataset pipeline (crawler/pipelines.py)
writes it out once that decision is durable.

Feed exports (``FEEDS``) see the item too, after the same wait: its ``body`` is exported as
base64 and its ``decision`` as a short summary (field serializers), so any exporter can write it.
"""

from __future__ import annotations

import base64
import hashlib
import weakref
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from scrapy.http import Response, TextResponse

from crawler.adapters import header_pairs
from crawler.documents import now_iso
from crawler.text import TEXT_MODES, html_text
from optout.charset import decode_html, starts_with_markup
from optout.decision import Decision
from optout.document import HeaderPairs

#: Request meta key holding the audit id of the request's decision (set by the AuditExtension).
DECISION_ID_META = "heed_decision_id"
#: What the dataset keeps of a page: extracted ``text``, the raw ``body`` (base64), or ``both``.
STORE_MODES = ("text", "body", "both")

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/xhtml+xml")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
#: The tree of each HTML response (page_tree), while the response lives.
_TREES: weakref.WeakKeyDictionary[Response, Any] = weakref.WeakKeyDictionary()
#: lxml's HTML parser as Scrapy's selectors set it up: recovering from errors, huge_tree so that
#: a large page is not cut short; it reads the UTF-8 page_tree gives it.
_HTML_PARSER = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)


def _b64(value: bytes | None) -> str | None:
    return None if value is None else base64.b64encode(value).decode("ascii")


def _summary(decision: Decision | None) -> dict[str, Any] | None:
    if decision is None:
        return None
    return {"crawl": decision.crawl.value, "use": decision.use.value, "reasons": decision.reasons}


@dataclass(slots=True, kw_only=True)
class PageItem:
    """One page that may enter the dataset, with the decision that allows it."""

    url: str
    status: int
    #: ISO 8601 UTC time the response was handled.
    fetched_at: str
    #: Media type without parameters (``text/html``), ``""`` when the server sent none.
    content_type: str
    #: Length of the body in bytes (decoded: after Content-Encoding).
    size: int
    sha256: str
    #: Extracted text (HTML: the readable text, per ``HEED_TEXT``, see crawler/text.py; other
    #: text types: the decoded body).
    text: str | None = None
    #: The response body (decoded); the dataset keeps it per ``HEED_STORE``, a WARC always.
    body: bytes | None = field(default=None, repr=False, metadata={"serializer": _b64})
    #: The URLs of the redirect hops before :attr:`url`.
    redirect_urls: list[str] = field(default_factory=list)
    #: ``use`` of the decision for the configured purpose (always ``not-reserved`` here).
    use: str | None = None
    #: The audit database's id of the decision (after the item is durable: the stored id).
    decision_id: int | None = None
    #: The audit database's id of the stored-item row, once recorded.
    item_id: int | None = None
    #: True when the audit trail held this page's decision already (fetched again after its
    #: worker died, or in a resumed crawl): its line may be in the dataset already.
    redone: bool = False
    headers: HeaderPairs = field(default=(), repr=False, metadata={"serializer": list})
    decision: Decision | None = field(default=None, repr=False, metadata={"serializer": _summary})

    @classmethod
    def from_response(
        cls,
        response: Response,
        decision: Decision | None,
        *,
        store: str = "text",
        text_mode: str = "main",
    ) -> PageItem:
        """Return the item of *response*, keeping its text (per *text_mode*) and/or body per
        *store*."""
        if store not in STORE_MODES:
            raise ValueError(f"store must be one of {STORE_MODES}, got {store!r}")
        if text_mode not in TEXT_MODES:
            raise ValueError(f"text mode must be one of {TEXT_MODES}, got {text_mode!r}")
        body = response.body
        content_type = media_type(response)
        text = None
        if store != "body":
            text = extract_text(response, content_type, text_mode)
        meta = response.meta if response.request is not None else {}
        return cls(
            url=response.url,
            status=response.status,
            fetched_at=now_iso(),
            content_type=content_type,
            size=len(body),
            sha256=hashlib.sha256(body).hexdigest(),
            text=text,
            body=body,
            redirect_urls=list(meta.get("redirect_urls") or ()),
            use=decision.use.value if decision is not None else None,
            decision_id=meta.get(DECISION_ID_META),
            headers=header_pairs(response),
            decision=decision,
        )


def extract_text(response: Response, content_type: str, mode: str = "main") -> str | None:
    """Return the text a reader sees in *response*, or None when it is not a text type.

    HTML is decoded exactly as the reservation check read it (:func:`optout.charset.decode_html`:
    BOM, Content-Type charset, ``<meta charset>``, default), so that the text stored is the text
    whose head was checked; its text is :func:`crawler.text.html_text` in *mode* (``main`` or
    ``visible``), from the tree Scrapy's selector parsed (the one the links come from).
    """
    root = page_tree(response, content_type)
    if root is not None:
        return html_text(root, mode)
    if _is_html(response, content_type):
        return ""
    if not isinstance(response, TextResponse):
        return None
    if content_type.startswith(_TEXT_TYPES) or content_type.endswith(("+json", "+xml")):
        return response.text
    return None


def page_tree(response: Response, content_type: str | None = None) -> Any:
    """Return the lxml tree of an HTML *response*, or None when it is not HTML.

    The page is decoded as the reservation check decoded it, parsed by lxml's HTML parser (the
    one under Scrapy's selectors, without their per-element Python classes), and the tree kept
    for the response's lifetime: the dataset text and the spider's links both come from it, so
    each page is parsed once.
    """
    if content_type is None:
        content_type = media_type(response)
    if not _is_html(response, content_type):
        return None
    cached = _TREES.get(response)
    if cached is not None:
        return cached
    raw_type = response.headers.get(b"Content-Type")
    text = decode_html(response.body, raw_type.decode("latin-1") if raw_type else None).text
    # As UTF-8 bytes, which the parser is told they are: a <meta charset> or an XML declaration
    # in the page cannot make lxml read the text in another encoding than the check did.
    root = etree.fromstring(text.encode("utf-8", "replace"), _HTML_PARSER)
    if root is None:  # nothing lxml could make a tree of (empty, or whitespace only)
        root = etree.fromstring(b"<html/>", _HTML_PARSER)
    _TREES[response] = root
    return root


def release_tree(response: Response) -> None:
    """Forget the tree :func:`page_tree` keeps for *response* (its text and links are taken)."""
    _TREES.pop(response, None)


def media_type(response: Response) -> str:
    """Return *response*'s media type without parameters, lower-cased (``""`` without one)."""
    raw_type = response.headers.get(b"Content-Type") or b""
    return raw_type.decode("latin-1").split(";", 1)[0].strip().lower()


def _is_html(response: Response, content_type: str) -> bool:
    return content_type in _HTML_TYPES or (not content_type and starts_with_markup(response.body))
