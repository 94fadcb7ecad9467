"""optout.url: the one URL model — origin, host, port and request target of an http(s) URL."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optout.url import (
    URL,
    InvalidURL,
    host_of,
    normalize_host,
    origin_of,
    parse_authority,
    parse_url,
    split_origin,
)


@pytest.mark.parametrize(
    ("url", "origin", "target"),
    [
        ("http://example.com", "http://example.com", "/"),
        ("HTTPS://Example.COM./a/B?q=1#frag", "https://example.com", "/a/B?q=1"),
        ("https://example.com:443/", "https://example.com", "/"),
        ("http://example.com:80/x", "http://example.com", "/x"),
        ("http://example.com:8080/x", "http://example.com:8080", "/x"),
        ("https://user:pw@example.com/x", "https://example.com", "/x"),
        ("http://bücher.example/", "http://xn--bcher-kva.example", "/"),
        ("http://BÜCHER.example/", "http://xn--bcher-kva.example", "/"),
        ("http://xn--bcher-kva.example/", "http://xn--bcher-kva.example", "/"),
        ("http://[::1]:8080/p", "http://[::1]:8080", "/p"),
        ("http://[2001:DB8::1]/p", "http://[2001:db8::1]", "/p"),
        ("http://127.0.0.1/p", "http://127.0.0.1", "/p"),
        ("http://example.com?q", "http://example.com", "/?q"),
        ("  http://example.com/x  ", "http://example.com", "/x"),
    ],
)
def test_parse_url(url: str, origin: str, target: str) -> None:
    """Scheme and host lower-cased, trailing dot and default port dropped, IDNA, no userinfo,
    no fragment; the path and query kept as written."""
    parsed = parse_url(url)
    assert (parsed.origin, parsed.target) == (origin, target)
    assert str(parsed) == origin + target
    assert parsed.path == target.partition("?")[0]


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "ftp://files.example/x",
        "http://",
        "http:///path",
        "http://h.example:99999/",
        "http://h.example:8o/",
        "http://h.example:²/",  # a non-ASCII digit is not a port
        "http://bad host/",
        "http://h%2eexample/",
        "http://[::zz]/",
        "http://[::1]x/",
        "mailto:someone@example.com",
    ],
)
def test_invalid_urls_are_refused(url: str) -> None:
    """A URL Heed cannot request raises InvalidURL (a ValueError), never a guess."""
    with pytest.raises(InvalidURL):
        parse_url(url)
    with pytest.raises(ValueError, match=r"URL|host|address"):
        origin_of(url)


@pytest.mark.parametrize(
    ("spelled", "target"),
    [
        ("/./private/x", "/private/x"),
        ("/a/../private/x", "/private/x"),
        ("/%2e%2e/private/x", "/private/x"),
        ("/%2E/private/x", "/private/x"),
        ("/a/%2e%2E/private/x", "/private/x"),
        ("/private\\x", "/private/x"),
        ("/a/b/..", "/a/"),
        ("/a/b/.", "/a/b/"),
        ("/../../x", "/x"),
        ("//x/./y", "//x/y"),
        ("/%7euser/%41", "/~user/A"),
        ("/a%2fb%3f", "/a%2Fb%3F"),
        ("/caf\u00e9 menu", "/caf%C3%A9%20menu"),
        ("/a[1]|b", "/a%5B1%5D%7Cb"),
        ("/p?q=%7e&r='x y'", "/p?q=~&r=%27x%20y%27"),
        ("/p?a=/../b", "/p?a=/../b"),  # a query is not a path: no dot segments there
        ("/100%", "/100%"),
    ],
)
def test_canonical_target(spelled: str, target: str) -> None:
    """Dot segments, unreserved escapes, backslashes and unsafe characters: one canonical form,
    and the URL remembers how it was spelled."""
    parsed = parse_url("http://h.example" + spelled)
    assert parsed.target == target
    assert parsed.spelled == (None if spelled == target else spelled)
    assert parse_url(str(parsed)).target == target  # idempotent
    assert parse_url(str(parsed)).spelled is None


def test_normalize_host_never_raises() -> None:
    """The audit trail's host normalisation keeps what it cannot encode (it is evidence)."""
    assert normalize_host("Example.COM.") == "example.com"
    assert normalize_host("xn--a.example") == "xn--a.example"
    bad = "a" * 70 + "ü.example"  # a label too long for IDNA
    assert normalize_host(bad) == bad


def test_parse_authority_matches_parse_url() -> None:
    """The audit's prefix parser and the request parser are one parser."""
    assert parse_authority("HTTP://User@Host.Example.:80") == ("http", "host.example", None)
    assert split_origin("http://a.example?x#y") == ("http://a.example", "?x#y")
    assert host_of("http://A.example./") == "a.example"


# -- properties --------------------------------------------------------------------------------

_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_HOST = st.lists(_LABEL, min_size=1, max_size=4).map(".".join)
_PATH = st.from_regex(r"(/[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,8}){0,4}", fullmatch=True)
_QUERY = st.one_of(st.just(""), st.from_regex(r"\?[A-Za-z0-9=&%]{0,12}", fullmatch=True))


@st.composite
def same_resource(draw: st.DrawFn) -> tuple[str, str]:
    """Return two spellings of one URL that every server treats as the same resource."""
    scheme = draw(st.sampled_from(["http", "https"]))
    host = draw(_HOST)
    port = draw(st.sampled_from([None, 8080]))
    path = draw(_PATH) or "/"
    query = draw(_QUERY)
    plain = f"{scheme}://{host}" + (f":{port}" if port else "") + path + query
    spelled_host = "".join(c.upper() if draw(st.booleans()) else c for c in host)
    if draw(st.booleans()):
        spelled_host += "."
    default = {"http": 80, "https": 443}[scheme]
    if port:
        authority = f"{spelled_host}:{port}"
    else:
        authority = spelled_host + (f":{default}" if draw(st.booleans()) else "")
    if draw(st.booleans()):
        authority = "user:secret@" + authority
    spelled_scheme = scheme.upper() if draw(st.booleans()) else scheme
    fragment = draw(st.sampled_from(["", "#top", "#"]))
    other = f"{spelled_scheme}://{authority}{path}{query}{fragment}"
    return plain, other


@given(same_resource())
def test_one_resource_one_origin_and_target(pair: tuple[str, str]) -> None:
    """Any two spellings a server treats as the same resource give the same origin key, host
    and request target."""
    a, b = (parse_url(u) for u in pair)
    assert a == b
    assert isinstance(a, URL)


@given(same_resource())
def test_the_audit_prefix_parser_agrees(pair: tuple[str, str]) -> None:
    """split_origin + parse_authority (the audit trail's path) name the same origin."""
    for url in pair:
        prefix, _ = split_origin(url.strip())
        scheme, host, port = parse_authority(prefix)
        parsed = parse_url(url)
        assert (scheme, host, port) == (parsed.scheme, parsed.host, parsed.port)
