"""Heed's opt-out engine: pure parsers and decisions for every machine-readable TDM signal.

No I/O happens here: callers fetch documents and pass :class:`FetchResult` values in; every
answer is a :class:`Decision` made of :class:`Signal` values that carry their evidence.
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

__all__ = [
    "combine",
    "Crawl",
    "Decision",
    "DEFAULT_POLICY",
    "FetchResult",
    "Policy",
    "Protocol",
    "PROTOCOL_SET_VERSION",
    "Purpose",
    "Signal",
    "Use",
    "Verdict",
]
