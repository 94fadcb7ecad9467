"""Routes of domain verification: start one, run its check, get a credential.

``POST /api/v1/verifications`` records a verification of a registrable domain and returns its
id, the challenge token, the two ways to publish it (:mod:`heed.serve.challenge`) and a *key*;
``POST /api/v1/verifications/{id}/check`` with that key looks for the proof and, when found,
returns a bearer credential for the domain (audit/owners.py keeps only hashes). The key, not
the id, is what lets a check collect the credential: the token is public once published.

The HTML flow is the same in two pages: ``/verify`` (a form: the domain) and
``/verify/{id}`` (what to publish, and a form per method to run the check). The key travels
in an ``HttpOnly`` cookie scoped to that verification's path, the credential in one scoped to
``/owners/``; every form carries a CSRF token (:mod:`heed.serve.csrf`). Every POST takes a
token from the client's POST bucket, a smaller one than the look-ups' (a check makes the
server fetch from, or query, the outside).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from audit import find_verification, record_check, start_verification
from audit.owners import Verification
from heed.serve import challenge, csrf
from heed.serve.lookup import MAX_QUERY, BadDomain, parse_domain
from heed.serve.pages import link, page, settings_of
from heed.serve.ratelimit import client_key

router = APIRouter()
KEY_COOKIE = "heed_vkey"
OWNER_COOKIE = "heed_owner"
_ID = Path(max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
NOT_FOUND = "No verification with this id and key."


def limit_posts(request: Request) -> None:
    """Take a token from the client's POST bucket (429 when there is none)."""
    client = request.client.host if request.client else None
    request.app.state.post_limiter.take(client_key(client))


async def _posts_limited(request: Request) -> None:
    limit_posts(request)  # on the event loop, as heed.serve.lookup's look-up limit


def writer_of(request: Request) -> Engine:
    """Return the engine that may write verifications and credentials."""
    engine: Engine = request.app.state.writer
    return engine


class StartIn(BaseModel):
    """A verification request."""

    domain: str = Field(max_length=MAX_QUERY, description="The registrable domain to verify")


class CheckIn(BaseModel):
    """A check of a verification."""

    key: str = Field(max_length=100, description="The key returned when it was started")
    method: Literal["http", "dns"] = Field(description="Where to look for the token")


def _verifiable(text: str) -> str:
    domain, _ = parse_domain(text)
    if domain.startswith("[") or domain.replace(".", "").isdigit() or "." not in domain:
        raise BadDomain("Only a registrable domain name (such as example.com) can be verified.")
    return domain


def _describe(request: Request, v: Verification, key: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": v.id,
        "domain": v.domain,
        "token": v.token,
        "expires_at": v.expires_at.isoformat(),
        "verified_at": v.verified_at.isoformat() if v.verified_at else None,
        "check": link(request, f"/api/v1/verifications/{v.id}/check"),
        "http": {
            "url": challenge.http_url(v.domain, v.token),
            "body": v.token,
            "also": challenge.http_url(v.domain, v.token, "http"),
        },
        "dns": {"name": challenge.dns_name(v.domain), "type": "TXT", "value": v.token},
    }
    if key is not None:
        out["key"] = key
    return out


def _start(request: Request, text: str) -> tuple[Verification, str]:
    settings = settings_of(request)
    valid = dt.timedelta(hours=settings.challenge_hours)
    return start_verification(writer_of(request), _verifiable(text), valid_for=valid)


async def _check(request: Request, v: Verification, method: str) -> tuple[str | None, str | None]:
    """Run the check; return ``(credential, error)``."""
    settings = settings_of(request)
    if v.expired(dt.datetime.now(dt.UTC)):
        raise HTTPException(410, "This verification has expired: start a new one.")
    error = None
    try:
        await challenge.check(method, v.domain, v.token, settings)
    except challenge.CheckFailed as exc:
        error = str(exc)
    # In a worker thread: on SQLite the write may wait for a crawler's lock (busy_timeout).
    token = await run_in_threadpool(
        record_check,
        writer_of(request),
        v.id,
        method=method,
        error=error,
        valid_for=dt.timedelta(days=settings.credential_days),
    )
    return token, error


@router.post(
    "/api/v1/verifications",
    tags=["verification"],
    status_code=201,
    dependencies=[Depends(_posts_limited)],
    responses={400: {"description": "Not a domain name"}, 429: {"description": "Rate limited"}},
)
def start_api(request: Request, body: StartIn) -> dict[str, Any]:
    """Start verifying control of a registrable domain: returns the challenge token, where to
    publish it (an HTTP file or a DNS TXT record) and the key that runs the check."""
    try:
        v, key = _start(request, body.domain)
    except BadDomain as exc:
        raise HTTPException(400, str(exc)) from None
    return _describe(request, v, key)


@router.post(
    "/api/v1/verifications/{verification_id}/check",
    tags=["verification"],
    dependencies=[Depends(_posts_limited)],
    responses={404: {"description": "Unknown id or key"}, 410: {"description": "Expired"}},
)
async def check_api(
    request: Request, verification_id: Annotated[str, _ID], body: CheckIn
) -> Response:
    """Look for the token (``method``: ``http`` or ``dns``); on success, return a bearer
    credential for the domain and when it expires."""
    v = find_verification(writer_of(request), verification_id, body.key)
    if v is None:
        raise HTTPException(404, NOT_FOUND)
    token, error = await _check(request, v, body.method)
    if token is None:
        raise HTTPException(422, error or "The proof was not found.")
    days = settings_of(request).credential_days
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    return _json(
        {
            "verified": True,
            "domain": v.domain,
            "method": body.method,
            "credential": token,
            "expires_at": expires.isoformat(),
        }
    )


def _json(data: dict[str, Any]) -> Response:
    return JSONResponse(data, headers={"Cache-Control": "no-store"})


@router.get("/verify", response_class=HTMLResponse, include_in_schema=False)
def verify_page(request: Request) -> Response:
    """The form that starts a verification."""
    return _page(request, "verify.html.j2", asked="", error=None)


@router.post("/verify", response_class=HTMLResponse, include_in_schema=False)
async def verify_post(request: Request) -> Response:
    """Start a verification from the form; go to its page."""
    fields = await csrf.form(request)
    limit_posts(request)
    asked = fields.get("domain", "")
    try:
        v, key = _start(request, asked)
    except BadDomain as exc:
        return _page(request, "verify.html.j2", 400, asked=asked, error=str(exc))
    response = RedirectResponse(link(request, f"/verify/{v.id}"), status_code=303)
    response.set_cookie(
        KEY_COOKIE,
        key,
        httponly=True,
        samesite="strict",
        path=f"/verify/{v.id}",
        secure=request.url.scheme == "https",
        max_age=int(settings_of(request).challenge_hours * 3600),
    )
    return response


def _mine(request: Request, verification_id: str) -> Verification:
    key = request.cookies.get(KEY_COOKIE, "")
    v = find_verification(writer_of(request), verification_id, key) if key else None
    if v is None:
        raise HTTPException(404, NOT_FOUND)
    return v


@router.get("/verify/{verification_id}", response_class=HTMLResponse, include_in_schema=False)
def challenge_page(request: Request, verification_id: Annotated[str, _ID]) -> Response:
    """What to publish, and the forms that run the check."""
    v = _mine(request, verification_id)
    return _page(request, "challenge.html.j2", v=_describe(request, v), error=None, credential=None)


@router.post(
    "/verify/{verification_id}/check", response_class=HTMLResponse, include_in_schema=False
)
async def check_post(request: Request, verification_id: Annotated[str, _ID]) -> Response:
    """Run the check from the form; on success keep the credential in a cookie and show it."""
    fields = await csrf.form(request)
    limit_posts(request)
    v = _mine(request, verification_id)
    method = fields.get("method", "")
    if method not in ("http", "dns"):
        raise HTTPException(400, "Invalid value for method.")
    token, error = await _check(request, v, method)
    described = _describe(request, v)
    if token is None:
        return _page(request, "challenge.html.j2", 422, v=described, error=error, credential=None)
    response = _page(request, "challenge.html.j2", v=described, error=None, credential=token)
    response.set_cookie(
        OWNER_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/owners/",
        secure=request.url.scheme == "https",
        max_age=int(settings_of(request).credential_days * 86400),
    )
    return response


def _page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    token, fresh = csrf.issue(request)
    response = page(request, template, status, csrf=token, **context)
    response.headers["Cache-Control"] = "no-store"
    return csrf.set_cookie(request, response, fresh)
