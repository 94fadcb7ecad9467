"""AIPREF ``Content-Usage`` (docs/protocols.md#aipref-content-usage): every A-xx vector
plus the parser's contract."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optout import aipref, robots
from optout.decision import DEFAULT_POLICY, Policy, Protocol, Purpose, Signal, Use, Verdict, combine
from optout.urlmatch import normalize_path
from tests.optout.vectors import load

CASES = load("aipref")
BY_ID = {c["id"]: c for c in CASES}
STRICT = Policy(apply_star_group_preferences=False, apply_ungrouped_preferences=False)
#: AIPREF's own data-model values (allowed, disallowed, unknown) as Heed verdicts.
AIPREF_VALUE = {
    "disallowed": Verdict.RESERVED,
    "allowed": Verdict.NOT_RESERVED,
    "unknown": Verdict.UNKNOWN,
}
SOURCE = "https://example.com/robots.txt"


def _verdict(sig: Signal | None, purpose: Purpose) -> Verdict:
    return sig.purposes.get(purpose, Verdict.UNKNOWN) if sig is not None else Verdict.UNKNOWN


def _compiled(body: str, token: str, policy: Policy = DEFAULT_POLICY) -> aipref.RobotsContentUsage:
    parsed = robots.parse(body)
    lines = parsed.preferences_for(
        token,
        star=policy.apply_star_group_preferences,
        ungrouped=policy.apply_ungrouped_preferences,
    )
    return aipref.RobotsContentUsage.from_lines(
        lines, source=SOURCE, sha256=parsed.sha256, status=200, policy=policy
    )


def _robots_signal(
    body: str, token: str, url: str, policy: Policy = DEFAULT_POLICY
) -> Signal | None:
    return _compiled(body, token, policy).evaluate(normalize_path(url))


def _header(value: str, policy: Policy = DEFAULT_POLICY) -> Signal | None:
    return aipref.from_header([value], source="https://example.com/a", status=200, policy=policy)


def _as_list(value: Any, n: int) -> list[Any]:
    return value if isinstance(value, list) else [value] * n


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_vector(case: dict[str, Any]) -> None:
    """Each A-xx vector gives Heed's compliance-mode verdict for train-ai and search."""
    inputs, expected = case["inputs"], case["expected"]
    if "robots_txt" in inputs:
        queries = inputs["queries"]
        wanted = _as_list(expected["train-ai"], len(queries))
        crawls = _as_list(expected.get("crawl"), len(queries))
        parsed = robots.parse(inputs["robots_txt"])
        signals = []
        for query, want, crawl in zip(queries, wanted, crawls, strict=True):
            path = normalize_path(query["url"])
            allowed, _ = parsed.can_fetch(path, query["token"])
            if crawl is not None:
                assert allowed is (crawl == "ALLOW"), query
            sig = _robots_signal(inputs["robots_txt"], query["token"], query["url"])
            signals.append(sig)
            if want is None:
                # Not crawled: "no preferences are implied for resources that are disallowed";
                # the crawl verdict makes the preference moot (combination layer).
                assert not allowed
                continue
            if "response_headers" in inputs:  # A10: header and robots.txt rule combine
                header = aipref.from_header(
                    list(inputs["response_headers"].values()), source=query["url"], status=200
                )
                decision = combine(query["url"], [s for s in (sig, header) if s is not None])
                assert decision.purposes[Purpose.TRAIN_AI] is AIPREF_VALUE[want]
                continue
            assert _verdict(sig, Purpose.TRAIN_AI) is AIPREF_VALUE[want], query
        for flag in expected.get("flags", []):
            assert any(s is not None and flag in s.flags for s in signals)
        return
    values = inputs.get("values") or [inputs["value"]]
    for value, want in zip(values, _as_list(expected["train-ai"], len(values)), strict=True):
        sig = _header(value)
        assert _verdict(sig, Purpose.TRAIN_AI) is AIPREF_VALUE[want], value
        if "search" in expected:
            assert _verdict(sig, Purpose.SEARCH) is AIPREF_VALUE[expected["search"]]
        assert aipref.parse_usage(value).valid is (expected.get("sf_parse") != "failure")


@pytest.mark.parametrize("vid", ["A16", "A17"])
def test_vector_strict(vid: str) -> None:
    """The strict readings: ungrouped lines (A16) and the ``*`` group (A17) do not bind MyBot."""
    case = BY_ID[vid]
    for query, want in zip(case["inputs"]["queries"], case["expected"]["strict"], strict=True):
        sig = _robots_signal(case["inputs"]["robots_txt"], query["token"], query["url"], STRICT)
        assert _verdict(sig, Purpose.TRAIN_AI) is AIPREF_VALUE[want]


def test_a04_parse_failure_is_flagged_as_intended_reservation() -> None:
    """An upper-case key fails the parse (unknown) but is logged as an intended reservation."""
    sig = _header("Train-AI=n")
    assert sig is not None
    assert sig.purposes == {}
    assert {"parse_error", "intended_reservation"} <= set(sig.flags)


def test_a08_a09_legacy_labels_are_logged_not_mapped_by_default() -> None:
    """Stale labels are logged as ``legacy_label`` and reserve nothing unless the knob says so."""
    a08 = _header(BY_ID["A08"]["inputs"]["value"])
    assert a08 is not None
    assert "legacy_label" in a08.flags
    a09 = _header("ai=n")
    assert a09 is not None
    assert a09.purposes == {}
    assert "legacy_label" in a09.flags


def test_a09_legacy_label_mapping_knob() -> None:
    """With ``legacy_label_mapping`` a stale ``ai=n`` reserves train-ai (flagged)."""
    sig = _header("ai=n", Policy(legacy_label_mapping=True))
    assert _verdict(sig, Purpose.TRAIN_AI) is Verdict.RESERVED
    assert sig is not None
    assert {"legacy_label", "legacy_mapped"} <= set(sig.flags)
    # A withdrawn label never grants: ai=y stays no statement.
    assert _verdict(_header("ai=y", Policy(legacy_label_mapping=True)), Purpose.TRAIN_AI) is (
        Verdict.UNKNOWN
    )


def test_a13_path_and_preference_split() -> None:
    """The path ends at the first SP/HTAB; the rest is the preference (attach-05)."""
    case = BY_ID["A13"]
    value = case["inputs"]["robots_txt"].split("Content-Usage:", 1)[1].strip()
    path, pref = aipref.split_path(value)
    assert (path, pref) == (case["expected"]["parsed_path"], case["expected"]["parsed_preference"])
    assert aipref.split_path("train-ai=n") == (None, "train-ai=n")
    assert aipref.split_path("/a\ttrain-ai=n") == ("/a", "train-ai=n")


def test_ai_use_maps_to_ai_input() -> None:
    """vocab-08 ``ai-use`` speaks for purpose ai-input only."""
    sig = _header("ai-use=n")
    assert sig is not None
    assert dict(sig.purposes) == {Purpose.AI_INPUT: Verdict.RESERVED}


def test_search_y_never_permits_training() -> None:
    """``search=y`` (-08 "search overrides") is not a training permission.

    docs/protocols.md#aipref-vocabulary.
    """
    sig = _header("search=y")
    assert sig is not None
    assert dict(sig.purposes) == {Purpose.SEARCH: Verdict.NOT_RESERVED}
    assert combine("https://example.com/", [sig]).purposes[Purpose.TRAIN_AI] is Verdict.UNKNOWN


def test_header_evidence() -> None:
    """A header signal carries protocol, raw value, source, status, parser and fetched_at."""
    sig = aipref.from_header(
        ["train-ai=n"], source="https://e.com/a", status=200, fetched_at="2026-10-30T00:00:00Z"
    )
    assert sig is not None
    assert sig.protocol is Protocol.CONTENT_USAGE_HEADER
    assert (sig.rule, sig.source, sig.status, sig.parser) == (
        "train-ai=n",
        "https://e.com/a",
        200,
        "heed-aipref/1",
    )
    assert sig.fetched_at == "2026-10-30T00:00:00Z"
    assert sig.reason
    assert combine("https://e.com/a", [sig]).use is Use.RESERVED


def test_header_field_lines_combine_as_one_dictionary() -> None:
    """Several field lines are one comma-joined Dictionary; the last duplicate key wins."""
    sig = aipref.from_header(["train-ai=n", "search=n", "", "train-ai=y"], source=None, status=200)
    assert sig is not None
    assert dict(sig.purposes) == {
        Purpose.TRAIN_AI: Verdict.NOT_RESERVED,
        Purpose.SEARCH: Verdict.RESERVED,
    }
    assert aipref.from_header([], source=None, status=200) is None
    assert aipref.from_header(["  "], source=None, status=200) is None
    assert aipref.from_header(["foo=n"], source=None, status=200) is None  # unknown label only


def test_header_rejects_wrong_argument_types() -> None:
    """A bare string instead of a list of values is a programmer error."""
    with pytest.raises(TypeError):
        aipref.from_header("train-ai=n", source=None, status=200)
    with pytest.raises(TypeError):
        aipref.parse_usage(b"train-ai=n")  # type: ignore[arg-type]


def test_robots_evidence() -> None:
    """A robots.txt signal carries the line, its number, the document sha256 and the status."""
    body = "User-Agent: *\nAllow: /\nContent-Usage: train-ai=n\n"
    sig = _robots_signal(body, "MyBot", "/x")
    assert sig is not None
    assert sig.protocol is Protocol.CONTENT_USAGE_ROBOTS
    assert (sig.rule, sig.line, sig.status, sig.source) == (
        "Content-Usage: train-ai=n",
        3,
        200,
        SOURCE,
    )
    assert sig.sha256 == robots.parse(body).sha256


def test_explicit_root_path_beats_pathless_line() -> None:
    """``/`` (priority 1) is more specific than a line without path (priority 0)."""
    body = "User-Agent: *\nContent-Usage: train-ai=n\nContent-Usage: / train-ai=y\n"
    assert _verdict(_robots_signal(body, "MyBot", "/x"), Purpose.TRAIN_AI) is Verdict.NOT_RESERVED


def test_longest_path_wins_with_wildcards() -> None:
    """Path patterns use the RFC 9309 matcher: wildcards and ``$`` anchors, longest match."""
    body = (
        "User-Agent: *\nContent-Usage: /docs/ train-ai=n\nContent-Usage: /docs/*.pdf$ train-ai=y\n"
    )
    compiled = _compiled(body, "MyBot")
    assert _verdict(compiled.evaluate("/docs/a.pdf"), Purpose.TRAIN_AI) is Verdict.NOT_RESERVED
    assert _verdict(compiled.evaluate("/docs/a.pdfx"), Purpose.TRAIN_AI) is Verdict.RESERVED
    assert compiled.evaluate("/other") is None


def test_broken_specific_line_does_not_shadow_valid_rule() -> None:
    """A line whose preference does not parse is not a rule; it is still reported by flag."""
    body = "User-Agent: *\nContent-Usage: train-ai=n\nContent-Usage: /r/ Train-AI=y\n"
    sig = _robots_signal(body, "MyBot", "/r/x")
    assert _verdict(sig, Purpose.TRAIN_AI) is Verdict.RESERVED
    assert sig is not None
    assert "parse_error" in sig.flags


def test_star_group_combines_most_restrictively_with_own_group() -> None:
    """Compliance mode: own group and ``*`` group are evaluated apart and combined.

    docs/protocols.md#preference-scope.
    """
    body = (
        "User-Agent: *\nContent-Usage: train-ai=n\n\n"
        "User-Agent: MyBot\nAllow: /\nContent-Usage: /x train-ai=y\n"
    )
    sig = _robots_signal(body, "MyBot", "/x/1")
    assert _verdict(sig, Purpose.TRAIN_AI) is Verdict.RESERVED
    assert sig is not None
    assert {"star", "conflict"} <= set(sig.flags)
    assert _verdict(_robots_signal(body, "MyBot", "/x/1", STRICT), Purpose.TRAIN_AI) is (
        Verdict.NOT_RESERVED
    )


def test_own_group_replaces_star_when_it_is_the_only_group() -> None:
    """ExampleBot of the attach-05 example: its own ``train-ai=y`` everywhere (strict reading)."""
    body = BY_ID["A11"]["inputs"]["robots_txt"]
    for url in ("/test", "/ai-ok/test"):
        sig = _robots_signal(body, "ExampleBot", url, STRICT)
        assert _verdict(sig, Purpose.TRAIN_AI) is Verdict.NOT_RESERVED


def test_site_wide_answer_is_built_once() -> None:
    """Without path rules every URL gets the same Signal object (hot path)."""
    compiled = _compiled("User-Agent: *\nContent-Usage: train-ai=n\n", "MyBot")
    assert compiled.evaluate("/a") is compiled.evaluate("/b/c")


def test_path_rule_answers_are_memoised() -> None:
    """URLs selecting the same rules share one Signal; other selections get their own."""
    compiled = _compiled("User-Agent: *\nContent-Usage: /x train-ai=y\n", "MyBot")
    first = compiled.evaluate("/x/1")
    assert first is not None
    assert first is compiled.evaluate("/x/2")
    assert compiled.evaluate("/y") is None


def test_other_preference_keys_are_ignored() -> None:
    """Only ``content-usage`` lines are read; Content-Signal belongs to its own module."""
    assert _robots_signal("User-Agent: *\nContent-Signal: ai-train=no\n", "MyBot", "/") is None


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_parse_usage_never_raises(value: str) -> None:
    """Arbitrary text gives preferences, never an exception."""
    prefs = aipref.parse_usage(value)
    assert all(v in (Verdict.RESERVED, Verdict.NOT_RESERVED) for v in prefs.purposes.values())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(), max_size=4))
def test_from_header_never_raises(values: list[str]) -> None:
    """Arbitrary header values give a Signal or None."""
    aipref.from_header(values, source=None, status=200)


#: robots.txt bodies made of real record names with arbitrary values, plus raw noise.
ROBOTS_BODIES = st.one_of(
    st.binary(),
    st.lists(
        st.tuples(
            st.sampled_from(
                ["User-Agent", "Content-Usage", "content-usage ", "Allow", "Disallow", "x", ""]
            ),
            st.one_of(st.text(), st.sampled_from(["/a train-ai=n", "*", "/", "MyBot"])),
        ),
        max_size=12,
    ).map(lambda pairs: "\n".join(f"{k}: {v}" for k, v in pairs)),
)


@settings(max_examples=200, deadline=None)
@given(ROBOTS_BODIES, st.text())
def test_from_lines_never_raises(body: bytes | str, url: str) -> None:
    """Arbitrary robots.txt text compiles and evaluates without an exception."""
    parsed = robots.parse(body)
    for token in ("MyBot", "*"):
        lines = parsed.preferences_for(token, star=True, ungrouped=True)
        compiled = aipref.RobotsContentUsage.from_lines(
            lines, source=None, sha256=parsed.sha256, status=200
        )
        sig = compiled.evaluate(normalize_path(url))
        assert sig is None or sig.protocol is Protocol.CONTENT_USAGE_ROBOTS
