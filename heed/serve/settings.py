"""What ``heed serve`` is configured with, as one value the application is built from.

The command line gives it (heed.toml is the crawler's too, and ``heed crawl`` refuses tables
it does not know, so the server's own knobs are options, not a ``[serve]`` table).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Request bodies accepted, at most (bytes). The portal's routes take none yet; the later
#: verification requests are small JSON objects.
MAX_BODY_BYTES = 16 * 1024
#: Default look-ups per client and minute, and how many may come at once.
LOOKUPS_PER_MINUTE = 60.0
LOOKUP_BURST = 20


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
    #: The Heed version named in the pages' footers.
    heed_version: str = "0"

    def base(self) -> str | None:
        """Return the public URL without its trailing slash, or None."""
        return self.public_url.rstrip("/") if self.public_url else None
