"""The reservations registry: reservations a rightsholder notified other than on the site.

Code of Practice Measure 1.3(2) asks providers to honour reservations expressed "in any
appropriate manner", and some never reach the site as a machine-readable file: a letter, an
upheld complaint, an entry the provider's operator makes (docs/regulation.md AC-05). The
registry holds them, each for one of:

* a **domain** — a registrable domain and every host under it (``example.com``);
* a **host** — that host only (``books.example.com``);
* a **prefix** — the URLs of a host whose path starts with the given one
  (``https://example.com/books/``), whatever their scheme or port: a rightsholder names their
  works, not a port. The path is kept in the URL model's canonical form
  (:mod:`optout.url`), the form every request is checked in, so ``/Books/../books/`` and
  ``/books/`` are one prefix.

and for the purposes it reserves (by default ``tdm``, ``train-ai`` and ``ai-input``: the uses
of text and data mining for AI; search is not reserved unless named).

The table is append-only (``registry_entry``): an entry is withdrawn by a later row that names
it, so what was in force on any day can be told afterwards, and every row says who recorded it,
when, and from what source (``operator`` or ``complaint <reference>``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text

from audit.engine import reading
from audit.errors import AuditError, NotFoundError, TargetError
from audit.models import REGISTRY_T, SIGNAL_T, UTCDateTime
from audit.urls import is_public_suffix, registrable_domain
from optout.decision import Protocol, Purpose
from optout.url import InvalidURL, check_host, normalize_host, parse_url

SCOPES = ("domain", "host", "prefix")
#: Purposes an entry reserves when none are named: the uses of text and data mining for AI.
DEFAULT_PURPOSES = (Purpose.TDM.value, Purpose.TRAIN_AI.value, Purpose.AI_INPUT.value)
#: Longest target and note accepted (a URL prefix is a URL).
MAX_TARGET = 2000
MAX_NOTE = 2000


class RegistryError(AuditError):
    """A registry change that cannot be made (an entry already withdrawn, a bad purpose)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistryRecord:
    """One row of the registry's history: an entry added, or one withdrawn (``entry_id``)."""

    id: int
    action: str
    entry_id: int | None
    scope: str
    target: str
    purposes: tuple[str, ...]
    source: str
    note: str
    actor: str
    recorded_at: dt.datetime


def parse_registry_target(text: str) -> tuple[str, str]:
    """Return ``(scope, target)`` for a domain, host or URL prefix; raise TargetError.

    A URL whose path is ``/`` names its host; any other path, a prefix. A name that is its own
    registrable domain is a domain, any other name a host.
    """
    text = text.strip()
    if not text or len(text) > MAX_TARGET:
        raise TargetError(f"give a domain, host or URL prefix of at most {MAX_TARGET} characters")
    if "://" in text:
        try:
            url = parse_url(text)
        except InvalidURL as exc:
            raise TargetError(f"{text!r} is not a usable URL prefix: {exc}") from None
        if "?" in url.target:
            raise TargetError(f"{text!r}: a prefix is a path, without a query")
        if url.target == "/":
            return "host", url.host
        return "prefix", url.host + url.target
    if "/" in text or "?" in text or "#" in text:
        raise TargetError(f"{text!r}: give a prefix as a URL with its scheme (https://…)")
    try:
        host = normalize_host(text)
        check_host(host, text)
    except (InvalidURL, UnicodeError, ValueError):
        raise TargetError(f"{text!r} is not a domain or host name") from None
    if not host or (":" in host and not host.startswith("[")):
        raise TargetError(f"{text!r} is not a domain or host name")
    if is_public_suffix(host):
        raise TargetError(f"{host} is a public suffix, not a domain: name the registrable domain")
    named = "." in host and not _is_address(host) and registrable_domain(host) == host
    return ("domain" if named else "host"), host


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def parse_purposes(names: Iterable[str]) -> tuple[str, ...]:
    """Return the purposes named (each once, in the engine's order), or the default ones."""
    wanted = {n.strip().lower() for n in names if n.strip()}
    if not wanted:
        return DEFAULT_PURPOSES
    known = [p.value for p in Purpose]
    unknown = sorted(wanted - set(known))
    if unknown:
        raise RegistryError(f"unknown purpose {unknown[0]!r}: use one of {', '.join(known)}")
    return tuple(p for p in known if p in wanted)


def add_registry_entry(
    engine: Engine,
    target: str,
    *,
    purposes: Sequence[str] = (),
    source: str = "operator",
    note: str = "",
    actor: str,
    now: dt.datetime | None = None,
) -> RegistryRecord:
    """Record a reservation of *purposes* for *target* (a domain, host or URL prefix)."""
    with engine.begin() as conn:
        return insert_registry_entry(
            conn, target, purposes=purposes, source=source, note=note, actor=actor, now=now
        )


def insert_registry_entry(
    conn: Connection,
    target: str,
    *,
    purposes: Sequence[str] = (),
    source: str = "operator",
    note: str = "",
    actor: str,
    now: dt.datetime | None = None,
) -> RegistryRecord:
    """Add the entry of :func:`add_registry_entry` in the caller's transaction *conn*."""
    scope, key = parse_registry_target(target)
    row = {
        "action": "add",
        "entry_id": None,
        "scope": scope,
        "target": key,
        "purposes": json.dumps(list(parse_purposes(purposes))),
        "source": _text(source, "source", 200) or "operator",
        "note": _text(note, "note", MAX_NOTE),
        "actor": _text(actor, "actor", 200),
        "recorded_at": now or dt.datetime.now(dt.UTC),
    }
    new_id = conn.execute(insert(REGISTRY_T).values(**row)).inserted_primary_key
    assert new_id is not None
    return _record({"id": new_id[0], **row})


def remove_registry_entry(
    engine: Engine,
    entry_id: int,
    *,
    note: str = "",
    actor: str,
    now: dt.datetime | None = None,
) -> RegistryRecord:
    """Withdraw the entry *entry_id* by recording its removal (the entry itself stays).

    NotFoundError when there is no such entry; RegistryError when it is a removal itself or was
    already withdrawn.
    """
    c = REGISTRY_T.c
    with engine.begin() as conn:
        entry = conn.execute(select(REGISTRY_T).where(c.id == entry_id)).first()
        if entry is None:
            raise NotFoundError(f"no registry entry {entry_id}")
        if entry.action != "add":
            raise RegistryError(f"registry row {entry_id} records a removal, not an entry")
        done = conn.execute(select(c.id).where(c.entry_id == entry_id)).first()
        if done is not None:
            raise RegistryError(f"registry entry {entry_id} was already removed (row {done.id})")
        row = {
            "action": "remove",
            "entry_id": entry_id,
            "scope": entry.scope,
            "target": entry.target,
            "purposes": entry.purposes,
            "source": entry.source,
            "note": _text(note, "note", MAX_NOTE),
            "actor": _text(actor, "actor", 200),
            "recorded_at": now or dt.datetime.now(dt.UTC),
        }
        new_id = conn.execute(insert(REGISTRY_T).values(**row)).inserted_primary_key
    assert new_id is not None
    return _record({"id": new_id[0], **row})


def registry_history(engine: Engine) -> list[RegistryRecord]:
    """Return every row of the registry, oldest first."""
    with reading(engine) as conn:
        rows = conn.execute(select(REGISTRY_T).order_by(REGISTRY_T.c.id))
        return [_record(r._mapping) for r in rows]


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistryFigures:
    """What the published documents say of the registry: its entries, and what it excluded."""

    #: Entries in force now.
    in_force: int
    #: Of them, those made by upholding a complaint.
    from_complaints: int
    #: Distinct URLs and registrable domains the registry kept out, and the decisions, in
    #: every crawl run.
    urls: int
    domains: int
    decisions: int


def registry_figures(engine: Engine, *, exclusions: bool = True) -> RegistryFigures:
    """Return the entries in force and what the registry excluded over every crawl run
    (*exclusions* False: counted as 0, for a caller that counts them over its own runs)."""
    from audit.reporting.exclusions import signal_exclusions_query

    entries = registry_in_force(engine)
    urls = domains = decisions = 0
    if exclusions:
        with reading(engine) as conn:
            # The registry's signals first (one per entry and registry version): none at all on
            # most databases, whose outcomes then need not be read.
            ever = conn.execute(select(REGISTRY_T.c.id).limit(1)).first() is not None
            s = SIGNAL_T.c
            found = select(s.id).where(s.protocol == Protocol.REGISTRY.value)
            ids = list(conn.execute(found).scalars()) if ever else []
            if ids:
                row = conn.execute(signal_exclusions_query(ids, engine.dialect.name)).one()
                urls, domains, decisions = int(row.urls), int(row.domains), int(row.decisions)
    return RegistryFigures(
        in_force=len(entries),
        from_complaints=sum(e.source.startswith("complaint ") for e in entries),
        urls=urls,
        domains=domains,
        decisions=decisions,
    )


def registry_in_force(engine: Engine, at: dt.datetime | None = None) -> list[RegistryRecord]:
    """Return the entries in force at *at* (now by default): added by then, not yet removed."""
    history = registry_history(engine)
    when = at or dt.datetime.now(dt.UTC)
    removed = {r.entry_id for r in history if r.action == "remove" and r.recorded_at <= when}
    return [
        r for r in history if r.action == "add" and r.recorded_at <= when and r.id not in removed
    ]


#: Entries in force whose target is *domain*, one of its hosts, or a prefix of one: LIKE
#: narrows (its wildcards in the domain escaped), :func:`registry_covering` decides.
_COVERING_SQL = text(
    "SELECT e.* FROM registry_entry e WHERE e.action = 'add' "
    "AND (e.target = :domain OR e.target LIKE :sub ESCAPE '!' OR e.target LIKE :path ESCAPE '!') "
    "AND NOT EXISTS (SELECT 1 FROM registry_entry r WHERE r.entry_id = e.id) ORDER BY e.id"
).columns(recorded_at=UTCDateTime())


def registry_covering(conn: Connection, domain: str) -> list[RegistryRecord]:
    """Return the entries in force for the registrable *domain* or any host or prefix under it."""
    escaped = domain.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    params = {"domain": domain, "sub": f"%.{escaped}%", "path": f"{escaped}/%"}
    found = []
    for row in conn.execute(_COVERING_SQL, params):
        host = row.target.split("/", 1)[0]
        if host == domain or host.endswith("." + domain):
            found.append(_record(row._mapping))
    return found


def _text(value: str, what: str, limit: int) -> str:
    value = value.strip()
    if len(value) > limit:
        raise RegistryError(f"the {what} is longer than {limit} characters")
    return value


def _record(row: Any) -> RegistryRecord:
    return RegistryRecord(
        id=int(row["id"]),
        action=row["action"],
        entry_id=row["entry_id"],
        scope=row["scope"],
        target=row["target"],
        purposes=tuple(json.loads(row["purposes"])),
        source=row["source"],
        note=row["note"],
        actor=row["actor"],
        recorded_at=row["recorded_at"],
    )
