"""Heed's opt-out engine: pure parsers and decisions for every machine-readable TDM signal.

No I/O happens here: callers fetch documents and pass :class:`FetchResult` values in; every
answer is a :class:`Decision` made of :class:`Signal` values that carry their evidence.

Entry points: :class:`Site` (an origin's documents compiled for one crawler, deciding URL after
URL) and :func:`combine`; per signal, the modules ``robots``, ``robots_fetch``, ``tdmrep``,
``aipref``, ``content_signal``, ``ai_training``, ``robots_meta``, ``rsl``, ``asset_meta`` and
``aitxt``; the shared path matcher is ``urlmatch``.
"""

from optout.decision import (
    DEFAULT_POLICY,
    PROTOCOL_SET_VERSION,
    Crawl,
    Decision,
    Policy,
    Protocol,
    Purpose,
    Signal,
    Use,
    Verdict,
    combine,
)
from optout.document import FetchResult
from optout.site import Site, SiteDocuments

__all__ = [
    "DEFAULT_POLICY",
    "PROTOCOL_SET_VERSION",
    "Crawl",
    "Decision",
    "FetchResult",
    "Policy",
    "Protocol",
    "Purpose",
    "Signal",
    "Site",
    "SiteDocuments",
    "Use",
    "Verdict",
    "combine",
]
