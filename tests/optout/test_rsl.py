"""RSL 1.0 licences (docs/protocols.md#rsl): every L-xx vector, X11, discovery, parser
contract."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optout import robots
from optout.decision import Crawl, Protocol, Purpose, Signal, Use, Verdict, combine
from optout.document import FetchResult, normalize_headers
from optout.html_head import parse_head
from optout.rsl import (
    PARSER,
    RslLicense,
    license_urls,
    links_from_headers,
    links_from_html,
    parse_license,
)
from tests.optout.vectors import load

CASES = load("rsl")
BY_ID = {c["id"]: c for c in CASES}
CROSS = {c["id"]: c for c in load("cross_protocol")}
LICENCE_URL = "https://h/license.xml"
ROBOTS_URL = "https://h/robots.txt"
KEYS = {
    "tdm": Purpose.TDM,
    "train-ai": Purpose.TRAIN_AI,
    "ai-input": Purpose.AI_INPUT,
    "search": Purpose.SEARCH,
    # RSL's ai-index maps onto Heed's ai-input (docs/protocols.md#rsl-readings).
    "ai-index": Purpose.AI_INPUT,
}
NS = 'xmlns="https://rslstandard.org/rsl"'


def _licence(xml: str | bytes, *, status: int = 200, url: str = LICENCE_URL) -> RslLicense:
    body = xml.encode() if isinstance(xml, str) else xml
    return parse_license(FetchResult(url=url, status=status, body=body, fetched_at="T"))


def _verdict(sig: Signal | None, purpose: Purpose) -> Verdict:
    return sig.purposes.get(purpose, Verdict.UNKNOWN) if sig is not None else Verdict.UNKNOWN


def _doc(content: str) -> str:
    return f"<rsl {NS}>{content}</rsl>"


def _check_l06(case: dict[str, Any]) -> None:
    outcomes = {
        "404": FetchResult(url=LICENCE_URL, status=404, body=b"not found"),
        "5xx": FetchResult(url=LICENCE_URL, status=503),
        "invalid XML": FetchResult(url=LICENCE_URL, status=200, body=b"<rsl><content"),
    }
    assert list(outcomes) == case["inputs"]["license_url_outcomes"]
    for result in outcomes.values():
        sig = parse_license(result).evaluate("/any")
        assert sig is not None
        assert _verdict(sig, Purpose.TRAIN_AI) is Verdict[case["expected"]["train-ai"]]
        assert {Purpose.TDM, Purpose.AI_INPUT} <= set(sig.purposes)
        assert set(case["expected"]["log"]) <= set(sig.flags)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_vector(case: dict[str, Any]) -> None:
    """Each L-xx vector gives Heed's default per-purpose verdict."""
    inputs, expected = case["inputs"], case["expected"]
    if case["id"] == "L06":
        _check_l06(case)
        return
    if case["id"] == "L08":
        headers = normalize_headers(inputs["response_headers"])
        (url,) = links_from_headers(headers, "https://h/page")
        assert url.endswith("/rsl.xml")
        # "apply as L01": the discovered document is evaluated exactly like a License: one.
        sig = _licence(BY_ID["L01"]["inputs"]["license_xml"], url=url).evaluate("/page")
        assert _verdict(sig, Purpose.TRAIN_AI) is Verdict.RESERVED
        assert sig is not None
        assert sig.licence_url == url
        return
    if case["id"] == "L09":
        found = license_urls(robots.parse(inputs["robots_txt"]), inputs["robots_url"])
        assert found == [(expected["resolved_example"], 1, not expected["conformant"])]
        return
    if "robots_txt" in inputs:
        found = license_urls(robots.parse(inputs["robots_txt"]), ROBOTS_URL)
        assert found == [(LICENCE_URL, 1, False)]
    sig = _licence(inputs["license_xml"]).evaluate(inputs.get("url", "/some/page"))
    for key, purpose in KEYS.items():
        want = expected.get(key)
        if want is None:
            continue
        if want == "unaffected":
            assert purpose not in (sig.purposes if sig else {})
        else:
            assert _verdict(sig, purpose).name == want.replace("-", "_"), key
    if "licence_required" in expected:
        assert sig is not None
        assert sig.licence_required is expected["licence_required"]


def test_x11_licence_server_means_do_not_train() -> None:
    """X11: crawl ALLOW, ``licence_required`` ⇒ the train-ai use is RESERVED overall."""
    inputs = CROSS["X11"]["inputs"]
    ((url, _line, _flag),) = license_urls(robots.parse(inputs["robots_txt"]), ROBOTS_URL)
    sig = _licence(inputs["license_xml"], url=url).evaluate("/article")
    assert sig is not None
    assert sig.licence_required
    decision = combine("https://h/article", [sig])
    assert decision.crawl is Crawl.ALLOW
    assert decision.licence_required
    assert decision.use is Use.RESERVED


def test_evidence() -> None:
    """A licence signal carries protocol, licence URL, status, sha256, rule and parser."""
    xml = _doc(
        '<content url="/"><license><prohibits type="usage">ai-train</prohibits></license></content>'
    )
    sig = _licence(xml).evaluate("/x")
    assert sig is not None
    assert sig.protocol is Protocol.RSL
    assert (sig.source, sig.licence_url, sig.status, sig.parser, sig.fetched_at) == (
        LICENCE_URL,
        LICENCE_URL,
        200,
        PARSER,
        "T",
    )
    assert sig.sha256 is not None
    assert len(sig.sha256) == 64
    assert sig.rule is not None
    assert "ai-train" in sig.rule


def test_most_specific_content_wins() -> None:
    """Content URLs follow RFC 9309 longest match; full URLs match by their path."""
    xml = _doc(
        '<content url="/"><license><prohibits type="usage">all</prohibits></license></content>'
        '<content url="https://h/free/"><license><permits type="usage">all</permits>'
        "</license></content>"
    )
    licence = _licence(xml)
    assert _verdict(licence.evaluate("/news/1"), Purpose.TRAIN_AI) is Verdict.RESERVED
    assert _verdict(licence.evaluate("/free/1"), Purpose.TRAIN_AI) is Verdict.NOT_RESERVED
    assert _verdict(licence.evaluate("https://h/free/1"), Purpose.SEARCH) is Verdict.NOT_RESERVED


def test_wildcards_and_end_anchor() -> None:
    """``*`` and ``$`` in content URLs work as in robots.txt."""
    xml = _doc(
        '<content url="/*.pdf$"><license><prohibits type="usage">ai-all</prohibits>'
        "</license></content>"
    )
    licence = _licence(xml)
    assert _verdict(licence.evaluate("/a/b.pdf"), Purpose.TDM) is Verdict.RESERVED
    assert licence.evaluate("/a/b.pdf.html") is None


def test_multiple_licences_combine_most_restrictively() -> None:
    """Of two licences for one content, a use either one does not grant is reserved."""
    xml = _doc(
        '<content url="/"><license><permits type="usage">search</permits></license>'
        '<license><permits type="usage">ai-train, search</permits>'
        '<payment type="training"/></license></content>'
    )
    sig = _licence(xml).evaluate("/")
    assert _verdict(sig, Purpose.TRAIN_AI) is Verdict.RESERVED
    assert _verdict(sig, Purpose.SEARCH) is Verdict.NOT_RESERVED
    assert sig is not None
    assert "payment" in sig.flags


def test_conflict_and_unknown_tokens_are_flagged() -> None:
    """A use both permitted and prohibited is reserved; unknown tokens are flagged."""
    xml = _doc(
        '<content url="/"><license><permits type="usage">ai-train search bogus</permits>'
        '<prohibits type="usage">ai-train</prohibits></license></content>'
    )
    sig = _licence(xml).evaluate("/")
    assert _verdict(sig, Purpose.TRAIN_AI) is Verdict.RESERVED
    assert sig is not None
    assert {"conflict", "invalid_value"} <= set(sig.flags)


def test_missing_namespace_is_lenient() -> None:
    """An RSL document without its namespace is read, flagged ``lenient``."""
    xml = (
        '<rsl><content url="/"><license><prohibits type="usage">all</prohibits></license>'
        "</content></rsl>"
    )
    sig = _licence(xml).evaluate("/")
    assert _verdict(sig, Purpose.SEARCH) is Verdict.RESERVED
    assert sig is not None
    assert "lenient" in sig.flags


@pytest.mark.parametrize(
    ("result", "cause"),
    [
        (FetchResult(url=LICENCE_URL, error="timeout"), "timeout"),
        (FetchResult(url=LICENCE_URL, status=200, body=b"<html><body>hi</body></html>"), "not_rsl"),
        (FetchResult(url=LICENCE_URL, status=200, body=b"<rsl/>", truncated=True), "too_large"),
        (FetchResult(url=LICENCE_URL, status=403), "http_403"),
        (
            FetchResult(
                url=LICENCE_URL,
                status=200,
                body=b'<!DOCTYPE r [<!ENTITY a "aaaa">]><rsl xmlns="https://rslstandard.org/rsl">'
                b"&a;</rsl>",
            ),
            "invalid_xml",
        ),
    ],
)
def test_unreadable_licences_defer(result: FetchResult, cause: str) -> None:
    """Any licence that cannot be read defers AI uses, never allows (L06)."""
    sig = parse_license(result).evaluate("/x")
    assert sig is not None
    assert sig.purposes[Purpose.TRAIN_AI] is Verdict.DEFER
    assert {"rsl_unresolvable", cause} <= set(sig.flags)


def test_link_header_parsing() -> None:
    """Only ``rel=license`` links of type application/rsl+xml count; relative ones resolve."""
    headers = normalize_headers(
        [
            (
                "Link",
                (
                    '<https://cc.org/by/4.0/>; rel="license", </rsl.xml>; rel="license"; '
                    'type="application/rsl+xml"'
                ),
            ),
            ("Link", '<https://o/x.xml>; rel="alternate license"; type=application/rsl+xml'),
            (
                "Link",
                '<https://o/y.xml>; title="a, b; c"; rel="license"; type="application/rsl+xml"',
            ),
            ("Link", "<javascript:alert(1)>; rel=license; type=application/rsl+xml"),
        ]
    )
    assert links_from_headers(headers, "https://h/dir/page") == [
        "https://h/rsl.xml",
        "https://o/x.xml",
        "https://o/y.xml",
    ]


def test_html_links() -> None:
    """``<link rel="license" type="application/rsl+xml">`` is discovered."""
    head = parse_head(
        '<link rel="license" href="https://cc.org/">'
        '<link rel="license" type="application/rsl+xml" href="/l.xml">'
    )
    assert links_from_html(head, "https://h/a/b") == ["https://h/l.xml"]


def test_robots_license_urls_deduplicated_and_bounded() -> None:
    """License records are deduplicated; non-http values are dropped."""
    body = "License: https://h/l.xml\nLicense: https://h/l.xml\nLicense: ftp://h/x\nUser-agent: *\n"
    assert license_urls(robots.parse(body), ROBOTS_URL) == [("https://h/l.xml", 1, False)]


def test_empty_rsl_says_nothing() -> None:
    """A valid RSL document without content elements states nothing."""
    assert _licence(_doc("")).evaluate("/") is None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048), st.text(max_size=50))
def test_parser_never_raises(body: bytes, path: str) -> None:
    """Arbitrary bytes as a licence document never raise."""
    sig = _licence(body).evaluate(path)
    assert sig is None or sig.protocol is Protocol.RSL


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.text(max_size=50))
def test_content_attributes_never_raise(url: str, tokens: str) -> None:
    """Arbitrary content URLs and usage tokens never raise."""
    xml = _doc(
        f'<content url={quoteattr(url)}><license><prohibits type="usage">'
        f"{escape(tokens)}</prohibits></license></content>"
    )
    sig = _licence(xml).evaluate("/x")
    assert sig is None or sig.protocol is Protocol.RSL


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.text(max_size=30))
def test_discovery_never_raises(value: str, base: str) -> None:
    """Arbitrary Link headers and License values never raise."""
    links_from_headers((("link", value),), base)
    license_urls(robots.parse(f"License: {value}"), base or ROBOTS_URL)
