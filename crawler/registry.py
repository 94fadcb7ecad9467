"""The reservations registry a crawl applies: the entries in force in its audit database.

The registry is kept with ``heed registry`` in the audit database the crawl writes to
(``HEED_DB``, else ``$HEED_DB``, else ``heed.db``; audit/registry.py). It is read once, when the
crawl starts, and applied by every site the crawl compiles (:class:`optout.site.Site`), before
any request. A database that does not exist yet holds no registry; one that exists but cannot
be read stops the crawl before its first request, as an audit database that cannot be opened
does (``audit_unavailable``): a registry that was kept is never silently dropped.
"""

from __future__ import annotations

from scrapy.settings import BaseSettings

from crawler.config import OptoutConfigError
from crawler.documents import now_iso
from optout.decision import Purpose
from optout.document import FetchResult
from optout.registry import Entry, Registry

#: Where the registry's snapshot is said to come from in the audit trail (not a URL on the web).
REGISTRY_SOURCE = "heed:registry"


class RegistryUnavailable(OptoutConfigError):
    """The crawl's audit database holds a registry that cannot be read."""


def load_registry(settings: BaseSettings) -> Registry:
    """Return the registry in force in the crawl's audit database (empty when it has none)."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import DBAPIError

    from audit import AuditError, registry_in_force
    from audit.engine import make_engine, resolve_url, sqlite_path
    from audit.migrate import ensure_schema

    db = settings.get("HEED_DB") or None
    try:
        url = resolve_url(db)
        path = sqlite_path(url)
        if path is not None and not path.is_file():
            return Registry([])
        engine = make_engine(url, must_exist=True)
        try:
            with engine.connect() as conn:
                # A new, empty database (no table at all): the crawl's writer creates the
                # schema, and nothing can have been registered in it yet.
                if not inspect(conn).get_table_names():
                    return Registry([])
            ensure_schema(engine, create=False)  # another revision or application: refused
            rows = registry_in_force(engine)
        finally:
            engine.dispose()
    except (AuditError, DBAPIError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RegistryUnavailable(f"cannot read the reservations registry: {detail}") from None
    return Registry(
        Entry(
            id=r.id,
            scope=r.scope,
            target=r.target,
            purposes=tuple(Purpose(p) for p in r.purposes),
            source=r.source,
            added=r.recorded_at.isoformat(),
        )
        for r in rows
    )


def registry_document(registry: Registry) -> FetchResult:
    """Return the registry's snapshot as a document to record (kind ``registry``)."""
    return FetchResult(url=REGISTRY_SOURCE, body=registry.document, fetched_at=now_iso())
