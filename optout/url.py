"""Heed's one URL model: what an http(s) URL's origin, host, port and request target are.

Every component that names an origin or a host takes it from here — the site cache key, the audit
trail's origin, the denylist, the crawl scope, the redirect checks, ``heed check`` — so that they
can never disagree about which site a URL belongs to (docs/architecture.md, "One URL model").

Normalisation (RFC 3986 §6.2.2.1 and §6.2.3, RFC 5890):

* the scheme and host are lower-cased; a host's trailing dot is dropped (``example.com.`` and
  ``example.com`` are one host to DNS and to every server Heed has met);
* a non-ASCII host is IDNA-encoded (``bücher.example`` → ``xn--bcher-kva.example``), which is what
  goes into the Host header and the DNS query;
* the scheme's default port is dropped (``https://a:443`` is ``https://a``);
* user information is never part of an origin (and never belongs in an audit trail);
* the fragment is never sent, so it is not part of the request target.

The path and query are kept as written: they are what the crawler puts on the wire. (Issue 11
adds RFC 3986 path canonicalisation here, in one place.) The registrable domain needs the Public
Suffix List, a data file: :func:`audit.urls.registrable_domain` is its one definition.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

#: The ports dropped from origins (RFC 3986 §6.2.3 scheme-based normalisation).
DEFAULT_PORTS = {"http": 80, "https": 443}
#: The schemes Heed requests.
SCHEMES = frozenset(DEFAULT_PORTS)

#: Characters of a registered name Heed will request (letters, digits, '-', '_', '.').
_HOST_NAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")


class InvalidURL(ValueError):
    """A URL Heed cannot request: not http(s), no host, a bad port or an unusable host name."""


@dataclass(frozen=True, slots=True)
class URL:
    """An http(s) URL as Heed requests it: normalised origin parts and the request target."""

    scheme: str
    #: Lower case, no trailing dot, IDNA (ASCII); an IPv6 address in brackets.
    host: str
    #: None for the scheme's default port.
    port: int | None
    #: Path and query as sent on the wire (``/`` when the URL has no path); no fragment.
    target: str

    @property
    def origin(self) -> str:
        """Return ``scheme://host[:port]``: the key of everything Heed keeps per site."""
        return origin_string(self.scheme, self.host, self.port)

    @property
    def path(self) -> str:
        """Return the path of the request target (without the query)."""
        return self.target.partition("?")[0]

    def __str__(self) -> str:
        return self.origin + self.target


def origin_string(scheme: str, host: str, port: int | None) -> str:
    """Return the origin text of normalised parts (the default port already dropped)."""
    return f"{scheme}://{host}" if port is None else f"{scheme}://{host}:{port}"


def split_origin(url: str) -> tuple[str, str]:
    """Return ``(scheme://authority, rest)`` of an absolute URL; raise InvalidURL otherwise.

    The authority ends at the first ``/``, ``?`` or ``#`` after ``://``, as in
    :func:`urllib.parse.urlsplit` (what Scrapy and httpx connect to).
    """
    start = url.find("://")
    if start <= 0:
        raise InvalidURL(f"not an absolute URL: {url!r}")
    end = len(url)
    for sep in "/?#":
        pos = url.find(sep, start + 3)
        if 0 <= pos < end:
            end = pos
    return url[:end], url[end:]


def normalize_host(host: str) -> str:
    """Return *host* lower-cased, without a trailing dot, IDNA-encoded when not ASCII.

    Never raises: a host that cannot be IDNA-encoded is returned lower-cased, because it is still
    evidence (the audit trail records what it was given); :func:`parse_url` refuses such a host.
    """
    host = host.strip().rstrip(".").lower()
    if host.startswith("[") or host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def parse_authority(prefix: str) -> tuple[str, str, int | None]:
    """Return ``(scheme, host, port)`` of ``scheme://authority``, normalised; port None if default.

    Lenient about the host (see :func:`normalize_host`), strict about the port; raises
    InvalidURL when there is no scheme, no host, or a bad port.
    """
    scheme, sep, authority = prefix.partition("://")
    if not sep or not scheme:
        raise InvalidURL(f"not an absolute URL: {prefix!r}")
    scheme = scheme.lower()
    authority = authority.rpartition("@")[2]  # user information is not part of an origin
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            host, port_text = authority, ""
        else:
            host, rest = authority[: close + 1], authority[close + 1 :]
            if rest and not rest.startswith(":"):
                raise InvalidURL(f"bad authority in URL: {prefix!r}")
            port_text = rest[1:]
    else:
        host, _, port_text = authority.partition(":")
    port: int | None = None
    if port_text:
        if not port_text.isascii() or not port_text.isdigit() or int(port_text) > 65535:
            raise InvalidURL(f"bad port in URL: {prefix!r}")
        port = int(port_text)
    if port is not None and DEFAULT_PORTS.get(scheme) == port:
        port = None
    host = normalize_host(host)
    if not host:
        raise InvalidURL(f"URL without a host: {prefix!r}")
    return scheme, host, port


def parse_url(url: str) -> URL:
    """Return the :class:`URL` Heed would request for *url*; raise InvalidURL if it cannot."""
    prefix, rest = split_origin(url.strip())
    scheme, host, port = parse_authority(prefix)
    if scheme not in SCHEMES:
        raise InvalidURL(f"not an http(s) URL: {url!r}")
    check_host(host, url)
    target = rest.partition("#")[0]
    if not target.startswith("/"):
        target = "/" + target  # "?q" alone: the path is empty, and an empty path is sent as "/"
    return URL(scheme=scheme, host=host, port=port, target=target)


def check_host(host: str, url: str = "") -> None:
    """Raise InvalidURL unless *host* (normalised) is an IP address or a usable host name."""
    where = f" in {url!r}" if url else ""
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1] if host.endswith("]") else "-")
        except ValueError:
            raise InvalidURL(f"bad IPv6 address {host!r}{where}") from None
        return
    if not _HOST_NAME.fullmatch(host):
        raise InvalidURL(f"bad host name {host!r}{where}")


def origin_of(url: str) -> str:
    """Return the origin (``scheme://host[:port]``) of *url*; raise InvalidURL if it has none."""
    return parse_url(url).origin


def host_of(url: str) -> str:
    """Return the normalised host of *url*; raise InvalidURL if it has none."""
    return parse_url(url).host
