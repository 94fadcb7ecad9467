"""Microsoft ``DisallowAITraining`` / ``AllowAITraining`` (docs/protocols.md#disallowaitraining):
R50, R51, X13."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optout import ai_training, robots
from optout.decision import (
    DEFAULT_POLICY,
    Crawl,
    Policy,
    Protocol,
    Purpose,
    Signal,
    Use,
    Verdict,
    combine,
)
from optout.urlmatch import normalize_path
from tests.optout.vectors import load

VECTORS = {
    c["id"]: c for c in load("robots") + load("cross_protocol") if c["id"] in {"R50", "R51", "X13"}
}
STRICT = Policy(apply_star_group_preferences=False, apply_ungrouped_preferences=False)
SOURCE = "https://example.com/robots.txt"


def _compiled(
    body: str, token: str, policy: Policy = DEFAULT_POLICY
) -> ai_training.RobotsAiTraining:
    parsed = robots.parse(body)
    lines = parsed.preferences_for(
        token,
        star=policy.apply_star_group_preferences,
        ungrouped=policy.apply_ungrouped_preferences,
    )
    return ai_training.RobotsAiTraining.from_lines(
        lines, source=SOURCE, sha256=parsed.sha256, status=200, policy=policy
    )


def _train_ai(
    body: str, url: str, token: str = "MyBot", policy: Policy = DEFAULT_POLICY
) -> Verdict:
    sig = _compiled(body, token, policy).evaluate(normalize_path(url))
    return sig.purposes.get(Purpose.TRAIN_AI, Verdict.UNKNOWN) if sig else Verdict.UNKNOWN


def _queries(case: dict[str, Any]) -> list[dict[str, str]]:
    return case["inputs"].get("queries") or [{"token": "MyBot", "url": "/x"}]


@pytest.mark.parametrize("vid", ["R50", "R51", "X13"])
def test_vector(vid: str) -> None:
    """Crawl stays ALLOW (an other record, not Disallow) and ``/`` reserves train-ai."""
    case = VECTORS[vid]
    body = case["inputs"]["robots_txt"]
    expected = case["expected"]
    parsed = robots.parse(body)
    for i, query in enumerate(_queries(case)):
        crawl = expected["crawl"][i] if isinstance(expected["crawl"], list) else expected["crawl"]
        allowed, _ = parsed.can_fetch(normalize_path(query["url"]), query["token"])
        assert allowed is (crawl == "ALLOW")
        sig = _compiled(body, query["token"]).evaluate(normalize_path(query["url"]))
        assert sig is not None
        assert sig.purposes[Purpose.TRAIN_AI] is Verdict.RESERVED
        want = expected.get("train-ai") or expected.get("heed_purposes", {}).get("train-ai")
        if want is not None:
            assert sig.purposes[Purpose.TRAIN_AI] is Verdict(want.lower())
        decision = combine(query["url"], [sig])
        assert decision.crawl is Crawl.ALLOW
        assert decision.use is Use.RESERVED


def test_allow_ai_training_longest_match_wins() -> None:
    """``AllowAITraining`` works as Allow: the longer match wins, either way."""
    body = (
        "User-agent: *\nDisallowAITraining: /\nAllowAITraining: /public/\n"
        "DisallowAITraining: /public/drafts/\n"
    )
    assert _train_ai(body, "/x") is Verdict.RESERVED
    assert _train_ai(body, "/public/a") is Verdict.NOT_RESERVED
    assert _train_ai(body, "/public/drafts/1") is Verdict.RESERVED


def test_equal_length_tie_goes_to_allow() -> None:
    """Identical patterns: the allow wins, as RFC 9309 §2.2.2 says for Allow/Disallow."""
    body = "User-agent: *\nDisallowAITraining: /a\nAllowAITraining: /a\n"
    assert _train_ai(body, "/a/b") is Verdict.NOT_RESERVED


def test_no_match_and_empty_value_are_no_statement() -> None:
    """A path outside every rule, and ``DisallowAITraining:`` with no value, say nothing."""
    assert (
        _compiled("User-agent: *\nDisallowAITraining: /private/\n", "MyBot").evaluate("/a") is None
    )
    assert _compiled("User-agent: *\nDisallowAITraining:\n", "MyBot").evaluate("/a") is None
    assert _compiled("User-agent: *\nDisallowAITraining: nonsense\n", "MyBot").evaluate("/") is None


def test_lines_do_not_close_the_user_agent_run() -> None:
    """Other records never close a run: ``*`` after the line shares CCBot's group.

    docs/protocols.md#disallowaitraining.
    """
    body = "User-agent: CCBot\nUser-agent: *\nDisallowAITraining: /\n"
    assert _train_ai(body, "/x") is Verdict.RESERVED


def test_star_and_ungrouped_scopes() -> None:
    """Compliance mode applies ``*`` and ungrouped lines (flagged); strict mode does not."""
    star = "User-agent: *\nDisallowAITraining: /\nAllow: /\n\nUser-agent: MyBot\nAllow: /\n"
    sig = _compiled(star, "MyBot").evaluate("/x")
    assert sig is not None
    assert "star" in sig.flags
    assert _train_ai(star, "/x", policy=STRICT) is Verdict.UNKNOWN
    ungrouped = "DisallowAITraining: /\nUser-agent: *\nAllow: /\n"
    sig = _compiled(ungrouped, "MyBot").evaluate("/x")
    assert sig is not None
    assert "ungrouped" in sig.flags
    assert _train_ai(ungrouped, "/x", policy=STRICT) is Verdict.UNKNOWN


def test_own_allow_does_not_lift_star_disallow() -> None:
    """Scopes combine most-restrictively: own-group AllowAITraining does not beat ``*``."""
    body = (
        "User-agent: *\nDisallowAITraining: /\nAllow: /\n\nUser-agent: MyBot\nAllowAITraining: /\n"
    )
    sig = _compiled(body, "MyBot").evaluate("/x")
    assert sig is not None
    assert sig.purposes[Purpose.TRAIN_AI] is Verdict.RESERVED
    assert "conflict" in sig.flags
    assert _train_ai(body, "/x", policy=STRICT) is Verdict.NOT_RESERVED


def test_evidence() -> None:
    """The signal names the matched line, its number, the document and the parser."""
    body = "User-agent: *\nAllow: /\nDisallowAITraining: /docs/\n"
    sig: Signal | None = _compiled(body, "MyBot").evaluate("/docs/a")
    assert sig is not None
    assert sig.protocol is Protocol.AI_TRAINING_ROBOTS
    assert (sig.rule, sig.line, sig.source, sig.status) == (
        "DisallowAITraining: /docs/",
        3,
        SOURCE,
        200,
    )
    assert sig.sha256 == robots.parse(body).sha256
    assert sig.parser == "heed-ai-training/1"
    assert dict(sig.purposes) == {Purpose.TRAIN_AI: Verdict.RESERVED}


ROBOTS_BODIES = st.one_of(
    st.binary(),
    st.lists(
        st.tuples(
            st.sampled_from(["User-Agent", "DisallowAITraining", "AllowAITraining", "Allow", "x"]),
            st.one_of(st.text(), st.sampled_from(["/", "/a*$", "*", "MyBot"])),
        ),
        max_size=12,
    ).map(lambda pairs: "\n".join(f"{k}: {v}" for k, v in pairs)),
)


@settings(max_examples=200, deadline=None)
@given(ROBOTS_BODIES, st.text())
def test_from_lines_never_raises(body: bytes | str, url: str) -> None:
    """Arbitrary robots.txt text compiles and evaluates without an exception."""
    parsed = robots.parse(body)
    lines = parsed.preferences_for("MyBot", star=True, ungrouped=True)
    compiled = ai_training.RobotsAiTraining.from_lines(
        lines, source=None, sha256=parsed.sha256, status=200
    )
    sig = compiled.evaluate(normalize_path(url))
    assert sig is None or set(sig.purposes) == {Purpose.TRAIN_AI}
