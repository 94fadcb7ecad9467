"""``heed db check``: verify that the audit trail is what the writer wrote
(docs/regulation.md AC-20).

First the file itself (:func:`storage_problems`: SQLite's ``PRAGMA integrity_check``): a
damaged file is reported as such, and nothing in it is trusted. Then the rows:

* every document's bytes hash to their sha256 key;
* every content-addressed row (origin, signal, outcome) still hashes to its id and digest, so
  an edited signal or outcome is detected;
* every reference between rows resolves (declared foreign keys, and the signal ids an outcome
  lists) — which also covers SQLite files written without foreign-key enforcement.

Decisions and documents are also protected by append-only triggers; this check finds what a
change made around them (or with them dropped) left behind.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError

from audit.models import DOCUMENT_T, ORIGIN_T, OUTCOME_T, SIGNAL_T, Base
from audit.rows import canonical_digest, digest_id, hash_id

#: Problems listed per kind before the rest are only counted.
_MAX_LISTED = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckReport:
    """What :func:`check` verified, and what failed."""

    documents: int
    rows: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Return whether nothing failed."""
        return not self.problems


def storage_problems(engine: Engine) -> tuple[str, ...]:
    """Return what the database's own consistency check finds wrong with its storage.

    On SQLite, the lines of ``PRAGMA integrity_check`` (garbled pages, broken b-trees, indexes
    out of step with their tables), or the error that stopped it (a file that is not a
    database): ``()`` when it says ``ok``. PostgreSQL checks its pages itself: ``()``.
    """
    if engine.dialect.name != "sqlite":
        return ()
    try:
        with engine.connect() as conn:
            found = conn.exec_driver_sql(f"PRAGMA integrity_check({_MAX_LISTED})").scalars().all()
    except DBAPIError as exc:
        return (str(exc.orig or exc).strip().splitlines()[0],)
    if list(found) == ["ok"]:
        return ()
    # A row may hold several lines, under a "*** in database main ***" heading.
    lines = (line.strip() for row in found for line in str(row).splitlines())
    return tuple(line for line in lines if line and not line.startswith("***"))


def check(engine: Engine) -> CheckReport:
    """Verify documents, content-addressed rows and references; return the report."""
    problems: list[str] = []
    rows = 0
    with engine.connect() as conn:
        documents = 0
        doc = DOCUMENT_T.c
        result = conn.execution_options(yield_per=64).execute(
            select(doc.sha256, doc.size, doc.body)
        )
        for sha, size, body in result:
            documents += 1
            data = bytes(body)
            if hashlib.sha256(data).hexdigest() != sha or len(data) != size:
                _note(problems, f"document {sha}: stored bytes do not match their sha256")
        for row in conn.execute(select(ORIGIN_T.c.id, ORIGIN_T.c.origin)):
            if hash_id("origin", row.origin) != row.id:
                _note(problems, f"origin {row.id} ({row.origin}) does not match its id")
        signal_ids: set[int] = set()
        s = SIGNAL_T.c
        values = [s.protocol, s.crawl, s.purposes, s.verdict, s.reason, s.source, s.status]
        values += [s.rule, s.line, s.sha256, s.parser, s.flags, s.licence_url]
        values += [s.licence_required, s.fetched_at, s.extra]
        for row in conn.execute(select(s.id, s.digest, *values)):
            signal_ids.add(row[0])
            _content(problems, "signal", row[0], row[1], tuple(row[2:]))
        o = OUTCOME_T.c
        values = [o.crawl, o.use, o.purpose, o.purposes, o.reasons, o.signal_ids]
        values += [o.complete, o.licence_required, o.policy_id]
        for row in conn.execute(select(o.id, o.digest, *values)):
            _content(problems, "outcome", row[0], row[1], tuple(row[2:]))
            missing = [sid for sid in json.loads(row.signal_ids) if sid not in signal_ids]
            if missing:
                _note(problems, f"outcome {row[0]} lists missing signals {missing}")
        for table in Base.metadata.sorted_tables:
            rows += conn.execute(select(func.count()).select_from(table)).scalar_one()
            for fk in table.foreign_keys:
                # An alias: a table may reference itself (publication.previous_id).
                parent = fk.column.table.alias("parent")
                column = parent.c[fk.column.name]
                orphans = conn.execute(
                    select(func.count())
                    .select_from(table.outerjoin(parent, fk.parent == column))
                    .where(fk.parent.is_not(None), column.is_(None))
                ).scalar_one()
                if orphans:
                    _note(
                        problems,
                        f"{orphans} {table.name} rows reference a missing {fk.column.table.name} "
                        f"({fk.parent.name})",
                    )
    return CheckReport(documents=documents, rows=rows, problems=tuple(problems))


def _content(
    problems: list[str], kind: str, row_id: int, digest: str, values: tuple[object, ...]
) -> None:
    actual = canonical_digest(list(values))
    if actual != digest or digest_id(actual) != row_id:
        _note(problems, f"{kind} {row_id} does not match its content digest (altered?)")


def _note(problems: list[str], problem: str) -> None:
    if len(problems) < _MAX_LISTED:
        problems.append(problem)
    elif len(problems) == _MAX_LISTED:
        problems.append("… more problems not listed")
