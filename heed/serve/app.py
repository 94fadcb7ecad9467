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

import asyncio
import contextlib
import ctypes
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy import URL, Engine, text

from audit import open_publisher, open_reader
from heed.mail import BackgroundSender
from heed.serve import complaints, errors, lookup, owners, published, receipts, verify
from heed.serve.ratelimit import TokenBucket
from heed.serve.security import ASGIApp, BodyLimit, SecurityHeaders
from heed.serve.settings import ServeSettings
from policy.provider import ProviderConfig

API = "/api/v1"
#: Seconds the mail sender may take to finish its round at shutdown.
MAIL_GRACE = 5.0


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

    mailer = BackgroundSender(writer or engine, settings.mail) if settings.mail else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # The outbox is sent beside the requests, never inside one (heed/mail/sender.py).
        task = asyncio.create_task(mailer.run()) if mailer is not None else None
        yield
        if mailer is not None and task is not None:
            # Let a delivery in progress be marked sent (else it would go out again later),
            # but not for longer than a graceful stop lasts.
            mailer.stop()
            with contextlib.suppress(TimeoutError):  # wait_for cancelled it
                await asyncio.wait_for(task, timeout=MAIL_GRACE)
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
    share = settings.workers  # each worker process limits its clients to its share
    app.state.limiter = TokenBucket(
        settings.lookups_per_minute / share, settings.lookup_burst / share
    )
    app.state.post_limiter = TokenBucket(
        settings.posts_per_minute / share, settings.post_burst / share
    )
    app.state.csrf_secret = settings.secret or secrets.token_bytes(32)
    app.state.mailer = mailer
    errors.install(app)
    app.include_router(published.router)
    app.include_router(lookup.router)
    app.include_router(verify.router)
    app.include_router(owners.router)
    app.include_router(receipts.router)
    app.include_router(complaints.router)

    @app.get(f"{API}/health", tags=["operations"])
    def health() -> dict[str, str]:
        """Say whether the portal can read its database (for readiness probes)."""
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    return app, SecurityHeaders(BodyLimit(app, settings.max_body_bytes))


@dataclass(frozen=True, slots=True)
class WorkerApp:
    """The application of one worker process of ``heed serve --workers N``.

    uvicorn's supervisor sends this to each worker it spawns (pickled, through a pipe: the
    database URL never shows in a process list or an environment) and calls it there: each
    worker opens its own connections, which must not cross a process boundary. The statements
    and settings are the ones the parent found and checked before it bound the port, the CSRF
    secret included, so a form opened from one worker is accepted by another.
    """

    db: URL
    statements: ProviderConfig
    settings: ServeSettings
    #: The supervisor's process id: the worker stops when that process is gone.
    parent: int

    def __call__(self) -> ASGIApp:
        """Open this worker's engines and return the application it serves."""
        _stop_with_parent(self.parent)
        engine = open_reader(self.db)
        try:
            writer = open_publisher(self.db)
        except Exception:
            engine.dispose()
            raise
        return create_app(engine, self.statements, self.settings, writer)[1]


def _stop_with_parent(parent: int) -> None:
    """Have this process sent SIGTERM (a graceful stop) when the supervisor *parent* ends,
    however it ends: a worker left behind would keep the port and answer unsupervised.

    Linux's ``PR_SET_PDEATHSIG``; elsewhere the supervisor's own SIGTERM handling is all.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it ended before the call: nobody would signal us
        os.kill(os.getpid(), signal.SIGTERM)
