"""The audit schema: SQLAlchemy 2 typed ORM models (docs/regulation.md AC-03, AC-20;
docs/development.md#package-layout).

Tables, and the look-ups their indexes serve:

* ``crawl_run`` — one crawl: crawler identity, configuration text and hash, policy, protocol set,
  start and end; ``crawl_run_count`` holds its counters (updated in the same transaction as the
  rows they count, so they never disagree with the data).
* ``policy`` — the policy-knob values (JSON) and protocol-set version, stored once per digest.
* ``origin`` — ``scheme://host[:port]`` with host and registrable domain, stored once. Look-ups
  by domain, host or origin resolve here first (indexes on ``domain`` and ``host``), then read
  decisions by ``origin_id``.
* ``outcome`` — what was decided and why (crawl and use verdicts, per-purpose verdicts, reasons,
  the ordered signal ids), stored once per distinct outcome under a content-derived id.
* ``decision`` — one row per request attempt: run, request key, time, origin, URL, outcome,
  action taken. Index ``(origin_id, time)`` serves domain, host,
  origin and URL-prefix look-ups with date filters: a look-up reads the rows of the target's
  origins in time order and filters URLs on the way. It also holds ``run_id``, ``outcome_id``
  and ``action``, so that the portal's domain look-up and owner's page read the index alone. An index holding the URL itself would make
  a single-URL look-up on a very large site faster, but cost about a third of the write rate
  (measured), and PostgreSQL cannot index URLs over ~2.7 kB. The unique ``request_hash`` of
  ``(run_id, request_key, attempt)`` makes re-recording an attempt (a resumed crawl) a no-op.
* ``signal`` — each distinct signal statement (protocol, verdict, rule, line, source, document
  hash, …) stored once under a content-derived id. An outcome lists its signals' ids, in order,
  in ``outcome.signal_ids`` (a JSON array); the ``decision_signal`` view unnests them into
  ``(decision_id, seq, signal_id)`` rows for SQL, and ``audit_decision`` joins a decision with
  its outcome and origin. Site-level signals (robots.txt, tdmrep.json) repeat for every URL of a
  site, so one small row is written per request attempt (a link table would triple the rows
  and halve the write rate, measured) and the database grows with what is new, not with what
  repeats.
* ``document`` — the exact bytes of every signal document, once per sha256;
  ``document_fetch`` — each retrieval of it (URL and its origin, status, headers, time).
* ``stored_item`` — what entered the dataset, with the decision it rests on.
* ``publication`` — every version of a published document (summary, copyright policy, crawler
  information) with what changed, linked to the previous version.
* ``owner_verification`` — a rightsholder's request to prove control of a registrable domain
  (``heed serve``): the challenge token, the hash of the key that may run its check, expiry,
  and when and how it succeeded; ``owner_credential`` — the bearer credentials issued on
  success, by the sha256 of the token only, scoped to one domain and expiring. Neither is
  evidence of the crawl: they are updated (a check) and may be purged when expired.
* ``id_block`` — hands out blocks of ids, so writers assign ids without a round trip per row.

Decisions, signals, documents, fetches, items and publications are append-only: the API has no update
or delete for them, and migrations install triggers that reject UPDATE and DELETE (AC-20).
Times are UTC. On PostgreSQL the text keys use the "C" collation, so that ``url >= prefix``
range scans mean byte-wise prefix order whatever the database's default collation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _id_type() -> TypeEngine[int]:
    """Return BIGINT, but INTEGER on SQLite, where only INTEGER PRIMARY KEY aliases the rowid.

    (A BIGINT primary key there would cost a second index on every insert.)
    """
    return BigInteger().with_variant(Integer(), "sqlite")


def _key_text(length: int | None = None) -> TypeEngine[str]:
    """Return a text type compared byte-wise ("C" collation) on PostgreSQL."""
    base: TypeEngine[str] = String(length) if length else Text()
    variant: TypeEngine[str] = String(length, collation="C") if length else Text(collation="C")
    return base.with_variant(variant, "postgresql")


#: SQLite stores times as integer microseconds since this instant (UTC).
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def to_micros(value: dt.datetime) -> int:
    """Return *value* (naive means UTC) as integer microseconds since the Unix epoch."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return (value - EPOCH) // _MICROSECOND


def from_micros(value: int) -> dt.datetime:
    """Invert :func:`to_micros` (an aware UTC datetime)."""
    return EPOCH + dt.timedelta(microseconds=value)


class _SQLiteMicros(TypeEngine[int]):
    """Integer microseconds in a column declared DATETIME (SQLite's NUMERIC affinity keeps them
    integers); no driver-level processing."""

    __visit_name__ = "DATETIME"


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back as an aware UTC datetime.

    PostgreSQL stores ``timestamptz``. SQLite stores integer microseconds since the Unix epoch
    in a DATETIME column: an integer is a third the size of the text form in every row and
    index entry, and far cheaper to produce on the writer's hot path (measured); it sorts in
    time order. Compare times through this type (bound parameters), never with SQL date
    functions. Text values written by schema revisions before 0003 are still read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Integer microseconds on SQLite, the declared DateTime elsewhere."""
        if dialect.name == "sqlite":
            return _SQLiteMicros()
        return dialect.type_descriptor(self.impl)

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        """Convert to UTC (naive input is taken as UTC); microseconds for SQLite."""
        if value is None:
            return None
        if dialect.name == "sqlite":
            return to_micros(value)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if isinstance(value, int):
            return from_micros(value)
        if isinstance(value, str):  # text from before revision 0003
            value = dt.datetime.fromisoformat(value)
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention that migrations rely on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdBlock(Base):
    """Next free id per sequence name; writers reserve blocks of ids from it."""

    __tablename__ = "id_block"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_id: Mapped[int] = mapped_column(BigInteger)


class PolicyRow(Base):
    """The policy-knob values and protocol-set version a decision was made under."""

    __tablename__ = "policy"
    __table_args__ = (UniqueConstraint("digest", "protocol_set"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    protocol_set: Mapped[str] = mapped_column(String(64))
    knobs: Mapped[str] = mapped_column(Text)


class CrawlRun(Base):
    """One crawl: who crawled, with which configuration and policy, and when."""

    __tablename__ = "crawl_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_key: Mapped[str] = mapped_column(String(200), unique=True)
    crawler_name: Mapped[str] = mapped_column(String(200))
    product_token: Mapped[str] = mapped_column(String(200))
    user_agent: Mapped[str] = mapped_column(Text)
    config: Mapped[str] = mapped_column(Text)
    config_sha256: Mapped[str] = mapped_column(String(64))
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id"))
    protocol_set: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resumed: Mapped[int] = mapped_column(Integer, default=0)
    #: ``crawl``, or ``recheck`` (heed recheck: decisions on kept items, no crawling).
    kind: Mapped[str] = mapped_column(String(16), server_default="crawl")


class CrawlRunCount(Base):
    """A named counter of a run (decisions, items, documents, ``action:<action>``)."""

    __tablename__ = "crawl_run_count"

    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_run.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class OriginRow(Base):
    """A ``scheme://host[:port]`` with its host and registrable domain."""

    __tablename__ = "origin"
    __table_args__ = (Index("ix_origin_domain", "domain"), Index("ix_origin_host", "host"))

    id: Mapped[int] = mapped_column(_id_type(), primary_key=True, autoincrement=False)
    origin: Mapped[str] = mapped_column(_key_text(), unique=True)
    scheme: Mapped[str] = mapped_column(String(32))
    host: Mapped[str] = mapped_column(_key_text())
    port: Mapped[int | None] = mapped_column(Integer)
    domain: Mapped[str] = mapped_column(_key_text())


class OutcomeRow(Base):
    """What was decided and why — verdicts, reasons, signals — stored once per distinct outcome.

    Every URL of a site that the same rules decide the same way shares one outcome row; a
    decision row then only says which URL, when, in which run, and what the crawler did.
    """

    __tablename__ = "outcome"

    id: Mapped[int] = mapped_column(_id_type(), primary_key=True, autoincrement=False)
    #: sha256 of the canonical form of the columns below; the id is its first 63 bits.
    digest: Mapped[str] = mapped_column(String(64))
    crawl: Mapped[str] = mapped_column(String(16))
    use: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(32))
    #: Per-purpose verdicts, ``tdm=reserved;train-ai=reserved;…``.
    purposes: Mapped[str] = mapped_column(String(255))
    #: JSON array of the reasons, as the decision gave them.
    reasons: Mapped[str] = mapped_column(Text)
    #: JSON array of the ids of the signals, in order (see the ``decision_signal`` view).
    signal_ids: Mapped[str] = mapped_column(Text)
    complete: Mapped[bool] = mapped_column(Boolean)
    licence_required: Mapped[bool] = mapped_column(Boolean)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id"))


class DecisionRow(Base):
    """One request attempt: which URL, when, in which run, its outcome, and what was done."""

    __tablename__ = "decision"
    # No CHECK constraint on ``action``: SQLite re-evaluates an IN list per row, which cost a
    # third of the insert time; AuditStore accepts only :class:`audit.vocab.Action` values.
    __table_args__ = (Index("ix_decision_request_hash", "request_hash", unique=True),)

    id: Mapped[int] = mapped_column(_id_type(), primary_key=True, autoincrement=False)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_run.id"))
    #: The caller's key for the request (e.g. its fingerprint), NULL when none was given.
    #: With ``run_id`` and ``attempt`` it identifies the attempt (see ``request_hash``).
    request_key: Mapped[str | None] = mapped_column(String(255))
    attempt: Mapped[int] = mapped_column(Integer)
    time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    origin_id: Mapped[int] = mapped_column(ForeignKey("origin.id"))
    url: Mapped[str] = mapped_column(_key_text())
    outcome_id: Mapped[int] = mapped_column(ForeignKey("outcome.id"))
    action: Mapped[str] = mapped_column(String(24))
    http_status: Mapped[int | None] = mapped_column(Integer)
    denylist_version: Mapped[str | None] = mapped_column(String(100))
    #: 63-bit hash of ``(run_id, request_key, attempt)`` (:func:`audit.rows.request_hash`),
    #: unique: re-recording an attempt stores nothing. An integer index instead of one over the
    #: key text: a third of the write rate (measured). Two different attempts with the same
    #: hash are reported as an IntegrityError by the writer, never merged.
    request_hash: Mapped[int | None] = mapped_column(BigInteger)


# Covering: a domain look-up groups an origin's decisions by these columns, and the owner's
# page picks its ids, from the index alone (migration 0006; ``id`` is SQLite's rowid).
Index(
    "ix_decision_origin_time",
    DecisionRow.origin_id,
    DecisionRow.time,
    DecisionRow.run_id,
    DecisionRow.outcome_id,
    DecisionRow.action,
    postgresql_include=["id"],
)


class SignalRow(Base):
    """One distinct signal statement, with its evidence, under a content-derived id."""

    __tablename__ = "signal"

    id: Mapped[int] = mapped_column(_id_type(), primary_key=True, autoincrement=False)
    #: sha256 of the canonical form of the columns below; the id is its first 63 bits.
    digest: Mapped[str] = mapped_column(String(64))
    protocol: Mapped[str] = mapped_column(String(64))
    crawl: Mapped[str | None] = mapped_column(String(16))
    purposes: Mapped[str] = mapped_column(String(255))
    verdict: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    status: Mapped[int | None] = mapped_column(Integer)
    rule: Mapped[str | None] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    parser: Mapped[str] = mapped_column(String(64))
    #: Comma-separated flags.
    flags: Mapped[str] = mapped_column(String(255))
    licence_url: Mapped[str | None] = mapped_column(Text)
    licence_required: Mapped[bool] = mapped_column(Boolean)
    fetched_at: Mapped[str | None] = mapped_column(String(64))
    #: JSON of Signal fields this schema has no column for (a newer optout/), else NULL.
    extra: Mapped[str | None] = mapped_column(Text)


class Document(Base):
    """The exact bytes of a signal document, once per sha256."""

    __tablename__ = "document"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    first_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class DocumentFetch(Base):
    """One retrieval of a signal document: where, when, and the response status and headers."""

    __tablename__ = "document_fetch"
    __table_args__ = (
        Index("ix_document_fetch_sha256", "sha256"),
        # "Which retrievals of these bytes came from this site": identical files (a CMS's default
        # robots.txt) are fetched from thousands of origins, and a look-up must see only its own.
        Index("ix_document_fetch_origin_sha256", "origin_id", "sha256"),
    )

    #: Content-derived, so that recording the same retrieval twice stores it once.
    id: Mapped[int] = mapped_column(_id_type(), primary_key=True, autoincrement=False)
    sha256: Mapped[str] = mapped_column(ForeignKey("document.sha256"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_run.id"))
    #: Origin of ``url`` (NULL if it has none).
    origin_id: Mapped[int | None] = mapped_column(ForeignKey("origin.id"))
    kind: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(200))
    redirects: Mapped[int] = mapped_column(Integer)
    truncated: Mapped[bool] = mapped_column(Boolean)
    #: JSON array of ``[name, value]`` pairs, in the order received.
    headers: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class StoredItem(Base):
    """Content that entered the dataset, and the decision it rests on."""

    __tablename__ = "stored_item"

    id: Mapped[int] = mapped_column(_id_type(), primary_key=True, autoincrement=False)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id"), unique=True)
    time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    url: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(255))
    modality: Mapped[str] = mapped_column(String(16))
    bytes: Mapped[int] = mapped_column(BigInteger)
    #: Token estimate for text (see :func:`audit.vocab.estimate_tokens`), else NULL.
    tokens: Mapped[int | None] = mapped_column(BigInteger)
    content_sha256: Mapped[str | None] = mapped_column(String(64))


class Publication(Base):
    """One version of a document the provider publishes (training-content summary, copyright
    policy, crawler information), as the JSON form it was rendered from.

    Versions count up per ``(kind, subject)``: ``subject`` is the model for a summary and
    ``""`` where there is one document. ``previous_id`` links each version to the one before
    (the template's "link(s) to previous versions"); ``changes`` says what changed (the crawler
    feed's entries).
    """

    __tablename__ = "publication"
    __table_args__ = (UniqueConstraint("kind", "subject", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: sha256 of ``body`` (canonical JSON): equal content is never published twice in a row.
    sha256: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("publication.id"))
    #: JSON array of sentences: what changed since the previous version.
    changes: Mapped[str] = mapped_column(Text)


class OwnerVerification(Base):
    """A request to prove control of a registrable domain (audit/owners.py)."""

    __tablename__ = "owner_verification"
    __table_args__ = (Index("ix_owner_verification_domain", "domain"),)

    #: Opaque random id, shown in URLs; it grants nothing without the key.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    domain: Mapped[str] = mapped_column(_key_text(253))
    #: The challenge token published on the domain (public once published).
    token: Mapped[str] = mapped_column(String(64))
    #: sha256 of the key returned once to whoever started it: only they may run the check.
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    checks: Mapped[int] = mapped_column(Integer, default=0)
    last_check_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(300))
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: ``http`` or ``dns``, once verified.
    method: Mapped[str | None] = mapped_column(String(8))


class OwnerCredential(Base):
    """A bearer credential for one registrable domain, stored by its hash (audit/owners.py)."""

    __tablename__ = "owner_credential"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    domain: Mapped[str] = mapped_column(_key_text(253))
    verification_id: Mapped[str] = mapped_column(ForeignKey("owner_verification.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class RegistryEntry(Base):
    """A row of the reservations registry's history (audit/registry.py): an entry added, or
    (``action`` ``remove``) the withdrawal of the entry ``entry_id``."""

    __tablename__ = "registry_entry"
    __table_args__ = (Index("ix_registry_entry_target", "target"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: ``add`` or ``remove``.
    action: Mapped[str] = mapped_column(String(8))
    #: The entry a ``remove`` withdraws.
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("registry_entry.id"))
    #: ``domain``, ``host`` or ``prefix``; a removal repeats its entry's scope and target.
    scope: Mapped[str] = mapped_column(String(8))
    #: A registrable domain, a host, or ``host/path-prefix`` in the URL model's canonical form.
    target: Mapped[str] = mapped_column(_key_text())
    #: JSON array of the purposes reserved (``tdm``, ``train-ai``, …).
    purposes: Mapped[str] = mapped_column(Text)
    #: Where it comes from: ``operator``, or ``complaint <reference>``.
    source: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)
    #: Who recorded the row.
    actor: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Complaint(Base):
    """A complaint as submitted (audit/complaints.py); its state is its latest event."""

    __tablename__ = "complaint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The reference quoted in messages (``HC-…``).
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    #: sha256 of the key in the claimant's status URL (the key itself is never stored).
    status_key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    claimant: Mapped[str] = mapped_column(String(200))
    #: ``rightsholder`` or ``representative``.
    capacity: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254))
    #: JSON array: the works, URLs, URL prefixes or domains concerned, as written.
    concerns: Mapped[str] = mapped_column(Text)
    right_claimed: Mapped[str] = mapped_column(Text)
    statement: Mapped[str] = mapped_column(Text)
    #: JSON array of what is asked: ``no-future-use``, ``removal``, ``information``.
    requested: Mapped[str] = mapped_column(Text)
    #: The registrable domain the submitter had proved control of, if any.
    verified_domain: Mapped[str | None] = mapped_column(String(253))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ComplaintEvent(Base):
    """A step of a complaint's handling: its new status, when, by whom and why."""

    __tablename__ = "complaint_event"
    __table_args__ = (Index("ix_complaint_event_complaint_id", "complaint_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"))
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)


class MailOutbox(Base):
    """An e-mail to send (audit/outbox.py): a work queue, updated as it is tried and sent."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_due", "sent_at", "gave_up_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The complaint the message tells of, if any.
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"))
    #: What it tells: ``received``, ``acknowledged``, … (a complaint's status).
    topic: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    #: The text; ``{secret}`` in it stands for :attr:`secret`.
    body: Mapped[str] = mapped_column(Text)
    #: Text put into the body at sending only (a status URL), erased once sent or given up.
    secret: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: A sender holds the message until then (another sender skips it).
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    gave_up_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text)


class LogBatch(Base):
    """The leaves one commit appended to the audit log (audit/log.py): which rows, and their
    leaf hashes (the source of a proof's smallest subtrees)."""

    __tablename__ = "log_batch"

    #: Index in the log of the batch's first leaf.
    first: Mapped[int] = mapped_column(_id_type(), primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(Integer)
    #: JSON: the rows, by table, in leaf order (integer keys as ``[first, count]`` runs).
    refs: Mapped[str] = mapped_column(Text)
    #: The leaf hashes, 32 bytes each, in order.
    leaves: Mapped[bytes] = mapped_column(LargeBinary)
    committed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class LogNode(Base):
    """The root of a complete subtree of the audit log of 256 leaves or more, stored once it is
    complete, so that a proof reads O(log n) rows."""

    __tablename__ = "log_node"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: The subtree of leaves ``[position << level, (position + 1) << level)``.
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class LogState(Base):
    """The audit log's size and right edge (its compact state); one row, updated by every
    commit that appends leaves, under a lock."""

    __tablename__ = "log_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    #: The roots of the complete subtrees, largest first, in hex.
    hashes: Mapped[str] = mapped_column(Text)


class LogCheckpoint(Base):
    """A signed checkpoint of the audit log: its size and root hash, signed with Ed25519
    (audit/checkpoint.py)."""

    __tablename__ = "log_checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    #: The root hash, hex.
    root: Mapped[str] = mapped_column(String(64))
    #: The signed note, exactly as signed.
    note: Mapped[str] = mapped_column(Text)
    #: The verifier key of the signature (``name+id+key``).
    verifier_key: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


#: Tables whose rows are never updated or deleted (triggers enforce it).
APPEND_ONLY_TABLES = (
    "decision",
    "outcome",
    "signal",
    "document",
    "document_fetch",
    "stored_item",
    "publication",
    "registry_entry",
    "complaint",
    "complaint_event",
    "log_batch",
    "log_node",
    "log_checkpoint",
)


def table_of(model: type[Base]) -> Table:
    """Return the Core Table of an ORM model."""
    table = model.__table__
    if not isinstance(table, Table):  # pragma: no cover - every model here maps a Table
        raise TypeError(f"{model.__name__} does not map a Table")
    return table


ID_BLOCK_T = table_of(IdBlock)
POLICY_T = table_of(PolicyRow)
CRAWL_RUN_T = table_of(CrawlRun)
COUNT_T = table_of(CrawlRunCount)
ORIGIN_T = table_of(OriginRow)
DECISION_T = table_of(DecisionRow)
OUTCOME_T = table_of(OutcomeRow)
SIGNAL_T = table_of(SignalRow)
DOCUMENT_T = table_of(Document)
FETCH_T = table_of(DocumentFetch)
ITEM_T = table_of(StoredItem)
PUBLICATION_T = table_of(Publication)
VERIFICATION_T = table_of(OwnerVerification)
CREDENTIAL_T = table_of(OwnerCredential)
REGISTRY_T = table_of(RegistryEntry)
COMPLAINT_T = table_of(Complaint)
COMPLAINT_EVENT_T = table_of(ComplaintEvent)
MAIL_OUTBOX_T = table_of(MailOutbox)
LOG_BATCH_T = table_of(LogBatch)
LOG_NODE_T = table_of(LogNode)
LOG_STATE_T = table_of(LogState)
LOG_CHECKPOINT_T = table_of(LogCheckpoint)
