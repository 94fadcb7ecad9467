"""What the I/O layer hands to optout/: a fetched document or resource, as plain values.

Failed retrievals are explicit inputs (a status, an error string, a redirect count), so that
each signal module maps them to an explicit verdict and nothing silently means "allow"
(docs/development.md#failed-retrievals-are-inputs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from optout.decision import sha256_hex

#: Header pairs in the order received; names lower-cased; repeated names allowed.
HeaderPairs = tuple[tuple[str, str], ...]


def normalize_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> HeaderPairs:
    """Return *headers* as lower-cased ``(name, value)`` pairs, order and repeats kept."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return tuple((str(name).strip().lower(), str(value).strip()) for name, value in items)


def header_values(headers: HeaderPairs, name: str) -> list[str]:
    """Return every value of header *name* (case-insensitive), in order."""
    key = name.lower()
    return [value for hname, value in headers if hname == key]


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchResult:
    """The outcome of retrieving one URL: a response, or the error that prevented one."""

    url: str
    #: Final HTTP status, or None when no response arrived (DNS, reset, timeout, TLS).
    status: int | None = None
    headers: HeaderPairs = ()
    body: bytes = b""
    #: Short machine-readable cause when no usable response arrived: ``timeout``, ``dns``,
    #: ``connection``, ``too_many_redirects``, ``truncated``, ``too_large``, …
    error: str | None = None
    #: Redirect hops followed before the final response.
    redirects: int = 0
    final_url: str | None = None
    #: ISO 8601 time of retrieval, supplied by the I/O layer (optout/ reads no clock).
    fetched_at: str | None = None
    #: The body was cut at the I/O layer's size cap (the part received is in ``body``).
    truncated: bool = False
    #: The redirect responses that led here, in order (each a 3xx with its Location): every
    #: request on the wire is evidence, not only the last.
    hops: tuple[FetchResult, ...] = ()
    _sha256: list[str] = field(default_factory=list, repr=False, compare=False)

    @property
    def sha256(self) -> str:
        """Return the sha256 of the body (computed once)."""
        if not self._sha256:
            self._sha256.append(sha256_hex(self.body))
        return self._sha256[0]

    def header(self, name: str) -> list[str]:
        """Return every value of header *name*."""
        return header_values(self.headers, name)

    @property
    def content_type(self) -> str:
        """Return the media type (lower-case, no parameters), or ``""``."""
        values = self.header("content-type")
        return values[-1].split(";", 1)[0].strip().lower() if values else ""
