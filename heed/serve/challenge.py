"""The two ways a rightsholder proves control of a domain: an HTTP file or a DNS TXT record.

docs/verification.md says what is followed (draft-ietf-dnsop-domain-verification-techniques
for DNS, ACME's HTTP-01 for the file) and which choices are conservative. The fetch is the
portal's one outgoing request on a stranger's behalf, so it is fenced like one:

* the only URLs fetched are ``https://DOMAIN/.well-known/heed-verification/TOKEN``, then, if
  that fails, the ``http://`` one: the host is the domain being verified, never a parameter;
* redirects are followed (at most :data:`MAX_REDIRECTS`) only on the same host;
* the host is resolved here and every address checked before connecting, and the connection
  goes to the checked address (no second resolution a DNS rebinding could change): private,
  loopback, link-local, multicast and reserved addresses are refused unless the operator
  allowed their network (``--verify-allow-private``);
* time (:attr:`ServeSettings.verify_timeout` in all) and size (:data:`MAX_BODY` bytes read)
  are bounded; no proxy or other environment setting applies (``trust_env=False``).

Where a host connects can be redirected by configuration (``--verify-connect-to``, like curl's
``--connect-to``): the tests use it to reach a local web server, and the address it names is
checked like any other.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import socket
from urllib.parse import urljoin, urlsplit

import dns.asyncresolver
import dns.exception
import dns.resolver
import httpx

from heed.serve.settings import ServeSettings

#: Redirects followed on the same host, at most.
MAX_REDIRECTS = 3
#: Bytes of the file read, at most (a token is 32 characters).
MAX_BODY = 1024
WELL_KNOWN = "/.well-known/heed-verification/"
#: The DNS name's first label (an underscore label: never a host name).
DNS_LABEL = "_heed-challenge"
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class CheckFailed(Exception):
    """The proof was not found; the message says why, in a sentence for the owner."""


def http_url(domain: str, token: str, scheme: str = "https") -> str:
    """Return the URL the file must be served at."""
    return f"{scheme}://{domain}{WELL_KNOWN}{token}"


def dns_name(domain: str) -> str:
    """Return the name the TXT record must be at."""
    return f"{DNS_LABEL}.{domain}"


async def check(method: str, domain: str, token: str, settings: ServeSettings) -> None:
    """Look for the proof by *method* (``http`` or ``dns``); raise CheckFailed if absent."""
    try:
        async with asyncio.timeout(settings.verify_timeout):
            if method == "dns":
                await check_dns(domain, token, settings)
            else:
                await check_http(domain, token, settings)
    except TimeoutError:
        raise CheckFailed(f"The check took longer than {settings.verify_timeout:g} s.") from None


async def check_http(domain: str, token: str, settings: ServeSettings) -> None:
    """Fetch the file over HTTPS, else HTTP; raise CheckFailed unless it holds the token."""
    failures = []
    for scheme in ("https", "http"):
        try:
            body = await _fetch(http_url(domain, token, scheme), domain, settings)
        except CheckFailed as exc:
            failures.append(f"{scheme}: {exc}")
            continue
        if hmac.compare_digest(body.strip(), token.encode()):
            return
        failures.append(f"{scheme}: the file does not hold the token")
    raise CheckFailed("The file was not found. " + "; ".join(failures))


async def _fetch(url: str, domain: str, settings: ServeSettings) -> bytes:
    async with httpx.AsyncClient(
        follow_redirects=False, trust_env=False, timeout=settings.verify_timeout
    ) as client:
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            if parts.hostname != domain:
                raise CheckFailed("it redirects to another host, which is not followed")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            address, connect_port = await _address(domain, port, settings)
            host = f"[{address}]" if address.version == 6 else str(address)
            target = f"{parts.scheme}://{host}:{connect_port}{parts.path}"
            headers = {"Host": parts.netloc, "User-Agent": "heed-verification"}
            try:
                request = client.build_request(
                    "GET", target, headers=headers, extensions={"sni_hostname": domain}
                )
                response = await client.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise CheckFailed(f"cannot fetch it ({type(exc).__name__})") from None
            try:
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("location", ""))
                    continue
                if response.status_code != 200:
                    raise CheckFailed(f"the server answered {response.status_code}")
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY:
                        raise CheckFailed(f"the file is longer than {MAX_BODY} bytes")
                return body
            finally:
                await response.aclose()
    raise CheckFailed(f"more than {MAX_REDIRECTS} redirects")


async def _address(host: str, port: int, settings: ServeSettings) -> tuple[_Address, int]:
    """Return the checked address (and port) to connect to for *host*:*port*."""
    mapped = dict(settings.connect_to).get(f"{host}:{port}")
    if mapped is not None:
        name, _, mapped_port = mapped.rpartition(":")
        host, port = name.strip("[]"), int(mapped_port)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise CheckFailed("the host name does not resolve") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise CheckFailed("the host name does not resolve")
    for address in addresses:  # every address must be allowed: the connection may pick any
        if not allowed(address, settings.allow_private):
            raise CheckFailed("it resolves to a private or reserved address, which is not fetched")
    return addresses[0], port


def allowed(address: _Address, networks: tuple[str, ...]) -> bool:
    """Whether a verification fetch may connect to *address*: a global unicast address, or one
    in a network the operator allowed."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in ipaddress.ip_network(n, strict=False) for n in networks):
        return True
    return address.is_global and not address.is_multicast


async def check_dns(domain: str, token: str, settings: ServeSettings) -> None:
    """Ask for the TXT records at ``_heed-challenge.DOMAIN``; one must be the token."""
    resolver = dns.asyncresolver.Resolver(configure=settings.dns_resolver is None)
    if settings.dns_resolver is not None:
        address, port = resolver_address(settings.dns_resolver)
        resolver.nameservers = [address]
        resolver.port = port
    resolver.lifetime = settings.verify_timeout
    name = dns_name(domain)
    try:
        answer = await resolver.resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        raise CheckFailed(f"There is no TXT record at {name}.") from None
    except dns.exception.DNSException as exc:
        raise CheckFailed(f"The DNS query for {name} failed ({type(exc).__name__}).") from None
    for record in answer:
        value = b"".join(record.strings).strip()  # long values come split in strings
        if hmac.compare_digest(value, token.encode()):
            return
    raise CheckFailed(f"No TXT record at {name} holds the token.")


def resolver_address(text: str) -> tuple[str, int]:
    """Return ``(address, port)`` of ``ADDRESS``, ``ADDRESS:PORT`` or ``[V6]:PORT``."""
    if text.startswith("["):
        address, _, rest = text[1:].partition("]")
        return address, int(rest[1:]) if rest.startswith(":") else 53
    if text.count(":") == 1:
        address, port = text.split(":")
        return address, int(port)
    return text, 53
