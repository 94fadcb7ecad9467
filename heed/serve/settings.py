"""What ``heed serve`` is configured with, as one value the application is built from.

The command line gives it (heed.toml is the crawler's too, and ``heed crawl`` refuses tables
it does not know, so the server's own knobs are options, not a ``[serve]`` table).
"""

from __future__ import annotations

from dataclasses import dataclass

from heed.mail.config import MailConfig

#: Request bodies accepted, at most (bytes). The portal's routes take none yet; the later
#: verification requests are small JSON objects.
MAX_BODY_BYTES = 16 * 1024
#: Default look-ups per client and minute, and how many may come at once.
LOOKUPS_PER_MINUTE = 60.0
LOOKUP_BURST = 20
#: Default POSTs (verification requests and checks) per client and minute, and burst.
POSTS_PER_MINUTE = 6.0
POST_BURST = 5
#: How long a challenge can be checked, and how long a credential lasts.
CHALLENGE_HOURS = 48
CREDENTIAL_DAYS = 30


@dataclass(frozen=True, slots=True, kw_only=True)
class ServeSettings:
    """The server's settings (the database and statements are opened by the caller)."""

    #: Base URL the portal is reached at (``https://bot.example.ai``); None: the request's.
    public_url: str | None = None
    #: Addresses (or networks) of reverse proxies whose forwarded headers are believed.
    trusted_proxies: tuple[str, ...] = ()
    lookups_per_minute: float = LOOKUPS_PER_MINUTE
    lookup_burst: int = LOOKUP_BURST
    max_body_bytes: int = MAX_BODY_BYTES
    posts_per_minute: float = POSTS_PER_MINUTE
    post_burst: int = POST_BURST
    challenge_hours: float = CHALLENGE_HOURS
    credential_days: float = CREDENTIAL_DAYS
    #: Networks verification fetches may reach although private, loopback or link-local
    #: (``127.0.0.1/32`` in tests); by default none.
    allow_private: tuple[str, ...] = ()
    #: ``HOST:PORT`` → ``ADDRESS:PORT``: where a verification fetch of that host and port
    #: connects instead (like curl's ``--connect-to``); for tests and split-horizon setups.
    connect_to: tuple[tuple[str, str], ...] = ()
    #: The DNS resolver verification asks (``ADDRESS`` or ``ADDRESS:PORT``); None: the system's.
    dns_resolver: str | None = None
    #: Seconds a verification fetch or DNS query may take in all.
    verify_timeout: float = 10.0
    #: Secret for CSRF tokens; None: a random one per process (forms then last a process).
    secret: bytes | None = None
    #: The Heed version named in the pages' footers.
    heed_version: str = "0"
    #: Worker processes serving the app; each keeps its own rate-limit buckets with 1/workers
    #: of the rates and bursts (:func:`heed.serve.app.create_app`).
    workers: int = 1
    #: The mail server and sender of e-mails to claimants; None: no e-mail.
    mail: MailConfig | None = None

    def base(self) -> str | None:
        """Return the public URL without its trailing slash, or None."""
        return self.public_url.rstrip("/") if self.public_url else None
