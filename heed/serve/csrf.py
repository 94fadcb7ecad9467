"""CSRF protection of the portal's HTML forms: a signed double-submit token, no JavaScript.

Every form that POSTs carries a hidden ``csrf`` field; the browser also holds a ``heed_csrf``
cookie with a random nonce. The field is the HMAC of the nonce under the server's secret, so a
request is accepted only when the field matches the cookie it was issued for: another site can
make a browser send the cookie, but cannot read it to compute the field, and cannot plant a
working pair without the secret. Requests a browser marks as cross-site (``Sec-Fetch-Site``)
are refused before that. The cookie is ``HttpOnly`` and ``SameSite=Strict`` (a second line:
a cross-site POST does not even carry it), ``Secure`` on HTTPS.

The JSON API takes no cookies as credentials (bearer tokens and verification keys are sent
by the client explicitly), so it needs no token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import parse_qsl

from fastapi import HTTPException, Request, Response

COOKIE = "heed_csrf"
FIELD = "csrf"
REFUSED = "This form has expired or did not come from this site: reload the page and try again."


def _sign(secret: bytes, nonce: str) -> str:
    mac = hmac.new(secret, b"heed-csrf:" + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def secret_of(request: Request) -> bytes:
    """Return the server's CSRF secret."""
    secret: bytes = request.app.state.csrf_secret
    return secret


def issue(request: Request) -> tuple[str, str | None]:
    """Return the form token for this browser, and the new nonce to set as cookie (or None
    when the browser already holds a usable one)."""
    nonce = request.cookies.get(COOKIE)
    fresh = None
    if not nonce or len(nonce) > 64:
        nonce = fresh = secrets.token_urlsafe(16)
    return _sign(secret_of(request), nonce), fresh


def set_cookie(request: Request, response: Response, nonce: str | None) -> Response:
    """Set the CSRF cookie on *response* when *nonce* is new."""
    if nonce is not None:
        response.set_cookie(
            COOKIE,
            nonce,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
    return response


async def form(request: Request) -> dict[str, str]:
    """Return the POSTed form's fields after checking its CSRF token (403 when it fails)."""
    if request.headers.get("sec-fetch-site", "same-origin") == "cross-site":
        raise HTTPException(403, REFUSED)
    body = (await request.body()).decode("utf-8", "replace")
    fields = dict(parse_qsl(body, keep_blank_values=True, max_num_fields=20))
    nonce = request.cookies.get(COOKIE, "")
    given = fields.get(FIELD, "")
    if not nonce or not given or not hmac.compare_digest(_sign(secret_of(request), nonce), given):
        raise HTTPException(403, REFUSED)
    return fields
