"""Routes of complaint intake (Code of Practice Measure 1.5) and the claimant's status page.

``POST /api/v1/complaints`` (JSON) and the form at ``/complaints`` take a complaint
(:class:`audit.complaints.Submission`) and answer with its reference and a status URL whose key
only the claimant holds (``/complaints/status/{key}``, a page, and
``/api/v1/complaints/status/{key}``, JSON). The status shows the complaint's steps with their
times and reasons, never who on the provider's side took them. A complaint sent with a valid
credential of the portal's domain verification (``Authorization: Bearer``, or the owner
cookie of the form) is marked as coming from the verified owner of that domain.

Each submission takes a token from the client's POST bucket; bodies are capped by the
portal's request limit; every field is checked before anything is stored, and a refusal says
what to fix without echoing more than the form showed. With a mail server configured, the
claimant's receipt (with the status URL) is written to the outbox with the complaint and sent
by the portal's background sender, woken at once (heed/mail/sender.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from audit import find_credential
from audit.complaints import (
    CAPACITIES,
    MAX_CONCERNS,
    MAX_NAME,
    MAX_TEXT,
    REQUESTS,
    ComplaintError,
    ComplaintRecord,
    ReceiptNotice,
    Submission,
    complaint_by_key,
    submit_complaint,
)
from audit.outbox import messages_to
from heed.mail import receipt_notice
from heed.serve import csrf
from heed.serve.documents import engine_of
from heed.serve.pages import link, page
from heed.serve.verify import OWNER_COOKIE, limit_posts, writer_of

router = APIRouter()
#: Receipts e-mailed to one address in a day, at most.
RECEIPTS_PER_DAY = 5
_KEY = Path(max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
NOT_FOUND = "No complaint with this status key."


async def _posts_limited(request: Request) -> None:
    limit_posts(request)  # on the event loop, as the look-up limit


class ComplaintIn(BaseModel):
    """A complaint: who complains, about what, on what right, and what they ask for."""

    claimant: str = Field(
        max_length=MAX_NAME, description="Name of the rightsholder or representative"
    )
    capacity: str = Field(description=f"One of: {', '.join(CAPACITIES)}")
    email: str = Field(max_length=254, description="Where to write to the claimant")
    concerns: list[str] = Field(
        max_length=MAX_CONCERNS, description="Works, URLs, URL prefixes or domains concerned"
    )
    right_claimed: str = Field(max_length=MAX_TEXT, description="The right claimed")
    statement: str = Field(max_length=MAX_TEXT, description="What happened, and the evidence")
    requested: list[str] = Field(max_length=3, description=f"Any of: {', '.join(REQUESTS)}")


def _verified(request: Request, *, cookie: bool) -> str | None:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if not token and cookie:
        token = request.cookies.get(OWNER_COOKIE, "")
    found = find_credential(engine_of(request), token) if token else None
    return found.domain if found is not None else None


def _status_url(request: Request, key: str) -> str:
    return link(request, f"/complaints/status/{key}")


def _receipt(request: Request, email: str) -> ReceiptNotice | None:
    """The claimant's receipt by e-mail, when the portal has a mail server and *email* has not
    had :data:`RECEIPTS_PER_DAY` receipts in the last day (the form must not become a way to
    flood somebody else's mailbox; the complaint is taken all the same)."""
    if request.app.state.settings.mail is None:
        return None
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    if messages_to(writer_of(request), email, since, "received") >= RECEIPTS_PER_DAY:
        return None
    # An e-mail needs an absolute link: the public URL, else the one this request came to.
    base = request.app.state.settings.base() or str(request.base_url).rstrip("/")
    return receipt_notice(lambda key: f"{base}/complaints/status/{key}")


def _wake_mailer(request: Request) -> None:
    mailer = request.app.state.mailer
    if mailer is not None:
        mailer.wake()  # the receipt goes out now, not at the next round


def _status(c: ComplaintRecord) -> dict[str, Any]:
    s = c.submission
    return {
        "reference": c.reference,
        "status": c.status,
        "received_at": c.received_at.isoformat(),
        "concerns": list(s.concerns),
        "requested": list(s.requested),
        "verified_domain": s.verified_domain,
        "steps": [
            {"status": st.status, "at": st.at.isoformat(), "reason": st.reason} for st in c.steps
        ],
    }


@router.post(
    "/api/v1/complaints",
    tags=["complaints"],
    status_code=201,
    dependencies=[Depends(_posts_limited)],
    responses={
        400: {"description": "Not a complete complaint"},
        429: {"description": "Rate limited"},
    },
)
def complaint_api(request: Request, body: ComplaintIn) -> Response:
    """Lodge a complaint: returns its reference and the status URL that follows it (keep it:
    it is shown once)."""
    submission = Submission(
        claimant=body.claimant,
        capacity=body.capacity,
        email=body.email,
        concerns=tuple(body.concerns),
        right_claimed=body.right_claimed,
        statement=body.statement,
        requested=tuple(body.requested),
        verified_domain=_verified(request, cookie=False),
    )
    try:
        notify = _receipt(request, body.email)
        complaint, key = submit_complaint(writer_of(request), submission, notify=notify)
    except ComplaintError as exc:
        raise HTTPException(400, f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None
    _wake_mailer(request)
    data = {
        "id": complaint.id,
        "reference": complaint.reference,
        "status_url": _status_url(request, key),
    }
    return JSONResponse(data, status_code=201, headers={"Cache-Control": "no-store"})


@router.get("/api/v1/complaints/status/{key}", tags=["complaints"])
def status_api(request: Request, key: Annotated[str, _KEY]) -> Response:
    """A complaint's status and every step of its handling, with times and reasons."""
    found = complaint_by_key(engine_of(request), key)
    if found is None:
        raise HTTPException(404, NOT_FOUND)
    return JSONResponse(_status(found), headers={"Cache-Control": "no-store"})


@router.get("/complaints", response_class=HTMLResponse, include_in_schema=False)
def complaint_page(request: Request) -> Response:
    """The complaint form."""
    return _page(request, "complaint.html.j2", form={}, error=None)


@router.post("/complaints", response_class=HTMLResponse, include_in_schema=False)
async def complaint_post(request: Request) -> Response:
    """Lodge a complaint from the form; go to its status page."""
    fields = await csrf.form(request)
    limit_posts(request)
    submission = Submission(
        claimant=fields.get("claimant", ""),
        capacity=fields.get("capacity", ""),
        email=fields.get("email", ""),
        concerns=tuple(fields.get("concerns", "").splitlines()),
        right_claimed=fields.get("right_claimed", ""),
        statement=fields.get("statement", ""),
        requested=tuple(r for r in REQUESTS if fields.get(f"requested-{r}")),
        verified_domain=await run_in_threadpool(_verified, request, cookie=True),
    )
    try:
        _, key = await run_in_threadpool(
            lambda: submit_complaint(
                writer_of(request), submission, notify=_receipt(request, submission.email)
            )
        )
    except ComplaintError as exc:
        return _page(request, "complaint.html.j2", 400, form=fields, error=str(exc))
    _wake_mailer(request)
    return RedirectResponse(_status_url(request, key), status_code=303)


@router.get("/complaints/status/{key}", response_class=HTMLResponse, include_in_schema=False)
def status_page(request: Request, key: Annotated[str, _KEY]) -> Response:
    """The claimant's page: the complaint's status and its history."""
    found = complaint_by_key(engine_of(request), key)
    if found is None:
        raise HTTPException(404, NOT_FOUND)
    return _page(request, "complaint_status.html.j2", c=_status(found))


def _page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    token, fresh = csrf.issue(request)
    response = page(
        request, template, status, csrf=token, capacities=CAPACITIES, requests=REQUESTS, **context
    )
    response.headers["Cache-Control"] = "no-store"
    return csrf.set_cookie(request, response, fresh)
