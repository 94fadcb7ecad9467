"""The published documents as the portal serves them: which version, and how it is rendered.

Only what ``heed report … --publish`` recorded is served, as it was recorded (audit.publications:
the body verified against its sha256 on every read); the portal renders it with policy/'s own
renderers and templates, never its own copy of them. Of the two copyright-policy variants only
the public one (``policy-public``) is ever served: the internal one names the provider's staff.
The provider statements recorded with publications (``statements``) are never served either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from sqlalchemy import Engine

from audit.publications import Publication, history
from heed.auditlog import CHECKPOINT_ROUTE, CHECKPOINTS_ROUTE
from heed.serve.pages import link, settings_of, with_nav
from policy.publish.feed import atom_feed
from policy.publish.inputs import iso
from policy.render import render
from policy.summary.build import document as summary_document
from policy.summary.render import render_summary

#: The kinds served, with their page path and title.
CRAWLER, POLICY, SUMMARY = "crawler-info", "policy-public", "summary"


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of published document the portal serves."""

    kind: str
    path: str
    title: str


KINDS = {
    CRAWLER: Kind(CRAWLER, "/crawler-info", "Crawler information"),
    POLICY: Kind(POLICY, "/policy", "Copyright policy"),
    SUMMARY: Kind(SUMMARY, "/summary", "Public summary of training content"),
}


def engine_of(request: Request) -> Engine:
    """Return the audit database the server reads."""
    engine: Engine = request.app.state.engine
    return engine


def versions(engine: Engine, kind: str, subject: str | None = "") -> list[Publication]:
    """Return every published version of *kind* (every subject if None), oldest first."""
    if kind not in KINDS:
        raise HTTPException(404, "No such document.")
    return history(engine, kind, subject)


def summary_subject(engine: Engine, model: str | None) -> str:
    """Return the summary subject to serve: *model*, else the most recently published one."""
    if model is not None:
        return model
    published = history(engine, SUMMARY, None)
    if not published:
        raise HTTPException(404, "No training-content summary has been published yet.")
    return max(published, key=lambda p: (p.created_at, p.id)).subject


def chosen(found: list[Publication], version: int | None, title: str) -> Publication:
    """Return *version* of *found* (the latest if None); 404 when there is none."""
    if not found:
        raise HTTPException(404, f"No {title.lower()} has been published yet.")
    if version is None:
        return found[-1]
    for pub in found:
        if pub.version == version:
            return pub
    raise HTTPException(404, f"There is no version {version} of the {title.lower()}.")


def version_path(kind: str, version: int, subject: str = "") -> str:
    """Return the page path of one version (``/summary/v/2?model=…``)."""
    path = f"{KINDS[kind].path}/v/{version}"
    return path + (f"?model={quote(subject, safe='')}" if subject else "")


def publication_json(request: Request, pub: Publication) -> dict[str, Any]:
    """Return a version as the API gives it: its header, links, and the published body."""
    return {
        "kind": pub.kind,
        "subject": pub.subject,
        "version": pub.version,
        "published_at": iso(pub.created_at),
        "sha256": pub.sha256,
        "previous_version": pub.version - 1 if pub.previous_id is not None else None,
        "changes": list(pub.changes),
        "html": link(request, version_path(pub.kind, pub.version, pub.subject)),
        "body": pub.body,
    }


def crawler_page(request: Request, pub: Publication, found: list[Publication]) -> str:
    """Return the crawler information page of version *pub* (policy's template)."""
    latest = pub is found[-1]
    json_path = "/crawler-info.json" if latest else f"/api/v1/publications/{CRAWLER}/{pub.version}"
    html = render(
        "crawler_info.html.j2",
        info=pub.body,
        provenance={"settings": f"those published with version {pub.version}"},
        version=pub.version,
        published_at=iso(pub.created_at),
        history=[
            {"version": v.version, "published_at": iso(v.created_at), "changes": v.changes}
            for v in reversed(found)
        ],
        heed_version=settings_of(request).heed_version,
        feed_href=link(request, "/crawler-info.atom"),
        json_href=link(request, json_path),
        **log_links(request, pub),
    )
    return with_nav(request, html)


def log_links(request: Request, pub: Publication) -> dict[str, str]:
    """Return the links to the audit log's signed checkpoints, when *pub* states its key."""
    if not pub.body.get("log_verifier_key"):
        return {}
    return {
        "checkpoint_href": link(request, CHECKPOINT_ROUTE),
        "checkpoints_href": link(request, CHECKPOINTS_ROUTE),
    }


def crawler_json(pub: Publication, found: list[Publication]) -> dict[str, Any]:
    """Return the crawler information as ``heed report crawler-info`` writes its JSON file."""
    return {
        "kind": CRAWLER,
        "version": pub.version,
        "published_at": iso(pub.created_at),
        "sha256": pub.sha256,
        "changes": list(pub.changes),
        "information": pub.body,
        "history": [
            {"version": v.version, "published_at": iso(v.created_at), "changes": list(v.changes)}
            for v in reversed(found)
        ],
    }


def crawler_feed(base: str, found: list[Publication]) -> str:
    """Return the Atom feed of every published crawler-information version."""
    provider = str(found[-1].body.get("provider") or "the provider")
    return atom_feed(
        found,
        title=f"Crawler information: {provider}",
        author=provider,
        self_url=f"{base}/crawler-info.atom",
        page_url=f"{base}/crawler-info",
    )


def policy_page(request: Request, pub: Publication) -> str:
    """Return the public copyright policy of version *pub* (policy's template)."""
    html = render(
        "copyright_policy.html.j2",
        doc=pub.body,
        version=pub.version,
        published_at=iso(pub.created_at),
        statistics=None,
        heed_version=settings_of(request).heed_version,
    )
    return with_nav(request, html)


def summary_page(request: Request, engine: Engine, pub: Publication) -> str:
    """Return the training-content summary of version *pub* (policy's renderer), its previous
    versions linked to their pages here."""
    archive = link(request, f"{KINDS[SUMMARY].path}/v/{{version}}")
    if pub.subject:
        archive += "?model={model}"
    doc = summary_document(engine, pub, archive=archive)
    html = render_summary(doc, "html", heed_version=settings_of(request).heed_version)
    return with_nav(request, html)
