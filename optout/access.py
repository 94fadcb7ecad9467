"""Access restrictions (Code of Practice Measure 1.2(1)(a)): content behind a login, a payment or a
challenge is recorded as such and never circumvented.

The heuristics read a fetched response (or a redirect target) and say whether the content sits
behind such a wall. They are deliberately few and conservative: a status that says so
(401/402/403), a Cloudflare challenge header, schema.org ``isAccessibleForFree: false`` (the
paywall markup publishers give search engines), and a redirect to a login or subscription URL.
Pure, so that the crawl and ``heed check`` read the same response the same way.
"""

from __future__ import annotations

import re

from optout.document import FetchResult

#: Bytes of an HTML body searched for paywall markup (it sits in the head or near the top).
SCAN_BYTES = 512 * 1024
_PAYWALL = re.compile(
    rb"isaccessibleforfree[\"']?\s*(?::|content\s*=)\s*[\"']?\s*false", re.IGNORECASE
)
#: A redirect to one of these paths is a login wall or a paywall, not the content.
_LOGIN_PATH = re.compile(
    r"(?:^|/)(?:log-?in|sign-?in|sign_in|signon|sso|auth|authenticate|account/log-?in|"
    r"subscribe|subscription|paywall|register)(?:[/.?;#]|$)",
    re.IGNORECASE,
)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", ""})


def login_redirect(url: str) -> bool:
    """Return True if a redirect to *url* leads to a login, registration or subscription page."""
    path = url.split("://", 1)[-1].partition("/")[2]
    return bool(_LOGIN_PATH.search("/" + path))


def access_restriction(result: FetchResult) -> str | None:
    """Return why the response in *result* is access-restricted (a short phrase), or None."""
    status = result.status
    if status is None:
        return None
    if status in (401, 402, 403):
        return f"HTTP {status}"
    if any(v.strip().lower() == "challenge" for v in result.header("cf-mitigated")):
        return "challenge page (cf-mitigated: challenge)"
    html = result.content_type in _HTML_TYPES
    if html and 200 <= status < 300 and _paywalled(result.body[:SCAN_BYTES]):
        return "paywall (schema.org isAccessibleForFree: false)"
    return None


def _paywalled(body: bytes) -> bool:
    """Return True if *body* carries ``isAccessibleForFree: false`` markup."""
    # A case-insensitive pattern is matched character by character: finding the word in a
    # lower-cased copy first is several times faster on the pages that do not have it (most).
    at = body.lower().find(b"isaccessibleforfree")
    return at >= 0 and _PAYWALL.search(body, at) is not None
