"""The verified owner's view: a domain's decisions URL by URL, as JSON, CSV or a page.

``GET /api/v1/domains/{domain}/decisions`` (credential as ``Authorization: Bearer``) and
``/owners/{domain}`` (the page; the credential from its cookie, set by the verification flow)
read :func:`audit.owner_decisions`: each decision with its reasons, protocol verdicts and the
links to the signal documents, and whether its content is in which crawl run's dataset. They
filter by URL prefix and time and page with an opaque cursor; ``?format=csv`` exports every
matching decision from the cursor on, streamed page by page.

Scope is enforced once, here: the credential must be valid (known, unexpired) and name the
registrable domain of the path's ``{domain}``; otherwise 401 (no or bad credential) or 403
(another domain's), and nothing of the domain is read. A host in the path reads its
registrable domain, so one credential covers every host of the domain and nothing else.
"""

from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

import orjson
from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy import Engine

from audit import OwnerDecision, find_credential, owner_decisions
from heed.serve.documents import engine_of
from heed.serve.lookup import MAX_QUERY, BadDomain, limit_lookups, parse_domain
from heed.serve.pages import link, page
from heed.serve.verify import OWNER_COOKIE

router = APIRouter()
PAGE = 100
UNAUTHORISED = "A valid credential for this domain is needed: verify the domain first."
FORBIDDEN = "This credential is for another domain."
_CSV_FIELDS = (
    "decision_id", "time", "url", "action", "http_status", "crawl", "use", "purpose",
    "reasons", "signals", "run", "in_dataset", "item_id", "item_bytes",
)  # fmt: skip


def _credential(request: Request, domain_text: str, *, cookie: bool) -> str:
    """Return the registrable domain the request may read, or raise 400/401/403."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if not token and cookie:
        token = request.cookies.get(OWNER_COOKIE, "")
    if not token:
        raise HTTPException(401, UNAUTHORISED, {"WWW-Authenticate": "Bearer"})
    # Read through the reader: on SQLite the writer's transactions take the write lock up front,
    # so every page would queue behind the others and behind a crawler's write. A credential is
    # visible to readers once the check that issued it has committed.
    found = find_credential(engine_of(request), token)
    if found is None:
        raise HTTPException(401, UNAUTHORISED, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
    try:
        domain, _ = parse_domain(domain_text)
    except BadDomain as exc:
        raise HTTPException(400, str(exc)) from None
    if domain != found.domain:
        raise HTTPException(403, FORBIDDEN)
    return domain


def encode_cursor(after: int) -> str:
    """Return the opaque cursor of the page after decision *after*."""
    return base64.urlsafe_b64encode(f"d1:{after}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """Return the decision id a cursor continues after (400 when it is not one of ours)."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind != "d1" or not value.isdigit():
            raise ValueError
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise HTTPException(400, "Invalid value for cursor.") from None


def _row(d: OwnerDecision, href: str) -> dict[str, Any]:
    return {
        "id": d.id,
        "time": d.time.isoformat(),
        "url": d.url,
        "action": d.action,
        "http_status": d.http_status,
        "crawl": d.crawl,
        "use": d.use,
        "purpose": d.purpose,
        "reasons": list(d.reasons),
        "signals": [
            {
                "protocol": s.protocol,
                "verdict": s.verdict,
                "detail": s.detail,
                "sha256": s.sha256,
                "href": href.replace("{sha256}", s.sha256) if s.sha256 else None,
            }
            for s in d.signals
        ],
        "run": d.run,
        "dataset": None
        if d.item_id is None
        else {
            "run": d.run,
            "item": d.item_id,
            "bytes": d.item_bytes,
            "time": d.item_time.isoformat() if d.item_time else None,
        },
    }


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell a spreadsheet would run as a formula (OWASP "CSV injection") is quoted as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(rows: Iterator[OwnerDecision]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_CSV_FIELDS)
    for d in rows:
        signals = "; ".join(f"{s.protocol} {s.verdict} {s.sha256 or ''}".strip() for s in d.signals)
        values = (
            d.id, d.time.isoformat(), d.url, d.action, d.http_status, d.crawl, d.use, d.purpose,
            " | ".join(d.reasons), signals, d.run, "yes" if d.item_id else "no", d.item_id,
            d.item_bytes,
        )  # fmt: skip
        writer.writerow([_csv_cell(v) for v in values])
        yield out.getvalue()
        out.seek(0)
        out.truncate()


def _all(engine: Engine, domain: str, after: int, **filters: Any) -> Iterator[OwnerDecision]:
    while rows := owner_decisions(engine, domain, after=after, limit=500, **filters):
        yield from rows
        after = rows[-1].id


def _answer(
    request: Request,
    domain: str,
    fmt: str,
    cursor: str | None,
    limit: int,
    filters: dict[str, Any],
    html: bool,
) -> Response:
    engine = engine_of(request)
    after = decode_cursor(cursor)
    if fmt == "csv":
        return StreamingResponse(
            _csv(_all(engine, domain, after, **filters)),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{domain}-decisions.csv"',
                "Cache-Control": "no-store",
            },
        )
    rows = owner_decisions(engine, domain, after=after, limit=limit + 1, **filters)
    more = len(rows) > limit
    rows = rows[:limit]
    following = encode_cursor(rows[-1].id) if more and rows else None
    href = link(request, "/api/v1/documents/{sha256}")
    decisions = [_row(d, href) for d in rows]
    receipts = link(request, f"/{'owners' if html else 'api/v1/domains'}/{quote(domain)}")
    for row in decisions:
        row["receipt"] = f"{receipts}/decisions/{row['id']}/receipt"
    data = {"domain": domain, "decisions": decisions, "next": following}
    if html and fmt != "json":
        shown = {k: ("" if v is None else str(v)) for k, v in filters.items()}
        base = link(request, f"/owners/{quote(domain)}")

        def page_link(**extra: str) -> str:
            return base + "?" + urlencode({k: v for k, v in {**shown, **extra}.items() if v})

        response: Response = page(
            request,
            "owner.html.j2",
            domain=domain,
            rows=data["decisions"],
            filters=shown,
            next_href=page_link(cursor=following) if following else None,
            csv_href=page_link(format="csv"),
            json_href=page_link(format="json", cursor=cursor or ""),
        )
    else:
        # orjson: 100 rows with their signals cost json.dumps 0.47 ms, orjson 0.06 ms.
        response = Response(orjson.dumps(data), media_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


_Prefix = Annotated[str | None, Query(max_length=2000, description="URLs starting with this")]
_Since = Annotated[dt.datetime | None, Query(description="Decisions at or after (ISO 8601)")]
_Until = Annotated[dt.datetime | None, Query(description="Decisions before (ISO 8601)")]
_Cursor = Annotated[str | None, Query(max_length=64, description="From the previous page")]
_Limit = Annotated[int, Query(ge=1, le=500)]
_Domain = Annotated[str, Path(max_length=MAX_QUERY)]


def _filters(prefix: str | None, since: Any, until: Any) -> dict[str, Any]:
    return {"prefix": prefix or None, "since": _utc(since), "until": _utc(until)}


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


@router.get(
    "/api/v1/domains/{domain}/decisions",
    tags=["verified owners"],
    responses={
        200: {"content": {"text/csv": {}}, "description": "A page (JSON) or everything (CSV)"},
        401: {"description": "No valid credential"},
        403: {"description": "A credential for another domain"},
    },
)
def decisions_api(
    request: Request,
    domain: _Domain,
    prefix: _Prefix = None,
    since: _Since = None,
    until: _Until = None,
    cursor: _Cursor = None,
    limit: _Limit = PAGE,
    format: Literal["json", "csv"] = "json",
) -> Response:
    """Every decision on the domain's hosts with its evidence and dataset item, by decision id;
    ``next`` is the cursor of the following page. Needs the domain's credential."""
    limit_lookups(request)
    scoped = _credential(request, domain, cookie=False)
    return _answer(request, scoped, format, cursor, limit, _filters(prefix, since, until), False)


@router.get("/owners/{domain}", response_class=HTMLResponse, include_in_schema=False)
def decisions_page(
    request: Request,
    domain: _Domain,
    prefix: _Prefix = None,
    since: _Since = None,
    until: _Until = None,
    cursor: _Cursor = None,
    format: Literal["html", "json", "csv"] = "html",
) -> Response:
    """The verified owner's page of decisions, with filters, next page and exports."""
    limit_lookups(request)
    scoped = _credential(request, domain, cookie=True)
    return _answer(request, scoped, format, cursor, PAGE, _filters(prefix, since, until), True)
