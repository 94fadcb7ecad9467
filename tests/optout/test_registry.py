"""The reservations registry as a protocol (optout/registry.py): which URLs an entry covers,
in the form they are requested, and its evidence in the decision."""

from __future__ import annotations

import hashlib
import json

import pytest

from optout.decision import Crawl, Protocol, Purpose, Use, Verdict
from optout.document import FetchResult
from optout.registry import PARSER, Entry, Registry
from optout.site import Site, SiteDocuments

ALL_AI = (Purpose.TDM, Purpose.TRAIN_AI, Purpose.AI_INPUT)
REGISTRY = Registry(
    [
        Entry(id=4, scope="prefix", target="news.test/Archive/", purposes=ALL_AI,
              source="complaint C-7", added="2026-11-02T09:00:00+00:00"),
        Entry(id=2, scope="domain", target="books.test", purposes=(Purpose.TRAIN_AI,),
              source="operator", added="2026-11-01T09:00:00+00:00"),
        Entry(id=3, scope="host", target="shop.music.test", purposes=ALL_AI,
              source="letter of 2026-10-30", added="2026-11-01T10:00:00+00:00"),
    ]
)  # fmt: skip


@pytest.mark.parametrize(
    ("url", "entries"),
    [
        ("https://news.test/archive/2019/a.html", [4]),
        ("http://news.test:8080/ARCHIVE/", [4]),  # any scheme, port and letter case
        ("https://news.test/x/../archive/a", [4]),  # the canonical path: dot segments resolved
        ("https://news.test/%61rchive/a", [4]),  # unreserved escapes decoded
        ("https://news.test/x%2F..%2Farchive/a", [4]),  # as a server decoding %2F resolves it
        ("https://news.test/archives", []),
        ("https://news.test/", []),
        ("https://www.news.test/archive/a", []),  # a prefix is its host's only
        ("https://books.test/", [2]),
        ("https://www.books.test/a?b=c", [2]),  # a domain covers its hosts
        ("https://ebooks.test/", []),
        ("https://shop.music.test/cart", [3]),
        ("https://music.test/", []),
        ("https://www.shop.music.test/", []),
    ],
)
def test_what_an_entry_covers(url: str, entries: list[int]) -> None:
    found = REGISTRY.signals(url)
    assert [s.rule.split(":")[0] for s in found if s.rule] == [f"entry {i}" for i in entries]


def test_the_registry_is_one_document_with_a_version() -> None:
    assert [e.id for e in REGISTRY.entries] == [2, 3, 4]
    document = json.loads(REGISTRY.document)
    assert [e["id"] for e in document["registry"]] == [2, 3, 4]
    assert REGISTRY.sha256 == hashlib.sha256(REGISTRY.document).hexdigest()
    assert REGISTRY.version == f"sha256:{REGISTRY.sha256}"
    same = Registry(reversed(REGISTRY.entries))
    assert same.document == REGISTRY.document  # the order given does not matter
    assert Registry([]).signals("https://books.test/") == []


def _site(origin: str, registry: Registry | None) -> Site:
    robots = FetchResult(url=f"{origin}/robots.txt", status=200, body=b"User-agent: *\nAllow: /\n")
    return Site(SiteDocuments(origin=origin, robots=robots), token="HeedBot", registry=registry)


def test_a_covered_url_is_reserved_before_any_request() -> None:
    site = _site("https://news.test", REGISTRY)
    decision = site.before_request("https://news.test/archive/2019/a.html")
    assert decision.crawl is Crawl.ALLOW
    assert decision.use is Use.RESERVED
    signal = next(s for s in decision.signals if s.protocol is Protocol.REGISTRY)
    assert signal.purposes == dict.fromkeys(ALL_AI, Verdict.RESERVED)
    assert (
        signal.reason
        == "reservations registry entry 4 (complaint C-7) reserves tdm, train-ai, ai-input"
    )
    assert signal.detail.endswith("[entry 4: prefix news.test/Archive/]")
    assert (signal.sha256, signal.parser) == (REGISTRY.sha256, PARSER)
    assert signal.source == f"heed registry {REGISTRY.version}"
    assert signal.fetched_at == "2026-11-02T09:00:00+00:00"
    # the page's own decision carries it too, whatever the page says
    page = FetchResult(url="https://news.test/archive/b", status=200, body=b"<p>hi</p>",
                       headers=(("Content-Type", "text/html"),))  # fmt: skip
    after = site.after_response("https://news.test/archive/b", page)
    assert after.use is Use.RESERVED
    assert any(s.protocol is Protocol.REGISTRY for s in after.signals)
    # other URLs of the origin, and a site without a registry, are not affected
    assert (
        site.before_request("https://news.test/today").purposes[Purpose.TRAIN_AI] is Verdict.UNKNOWN
    )
    plain = _site("https://news.test", None)
    assert all(
        s.protocol is not Protocol.REGISTRY
        for s in plain.before_request("https://news.test/archive/a").signals
    )


def test_a_domain_entry_for_another_purpose_leaves_this_one() -> None:
    site = _site("https://www.books.test", REGISTRY)
    decision = site.before_request("https://www.books.test/novel")
    assert decision.purposes[Purpose.TRAIN_AI] is Verdict.RESERVED
    assert decision.purposes[Purpose.SEARCH] is Verdict.UNKNOWN
