"""The infringing-site denylist (Code of Practice Measure 1.2(1)(b), docs/regulation.md AC-07).

A text file, one domain per line; ``#`` starts a comment; a line ``# version: X`` names the
list's version (e.g. the date of the EU list it copies). Entries are normalised like hosts in the
audit trail (:func:`audit.urls.normalize_host`: lower case, no trailing dot, IDNA); a pasted URL,
``*.`` prefix or port is reduced to its host.

Matching is registrable-domain aware: a host is denylisted when it, or a parent domain of it
no shorter than its registrable domain (eTLD+1, :func:`audit.urls.registrable_domain`), is
listed. ``pirate.example`` thus covers ``www.pirate.example``; ``books.pirate.example`` covers
only that subtree; a listed public suffix (``co.uk``) matches nothing rather than a whole
country's web. A host under a suffix the list does not know (``.test``, ``.internal``) follows
the PSL algorithm's default rule ``*``: its registrable domain is its last two labels.

The version recorded with every decision is ``sha256:<hex of the file bytes>`` — exact, whatever
the label says — plus the label when the file has one.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from audit.urls import registrable_domain
from optout.url import normalize_host

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Denylist:
    """A loaded denylist: its domains, where it came from, and its exact version."""

    source: str
    #: ``sha256:<hex>`` of the file's bytes.
    digest: str
    #: The ``# version:`` label, when the file has one.
    label: str | None
    domains: frozenset[str]

    @property
    def version(self) -> str:
        """Return the version recorded with decisions: label and digest."""
        return f"{self.label} ({self.digest})" if self.label else self.digest

    @classmethod
    def load(cls, path: str | Path) -> Denylist:
        """Return the denylist in the file at *path* (OSError if it cannot be read)."""
        data = Path(path).read_bytes()
        return cls.parse(data, source=str(path))

    @classmethod
    def parse(cls, data: bytes, *, source: str) -> Denylist:
        """Return the denylist in *data* (UTF-8 text, one domain per line)."""
        label: str | None = None
        domains: set[str] = set()
        for number, raw in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
            line, _, comment = raw.partition("#")
            key, sep, value = comment.partition(":")
            if not line.strip() and sep and key.strip().lower() == "version" and label is None:
                label = value.strip() or None
            entry = _entry(line)
            if entry is None:
                if line.strip():
                    logger.warning("Denylist %s line %d ignored: %r", source, number, raw)
                continue
            domains.add(entry)
        return cls(
            source=source,
            digest="sha256:" + hashlib.sha256(data).hexdigest(),
            label=label,
            domains=frozenset(domains),
        )

    def note(self, entry: str) -> str:
        """Return the reason recorded for a URL whose host the listed *entry* covers."""
        return f"denylisted: {entry} is on {self.source} ({self.version})"

    def match(self, host: str) -> str | None:
        """Return the listed domain that covers *host*, or None."""
        if not self.domains or not host:
            return None
        host = normalize_host(host)
        for candidate in candidates(host):
            if candidate in self.domains:
                return candidate
        return None


def candidates(host: str) -> list[str]:
    """Return *host* and its parent domains down to its registrable domain, longest first."""
    domain = registrable_domain(host)  # the PSL default rule "*" included
    found = [host]
    if host == domain or not host.endswith("." + domain):
        return found  # an IP address, localhost, or a host that is itself the domain
    rest = host
    while rest != domain:
        rest = rest.partition(".")[2]
        found.append(rest)
    return found


def _entry(line: str) -> str | None:
    text = line.strip()
    if not text:
        return None
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0].rpartition("@")[2]
    if not text.startswith("["):
        text = text.partition(":")[0]
    text = text.removeprefix("*.").lstrip(".")
    if not text or any(c.isspace() for c in text):
        return None
    return normalize_host(text)
