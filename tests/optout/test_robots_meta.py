"""Robots meta / ``X-Robots-Tag`` ``noai`` and friends (N-xx vectors and more).

docs/protocols.md#noai-and-noimageai."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optout.decision import Crawl, Policy, Protocol, Purpose, Signal, Use, Verdict, combine
from optout.html_head import parse_head
from optout.robots_meta import PARSER, Directive, from_headers, from_html, parse_value
from tests.optout.vectors import load

CASES = load("robots_meta")
CROSS = {c["id"]: c for c in load("cross_protocol")}
URL = "https://example.com/page"
AI = (Purpose.TDM, Purpose.TRAIN_AI, Purpose.AI_INPUT)


def _html(html: str, token: str = "MyBot", **kw: Any) -> list[Signal]:
    return from_html(parse_head(html), token=token, source=URL, status=200, **kw)


def _headers(values: list[str], token: str = "MyBot", **kw: Any) -> list[Signal]:
    return from_headers(values, token=token, source=URL, status=200, **kw)


def _reserved(signals: list[Signal]) -> set[Purpose]:
    return {p for s in signals for p, v in s.purposes.items() if v is Verdict.RESERVED}


def _run(inputs: dict[str, Any], **kw: Any) -> list[Signal]:
    html = inputs.get("html_head") or inputs.get("html") or inputs.get("page_html_head")
    if html is not None:
        return _html(html, inputs["token"], **kw)
    values = [v for name, v in inputs["response_headers"] if name.lower() == "x-robots-tag"]
    return _headers(values, inputs["token"], **kw)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_vector(case: dict[str, Any]) -> None:
    """Each N-xx vector gives Heed's default verdict for tdm, train-ai and ai-input."""
    inputs, expected = case["inputs"], case["expected"]
    is_image = inputs.get("target") == "image response"
    signals = _run(inputs, is_image=is_image)
    if "page_text" in expected:  # N02: noimageai reserves images only
        assert _reserved(signals) == set()
        assert any("images_only" in s.flags for s in signals)
        image = _run(inputs, is_image=True)
        assert _reserved(image) == set(AI)
        assert all("images_only" in s.flags for s in image)
    elif "linked_pdf" in expected:  # N14: page-scoped
        assert _reserved(signals) == set(AI)
        assert from_headers([], token="MyBot", source=URL + ".pdf", status=200) == []
    elif expected["verdict"] == "RESERVED":
        assert _reserved(signals) == set(AI)
        decision = combine(URL, signals)
        assert decision.use is Use.RESERVED
        assert all(decision.purposes[p] is Verdict.RESERVED for p in AI)
    else:  # not applicable / not an AI reservation / policy knob
        assert _reserved(signals) == set()
        assert combine(URL, signals).use is Use.NOT_RESERVED
        log = expected.get("log")
        if log:
            assert signals, "the directive is logged"
            assert all(not s.purposes for s in signals)
        if isinstance(log, list):
            assert set(log) <= {f for s in signals for f in s.flags}
    if case["id"] == "N12":
        # The knob turns Microsoft's noarchive into a train-ai reservation.
        strict = _run(inputs, policy=Policy(microsoft_noarchive_as_reservation=True))
        assert _reserved(strict) == {Purpose.TRAIN_AI}
    if case["id"] == "N11":
        assert Directive(name="unavailable_after") in parse_value(inputs["response_headers"][0][1])


def test_x15_noindex_only_is_not_a_reservation() -> None:
    """X15: ``X-Robots-Tag: noindex`` is index control, not TDM: NOT-RESERVED, logged."""
    inputs = CROSS["X15"]["inputs"]
    signals = _headers([inputs["response_headers"]["X-Robots-Tag"]])
    decision = combine(URL, signals)
    assert decision.crawl is Crawl.ALLOW
    assert decision.use is Use.NOT_RESERVED
    assert [s.flags for s in signals] == [("not_ai_reservation",)]


def test_evidence_of_a_meta_reservation() -> None:
    """A reservation carries protocol, source, status, element, line and parser."""
    (sig,) = _html('<html>\n<head>\n<meta name="robots" content="noai">', fetched_at="T")
    assert sig.protocol is Protocol.ROBOTS_META
    assert (sig.source, sig.status, sig.line, sig.parser, sig.fetched_at) == (
        URL,
        200,
        3,
        PARSER,
        "T",
    )
    assert sig.rule is not None
    assert "noai" in sig.rule


def test_header_evidence() -> None:
    """A header signal names the field and value as its rule."""
    (sig,) = _headers(["mybot: noai"])
    assert sig.protocol is Protocol.X_ROBOTS_TAG
    assert sig.rule == "X-Robots-Tag: mybot: noai"
    assert "mybot" in sig.reason


@pytest.mark.parametrize(
    ("value", "reserved"),
    [
        ("noindex, noai", True),
        ("googlebot: noindex, noai", False),  # the scope holds for the whole comma list
        ("noai, googlebot: noindex", True),
        ("MYBOT: NOAI", True),
        ("mybot/2.0: noai", False),  # not a product token: an unknown directive
        ("unavailable_after: Friday, 25-Jun-2010 15:00:00 GMT, noai", True),
        ("max-snippet: 20, noai", True),
        ("noai: yes", True),  # a known directive is never a user agent
        ("*=noindex, noai; ExampleBot=;", True),  # repext draft syntax
        ("noindex; mybot=noai", True),
        ("otherbot=noai", False),
        ("", False),
        (",,;;:", False),
    ],
)
def test_header_scoping(value: str, reserved: bool) -> None:
    """Google's ``ua:`` scoping and the repext ``token=`` syntax bind only our token."""
    assert bool(_reserved(_headers([value]))) is reserved


def test_other_token_is_logged_not_applied() -> None:
    """N04/N07: another crawler's noai is logged with ``other_token``."""
    for signals in (_html('<meta name="GPTBot" content="noai">'), _headers(["otherbot: noai"])):
        assert [s.flags for s in signals] == [("other_token",)]
        assert not signals[0].purposes


def test_ordinary_meta_is_silent() -> None:
    """Default robots values and unrelated meta elements produce no signal."""
    html = '<meta name="robots" content="index, follow"><meta name="description" content="noai">'
    assert _html(html) == []


def test_token_with_version_matches_meta_name() -> None:
    """Our token is compared as an RFC 9309 product token."""
    assert _reserved(_html('<meta name="mybot" content="noai">', token="MyBot/1.2")) == set(AI)


def test_http_equiv_is_read_leniently() -> None:
    """``<meta http-equiv="X-Robots-Tag">`` counts, flagged ``lenient``."""
    signals = _html('<meta http-equiv="X-Robots-Tag" content="noai">')
    assert _reserved(signals) == set(AI)
    assert "lenient" in signals[0].flags


def test_noml_and_noimageai_on_headers() -> None:
    """``noml`` is logged; ``noimageai`` reserves an image response only."""
    assert [s.flags for s in _headers(["noml"])] == [("noml",)]
    assert _reserved(_headers(["noimageai"], is_image=True)) == set(AI)
    assert _reserved(_headers(["noimageai"])) == set()


def test_union_of_global_and_token_meta() -> None:
    """Directives of ``robots`` and our own meta name are unioned."""
    html = '<meta name="robots" content="noindex"><meta name="mybot" content="noai">'
    signals = _html(html)
    assert _reserved(signals) == set(AI)
    assert {f for s in signals for f in s.flags} == {"not_ai_reservation"}


def test_wrong_argument_types_raise() -> None:
    """Programmer errors raise TypeError; content never does."""
    with pytest.raises(TypeError):
        from_html("<meta>", token="x", source=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        from_headers("noai", token="x", source=None, status=200)


@settings(max_examples=200, deadline=None)
@given(st.binary())
def test_html_never_raises(body: bytes) -> None:
    """Arbitrary bytes as a page give signals, never an exception."""
    for sig in from_html(parse_head(body), token="MyBot", source=URL, is_image=True):
        assert sig.protocol is Protocol.ROBOTS_META


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(), max_size=4), st.text(max_size=20))
def test_headers_never_raise(values: list[str], token: str) -> None:
    """Arbitrary header values and tokens give signals, never an exception."""
    for sig in from_headers(values, token=token, source=URL, status=200):
        assert sig.protocol is Protocol.X_ROBOTS_TAG
