"""What a look-up is about: a registrable domain, a host, an origin, or a URL prefix; and when.

``heed status TARGET``:

* ``example.co.uk`` — a registrable domain: it and every subdomain;
* ``www.example.co.uk`` — one host (a name that is not itself a registrable domain);
* ``*.blog.example.com`` — a host and its subdomains;
* ``https://example.com`` or ``http://example.com:8080`` — one origin (scheme, host, port);
* ``https://example.com/docs/`` — every URL starting with it (a full URL matches itself).

Hosts are compared lower-case and IDNA-encoded, as the writer stores them; a URL prefix has its
scheme and host normalised the same way, its path compared byte for byte.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum

from audit.errors import TargetError
from audit.urls import parse_origin, registrable_domain
from optout.url import normalize_host, split_origin

_HOST = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class TargetKind(StrEnum):
    """The form of a look-up target."""

    DOMAIN = "domain"
    HOST = "host"
    HOST_TREE = "host-and-subdomains"
    ORIGIN = "origin"
    PREFIX = "url-prefix"


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """A parsed look-up target."""

    kind: TargetKind
    #: The registrable domain every matching URL belongs to.
    domain: str
    host: str | None = None
    origin: str | None = None
    prefix: str | None = None

    def describe(self) -> str:
        """Return the target in words."""
        if self.kind is TargetKind.DOMAIN:
            return f"domain {self.domain} and its subdomains"
        if self.kind is TargetKind.HOST:
            return f"host {self.host}"
        if self.kind is TargetKind.HOST_TREE:
            return f"host {self.host} and its subdomains"
        if self.kind is TargetKind.ORIGIN:
            return f"origin {self.origin}"
        return f"URLs starting with {self.prefix}"

    def matches_host(self, host: str) -> bool:
        """Return whether *host* (of an origin under :attr:`domain`) is in scope."""
        if self.kind in (TargetKind.HOST, TargetKind.ORIGIN, TargetKind.PREFIX):
            return host == self.host
        if self.kind is TargetKind.HOST_TREE:
            return host == self.host or host.endswith("." + (self.host or ""))
        return True


def parse_target(text: str) -> Target:
    """Return the :class:`Target` that *text* names; raise TargetError when it names none."""
    text = text.strip()
    if not text:
        raise TargetError("empty target: give a domain, host, origin or URL")
    if "://" in text:
        return _parse_url(text)
    if "/" in text or "?" in text or "#" in text:
        raise TargetError(f"{text!r}: give a URL with its scheme (https://…), a host, or a domain")
    tree = text.startswith("*.")
    host = _host(text[2:] if tree else text)
    domain = registrable_domain(host)
    if tree:
        return Target(kind=TargetKind.HOST_TREE, domain=domain, host=host)
    if host == domain:
        return Target(kind=TargetKind.DOMAIN, domain=domain)
    return Target(kind=TargetKind.HOST, domain=domain, host=host)


def _parse_url(text: str) -> Target:
    try:
        prefix, rest = split_origin(text)
        origin = parse_origin(prefix)
    except ValueError as exc:
        raise TargetError(f"{text!r} is not a usable URL: {exc}") from exc
    if origin.scheme not in ("http", "https"):
        raise TargetError(f"{text!r}: only http and https URLs are crawled")
    _host(origin.host)
    common = {"domain": origin.domain, "host": origin.host, "origin": origin.origin}
    if not rest:
        return Target(kind=TargetKind.ORIGIN, **common)
    return Target(kind=TargetKind.PREFIX, prefix=origin.origin + rest, **common)


def _host(text: str) -> str:
    """Return *text* as a normalised host name or IP address; raise TargetError otherwise."""
    host = normalize_host(text)
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise TargetError(f"{text!r} is not an IPv6 address") from None
        return host
    if ":" in host:
        raise TargetError(f"{text!r}: give an origin as a URL (https://host:port)")
    if not _HOST.fullmatch(host) or len(host) > 253:
        raise TargetError(f"{text!r} is not a domain or host name")
    return host


def parse_when(text: str, *, end: bool = False) -> dt.datetime:
    """Return a UTC time from ``YYYY-MM-DD`` or an ISO 8601 date-time (naive means UTC).

    With *end*, the result is an exclusive upper bound that still includes *text*: the day
    after a date, or one microsecond after a date-time.
    """
    value = text.strip()
    try:
        if _DATE.fullmatch(value):
            day = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
            return day + dt.timedelta(days=1) if end else day
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise TargetError(
            f"{text!r} is not a date (YYYY-MM-DD) or ISO 8601 date-time (2026-05-01T12:00:00Z)"
        ) from None
    when = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
    return when + dt.timedelta(microseconds=1) if end else when
