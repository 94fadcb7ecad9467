"""Heed's opt-out engine: pure parsers and decisions for every machine-readable TDM signal.

No I/O happens here: callers fetch documents and pass :class:`FetchResult` values in; every
answer is a :class:`Decision` made of :class:`Signal` values that carry their evidence.

To decide URLs: :func:`parse_url` (the one URL model: origin, host, request target), then a
:class:`Site` built from an origin's :class:`SiteDocuments` decides URL after URL
(``Site.before_request``, ``Site.after_response``), and :func:`before_action` /
:func:`after_action` say what a crawler does with the attempt (:class:`Action`). Per signal, the
modules ``robots``, ``robots_fetch``, ``tdmrep``, ``aipref``, ``content_signal``, ``ai_training``,
``robots_meta``, ``rsl``, ``asset_meta`` and ``aitxt``; the shared path matcher is ``urlmatch``.
"""

from optout.action import Action, after_action, before_action
from optout.decision import (
    DEFAULT_POLICY,
    PROTOCOL_SET_VERSION,
    Crawl,
    Decision,
    Policy,
    PolicyError,
    Protocol,
    Purpose,
    Signal,
    Use,
    Verdict,
    combine,
    policy_from_knobs,
)
from optout.document import FetchResult
from optout.site import Site, SiteDocuments
from optout.url import URL, InvalidURL, origin_of, parse_url

__all__ = [
    "DEFAULT_POLICY",
    "PROTOCOL_SET_VERSION",
    "URL",
    "Action",
    "Crawl",
    "Decision",
    "FetchResult",
    "InvalidURL",
    "Policy",
    "PolicyError",
    "Protocol",
    "Purpose",
    "Signal",
    "Site",
    "SiteDocuments",
    "Use",
    "Verdict",
    "after_action",
    "before_action",
    "combine",
    "origin_of",
    "parse_url",
    "policy_from_knobs",
]
