"""Routes of the published documents: the start page, each document's latest published version
and every earlier one, as pages, JSON and (the crawler information) an Atom feed.

Reading only: nothing here publishes (the engine is a reader's, audit.open_reader).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from audit.publications import Publication, history
from heed.auditlog import CHECKPOINT_ROUTE, CHECKPOINTS_ROUTE, read_log
from heed.serve import documents as docs
from heed.serve.documents import CRAWLER, KINDS, POLICY, SUMMARY, engine_of
from heed.serve.pages import base_url, page
from policy.publish.inputs import iso

router = APIRouter()
Version = Annotated[int, Path(ge=1, le=1_000_000, description="Version number (1 is the first)")]
Model = Annotated[
    str | None,
    Query(max_length=200, description="The model a summary is about (default: the latest one)"),
]
ATOM = "application/atom+xml; charset=utf-8"
NO_CHECKPOINT = "No checkpoint of the audit log has been signed yet."


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request) -> Response:
    """The start page: who crawls, why, the published documents, and the look-up form."""
    engine = engine_of(request)
    crawler = history(engine, CRAWLER)
    listed = [(KINDS[CRAWLER], crawler[-1] if crawler else None)]
    policy = history(engine, POLICY)
    listed.append((KINDS[POLICY], policy[-1] if policy else None))
    latest_summaries: dict[str, Publication] = {}
    for pub in history(engine, SUMMARY, None):
        latest_summaries[pub.subject] = pub
    summaries = [latest_summaries[s] for s in sorted(latest_summaries)]
    return page(
        request,
        "home.html.j2",
        statements=request.app.state.statements,
        info=crawler[-1].body if crawler else None,
        listed=[
            {
                "title": k.title,
                "path": k.path,
                "version": p.version if p else None,
                "date": iso(p.created_at) if p else None,
            }
            for k, p in listed
        ],
        summaries=[
            {
                "model": p.subject,
                "version": p.version,
                "date": iso(p.created_at),
                "path": docs.version_path(SUMMARY, p.version, p.subject),
            }
            for p in summaries
        ],
    )


@router.get("/crawler-info", response_class=HTMLResponse, include_in_schema=False)
def crawler_info(request: Request) -> Response:
    """The crawler information page, latest published version."""
    found = docs.versions(engine_of(request), CRAWLER)
    pub = docs.chosen(found, None, KINDS[CRAWLER].title)
    return HTMLResponse(docs.crawler_page(request, pub, found))


@router.get("/crawler-info/v/{version}", response_class=HTMLResponse, include_in_schema=False)
def crawler_info_version(request: Request, version: Version) -> Response:
    """One published version of the crawler information page."""
    found = docs.versions(engine_of(request), CRAWLER)
    return HTMLResponse(
        docs.crawler_page(request, docs.chosen(found, version, "crawler information"), found)
    )


@router.get("/crawler-info.json", tags=["published documents"])
def crawler_info_json(request: Request) -> dict[str, Any]:
    """The crawler information, latest published version, with the history of versions."""
    found = docs.versions(engine_of(request), CRAWLER)
    pub = docs.chosen(found, None, KINDS[CRAWLER].title)
    document = docs.crawler_json(pub, found)
    links = docs.log_links(request, pub)
    if links:  # as heed report crawler-info writes them beside the page
        document["log_checkpoints"] = {
            "latest": links["checkpoint_href"],
            "all": links["checkpoints_href"],
        }
    return document


@router.get(
    "/crawler-info.atom",
    tags=["published documents"],
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}}},
)
def crawler_info_feed(request: Request) -> Response:
    """The Atom feed: one entry per published version of the crawler information."""
    found = docs.versions(engine_of(request), CRAWLER)
    docs.chosen(found, None, KINDS[CRAWLER].title)
    return Response(docs.crawler_feed(base_url(request), found), media_type=ATOM)


@router.get(
    CHECKPOINT_ROUTE,
    tags=["audit log"],
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}},
)
def log_checkpoint(request: Request) -> Response:
    """The audit log's latest signed checkpoint: a C2SP signed note, exactly as signed; it
    verifies with the verifier key the crawler information publishes."""
    latest = read_log(engine_of(request)).latest
    if latest is None:
        raise HTTPException(404, NO_CHECKPOINT)
    return PlainTextResponse(latest.note)


@router.get(CHECKPOINTS_ROUTE, tags=["audit log"])
def log_checkpoints(request: Request) -> dict[str, Any]:
    """Every signed checkpoint of the audit log, oldest first, with the log's size."""
    view = read_log(engine_of(request))
    if view.latest is None:
        raise HTTPException(404, NO_CHECKPOINT)
    return view.document()


@router.get("/policy", response_class=HTMLResponse, include_in_schema=False)
def policy(request: Request) -> Response:
    """The copyright policy (public summary), latest published version."""
    found = docs.versions(engine_of(request), POLICY)
    return HTMLResponse(docs.policy_page(request, docs.chosen(found, None, KINDS[POLICY].title)))


@router.get("/policy/v/{version}", response_class=HTMLResponse, include_in_schema=False)
def policy_version(request: Request, version: Version) -> Response:
    """One published version of the copyright policy (public summary)."""
    found = docs.versions(engine_of(request), POLICY)
    return HTMLResponse(docs.policy_page(request, docs.chosen(found, version, "copyright policy")))


@router.get("/summary", response_class=HTMLResponse, include_in_schema=False)
def summary(request: Request, model: Model = None) -> Response:
    """The training-content summary, latest published version."""
    return _summary(request, model, None)


@router.get("/summary/v/{version}", response_class=HTMLResponse, include_in_schema=False)
def summary_version(request: Request, version: Version, model: Model = None) -> Response:
    """One published version of the training-content summary."""
    return _summary(request, model, version)


def _summary(request: Request, model: str | None, version: int | None) -> Response:
    engine = engine_of(request)
    subject = docs.summary_subject(engine, model)
    pub = docs.chosen(docs.versions(engine, SUMMARY, subject), version, "training-content summary")
    return HTMLResponse(docs.summary_page(request, engine, pub))


@router.get("/versions", response_class=HTMLResponse, include_in_schema=False)
def all_versions(request: Request) -> Response:
    """Every published version of every public document, newest first."""
    engine = engine_of(request)
    groups = []
    for kind in (CRAWLER, POLICY, SUMMARY):
        by_subject: dict[str, list[Publication]] = {}
        for pub in docs.versions(engine, kind, None):
            by_subject.setdefault(pub.subject, []).append(pub)
        for subject, found in sorted(by_subject.items()):
            title = KINDS[kind].title + (f": {subject}" if subject else "")
            groups.append(
                {
                    "title": title,
                    "versions": [
                        {
                            "version": p.version,
                            "date": iso(p.created_at),
                            "sha256": p.sha256,
                            "changes": p.changes,
                            "path": docs.version_path(kind, p.version, subject),
                        }
                        for p in reversed(found)
                    ],
                }
            )
    return page(request, "versions.html.j2", groups=groups)


@router.get("/api/v1/publications", tags=["published documents"])
def publications(request: Request) -> dict[str, Any]:
    """Every public document with its published versions (headers only)."""
    engine = engine_of(request)
    out = []
    for kind in (CRAWLER, POLICY, SUMMARY):
        for pub in docs.versions(engine, kind, None):
            entry = docs.publication_json(request, pub)
            del entry["body"]
            out.append(entry)
    return {"publications": out}


@router.get("/api/v1/publications/{kind}", tags=["published documents"])
def publication_latest(request: Request, kind: str, model: Model = None) -> JSONResponse:
    """The latest published version of *kind* (crawler-info, policy-public or summary)."""
    return _publication(request, kind, model, None)


@router.get("/api/v1/publications/{kind}/{version}", tags=["published documents"])
def publication_version(
    request: Request, kind: str, version: Version, model: Model = None
) -> JSONResponse:
    """One published version of *kind*, as it was published."""
    return _publication(request, kind, model, version)


def _publication(
    request: Request, kind: str, model: str | None, version: int | None
) -> JSONResponse:
    engine = engine_of(request)
    if kind not in KINDS:
        return JSONResponse(
            {"error": {"status": 404, "message": f"Known documents: {', '.join(KINDS)}."}},
            status_code=404,
        )
    subject = docs.summary_subject(engine, model) if kind == SUMMARY else ""
    pub = docs.chosen(docs.versions(engine, kind, subject), version, KINDS[kind].title)
    return JSONResponse(docs.publication_json(request, pub))
