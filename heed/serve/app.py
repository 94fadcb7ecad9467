"""Build the portal's ASGI application: one FastAPI app, a router per area, wrapped in the
security middleware.

The audit database is opened by the caller (``heed serve`` refuses an unusable one before it
listens) and only read here; the provider's statements are found once, at start-up, as the
reports find them. The OpenAPI description is served at ``/api/v1/openapi.json``; the
interactive documentation pages are off (they load scripts from elsewhere, which the Content
Security Policy forbids and a portal should not need).

The security headers and the body limit wrap the whole application, outside Starlette's own
error middleware, so that even an internal-error answer carries the headers.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine, text

from heed.serve import errors, lookup, owners, published, verify
from heed.serve.ratelimit import TokenBucket
from heed.serve.security import ASGIApp, BodyLimit, SecurityHeaders
from heed.serve.settings import ServeSettings
from policy.provider import ProviderConfig

API = "/api/v1"


def create_app(
    engine: Engine,
    statements: ProviderConfig,
    settings: ServeSettings,
    writer: Engine | None = None,
) -> tuple[FastAPI, ASGIApp]:
    """Return the FastAPI application and the ASGI application to serve (it, wrapped).

    *writer* writes verifications and credentials (``heed serve`` opens one that takes SQLite's
    write lock up front); None: *engine* itself.
    """

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()  # graceful shutdown: the connections close with the server
        if writer is not None:
            writer.dispose()

    app = FastAPI(
        title="Heed crawler portal",
        summary="Was my opt-out honoured? The crawler's published documents and its audit "
        "trail, per domain.",
        version="1",
        openapi_url=f"{API}/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.statements = statements
    app.state.settings = settings
    app.state.writer = writer or engine
    app.state.limiter = TokenBucket(settings.lookups_per_minute, settings.lookup_burst)
    app.state.post_limiter = TokenBucket(settings.posts_per_minute, settings.post_burst)
    app.state.csrf_secret = settings.secret or secrets.token_bytes(32)
    errors.install(app)
    app.include_router(published.router)
    app.include_router(lookup.router)
    app.include_router(verify.router)
    app.include_router(owners.router)

    @app.get(f"{API}/health", tags=["operations"])
    def health() -> dict[str, str]:
        """Say whether the portal can read its database (for readiness probes)."""
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    return app, SecurityHeaders(BodyLimit(app, settings.max_body_bytes))
