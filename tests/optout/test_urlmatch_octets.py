"""RFC 9309 deviations of Protego that Heed's matcher corrects (issue 11, optout/urlmatch.py).

1. Specificity is the number of octets a pattern stands for (RFC 9309 §2.2.2), not the length of
   its percent-encoded form: ``Disallow: /*?`` is 3 octets and loses to ``Allow: /wa/`` (4).
2. An escape that is not valid UTF-8 stays the octet it names: ``Disallow: /a%E9`` does not also
   block ``/a%E8`` and ``/a%FF`` (Protego turns every such octet into U+FFFD); a ``%`` that starts
   no escape is the octet ``%`` itself, so no pattern can end halfway through an escape.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from optout import robots
from optout.urlmatch import Rule, RuleMatcher, match, normalize_path, normalize_pattern, specificity


def _verdict(body: str, url: str, token: str = "HeedBot") -> bool:
    return robots.parse(body.encode("utf-8")).can_fetch(normalize_path(url), token)[0]


def _escape(data: bytes, upper: list[bool] | None = None) -> str:
    """Return *data* written entirely as ``%XX`` escapes (hex case per octet from *upper*)."""
    out = []
    for i, octet in enumerate(data):
        hexcode = f"{octet:02X}"
        out.append("%" + (hexcode if upper is None or upper[i % len(upper)] else hexcode.lower()))
    return "".join(out)


# --- 1. specificity in octets ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "octets"),
    [
        ("/", 1),
        ("/*?", 3),  # Protego: len("/*%3F") = 5
        ("/fish*", 6),  # a trailing "*" counts (R34, Google and Protego alike)
        ("/*.php$", 7),  # so does the end anchor
        ("/p?q=1&r", 8),
        ("/ツ", 4),  # "/" + three UTF-8 octets
        ("/%E3%83%84", 4),  # the same octets, escaped
        ("/~joe", 5),
        ("/%7ejoe", 5),  # the same pattern: unreserved escapes are decoded (R38)
        ("/a b", 4),  # SP is an octet (R54)
        ("/a%2Fb", 4),  # a kept escape is still one octet
        ("/a%e9", 3),  # invalid UTF-8: one octet, kept
        ("/a%", 3),  # a bare "%" is the octet "%"
        ("/a%zz", 5),
        ("*.gif$", 6),  # RFC 9309 §5.1
    ],
)
def test_priority_is_the_octets_the_pattern_stands_for(pattern: str, octets: int) -> None:
    normalized = normalize_pattern(pattern)
    assert normalized is not None
    assert specificity(normalized) == octets
    assert Rule(pattern, normalized, "allow").priority == octets


def test_query_wildcard_does_not_outrank_a_longer_directory() -> None:
    """The issue's case: /wa/ (4 octets) beats /*? (3), whatever the line order; Google agrees."""
    for body in (
        "User-agent: *\nDisallow: /*?\nAllow: /wa/\n",
        "User-agent: *\nAllow: /wa/\nDisallow: /*?\n",
    ):
        assert _verdict(body, "/wa/?q=1") is True
        assert _verdict(body, "/x?q=1") is False
        assert _verdict(body, "/x") is True


@pytest.mark.parametrize(
    ("body", "url", "allowed"),
    [
        # Reserved characters: Protego weighs "/a?" as "/a%3F" (5) > "/ab" (3).
        ("Allow: /a?\nDisallow: /a?b", "/a?b", False),  # 4 > 3
        ("Disallow: /a?\nAllow: /ab*", "/ab?", True),  # /ab* (4) > /a? (3)
        ("Disallow: /*&\nAllow: /list", "/list?a=1&b=2", True),  # 5 > 3
        ("Disallow: /*:\nAllow: /wiki/", "/wiki/Talk:X", True),  # 6 > 3
        # Non-ASCII: /*ü is 4 octets (Google, escaping first, counts 8).
        ("Allow: /shop/\nDisallow: /*ü", "/shop/grün", True),
        ("Allow: /sh\nDisallow: /*ü", "/shop/grün", False),  # 4 > 3
        ("Allow: /sho\nDisallow: /*ü", "/shop/grün", True),  # 4 = 4: allow
        # Equivalent spellings weigh the same: a tie, and allow wins (§2.2.2).
        ("Disallow: /a?b\nAllow: /a%3Fb", "/a?b", True),
        ("Disallow: /a%3Fb\nAllow: /a?b", "/a?b", True),
        ("Disallow: /%E3%83%84\nAllow: /ツ", "/ツ/x", True),
        ("Disallow: /ツ\nAllow: /%e3%83%84", "/%E3%83%84", True),
        ("Disallow: /%7Ejoe\nAllow: /~joe", "/~joe/a", True),
        # Trailing "*" counts (R34) and equal octets tie to allow (R35).
        ("Disallow: /fish*\nAllow: /fish", "/fish", False),
        ("Allow: /fish*\nDisallow: /fish", "/fish", True),
        ("Allow: /a*\nDisallow: /ab", "/ab", True),
        # An anchored literal and a prefix of the same octets.
        ("Allow: /a?$\nDisallow: /a%3F", "/a?", True),  # 4 > 3
        ("Disallow: /a?$\nAllow: /a%3F", "/a?x", True),
    ],
)
def test_specificity_cases(body: str, url: str, allowed: bool) -> None:
    assert _verdict("User-agent: *\n" + body + "\n", url) is allowed


# --- 2. escapes that are not valid UTF-8 -------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "blocked"),
    [
        ("/a%E9", True),
        ("/a%e9", True),  # hex case is normalised
        ("/a%E9/x", True),
        ("/a%E8", False),  # Protego: blocked (both are U+FFFD to it)
        ("/a%FF", False),
        ("/a%EF%BF%BD", False),  # the escaped replacement character is another octet string
        ("/a\ufffd", False),
        ("/a%C3%A9", False),  # é: the octets C3 A9, not E9
        ("/aé", False),
    ],
)
def test_invalid_utf8_escape_is_its_own_octet(url: str, blocked: bool) -> None:
    assert _verdict("User-agent: *\nDisallow: /a%E9\n", url) is not blocked


def test_valid_utf8_escapes_still_equal_the_raw_character() -> None:
    """Escapes that form valid UTF-8 keep matching their raw spelling (R36, R37)."""
    body = "User-agent: *\nDisallow: /a%C3%A9\n"
    assert _verdict(body, "/aé") is False
    assert _verdict(body, "/a%c3%a9x") is False
    assert normalize_path("/a%C3") == "/a%C3"  # truncated sequence: kept
    assert normalize_path("/a%C3%A9%A9") == "/a%C3%A9%A9"  # valid, then a stray continuation


def test_bare_percent_is_an_octet_and_never_ends_inside_an_escape() -> None:
    """``/a%3`` names the octets ``/ a % 3``: it no longer matches ``/a?`` (``/a%3F``)."""
    body = "User-agent: *\nDisallow: /a%3\n"
    assert _verdict(body, "/a?") is True
    assert _verdict(body, "/a%3x") is False
    assert _verdict(body, "/a%253") is False  # the same octets, escaped
    assert normalize_pattern("/a%") == normalize_pattern("/a%25") == "/a%25"


# --- properties --------------------------------------------------------------------------------

OCTETS = st.binary(max_size=8)
CASES = st.lists(st.booleans(), min_size=1, max_size=4)


@settings(max_examples=400, deadline=None)
@given(OCTETS, OCTETS, CASES, CASES)
def test_literal_match_is_octet_prefix(
    a: bytes, b: bytes, case_a: list[bool], case_b: list[bool]
) -> None:
    """A pattern of escaped octets matches exactly the paths whose octets start with its own,
    valid UTF-8 or not, whatever the hex case."""
    pattern = normalize_pattern("/" + _escape(a, case_a))
    assert pattern is not None
    assert match(pattern, normalize_path("/" + _escape(b, case_b))) is b.startswith(a)


@settings(max_examples=300, deadline=None)
@given(OCTETS, OCTETS)
def test_normalisation_is_injective_on_octets(a: bytes, b: bytes) -> None:
    """Distinct octet strings never normalise to the same path (no U+FFFD collapse)."""
    assert (normalize_path("/" + _escape(a)) == normalize_path("/" + _escape(b))) is (a == b)


@settings(max_examples=300, deadline=None)
@given(OCTETS)
def test_escaped_pattern_priority_counts_octets(data: bytes) -> None:
    pattern = normalize_pattern("/" + _escape(data))
    assert pattern is not None
    assert specificity(pattern) == 1 + len(data)


PATTERN_TEXT = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="%"), max_size=12
)


@settings(max_examples=400, deadline=None)
@given(PATTERN_TEXT, st.data())
def test_priority_is_octet_length_as_written(text: str, data: st.DataObject) -> None:
    """Without escapes, a pattern's priority is its UTF-8 length; escaping any of its octets
    (other than "/", which stays distinct as "%2F") changes neither priority nor normal form."""
    raw = "/" + text
    assume(raw.strip() == raw)
    pattern = normalize_pattern(raw)
    assert pattern is not None
    assert specificity(pattern) == len(raw.encode("utf-8"))
    # Respell some characters as escapes (a final "$" is the anchor, and "*" the wildcard).
    chars = list(raw)
    for i, ch in enumerate(chars):
        if (
            i
            and ch not in "/*"
            and not (ch == "$" and i == len(chars) - 1)
            and data.draw(st.booleans())
        ):
            chars[i] = _escape(ch.encode("utf-8"))
    assert normalize_pattern("".join(chars)) == pattern


ALPHABET = ["/", "a", "b", "?", "=", "&", "ü", "*", "%3F", "%E9", "%41", ":"]


@st.composite
def _patterns(draw: st.DrawFn) -> str:
    body = "/" + "".join(draw(st.lists(st.sampled_from(ALPHABET), max_size=5)))
    return body + ("$" if draw(st.integers(0, 4)) == 0 else "")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), _patterns()), min_size=1, max_size=12), st.data())
def test_best_is_the_most_octets_and_allow_wins_ties(
    rules: list[tuple[bool, str]], data: st.DataObject
) -> None:
    """The compiled matcher (hash tables, alternations) picks what a brute-force scan picks:
    the matching rules with the most octets, allow on a tie."""
    compiled = []
    for allow, raw in rules:
        pattern = normalize_pattern(raw)
        assert pattern is not None
        compiled.append(Rule(raw, pattern, "allow" if allow else "disallow"))
    matcher = RuleMatcher(compiled)
    for _ in range(8):
        url = "/" + "".join(data.draw(st.lists(st.sampled_from([*ALPHABET, "c", "é"]), max_size=7)))
        path = normalize_path(url)
        hits = [r for r in compiled if match(r.pattern, path)]
        want = True
        if hits:
            top = max(r.priority for r in hits)
            want = any(r.value == "allow" for r in hits if r.priority == top)
        got, _ = robots.decide(matcher, path)
        assert got is want, (rules, url)
        top_hits = [r for r in hits if r.priority == max(h.priority for h in hits)]
        assert sorted(matcher.best(path)) == sorted(top_hits)
