"""The outbox: e-mails to send, written with the change they tell of, delivered later.

A message is enqueued in the transaction that records what it tells (a complaint received, a
step taken), so there is never a step without its message nor a message without its step; a
sender delivers it afterwards, outside every request. Senders may run in several processes at
once (the portal's workers, ``heed mail send``): each first *claims* a message — an UPDATE that
succeeds for one of them only — and holds it for :data:`CLAIM_SECONDS`; a sender that dies
mid-delivery leaves a claim that expires, and the message is tried again (delivery is at least
once, never silently dropped).

A failed delivery is retried after the delays of :data:`RETRY_DELAYS`; after the last one, or at
once for a permanent refusal (an address the server rejects), the message is given up, with the
error kept. The secret a message may carry (the claimant's status URL, whose key is otherwise
stored only as a hash) is substituted into the body at sending and erased once the message is
sent or given up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update

from audit.engine import reading
from audit.models import COMPLAINT_T, MAIL_OUTBOX_T

#: Seconds to wait before the 2nd, 3rd, … attempt; the message is given up after the last.
RETRY_DELAYS = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
#: How long a sender holds a claimed message before another may try it.
CLAIM_SECONDS = 300
#: Where a message's body takes its secret.
SECRET = "{secret}"
STATES = ("pending", "sent", "failed")
_ERROR_CHARS = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """An e-mail to enqueue."""

    recipient: str
    subject: str
    body: str
    #: What it tells (a complaint's status, ``received`` first).
    topic: str
    complaint_id: int | None = None
    #: Put into the body in place of :data:`SECRET` when sent, and erased after.
    secret: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Claimed:
    """A message a sender holds: deliver it, then :func:`mark_sent` or :func:`mark_failed`."""

    id: int
    recipient: str
    subject: str
    #: The body with its secret in place.
    body: str
    #: This attempt's number (1 for the first).
    attempt: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxRecord:
    """A message and how its delivery went (never its secret)."""

    id: int
    topic: str
    recipient: str
    subject: str
    #: The complaint's reference, if the message tells of one.
    complaint: str | None
    created_at: dt.datetime
    attempts: int
    next_attempt_at: dt.datetime
    sent_at: dt.datetime | None
    gave_up_at: dt.datetime | None
    last_error: str

    @property
    def state(self) -> str:
        """Return ``sent``, ``failed`` (given up) or ``pending``."""
        if self.sent_at is not None:
            return "sent"
        return "failed" if self.gave_up_at is not None else "pending"


def enqueue(conn: Connection, message: Message, *, now: dt.datetime) -> int:
    """Add *message* to the outbox in the caller's transaction; return its id."""
    row = {
        "complaint_id": message.complaint_id,
        "topic": message.topic,
        "recipient": message.recipient,
        "subject": message.subject[:300],
        "body": message.body,
        "secret": message.secret,
        "created_at": now,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
    }
    new = conn.execute(insert(MAIL_OUTBOX_T).values(**row)).inserted_primary_key
    assert new is not None
    return int(new[0])


def claim_due(
    engine: Engine,
    *,
    now: dt.datetime | None = None,
    limit: int = 20,
    complaint_id: int | None = None,
) -> list[Claimed]:
    """Claim up to *limit* messages due at *now* (only those of *complaint_id* when given),
    oldest due first; each is this sender's until :data:`CLAIM_SECONDS` have passed."""
    when = now or dt.datetime.now(dt.UTC)
    o = MAIL_OUTBOX_T.c
    due = and_(
        o.sent_at.is_(None),
        o.gave_up_at.is_(None),
        o.next_attempt_at <= when,
        or_(o.claimed_until.is_(None), o.claimed_until < when),
    )
    if complaint_id is not None:
        due = and_(due, o.complaint_id == complaint_id)
    with engine.begin() as conn:
        candidates = [
            r.id
            for r in conn.execute(
                select(o.id).where(due).order_by(o.next_attempt_at, o.id).limit(limit)
            )
        ]
    claimed: list[Claimed] = []
    hold = when + dt.timedelta(seconds=CLAIM_SECONDS)
    for mid in candidates:
        with engine.begin() as conn:
            taken = conn.execute(
                update(MAIL_OUTBOX_T)
                .where(o.id == mid, due)
                .values(claimed_until=hold, attempts=o.attempts + 1)
            )
            if taken.rowcount != 1:
                continue  # another sender took it in between
            row = conn.execute(select(MAIL_OUTBOX_T).where(o.id == mid)).one()
        body = row.body if row.secret is None else row.body.replace(SECRET, row.secret)
        claimed.append(
            Claimed(
                id=row.id,
                recipient=row.recipient,
                subject=row.subject,
                body=body,
                attempt=row.attempts,
            )
        )
    return claimed


def mark_sent(engine: Engine, message_id: int, *, now: dt.datetime | None = None) -> None:
    """Record that the claimed message *message_id* was delivered; erase its secret."""
    when = now or dt.datetime.now(dt.UTC)
    values = {"sent_at": when, "claimed_until": None, "secret": None, "last_error": ""}
    with engine.begin() as conn:
        conn.execute(update(MAIL_OUTBOX_T).where(MAIL_OUTBOX_T.c.id == message_id).values(values))


def mark_failed(
    engine: Engine,
    message_id: int,
    error: str,
    *,
    permanent: bool = False,
    now: dt.datetime | None = None,
) -> bool:
    """Record that delivering *message_id* failed with *error*; return True if it is given up
    (a *permanent* failure, or the last attempt), False if it will be tried again."""
    when = now or dt.datetime.now(dt.UTC)
    o = MAIL_OUTBOX_T.c
    with engine.begin() as conn:
        attempts = conn.execute(select(o.attempts).where(o.id == message_id)).scalar_one()
        give_up = permanent or attempts >= MAX_ATTEMPTS
        values: dict[str, object] = {"claimed_until": None, "last_error": error[:_ERROR_CHARS]}
        if give_up:
            values |= {"gave_up_at": when, "secret": None}
        else:
            delay = RETRY_DELAYS[max(0, min(attempts, len(RETRY_DELAYS)) - 1)]
            values["next_attempt_at"] = when + dt.timedelta(seconds=delay)
        conn.execute(update(MAIL_OUTBOX_T).where(o.id == message_id).values(values))
    return give_up


def messages_to(engine: Engine, recipient: str, since: dt.datetime, topic: str) -> int:
    """Return how many messages of *topic* were written to *recipient* (any letter case) since
    *since*."""
    o = MAIL_OUTBOX_T.c
    query = (
        select(func.count())
        .select_from(MAIL_OUTBOX_T)
        .where(
            func.lower(o.recipient) == recipient.strip().lower(),
            o.topic == topic,
            o.created_at >= since,
        )
    )
    with reading(engine) as conn:
        return int(conn.execute(query).scalar_one())


def list_outbox(engine: Engine, state: str | None = None) -> list[OutboxRecord]:
    """Return the messages (those in *state*: pending, sent or failed), oldest first."""
    o = MAIL_OUTBOX_T.c
    query = (
        select(
            o.id,
            o.topic,
            o.recipient,
            o.subject,
            COMPLAINT_T.c.reference,
            o.created_at,
            o.attempts,
            o.next_attempt_at,
            o.sent_at,
            o.gave_up_at,
            o.last_error,
        )
        .select_from(MAIL_OUTBOX_T.outerjoin(COMPLAINT_T, COMPLAINT_T.c.id == o.complaint_id))
        .order_by(o.id)
    )
    if state == "sent":
        query = query.where(o.sent_at.is_not(None))
    elif state == "failed":
        query = query.where(o.gave_up_at.is_not(None))
    elif state == "pending":
        query = query.where(o.sent_at.is_(None), o.gave_up_at.is_(None))
    with reading(engine) as conn:
        rows = conn.execute(query).all()
    return [
        OutboxRecord(
            id=r.id,
            topic=r.topic,
            recipient=r.recipient,
            subject=r.subject,
            complaint=r.reference,
            created_at=r.created_at,
            attempts=r.attempts,
            next_attempt_at=r.next_attempt_at,
            sent_at=r.sent_at,
            gave_up_at=r.gave_up_at,
            last_error=r.last_error,
        )
        for r in rows
    ]
