"""Errors as a client sees them: a short page (or JSON under ``/api/``), never a stack trace.

Every error answer says what went wrong in one sentence the portal wrote itself: a request it
cannot read is named by the parameter, not echoed back; a failure inside the server is "an
internal error" and the details go to the server's log only (docs/development.md#few-exceptions-one-tree-per-package).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from heed.serve.pages import page
from heed.serve.ratelimit import RateLimited

logger = logging.getLogger("heed.serve")
_STATUSES = frozenset(s.value for s in HTTPStatus)


def install(app: FastAPI) -> None:
    """Install the error handlers on *app*."""
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.add_exception_handler(RateLimited, _limited)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _internal)


def error_response(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    """Return the error answer: JSON under ``/api/``, else an HTML page."""
    if request.url.path.startswith("/api/"):
        return JSONResponse(
            {"error": {"status": status, "message": message}}, status_code=status, headers=headers
        )
    title = f"{status} {HTTPStatus(status).phrase}" if status in _STATUSES else str(status)
    response = page(request, "error.html.j2", status_code=status, title=title, message=message)
    response.headers.update(headers or {})
    return response


_MESSAGES = {
    404: "There is nothing at this address.",
    405: "This address does not take that method.",
}


async def _http_error(request: Request, exc: HTTPException) -> Response:
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code in _MESSAGES and (
        detail is None or detail == HTTPStatus(exc.status_code).phrase
    ):
        detail = _MESSAGES[exc.status_code]
    return error_response(request, exc.status_code, detail or "The request failed.", exc.headers)


async def _invalid(request: Request, exc: RequestValidationError) -> Response:
    names = sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")})
    what = ", ".join(names) if names else "the request"
    return error_response(request, 400, f"Invalid value for {what}.")


async def _limited(request: Request, exc: RateLimited) -> Response:
    return error_response(
        request,
        429,
        f"Too many requests from your address: try again in {exc.retry_after} seconds.",
        {"Retry-After": str(exc.retry_after)},
    )


async def _internal(request: Request, exc: Exception) -> Response:
    logger.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    try:
        return error_response(request, 500, "An internal error occurred; it has been logged.")
    except Exception:  # noqa: BLE001 - the error page itself failed: plain text, no details
        return Response("Internal error.", status_code=500, media_type="text/plain")
