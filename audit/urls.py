"""Origins, hosts and registrable domains of the URLs the audit trail records.

The registrable domain is eTLD+1 from the Public Suffix List (docs/regulation.md#the-domain-list,
step 1 "Unit"), ICANN section only, computed with tldextract's *bundled* snapshot:
``suffix_list_urls=()`` and ``cache_dir=None`` so that no test, command or crawl ever downloads the
list or writes a cache.
The snapshot therefore ages with the installed tldextract release; that is the price of
reproducible answers (the same host gives the same domain on every machine with that release).
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

import tldextract

from optout.url import normalize_host, origin_string, parse_authority

_EXTRACT = tldextract.TLDExtract(
    suffix_list_urls=(),
    cache_dir=None,
    fallback_to_snapshot=True,
    include_psl_private_domains=False,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Origin:
    """The normalised origin of a URL: scheme, host, port, and the host's registrable domain."""

    origin: str
    scheme: str
    host: str
    port: int | None
    domain: str


def parse_origin(prefix: str) -> Origin:
    """Return the normalised :class:`Origin` of ``scheme://authority`` (see :func:`optout.url.split_origin`).

    The parts come from the one URL model (:func:`optout.url.parse_authority`), so the audit
    trail's origin is the site cache's key and the denylist's host for every URL Heed requests.
    """
    scheme, host, port = parse_authority(prefix)
    return Origin(
        origin=origin_string(scheme, host, port),
        scheme=scheme,
        host=host,
        port=port,
        domain=registrable_domain(host),
    )


@functools.lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str:
    """Return the registrable domain (eTLD+1) of *host*; the host itself when it has none.

    Under a top-level domain the list does not name (``.test``, ``.internal``, or one newer than
    the bundled snapshot) the Public Suffix List algorithm's default rule ``*`` applies: the
    last label is the public suffix, so ``www.site.test`` belongs to ``site.test``. IP
    addresses, single labels (``localhost``) and bare public suffixes (``co.uk``) have no
    registrable domain; they stand for themselves so that every decision still has a domain.
    """
    host = normalize_host(host)
    if host[:1].isdigit() or host.startswith("["):  # only these can be IP addresses
        bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        try:
            ipaddress.ip_address(bare)
        except ValueError:
            pass
        else:
            return host
    parts = _EXTRACT.extract_str(host)
    if parts.suffix:
        return parts.top_domain_under_public_suffix or host
    return default_rule_domain(host)


def is_public_suffix(host: str) -> bool:
    """Return whether *host* is itself a public suffix (``co.uk``, ``com``): no registrant's."""
    parts = _EXTRACT.extract_str(normalize_host(host))
    return bool(parts.suffix) and not parts.domain and not parts.subdomain


def default_rule_domain(host: str) -> str:
    """Return eTLD+1 of *host* under the PSL's default rule ``*``: its last two labels."""
    labels = host.split(".")
    return ".".join(labels[-2:]) if len(labels) >= 2 and all(labels[-2:]) else host
