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

The request target (path and query) is put in its canonical form once, here, and that form is
both what every path-based signal is matched against and what goes on the wire — so that the
request Heed checks is the request it sends, whatever a link said (RFC 3986 §6.2.2):

* a backslash in the path is a slash (what browsers send, and what IIS serves);
* percent-escapes of unreserved characters are decoded (``%2e`` is ``.``, ``%7E`` is ``~``) and
  the hex digits of the others upper-cased (``%2f`` → ``%2F``);
* dot segments are removed (``/a/../private/x`` and ``/./private/x`` are ``/private/x``: what
  nginx and Apache serve for them), after the unreserved escapes are decoded, so ``/%2e%2e/``
  is a dot segment too;
* every other character (non-ASCII, space, controls, ``"<>[]^`{|}``, and ``'`` in the query) is
  percent-encoded as UTF-8, as Scrapy encodes it before sending: the canonical form is a fixed
  point of what Scrapy and httpx put on the wire (tests/heed/test_url_model.py).

The registrable domain needs the Public Suffix List, a data file:
:func:`audit.urls.registrable_domain` is its one definition.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

#: The ports dropped from origins (RFC 3986 §6.2.3 scheme-based normalisation).
DEFAULT_PORTS = {"http": 80, "https": 443}
#: The schemes Heed requests.
SCHEMES = frozenset(DEFAULT_PORTS)

#: RFC 3986 §2.3: an escape of one of these is the character itself.
UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
#: Characters kept as they are in a canonical path and query; every other one is percent-encoded.
#: The same sets as Scrapy's (w3lib ``safe_url_string``) for http(s), so that the canonical form is
#: a fixed point of what Scrapy and httpx send: ``[``, ``]``, ``|`` are encoded, and ``'`` in the
#: query too.
_PATH_SAFE = UNRESERVED | frozenset(":/@!$&'()*+,;=%")
_QUERY_SAFE = (_PATH_SAFE - {"'"}) | {"?"}
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")

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
    #: Path and query in canonical form, exactly as sent on the wire (``/`` when the URL has no
    #: path; no fragment): what robots.txt and every path-based signal are matched against.
    target: str
    #: The path and query as the URL spelled them (no fragment), when that differs from
    #: ``target``; a decision records both.
    spelled: str | None = None

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
    spelled = rest.partition("#")[0]
    target = canonical_target(spelled)
    return URL(
        scheme=scheme,
        host=host,
        port=port,
        target=target,
        # An empty path is "/" by definition (RFC 9110 §4.2.3), not a different spelling.
        spelled=None if spelled in (target, target[1:]) else spelled,
    )


def canonical_target(spelled: str) -> str:
    """Return the canonical request target of a path-and-query as a URL spells it (see above)."""
    path, _, query = spelled.partition("?")
    path = _escape_unsafe(_normalize_escapes(path.replace("\\", "/")), _PATH_SAFE)
    path = remove_dot_segments(path if path.startswith("/") else "/" + path)
    if not query:
        return path  # an empty query: Scrapy sends no "?"
    return path + "?" + _escape_unsafe(_normalize_escapes(query), _QUERY_SAFE)


#: Escapes of the path separators a server may decode before resolving dot segments.
_SEPARATOR_ESCAPE = re.compile(r"%(?:2[Ff]|5[Cc])")


def resolved_path(target: str) -> str | None:
    """Return the path a server that decodes ``%2F`` and ``%5C`` before resolving dot segments
    (nginx does; IIS treats ``\\`` as ``/``) would serve for canonical *target*, when it differs
    from the canonical path; else None.

    The canonical form keeps ``%2F`` (a server may equally treat it as data), so the path a
    decision is made for is checked under both readings and the stricter one wins
    (:meth:`optout.site.Site.before_request`): ``/a%2F..%2Fprivate/x`` is checked as
    ``/private/x`` too.
    """
    path = target.partition("?")[0]
    if "%" not in path or not _SEPARATOR_ESCAPE.search(path):
        return None
    resolved = remove_dot_segments(_SEPARATOR_ESCAPE.sub("/", path))
    return None if resolved == path else resolved


def remove_dot_segments(path: str) -> str:
    """Return absolute *path* without ``.`` and ``..`` segments (RFC 3986 §5.2.4)."""
    if "." not in path:
        return path
    segments = path.split("/")[1:]
    out: list[str] = []
    for segment in segments:
        if segment == "..":
            if out:
                out.pop()
        elif segment != ".":
            out.append(segment)
    result = "/" + "/".join(out)
    if segments[-1] in (".", "..") and not result.endswith("/"):
        result += "/"  # "/a/b/.." is the directory "/a/"
    return result


def _normalize_escapes(text: str) -> str:
    if "%" not in text:
        return text
    return _ESCAPE.sub(_decode_unreserved, text)


def _decode_unreserved(match: re.Match[str]) -> str:
    char = chr(int(match[1], 16))
    return char if char in UNRESERVED else "%" + match[1].upper()


def _escape_unsafe(text: str, safe: frozenset[str]) -> str:
    if all(c in safe for c in text):
        return text
    return "".join(
        c if c in safe else "".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass"))
        for c in text
    )


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
