"""Complaints (Code of Practice Measure 1.5): what a rightsholder submitted, and its handling.

A complaint is stored as submitted (``complaint``) and handled in steps (``complaint_event``):
``received`` → ``acknowledged`` → ``in-review`` → ``upheld`` / ``rejected`` / ``withdrawn``.
Steps may be skipped forward, never taken back, and a decided complaint is decided once: a
second decision is refused. Both tables are append-only, so the history is the record of how
the complaint was handled: each step with its time, who took it and why.

The claimant follows the complaint through a status URL whose key only they hold (its sha256
is stored). Upholding with ``reserve`` puts each concern that names a domain, host or URL
prefix into the reservations registry (audit/registry.py), in the same transaction, with the
complaint's reference as the source.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from audit.engine import reading
from audit.errors import AuditError, NotFoundError, TargetError
from audit.models import COMPLAINT_EVENT_T, COMPLAINT_T
from audit.outbox import Message, enqueue
from audit.registry import RegistryRecord, insert_registry_entry, parse_registry_target

CAPACITIES = ("rightsholder", "representative")
REQUESTS = ("no-future-use", "removal", "information")
STATUSES = ("received", "acknowledged", "in-review", "upheld", "rejected", "withdrawn")
DECIDED = frozenset({"upheld", "rejected", "withdrawn"})
#: Limits of a submission (characters, and items concerned).
MAX_NAME = 200
MAX_TEXT = 10_000
MAX_CONCERNS = 50
MAX_CONCERN = 2_000
_EMAIL = re.compile(r"[^@\s<>\"',;]{1,64}@[^@\s<>\"',;]{1,253}\.[A-Za-z0-9-]{2,63}")


#: Builds the claimant's receipt from the new complaint and its status key (None: no mail).
ReceiptNotice = Callable[["ComplaintRecord", str], Message | None]
#: Builds the claimant's message of a step from the complaint after it and the registry
#: entries it made (None: no mail).
StepNotice = Callable[["ComplaintRecord", Sequence[RegistryRecord]], Message | None]


class ComplaintError(AuditError):
    """A complaint that cannot be taken, or a step its state does not allow."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Submission:
    """What a claimant submits."""

    claimant: str
    capacity: str
    email: str
    concerns: tuple[str, ...]
    right_claimed: str
    statement: str
    requested: tuple[str, ...]
    #: The registrable domain the submitter proved control of (the portal's credential).
    verified_domain: str | None = None

    def checked(self) -> Submission:
        """Return the submission trimmed, or raise ComplaintError naming the first problem."""
        concerns = tuple(c.strip() for c in self.concerns if c.strip())
        requested = tuple(r for r in REQUESTS if r in {x.strip().lower() for x in self.requested})
        fields = {
            "claimant": (self.claimant.strip(), MAX_NAME),
            "right claimed": (self.right_claimed.strip(), MAX_TEXT),
            "statement": (self.statement.strip(), MAX_TEXT),
        }
        for name, (value, limit) in fields.items():
            if not value:
                raise ComplaintError(f"the {name} is missing")
            if len(value) > limit:
                raise ComplaintError(f"the {name} is longer than {limit} characters")
        if self.capacity not in CAPACITIES:
            raise ComplaintError(f"capacity must be one of {', '.join(CAPACITIES)}")
        email = self.email.strip()
        if len(email) > 254 or not _EMAIL.fullmatch(email):
            raise ComplaintError("give a contact e-mail address such as name@example.com")
        if not concerns:
            raise ComplaintError("name the works, URLs, URL prefixes or domains concerned")
        if len(concerns) > MAX_CONCERNS or any(len(c) > MAX_CONCERN for c in concerns):
            raise ComplaintError(
                f"at most {MAX_CONCERNS} works or URLs concerned, of {MAX_CONCERN} characters each"
            )
        unknown = {x.strip().lower() for x in self.requested} - set(REQUESTS) - {""}
        if unknown or not requested:
            raise ComplaintError(f"say what is requested: {', '.join(REQUESTS)}")
        return Submission(
            claimant=fields["claimant"][0],
            capacity=self.capacity,
            email=email,
            concerns=concerns,
            right_claimed=fields["right claimed"][0],
            statement=fields["statement"][0],
            requested=requested,
            verified_domain=self.verified_domain,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One step of a complaint's handling."""

    status: str
    at: dt.datetime
    actor: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ComplaintRecord:
    """A complaint as submitted, with its history."""

    id: int
    reference: str
    submission: Submission
    received_at: dt.datetime
    steps: tuple[Step, ...]

    @property
    def status(self) -> str:
        """Return the complaint's current status: its latest step's."""
        return self.steps[-1].status

    @property
    def decided_at(self) -> dt.datetime | None:
        """Return when it was decided (upheld, rejected or withdrawn), or None."""
        return next((s.at for s in self.steps if s.status in DECIDED), None)


def submit_complaint(
    engine: Engine,
    submission: Submission,
    *,
    now: dt.datetime | None = None,
    notify: ReceiptNotice | None = None,
) -> tuple[ComplaintRecord, str]:
    """Record *submission*; return the complaint and the key of its status URL (shown once).

    *notify* builds the claimant's receipt, put in the outbox in the same transaction.
    """
    sub = submission.checked()
    when = now or dt.datetime.now(dt.UTC)
    key = secrets.token_urlsafe(24)
    reference = "HC-" + secrets.token_hex(5).upper()
    row = {
        "reference": reference,
        "status_key_sha256": _sha(key),
        "claimant": sub.claimant,
        "capacity": sub.capacity,
        "email": sub.email,
        "concerns": json.dumps(list(sub.concerns), ensure_ascii=False),
        "right_claimed": sub.right_claimed,
        "statement": sub.statement,
        "requested": json.dumps(list(sub.requested)),
        "verified_domain": sub.verified_domain,
        "received_at": when,
    }
    with engine.begin() as conn:
        new = conn.execute(insert(COMPLAINT_T).values(**row)).inserted_primary_key
        assert new is not None
        _step(conn, new[0], "received", when, "portal", "")
        if notify is not None:
            record = ComplaintRecord(
                id=new[0],
                reference=reference,
                submission=sub,
                received_at=when,
                steps=(Step(status="received", at=when, actor="portal", reason=""),),
            )
            message = notify(record, key)
            if message is not None:
                enqueue(conn, message, now=when)
    found = find_complaint(engine, reference)
    assert found is not None
    return found, key


def find_complaint(engine: Engine, reference: str) -> ComplaintRecord | None:
    """Return the complaint with *reference* (case-insensitive), or None."""
    with reading(engine) as conn:
        return _load(conn, COMPLAINT_T.c.reference == reference.strip().upper())


def complaint_by_key(engine: Engine, key: str) -> ComplaintRecord | None:
    """Return the complaint whose status URL holds *key*, or None."""
    if not key or len(key) > 100:
        return None
    with reading(engine) as conn:
        return _load(conn, COMPLAINT_T.c.status_key_sha256 == _sha(key))


def list_complaints(engine: Engine, status: str | None = None) -> list[ComplaintRecord]:
    """Return every complaint (or those whose current status is *status*), oldest first."""
    with reading(engine) as conn:
        ids = [r.id for r in conn.execute(select(COMPLAINT_T.c.id).order_by(COMPLAINT_T.c.id))]
        found = [_load(conn, COMPLAINT_T.c.id == i) for i in ids]
    return [c for c in found if c is not None and (status is None or c.status == status)]


def record_step(
    engine: Engine,
    reference: str,
    status: str,
    *,
    actor: str,
    reason: str = "",
    reserve: Sequence[str] | None = None,
    now: dt.datetime | None = None,
    notify: StepNotice | None = None,
) -> tuple[ComplaintRecord, list[RegistryRecord], list[str]]:
    """Move the complaint *reference* to *status*; return it, the registry entries made, and
    the concerns that name no domain, host or prefix (so none was made for them).

    *reserve* (purposes; empty for the default ones) is allowed with ``upheld`` only: each
    concern that names a domain, host or URL prefix becomes a registry entry. A decision needs
    a reason. NotFoundError for an unknown reference; ComplaintError for a step not allowed.
    *notify* builds the claimant's message of the step, put in the outbox in the same
    transaction.
    """
    if status not in STATUSES or status == "received":
        raise ComplaintError(f"status must be one of {', '.join(STATUSES[1:])}")
    if status in ("upheld", "rejected") and not reason.strip():
        raise ComplaintError(f"a complaint {status} needs its reason")
    if reserve is not None and status != "upheld":
        raise ComplaintError("only an upheld complaint reserves")
    when = now or dt.datetime.now(dt.UTC)
    made: list[RegistryRecord] = []
    skipped: list[str] = []
    with engine.begin() as conn:
        found = _load(conn, COMPLAINT_T.c.reference == reference.strip().upper())
        if found is None:
            raise NotFoundError(f"no complaint {reference}")
        current = found.status
        if current in DECIDED:
            raise ComplaintError(f"complaint {found.reference} was already {current}")
        if STATUSES.index(status) <= STATUSES.index(current) and status not in DECIDED:
            raise ComplaintError(f"complaint {found.reference} is already {current}")
        _step(conn, found.id, status, when, actor, reason.strip())
        if reserve is not None:
            for concern in found.submission.concerns:
                try:
                    parse_registry_target(concern)
                except TargetError:
                    skipped.append(concern)
                    continue
                made.append(
                    insert_registry_entry(
                        conn,
                        concern,
                        purposes=reserve,
                        source=f"complaint {found.reference}",
                        note=reason.strip()[:2000],
                        actor=actor,
                        now=when,
                    )
                )
        if notify is not None:
            after = _load(conn, COMPLAINT_T.c.id == found.id)
            assert after is not None
            message = notify(after, made)
            if message is not None:
                enqueue(conn, message, now=when)
    result = find_complaint(engine, found.reference)
    assert result is not None
    return result, made, skipped


def overdue(
    complaints: Sequence[ComplaintRecord], days: float, *, now: dt.datetime | None = None
) -> list[ComplaintRecord]:
    """Return the complaints not yet decided and received more than *days* ago."""
    limit = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=days)
    return [c for c in complaints if c.decided_at is None and c.received_at < limit]


@dataclass(frozen=True, slots=True, kw_only=True)
class ComplaintFigures:
    """What the published documents say of the complaints: counts, and how long a decision
    took (no personal data)."""

    received: int
    upheld: int
    rejected: int
    withdrawn: int
    #: Median days from receipt to decision, over the decided complaints (None: none yet).
    median_days: float | None

    @property
    def open(self) -> int:
        """Return how many complaints are not decided yet."""
        return self.received - self.upheld - self.rejected - self.withdrawn


def complaint_figures(engine: Engine) -> ComplaintFigures:
    """Return the counts of every complaint received, and the median time to a decision."""
    found = list_complaints(engine)
    by = {status: sum(c.status == status for c in found) for status in DECIDED}
    waits = [
        (c.decided_at - c.received_at).total_seconds() / 86400
        for c in found
        if c.decided_at is not None
    ]
    return ComplaintFigures(
        received=len(found),
        upheld=by["upheld"],
        rejected=by["rejected"],
        withdrawn=by["withdrawn"],
        median_days=round(statistics.median(waits), 1) if waits else None,
    )


def _step(
    conn: Connection, complaint: int, status: str, at: dt.datetime, actor: str, why: str
) -> None:
    values = {"complaint_id": complaint, "status": status, "at": at, "actor": actor, "reason": why}
    conn.execute(insert(COMPLAINT_EVENT_T).values(**values))


def _load(conn: Connection, where: Any) -> ComplaintRecord | None:
    row = conn.execute(select(COMPLAINT_T).where(where)).first()
    if row is None:
        return None
    e = COMPLAINT_EVENT_T.c
    steps = conn.execute(select(COMPLAINT_EVENT_T).where(e.complaint_id == row.id).order_by(e.id))
    return ComplaintRecord(
        id=row.id,
        reference=row.reference,
        submission=Submission(
            claimant=row.claimant,
            capacity=row.capacity,
            email=row.email,
            concerns=tuple(json.loads(row.concerns)),
            right_claimed=row.right_claimed,
            statement=row.statement,
            requested=tuple(json.loads(row.requested)),
            verified_domain=row.verified_domain,
        ),
        received_at=row.received_at,
        steps=tuple(Step(status=s.status, at=s.at, actor=s.actor, reason=s.reason) for s in steps),
    )


def _sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
