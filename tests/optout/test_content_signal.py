"""Cloudflare ``Content-Signal`` (docs/protocols.md#content-signal): every C-xx vector, X03/X14,
and the contract."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optout import content_signal, robots
from optout.decision import DEFAULT_POLICY, Policy, Protocol, Purpose, Signal, Use, Verdict, combine
from optout.urlmatch import normalize_path
from tests.optout.vectors import load

CASES = load("content_signal")
BY_ID = {c["id"]: c for c in CASES}
CROSS = {c["id"]: c for c in load("cross_protocol")}
STRICT = Policy(
    apply_star_group_preferences=False, apply_ungrouped_preferences=False, lenient_values=False
)
SOURCE = "https://example.com/robots.txt"
PURPOSES = {"train-ai": Purpose.TRAIN_AI, "ai-input": Purpose.AI_INPUT, "search": Purpose.SEARCH}


def _verdict(sig: Signal | None, purpose: Purpose) -> Verdict:
    return sig.purposes.get(purpose, Verdict.UNKNOWN) if sig is not None else Verdict.UNKNOWN


def _compiled(
    body: str, token: str, policy: Policy = DEFAULT_POLICY
) -> content_signal.RobotsContentSignal:
    parsed = robots.parse(body)
    lines = parsed.preferences_for(
        token,
        star=policy.apply_star_group_preferences,
        ungrouped=policy.apply_ungrouped_preferences,
    )
    return content_signal.RobotsContentSignal.from_lines(
        lines, source=SOURCE, sha256=parsed.sha256, status=200, policy=policy
    )


def _robots_signal(
    body: str, token: str, url: str, policy: Policy = DEFAULT_POLICY
) -> Signal | None:
    return _compiled(body, token, policy).evaluate(normalize_path(url))


def _line_signal(value: str, policy: Policy = DEFAULT_POLICY) -> Signal | None:
    return _robots_signal(f"User-Agent: *\nContent-Signal: {value}\n", "MyBot", "/x", policy)


def _as_list(value: Any, n: int) -> list[Any]:
    return value if isinstance(value, list) else [value] * n


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_vector(case: dict[str, Any]) -> None:
    """Each C-xx vector gives Heed's compliance-mode verdicts for train-ai, ai-input, search."""
    inputs, expected = case["inputs"], case["expected"]
    if "response_headers" in inputs:
        signals = [
            content_signal.from_header(
                list(inputs["response_headers"].values()), source="https://e.com/r", status=200
            )
        ]
        crawls: list[Any] = [None]
    else:
        queries = inputs["queries"]
        parsed = robots.parse(inputs["robots_txt"])
        signals, crawls = [], []
        for i, query in enumerate(queries):
            path = normalize_path(query["url"])
            allowed, _ = parsed.can_fetch(path, query["token"])
            crawl = _as_list(expected.get("crawl"), len(queries))[i]
            if crawl is not None:
                assert allowed is (crawl == "ALLOW"), query
            crawls.append(allowed)
            signals.append(_robots_signal(inputs["robots_txt"], query["token"], query["url"]))
    for key, purpose in PURPOSES.items():
        if key not in expected:
            continue
        for i, want in enumerate(_as_list(expected[key], len(signals))):
            if want is None:
                assert crawls[i] is False  # not crawled: the preference is moot
                continue
            assert _verdict(signals[i], purpose) is Verdict(want.lower()), (key, i)
    for flag in expected.get("flags", []):
        assert all(s is not None and flag in s.flags for s in signals)
    if expected.get("flagged") or expected.get("lenient"):
        assert all(s is not None and "lenient" in s.flags for s in signals)
    if "use" in expected:
        assert all(s is not None and f"use={expected['use']}" in s.flags for s in signals)


@pytest.mark.parametrize("vid", ["C06", "C07", "C08"])
def test_vector_strict(vid: str) -> None:
    """Strict readings: no typo map (C06), no ``*``/other groups (C07), no ungrouped lines (C08)."""
    case = BY_ID[vid]
    query = case["inputs"]["queries"][0]
    sig = _robots_signal(case["inputs"]["robots_txt"], query["token"], query["url"], STRICT)
    assert _verdict(sig, Purpose.TRAIN_AI) is Verdict.UNKNOWN


def test_c15_crawl_part() -> None:
    """C15's crawl verdicts hold: ``*`` shares the CCBot run, so /tmp is disallowed for MyBot."""
    case = BY_ID["C15"]
    parsed = robots.parse(case["inputs"]["robots_txt"])
    got = [
        parsed.can_fetch(normalize_path(q["url"]), q["token"])[0] for q in case["inputs"]["queries"]
    ]
    assert got == [c == "ALLOW" for c in case["expected"]["crawl"]]


@pytest.mark.parametrize("vid", ["C10", "X03"])
def test_crawl_disallowed_makes_signal_moot(vid: str) -> None:
    """Crawl permission first: robots.txt disallows MyBot, whatever Content-Signal says."""
    body = (BY_ID.get(vid) or CROSS[vid])["inputs"]["robots_txt"]
    allowed, rule = robots.parse(body).can_fetch(normalize_path("/x"), "MyBot")
    assert not allowed
    assert rule is not None
    assert rule.raw == "/"


def test_x14_no_ai_train_key_is_no_statement() -> None:
    """X14: search/ai-input only ⇒ train-ai UNKNOWN, NOT-RESERVED by the Art. 4 default."""
    case = CROSS["X14"]
    parsed = robots.parse(case["inputs"]["robots_txt"])
    assert parsed.can_fetch("/x", "MyBot")[0] is (case["expected"]["crawl"] == "ALLOW")
    sig = _robots_signal(case["inputs"]["robots_txt"], "MyBot", "/x")
    assert _verdict(sig, Purpose.TRAIN_AI) is Verdict(case["expected"]["train-ai"].lower())
    assert sig is not None
    decision = combine("https://example.com/x", [sig])
    assert decision.use is Use.NOT_RESERVED
    assert "no reservation found" in decision.reasons


def test_values_are_case_sensitive_without_lenience() -> None:
    """``lenient_values`` off: ``No`` is no statement, flagged ``invalid_value`` (C04 strict)."""
    sig = _line_signal("ai-train=No", Policy(lenient_values=False))
    assert _verdict(sig, Purpose.TRAIN_AI) is Verdict.UNKNOWN
    assert sig is not None
    assert "invalid_value" in sig.flags


@pytest.mark.parametrize(
    ("value", "verdict", "flag"),
    [
        ("AI-Train=no, Search=yes", Verdict.RESERVED, "nonconformant"),  # SF rejects upper case
        ("ai-train = no", Verdict.RESERVED, "nonconformant"),
        ("ai-train=no,", Verdict.RESERVED, "nonconformant"),  # trailing comma
        ('ai-train="no"', Verdict.RESERVED, "lenient"),
        ("ai-train=yes, ai-train=no", Verdict.RESERVED, "duplicate_key"),
        ("ai-train=no;x=1", Verdict.RESERVED, None),  # parameters say nothing
        ("ai-train=0", Verdict.UNKNOWN, "invalid_value"),
        ("ai-train", Verdict.UNKNOWN, "invalid_value"),
        ("use=reference", Verdict.UNKNOWN, "use=reference"),
        ("use=everything", Verdict.UNKNOWN, "invalid_value"),
    ],
)
def test_lenient_readings(value: str, verdict: Verdict, flag: str | None) -> None:
    """Each near miss is read as evidently meant, and flagged.

    docs/protocols.md#content-signal-syntax.
    """
    sig = _line_signal(value)
    assert _verdict(sig, Purpose.TRAIN_AI) is verdict
    if flag is not None:
        assert sig is not None
        assert flag in sig.flags


def test_tolerant_split_needs_lenience() -> None:
    """With ``lenient_values`` off, a value SF cannot parse is no statement (``parse_error``)."""
    sig = _line_signal("AI-Train=no", Policy(lenient_values=False))
    assert sig is not None
    assert sig.purposes == {}
    assert "parse_error" in sig.flags


def test_path_form_applies_where_the_path_matches() -> None:
    """An undocumented ``/path prefs`` value applies under that path only (flag ``path_form``)."""
    body = "User-Agent: *\nContent-Signal: search=yes\nContent-Signal: /private/ ai-train=no\n"
    compiled = _compiled(body, "MyBot")
    inside = compiled.evaluate("/private/a")
    assert _verdict(inside, Purpose.TRAIN_AI) is Verdict.RESERVED
    assert inside is not None
    assert "path_form" in inside.flags
    outside = compiled.evaluate("/public")
    assert _verdict(outside, Purpose.TRAIN_AI) is Verdict.UNKNOWN
    assert _verdict(outside, Purpose.SEARCH) is Verdict.NOT_RESERVED


def test_star_group_combines_with_own_group() -> None:
    """Compliance mode applies ``*`` group signals to a crawler with its own group.

    docs/protocols.md#preference-scope.
    """
    body = "User-Agent: *\nContent-Signal: ai-train=no\nAllow: /\n\nUser-Agent: MyBot\nAllow: /\n"
    sig = _robots_signal(body, "MyBot", "/x")
    assert _verdict(sig, Purpose.TRAIN_AI) is Verdict.RESERVED
    assert sig is not None
    assert "star" in sig.flags


def test_robots_evidence_and_constant_answer() -> None:
    """Evidence names the line; a site-wide answer is built once and shared by every URL."""
    body = "User-Agent: *\nContent-Signal: ai-train=no\n"
    compiled = _compiled(body, "MyBot")
    sig = compiled.evaluate("/a")
    assert sig is compiled.evaluate("/b")
    assert sig is not None
    assert sig.protocol is Protocol.CONTENT_SIGNAL_ROBOTS
    assert (sig.rule, sig.line, sig.source, sig.parser) == (
        "Content-Signal: ai-train=no",
        2,
        SOURCE,
        "heed-content-signal/1",
    )
    assert sig.sha256 == robots.parse(body).sha256


def test_header_evidence() -> None:
    """C11: the header speaks for that representation, with the raw value as evidence."""
    sig = content_signal.from_header(
        ["search=yes", "ai-train=no"], source="https://e.com/r", status=200, fetched_at="t"
    )
    assert sig is not None
    assert sig.protocol is Protocol.CONTENT_SIGNAL_HEADER
    assert dict(sig.purposes) == {
        Purpose.SEARCH: Verdict.NOT_RESERVED,
        Purpose.TRAIN_AI: Verdict.RESERVED,
    }
    assert (sig.rule, sig.fetched_at, sig.status) == ("search=yes, ai-train=no", "t", 200)
    assert content_signal.from_header([], source=None, status=200) is None
    with pytest.raises(TypeError):
        content_signal.from_header("ai-train=no", source=None, status=200)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_parse_signal_never_raises(value: str) -> None:
    """Arbitrary text gives preferences, never an exception."""
    for policy in (Policy(), STRICT):
        content_signal.parse_signal(value, policy=policy)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(), max_size=4))
def test_from_header_never_raises(values: list[str]) -> None:
    """Arbitrary header values give a Signal or None."""
    content_signal.from_header(values, source=None, status=200)


ROBOTS_BODIES = st.one_of(
    st.binary(),
    st.lists(
        st.tuples(
            st.sampled_from(["User-Agent", "Content-Signal", "content-signal ", "Disallow", "x"]),
            st.one_of(st.text(), st.sampled_from(["/a ai-train=no", "ai-train=No", "*", "MyBot"])),
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
    compiled = content_signal.RobotsContentSignal.from_lines(
        lines, source=None, sha256=parsed.sha256, status=200
    )
    sig = compiled.evaluate(normalize_path(url))
    assert sig is None or sig.protocol is Protocol.CONTENT_SIGNAL_ROBOTS
