"""The reservations registry as a protocol: entries in force, matched against the URL to send.

The registry (kept in the audit database, audit/registry.py) holds reservations a rightsholder
notified other than on the site. The engine reads it like any other source: a snapshot of the
entries in force is one document (:attr:`Registry.document`, canonical JSON, whose sha256 is the
registry's version), and an entry that covers a URL gives a RESERVED signal naming the entry,
its source and the snapshot, before any request is sent (:meth:`optout.site.Site.before_request`).

What an entry covers:

* ``domain`` ``example.com``: the host and every host under it;
* ``host`` ``books.example.com``: that host only;
* ``prefix`` ``example.com/books/``: URLs of that host, on any scheme or port, whose request
  path starts with ``/books/``. The URL is taken in the URL model's canonical form (the form
  that goes on the wire), and also as a server that decodes ``%2F`` would resolve it; paths are
  compared without regard to case, since some servers ignore it: an entry may reserve more than
  its rightsholder named, never less.

Pure: no I/O; the caller gives the entries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from optout.decision import Protocol, Purpose, Signal, Verdict
from optout.url import InvalidURL, parse_url, resolved_path

#: Parser name and version recorded with the registry's signals.
PARSER = "heed-registry/1"


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """A registry entry in force, as the engine needs it."""

    id: int
    #: ``domain``, ``host`` or ``prefix``.
    scope: str
    #: A domain, a host, or ``host/path-prefix`` (canonical form).
    target: str
    purposes: tuple[Purpose, ...]
    #: Where it comes from (``operator``, ``complaint C-7``).
    source: str
    #: When it was recorded (ISO 8601).
    added: str

    @property
    def host(self) -> str:
        """Return the host (or domain) the entry names."""
        return self.target.split("/", 1)[0]

    @property
    def prefix(self) -> str | None:
        """Return the path prefix of a ``prefix`` entry (lower-cased), else None."""
        if self.scope != "prefix":
            return None
        return "/" + self.target.split("/", 1)[1].lower()

    def as_dict(self) -> dict[str, object]:
        """Return the entry as it appears in the registry document."""
        return {
            "id": self.id,
            "scope": self.scope,
            "target": self.target,
            "purposes": [p.value for p in self.purposes],
            "source": self.source,
            "added": self.added,
        }


class Registry:
    """The entries in force, indexed by host, and the document they make."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        """Index *entries* (the entries in force, in any order)."""
        self.entries = tuple(sorted(entries, key=lambda e: e.id))
        #: Canonical JSON of the entries: the document the signals' sha256 names.
        self.document = json.dumps(
            {"registry": [e.as_dict() for e in self.entries]},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        self.sha256 = hashlib.sha256(self.document).hexdigest()
        self._by_host: dict[str, list[Entry]] = {}
        self._domains: dict[str, list[Entry]] = {}
        for entry in self.entries:
            index = self._domains if entry.scope == "domain" else self._by_host
            index.setdefault(entry.host, []).append(entry)
        self._signals: dict[int, Signal] = {}

    @property
    def version(self) -> str:
        """Return the registry's version: ``sha256:`` and the hex digest of its document."""
        return f"sha256:{self.sha256}"

    def __len__(self) -> int:
        return len(self.entries)

    def for_host(self, host: str) -> tuple[Entry, ...]:
        """Return the entries that may cover URLs of *host* (normalised): its domain entries,
        its host entries and its prefixes."""
        found = list(self._by_host.get(host, ()))
        labels = host.split(".")
        for start in range(len(labels)):
            found.extend(self._domains.get(".".join(labels[start:]), ()))
        return tuple(sorted(found, key=lambda e: e.id))

    def signals(self, url: str, entries: Iterable[Entry] | None = None) -> list[Signal]:
        """Return a RESERVED signal for each entry that covers *url*.

        *entries*: those of the URL's host, when the caller has them (:meth:`for_host`). A URL
        the URL model cannot parse gets none: it is never requested (:func:`optout.url.parse_url`).
        """
        try:
            parsed = parse_url(url)
        except InvalidURL:
            return []  # no host to match: the URL model refuses to request it anyway
        candidates = self.for_host(parsed.host) if entries is None else tuple(entries)
        if not candidates:
            return []
        paths = {parsed.path.lower()}
        resolved = resolved_path(parsed.target)
        if resolved is not None:
            paths.add(resolved.lower())
        found = []
        for entry in candidates:
            prefix = entry.prefix
            if prefix is None or any(p.startswith(prefix) for p in paths):
                found.append(self._signal(entry))
        return found

    def _signal(self, entry: Entry) -> Signal:
        sig = self._signals.get(entry.id)
        if sig is None:
            reserved = ", ".join(p.value for p in entry.purposes)
            sig = Signal(
                protocol=Protocol.REGISTRY,
                purposes=dict.fromkeys(entry.purposes, Verdict.RESERVED),
                reason=f"reservations registry entry {entry.id} ({entry.source}) reserves "
                f"{reserved}",
                source=f"heed registry {self.version}",
                rule=f"entry {entry.id}: {entry.scope} {entry.target}",
                sha256=self.sha256,
                parser=PARSER,
                fetched_at=entry.added,
            )
            self._signals[entry.id] = sig
        return sig
