"""The JSON shapes of the public API (``/api/v1``), as pydantic models: the OpenAPI contract.

They are the API's own, kept apart from audit's values (:class:`audit.DomainView`) so that the
database side can change without changing what clients parse. Times are ISO 8601 UTC; every
signal document carries the link that serves it exactly as fetched. The answers are built with
``model_construct`` from audit's already typed values (no second validation: it cost more than
the look-up); pydantic's serialiser still checks every type on the way out.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from audit import DocumentVersion, DomainView, HostView
from heed.serve.verdict import verdict


class MeaningOut(BaseModel):
    """What a signal read from the document meant in the crawler's decisions."""

    protocol: str
    verdict: str
    detail: str = Field(description="The signal's reason, with the matched rule and line")
    purpose: str = Field(description="The use the crawler decided for")
    restricts: bool = Field(description="Whether it refused the crawl or reserved that use")


class DocumentOut(BaseModel):
    """One version of a signal document, over all its retrievals."""

    kind: str
    url: str
    sha256: str
    size: int
    statuses: list[int]
    errors: list[str]
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    retrievals: int
    truncated: bool
    href: str = Field(description="The document exactly as fetched")
    meanings: list[MeaningOut]


class MonthOut(BaseModel):
    """Request attempts per action and content kept in one month (UTC, ``YYYY-MM``)."""

    month: str
    actions: dict[str, int]
    items: int
    bytes: int


class KeptOut(BaseModel):
    """Content kept in the dataset."""

    items: int
    bytes: int
    first: dt.datetime | None
    last: dt.datetime | None


class ReservationOut(BaseModel):
    """A reservation (or robots.txt refusal) as the crawler's decisions applied it."""

    first_seen: dt.datetime
    last_seen: dt.datetime
    decisions: int
    urls: int
    protocols: list[str]
    statements: list[str]


class VerdictOut(BaseModel):
    """The plain-language answer: no-record, no-reservation, honoured, kept-after-reservation
    or kept-while-reserved."""

    status: str
    text: str
    items: list[str]


class HostOut(BaseModel):
    """The figures of a host, or of the whole registrable domain."""

    name: str
    origins: list[str]
    verdict: VerdictOut
    decisions: int
    first_decision: dt.datetime | None
    last_decision: dt.datetime | None
    by_action: dict[str, int]
    by_month: list[MonthOut]
    kept: KeptOut
    reservation: ReservationOut | None
    kept_after_reservation: int
    kept_while_reserved: int
    documents: list[DocumentOut]


class RegistryEntryOut(BaseModel):
    """An entry of the provider's reservations registry (reservations notified other than on
    the site), in force for the domain or one of its hosts."""

    id: int
    scope: str = Field(description="domain, host or prefix")
    target: str = Field(description="The domain, host, or host and path prefix")
    purposes: list[str] = Field(description="The uses reserved")
    source: str = Field(description="Where it comes from: operator, or a reference")
    added: dt.datetime


class DomainOut(BaseModel):
    """The public look-up of a registrable domain."""

    query: str = Field(description="What was asked, normalised (a host asks for its domain)")
    domain: str
    found: bool
    tokens: list[str] = Field(description="The crawler's product tokens in these decisions")
    purposes: list[str]
    registry: list[RegistryEntryOut] = Field(
        description="Reservations in the provider's registry for the domain or its hosts"
    )
    total: HostOut
    hosts: list[HostOut]


def domain_out(view: DomainView, query: str, document_href: str) -> DomainOut:
    """Return *view* as the API's answer; *document_href* has a ``{sha256}`` placeholder."""

    def host(h: HostView) -> HostOut:
        v = verdict(h, tokens=view.tokens, purposes=view.purposes)
        res = h.reservation
        return HostOut.model_construct(
            name=h.name,
            origins=list(h.origins),
            verdict=VerdictOut.model_construct(status=v.status, text=v.text, items=list(v.items)),
            decisions=h.decisions,
            first_decision=h.first_decision,
            last_decision=h.last_decision,
            by_action=dict(h.by_action),
            by_month=[
                MonthOut.model_construct(
                    month=m.month, actions=dict(m.actions), items=m.items, bytes=m.bytes
                )
                for m in h.by_month
            ],
            kept=KeptOut.model_construct(
                items=h.kept.items, bytes=h.kept.bytes, first=h.kept.first, last=h.kept.last
            ),
            reservation=None
            if res is None
            else ReservationOut.model_construct(
                first_seen=res.first_seen,
                last_seen=res.last_seen,
                decisions=res.decisions,
                urls=res.urls,
                protocols=list(res.protocols),
                statements=list(res.statements),
            ),
            kept_after_reservation=h.kept_after_total,
            kept_while_reserved=h.kept_while_reserved,
            documents=[_document(d, document_href) for d in h.documents],
        )

    return DomainOut.model_construct(
        query=query,
        domain=view.domain,
        found=view.found,
        tokens=list(view.tokens),
        purposes=list(view.purposes),
        registry=[
            RegistryEntryOut.model_construct(
                id=r.id,
                scope=r.scope,
                target=r.target,
                purposes=list(r.purposes),
                source=r.source,
                added=r.recorded_at,
            )
            for r in view.registry
        ],
        total=host(view.total),
        hosts=[host(h) for h in view.hosts],
    )


def _document(d: DocumentVersion, href: str) -> DocumentOut:
    return DocumentOut.model_construct(
        kind=d.kind,
        url=d.url,
        sha256=d.sha256,
        size=d.size,
        statuses=list(d.statuses),
        errors=list(d.errors),
        first_seen=d.first_seen,
        last_seen=d.last_seen,
        retrievals=d.retrievals,
        truncated=d.truncated,
        href=href.replace("{sha256}", d.sha256),
        meanings=[
            MeaningOut.model_construct(
                protocol=m.protocol,
                verdict=m.verdict,
                detail=m.detail,
                purpose=m.purpose,
                restricts=m.restricts,
            )
            for m in d.meanings
        ],
    )
