"""Spawning ``ai.txt`` (docs/protocols.md#spawning-aitxt): every S-xx vector, status handling,
contract."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optout.aitxt import PARSER, parse
from optout.decision import Protocol, Purpose, Signal, Verdict
from optout.document import FetchResult
from tests.optout.vectors import load

CASES = load("ai_txt")
URL = "https://example.com/ai.txt"
TOKEN = "MyBot"


def _fetch(body: str | bytes = b"", *, status: int | None = 200, **kw: Any) -> FetchResult:
    data = body.encode() if isinstance(body, str) else body
    headers = kw.pop("headers", (("content-type", "text/plain"),))
    return FetchResult(url=URL, status=status, body=data, headers=headers, **kw)


def _verdict(sig: Signal | None) -> Verdict:
    return sig.purposes.get(Purpose.TRAIN_AI, Verdict.UNKNOWN) if sig else Verdict.UNKNOWN


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_vector(case: dict[str, Any]) -> None:
    """Each S-xx vector gives Heed's train-ai verdict for each URL."""
    inputs, expected = case["inputs"], case["expected"]
    headers = (("content-type", inputs.get("content_type", "text/plain")),)
    result = _fetch(
        inputs.get("ai_txt", ""), status=inputs.get("ai_txt_status", 200), headers=headers
    )
    aitxt = parse(result)
    for url, want in zip(inputs["urls"], expected["train-ai"], strict=True):
        sig = aitxt.evaluate(url, TOKEN)
        assert _verdict(sig).name == want.replace("-", "_"), url
    if expected.get("flagged"):
        sig = aitxt.evaluate("/any", TOKEN)
        assert sig is not None
        assert not sig.purposes
        assert "html_body" in sig.flags
    if "rules" in expected:
        assert aitxt.robots is not None
        assert sum(len(g.rules) for g in aitxt.robots.groups.values()) == expected["rules"]


def test_evidence() -> None:
    """A reservation names the matched rule, its line, the file and the parser."""
    result = _fetch("# Spawning AI\nUser-Agent: *\nDisallow: *.jpg\n", fetched_at="T")
    sig = parse(result).evaluate("https://example.com/a/b.jpg", TOKEN)
    assert sig is not None
    assert sig.protocol is Protocol.AI_TXT
    assert (sig.rule, sig.line, sig.source, sig.status, sig.parser, sig.fetched_at) == (
        "Disallow: *.jpg",
        3,
        URL,
        200,
        PARSER,
        "T",
    )
    assert sig.sha256 == result.sha256


@pytest.mark.parametrize(
    ("result", "cause"),
    [
        (_fetch(status=503), "http_503"),
        (_fetch(status=429), "http_429"),
        (_fetch(status=403), "http_403"),
        (_fetch(status=301), "http_301"),
        (_fetch(status=None, error="timeout"), "timeout"),
        (_fetch("User-Agent: *\nDisallow: /", truncated=True), "truncated"),
    ],
)
def test_unreadable_file_defers(result: FetchResult, cause: str) -> None:
    """An ai.txt that may exist but could not be read defers train-ai, never allows."""
    sig = parse(result).evaluate("/x.jpg", TOKEN)
    assert _verdict(sig) is Verdict.DEFER
    assert sig is not None
    assert cause in sig.flags


@pytest.mark.parametrize("status", [404, 410, 400])
def test_missing_file_says_nothing(status: int) -> None:
    """404/410 and other 4xx: no file, no signal."""
    assert parse(_fetch("Disallow: /", status=status)).evaluate("/x", TOKEN) is None


def test_own_group_wins_over_star() -> None:
    """A group naming our token applies instead of ``*``."""
    body = "User-Agent: *\nDisallow: /\n\nUser-Agent: mybot\nDisallow: *.png\n"
    aitxt = parse(_fetch(body))
    assert _verdict(aitxt.evaluate("/a.png", "MyBot/1.0")) is Verdict.RESERVED
    assert aitxt.evaluate("/a.jpg", "MyBot/1.0") is None
    assert _verdict(aitxt.evaluate("/a.jpg", "OtherBot")) is Verdict.RESERVED


def test_rules_without_group_are_read_leniently() -> None:
    """Allow/Disallow lines with no User-Agent line are read as ``*``, flagged, lines kept."""
    sig = parse(_fetch("# ai\nDisallow: *.pdf\n")).evaluate("/doc.pdf", TOKEN)
    assert _verdict(sig) is Verdict.RESERVED
    assert sig is not None
    assert "ungrouped" in sig.flags
    assert sig.line == 2


def test_empty_file_says_nothing() -> None:
    """An empty 200 ai.txt states nothing."""
    assert parse(_fetch("")).evaluate("/x", TOKEN) is None


def test_wrong_argument_type_raises() -> None:
    """Programmer errors raise TypeError."""
    with pytest.raises(TypeError):
        parse(b"User-Agent: *")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.binary(), st.text(max_size=40), st.text(max_size=20))
def test_never_raises(body: bytes, path: str, token: str) -> None:
    """Arbitrary bytes, paths and tokens never raise."""
    sig = parse(_fetch(body)).evaluate(path, token)
    assert sig is None or sig.protocol is Protocol.AI_TXT
