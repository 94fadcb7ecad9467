"""Origins, hosts and registrable domains of the URLs the audit trail records.

The registrable domain is eTLD+1 from the Public Suffix List (regulation.md §4.3 "Unit"), ICANN
section only, computed with tldextract's *bundled* snapshot: ``suffix_list_urls=()`` and
``cache_dir=None`` so that no test, command or crawl ever downloads the list or writes a cache.
The snapshot therefore ages with the installed tldextract release; that is the price of
reproducible answers (the same host gives the same domain on every machine with that release).
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

import tldextract

#: Default ports, dropped from origins so that ``https://a.example:443`` and ``https://a.example``
#: are one origin (RFC 3986 §6.2.3 scheme-based normalisation).
_DEFAULT_PORTS = {"http": 80, "https": 443}

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


def split_url(url: str) -> tuple[str, str]:
    """Return ``(scheme://authority, rest)`` of an absolute URL; raise ValueError otherwise."""
    start = url.find("://")
    if start <= 0:
        raise ValueError(f"not an absolute URL: {url!r}")
    end = len(url)
    for sep in "/?#":
        pos = url.find(sep, start + 3)
        if 0 <= pos < end:
            end = pos
    return url[:end], url[end:]


def normalize_host(host: str) -> str:
    """Return *host* lower-cased, without a trailing dot, IDNA-encoded when not ASCII."""
    host = host.strip().rstrip(".").lower()
    if host.startswith("[") or host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        # Keep what we were given: a host that cannot be encoded is still evidence.
        return host


def parse_origin(prefix: str) -> Origin:
    """Return the normalised :class:`Origin` of ``scheme://authority`` (see :func:`split_url`)."""
    scheme, sep, authority = prefix.partition("://")
    if not sep or not scheme:
        raise ValueError(f"not an absolute URL: {prefix!r}")
    scheme = scheme.lower()
    # Credentials are not part of an origin, and do not belong in an audit trail.
    authority = authority.rpartition("@")[2]
    port: int | None = None
    if authority.startswith("["):
        close = authority.find("]")
        host, port_text = (
            (authority, "") if close < 0 else (authority[: close + 1], authority[close + 2 :])
        )
    else:
        host, _, port_text = authority.partition(":")
    if port_text:
        if not port_text.isdigit() or int(port_text) > 65535:
            raise ValueError(f"bad port in URL: {prefix!r}")
        port = int(port_text)
    if port is not None and _DEFAULT_PORTS.get(scheme) == port:
        port = None
    host = normalize_host(host)
    if not host:
        raise ValueError(f"URL without a host: {prefix!r}")
    origin = f"{scheme}://{host}" if port is None else f"{scheme}://{host}:{port}"
    return Origin(
        origin=origin, scheme=scheme, host=host, port=port, domain=registrable_domain(host)
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


def default_rule_domain(host: str) -> str:
    """Return eTLD+1 of *host* under the PSL's default rule ``*``: its last two labels."""
    labels = host.split(".")
    return ".".join(labels[-2:]) if len(labels) >= 2 and all(labels[-2:]) else host
