"""Receipts for verified owners: each decision about their domain, with its proofs.

``GET /api/v1/domains/{domain}/decisions/{id}/receipt`` (bearer credential) and
``GET /owners/{domain}/decisions/{id}/receipt`` (the owner's page cookie) return the receipt of
one decision (audit/receipts.py) as a JSON download, which ``heed verify-receipt`` — or any
holder of the published verifier key — checks without asking Heed anything. A decision about
another domain is 404 (as if it did not exist); one no signed checkpoint covers yet is 409.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import Response

from audit.errors import IntegrityError
from audit.receipts import ReceiptError, build_receipt, decision_domain
from heed.serve.documents import engine_of
from heed.serve.lookup import limit_lookups
from heed.serve.owners import _credential, _Domain

router = APIRouter()
_Id = Annotated[int, Path(ge=0, le=(1 << 63) - 1)]


def _receipt(request: Request, domain: str, decision_id: int) -> Response:
    engine = engine_of(request)
    if decision_domain(engine, decision_id) != domain:
        raise HTTPException(404, f"No decision {decision_id} about {domain}.")
    try:
        document = build_receipt(engine, decision_id)
    except ReceiptError:  # the decision exists (checked above): no checkpoint covers it yet
        raise HTTPException(
            409,
            f"No signed checkpoint of the audit log covers decision {decision_id} yet: the "
            "operator signs one at the end of each crawl run (heed log checkpoint). Try later.",
        ) from None
    except IntegrityError:
        raise HTTPException(
            409, "The audit database does not match its log for this decision: ask the operator."
        ) from None
    return Response(
        orjson.dumps(document, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="receipt-{decision_id}.json"',
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/api/v1/domains/{domain}/decisions/{decision_id}/receipt",
    tags=["verified owners"],
    responses={
        401: {"description": "No valid credential"},
        403: {"description": "A credential for another domain"},
        404: {"description": "No such decision about this domain"},
        409: {"description": "No signed checkpoint covers the decision yet"},
    },
)
def receipt_api(request: Request, domain: _Domain, decision_id: _Id) -> Response:
    """The receipt of one decision: its evidence, each with an inclusion proof to a signed
    checkpoint of the audit log, and that checkpoint. Needs the domain's credential."""
    limit_lookups(request)
    return _receipt(request, _credential(request, domain, cookie=False), decision_id)


@router.get("/owners/{domain}/decisions/{decision_id}/receipt", include_in_schema=False)
def receipt_page(request: Request, domain: _Domain, decision_id: _Id) -> Response:
    """The same receipt, for the owner's page (its cookie)."""
    limit_lookups(request)
    return _receipt(request, _credential(request, domain, cookie=True), decision_id)
