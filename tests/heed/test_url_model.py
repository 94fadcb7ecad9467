"""One URL model everywhere: the site cache key, the audit origin, the denylist and the scope
name the same site for every spelling of a URL (issue 10: they used to disagree on
``https://Example.COM./`` and on Unicode hosts)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.urls import parse_origin, registrable_domain
from crawler.denylist import Denylist
from optout.url import origin_of, parse_url, split_origin

SPELLINGS = [
    "https://Example.COM./a",
    "https://example.com:443/a",
    "HTTPS://user@EXAMPLE.com/a#x",
    "https://example.com/a",
]
UNICODE = ["http://Bücher.example/x", "http://xn--bcher-kva.example./x", "http://BÜCHER.EXAMPLE/x"]


@pytest.mark.parametrize("group", [SPELLINGS, UNICODE])
def test_every_component_names_one_site(group: list[str], tmp_path: Path) -> None:
    """Cache key, audit origin, audit domain, denylist entry and scope domain agree."""
    listed = tmp_path / "deny.txt"
    host = parse_url(group[0]).host
    listed.write_text(f"# version: t\n{host}\n", encoding="utf-8")
    denylist = Denylist.load(str(listed))
    keys = set()
    for url in group:
        cache_key = origin_of(url)
        audit = parse_origin(split_origin(url)[0])
        keys.add((cache_key, audit.origin, audit.host, audit.domain))
        assert cache_key == audit.origin
        assert denylist.match(parse_url(url).host) == host
        assert registrable_domain(parse_url(url).host) == audit.domain
    assert len(keys) == 1, keys


_LABEL = st.from_regex(r"[a-zà-ÿ0-9]{1,8}", fullmatch=True)


@given(st.lists(_LABEL, min_size=2, max_size=4), st.booleans(), st.booleans())
def test_audit_origin_is_the_cache_key(labels: list[str], upper: bool, dot: bool) -> None:
    """For generated hosts (Unicode included), the audit origin equals the site cache key."""
    host = ".".join(labels)
    host = host.upper() if upper else host
    url = f"http://{host}{'.' if dot else ''}/p"
    try:
        key = origin_of(url)
    except ValueError:
        return  # a host IDNA refuses is never requested, so it has no cache key
    assert parse_origin(split_origin(url)[0]).origin == key


_TARGET = st.text(
    alphabet=st.sampled_from(list("abc/.%2eEf7~?&=#'[]|\\ é:@!$()*+,;\"<>^`{}")), max_size=24
)


@given(_TARGET)
def test_the_canonical_form_is_what_goes_on_the_wire(spelled: str) -> None:
    """The canonical URL is a fixed point of Scrapy's and httpx's own URL handling: what Heed
    decides on is byte for byte what the crawl and ``heed check`` request."""
    import httpx
    from w3lib.url import safe_url_string

    url = str(parse_url("http://h.example/" + spelled))
    assert safe_url_string(url) == url
    assert str(httpx.URL(url)) == url
    assert scrapy_request_url(url) == url


def scrapy_request_url(url: str) -> str:
    """Return the URL a Scrapy Request for *url* carries."""
    from scrapy import Request

    return Request(url).url
