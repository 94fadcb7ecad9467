"""Property: the request that goes on the wire is never one robots.txt disallows, however the
link spelled it (dot segments, escapes, backslashes, encoded separators).

For generated robots.txt files (Disallow rules only) and generated spellings, whenever Heed
decides "allow" for the canonical URL it would send, the path a server would serve for that
request — read the way nginx (decode every escape, then resolve dot segments) or IIS (also a
backslash as a slash) reads it — is under no disallowed prefix.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from optout.decision import Crawl
from optout.document import FetchResult
from optout.site import Site, SiteDocuments
from optout.url import parse_url
from tests.support.hostileweb import served_path

PREFIXES = ("private", "admin", "a/b")
SEGMENTS = [
    "private", "admin", "a", "b", "x", ".", "..", "%2e", "%2E%2e", ".%2E",
    "%2F", "%2f", "%5C", "\\\\", "%70rivate", "adm%69n", "", "a%2Fb",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    rules=st.lists(st.sampled_from(PREFIXES), min_size=1, max_size=3, unique=True),
    parts=st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=7),
    query=st.sampled_from(["", "?q=1", "?next=%2F..%2Fprivate"]),
)
def test_what_goes_on_the_wire_is_never_disallowed(
    rules: list[str], parts: list[str], query: str
) -> None:
    """Allow for the canonical URL ⇒ no disallowed prefix in any server's reading of it."""
    body = "User-agent: *\n" + "".join(f"Disallow: /{r}/\n" for r in rules)
    robots = FetchResult(url="http://h.test/robots.txt", status=200, body=body.encode())
    site = Site(SiteDocuments(origin="http://h.test", robots=robots), token="HeedBot")
    wire = parse_url("http://h.test/" + "/".join(parts) + query)
    if site.before_request(str(wire)).crawl is not Crawl.ALLOW:
        return
    served = served_path(wire.target)
    for rule in rules:
        assert not served.startswith(f"/{rule}/"), (str(wire), served, rule)
