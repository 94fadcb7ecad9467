"""The crawler information's Atom feed (RFC 4287): one entry per published version.

Code of Practice Measure 1.3(4) asks for "a means for affected rightsholders to be automatically
notified when such information is updated (such as by syndicating a web feed)". The feed is
rebuilt from the whole publication history in the audit database each time, newest entry
first, so it never loses an entry and two builds of the same history are byte-identical.

Identifiers are permanent and derived, not stored: the feed's id from the first version
(``urn:uuid`` of its kind and sha256), each entry's from its version and sha256. Built with
:mod:`xml.etree.ElementTree`, which escapes every text it is given.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from html import escape

from audit.publications import Publication
from policy.publish.inputs import iso

ATOM_NS = "http://www.w3.org/2005/Atom"
#: Namespace of the name-based UUIDs (a fixed, random UUID: Heed's publications).
_UUID_NS = uuid.UUID("7d7a5f0e-3c55-4b8e-9a47-5a2f0c1e8b11")


def feed_id(first: Publication) -> str:
    """Return the feed's permanent id, derived from the first version of the document."""
    return uuid.uuid5(_UUID_NS, f"feed:{first.kind}:{first.subject}:{first.sha256}").urn


def entry_id(pub: Publication) -> str:
    """Return the permanent id of the entry for version *pub*."""
    return uuid.uuid5(_UUID_NS, f"entry:{pub.kind}:{pub.subject}:{pub.version}:{pub.sha256}").urn


def atom_feed(
    history: Sequence[Publication],
    *,
    title: str,
    author: str,
    self_url: str,
    page_url: str,
    entry_title: str = "Crawler information, version {version}",
) -> str:
    """Return the Atom document of *history* (oldest first, as audit.publications gives it).

    *self_url* is where the feed itself is served, *page_url* the page it announces.
    """
    if not history:
        raise ValueError("no published version: nothing to syndicate")
    ET.register_namespace("", ATOM_NS)
    ordered = sorted(history, key=lambda p: p.version, reverse=True)
    feed = ET.Element(_q("feed"))
    _text(feed, "id", feed_id(min(history, key=lambda p: p.version)))
    _text(feed, "title", title)
    _text(feed, "updated", iso(ordered[0].created_at) or "")
    _text(feed, "subtitle", "Every change to the crawler information, newest first.")
    person = ET.SubElement(feed, _q("author"))
    _text(person, "name", author)
    _link(feed, "self", self_url, "application/atom+xml")
    _link(feed, "alternate", page_url, "text/html")
    _text(feed, "generator", "Heed")
    for pub in ordered:
        entry = ET.SubElement(feed, _q("entry"))
        _text(entry, "id", entry_id(pub))
        _text(entry, "title", entry_title.format(version=pub.version))
        stamp = iso(pub.created_at) or ""
        _text(entry, "published", stamp)
        _text(entry, "updated", stamp)
        _link(entry, "alternate", page_url, "text/html")
        changes = list(pub.changes) or ["Information changed"]
        _text(entry, "summary", "; ".join(changes))
        items = "".join(f"<li>{escape(c)}</li>" for c in changes)
        body = f"<p>Version {pub.version} (sha256 {pub.sha256[:16]}…) changes:</p><ul>{items}</ul>"
        content = _text(entry, "content", body)
        content.set("type", "html")
    ET.indent(feed)
    return ET.tostring(feed, encoding="unicode", xml_declaration=True) + "\n"


def _q(name: str) -> str:
    return f"{{{ATOM_NS}}}{name}"


def _text(parent: ET.Element, name: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, _q(name))
    element.text = value
    return element


def _link(parent: ET.Element, rel: str, href: str, media: str) -> None:
    ET.SubElement(parent, _q("link"), {"rel": rel, "href": href, "type": media})
