"""Routes of the public domain look-up and of the signal documents exactly as fetched.

``/lookup?domain=…`` (a page with its form) and ``/api/v1/domains/{domain}`` (JSON) answer for
a registrable domain and each of its hosts (:func:`audit.domain_view`, in one shape,
:class:`heed.serve.schemas.DomainOut`); ``/api/v1/documents/{sha256}`` serves a robots.txt,
tdmrep.json, ai.txt or RSL licence byte for byte, and nothing else (page content is never a
stored document). All three take a token from the client's bucket (:mod:`heed.serve.ratelimit`).

What is asked is validated before it reaches the database: at most :data:`MAX_QUERY`
characters, a domain, host or URL whose host is a DNS name (labels of 1–63 characters, 253 in
all, Unicode names IDNA-encoded as the crawler stored them) or an IP address. A host asks for
its registrable domain. The answer never echoes what could not be read, and the page shows
what was typed only through the template's autoescaping.
"""

from __future__ import annotations

import hashlib
from base64 import b64encode
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from audit import (
    IntegrityError,
    NotFoundError,
    TargetError,
    domain_view,
    parse_target,
    signal_document,
)
from heed.serve.documents import engine_of
from heed.serve.pages import link, page
from heed.serve.ratelimit import client_key
from heed.serve.schemas import DomainOut, domain_out

#: Longest look-up text accepted (a URL may be pasted).
MAX_QUERY = 300
router = APIRouter()


def limit_lookups(request: Request) -> None:
    """Take a token from the client's look-up bucket (429 when there is none)."""
    client = request.client.host if request.client else None
    request.app.state.limiter.take(client_key(client))


async def _limited(request: Request) -> None:
    # A dependency declared async runs on the event loop; a plain one would cost a hop to a
    # worker thread and back, for a counter (0.1 ms of a look-up's CPU, bench/serve_lookup.py).
    limit_lookups(request)


Limited = Depends(_limited)


class BadDomain(ValueError):
    """The look-up text names no domain the portal can look up."""


def parse_domain(text: str) -> tuple[str, str]:
    """Return ``(registrable domain, host or domain asked)`` of a domain, host or URL."""
    text = text.strip()
    if not text:
        raise BadDomain("Give a domain name, such as example.com.")
    if len(text) > MAX_QUERY:
        raise BadDomain(f"That is longer than {MAX_QUERY} characters: give a domain name.")
    if "://" not in text:
        text = text.split("/", 1)[0]
    try:
        target = parse_target(text)
    except TargetError:
        raise BadDomain("That is not a domain name (such as example.com) or a URL.") from None
    asked = target.host or target.domain
    labels = asked.strip("[]").split(".")
    too_long = len(asked) > 253 or any(not 0 < len(x) <= 63 for x in labels)
    if not asked.startswith("[") and (too_long or not asked.isascii()):
        raise BadDomain("That is not a valid domain name (labels of 1 to 63 characters).")
    return target.domain, asked


def _answer(request: Request, text: str) -> DomainOut:
    domain, asked = parse_domain(text)
    view = domain_view(engine_of(request), domain)
    return domain_out(view, asked, link(request, "/api/v1/documents/{sha256}"))


@router.get("/lookup", response_class=HTMLResponse, include_in_schema=False)
def lookup_page(
    request: Request,
    domain: Annotated[str | None, Query(max_length=MAX_QUERY * 4)] = None,
) -> Response:
    """The look-up form, and the answer when a domain is given."""
    if domain is None or not domain.strip():
        return page(request, "lookup.html.j2", asked=domain or "", answer=None, error=None)
    limit_lookups(request)
    try:
        answer = _answer(request, domain)
    except BadDomain as exc:
        return page(request, "lookup.html.j2", 400, asked=domain, answer=None, error=str(exc))
    return page(request, "lookup.html.j2", asked=domain, answer=answer, error=None)


@router.get(
    "/api/v1/domains/{domain}",
    tags=["look-up"],
    dependencies=[Limited],
    response_model=DomainOut,
    responses={400: {"description": "Not a domain name"}, 429: {"description": "Rate limited"}},
)
def domain_api(
    request: Request,
    domain: Annotated[str, Path(max_length=MAX_QUERY * 4, description="A domain or host name")],
) -> Response:
    """What the crawler saw and did on a registrable domain and each of its hosts: every
    version of each signal document with what it meant, request attempts per action and
    month, content kept, and whether anything was kept after a reservation was first seen."""
    try:
        answer = _answer(request, domain)
    except BadDomain as exc:
        raise HTTPException(400, str(exc)) from None
    # Serialised by pydantic-core directly: the answer is built from typed values, and FastAPI's
    # validation of it again cost more than the look-up itself (bench/serve_lookup.py).
    return Response(answer.model_dump_json(), media_type="application/json")


@router.get(
    "/api/v1/documents/{sha256}",
    tags=["look-up"],
    dependencies=[Limited],
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "The bytes exactly as fetched"},
        404: {"description": "No signal document with this hash"},
    },
)
def document_api(
    request: Request,
    sha256: Annotated[str, Path(max_length=64, description="64 hex digits")],
) -> Response:
    """A signal document (robots.txt, tdmrep.json, ai.txt, RSL licence) exactly as fetched,
    verified against its sha256. Served as text/plain whatever it contains."""
    try:
        body = signal_document(engine_of(request), sha256)
    except TargetError:
        raise HTTPException(400, "Give the document's sha256: 64 hexadecimal digits.") from None
    except NotFoundError:
        raise HTTPException(404, "No signal document with this sha256.") from None
    except IntegrityError:
        raise HTTPException(
            500, "The stored document fails its sha256 verification; it is not served."
        ) from None
    digest = b64encode(hashlib.sha256(body).digest()).decode()
    # No charset: the bytes are the site's, in whatever encoding it used.
    return Response(
        body,
        headers={
            "Content-Type": "text/plain",
            "Repr-Digest": f"sha-256=:{digest}:",
            "ETag": f'"{sha256.lower()}"',
            "Cache-Control": "public, max-age=31536000, immutable",
            "Content-Disposition": f'inline; filename="{sha256.lower()}.txt"',
        },
    )
