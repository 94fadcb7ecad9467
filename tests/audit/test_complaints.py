"""Complaints (audit/complaints.py): what is taken, the steps allowed, the history kept, and
upholding with a reservation, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from audit import AuditStore, NotFoundError, open_publisher, registry_in_force
from audit.complaints import (
    ComplaintError,
    Submission,
    complaint_by_key,
    find_complaint,
    list_complaints,
    overdue,
    record_step,
    submit_complaint,
)

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
GOOD = Submission(
    claimant=" Example Press Ltd ",
    capacity="rightsholder",
    email="rights@press.example",
    concerns=("https://press.example/books/", "The Novel (ISBN 978-3-16-148410-0)", ""),
    right_claimed="copyright in the books published at press.example",
    statement="Our TDM reservation in tdmrep.json was not honoured in March.",
    requested=("no-future-use", "REMOVAL"),
)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"claimant": " "}, "claimant is missing"),
        ({"capacity": "owner"}, "capacity must be one of"),
        ({"email": "not an address"}, "e-mail address"),
        ({"email": "a@b"}, "e-mail address"),
        ({"concerns": ("", " ")}, "name the works"),
        ({"concerns": ("x",) * 51}, "at most 50"),
        ({"statement": "x" * 10_001}, "statement is longer than 10000"),
        ({"requested": ()}, "say what is requested"),
        ({"requested": ("money",)}, "say what is requested"),
    ],
)
def test_a_submission_is_checked(change: dict[str, object], words: str) -> None:
    with pytest.raises(ComplaintError, match=words):
        dataclasses.replace(GOOD, **change).checked()  # type: ignore[arg-type]


def test_a_complaint_from_receipt_to_decision(db_url: str) -> None:
    with AuditStore.open(db_url):
        pass
    engine = open_publisher(db_url)
    try:
        complaint, key = submit_complaint(engine, GOOD, now=T0)
        assert complaint.reference.startswith("HC-")
        assert complaint.status == "received"
        assert complaint.submission.claimant == "Example Press Ltd"
        assert complaint.submission.concerns == GOOD.concerns[:2]
        assert complaint.submission.requested == ("no-future-use", "removal")
        assert complaint_by_key(engine, key) == complaint
        assert complaint_by_key(engine, key + "x") is None
        assert find_complaint(engine, complaint.reference.lower()) == complaint
        other, _ = submit_complaint(engine, GOOD, now=T0 + dt.timedelta(days=40))
        # an overdue view: open complaints older than the target
        late = overdue(list_complaints(engine), 30, now=T0 + dt.timedelta(days=45))
        assert [c.reference for c in late] == [complaint.reference]
        acked, _, _ = record_step(
            engine, complaint.reference, "acknowledged", actor="ops", now=T0 + dt.timedelta(days=1)
        )
        assert [s.status for s in acked.steps] == ["received", "acknowledged"]
        with pytest.raises(ComplaintError, match="already acknowledged"):
            record_step(engine, complaint.reference, "acknowledged", actor="ops")
        with pytest.raises(ComplaintError, match="needs its reason"):
            record_step(engine, complaint.reference, "upheld", actor="ops")
        with pytest.raises(ComplaintError, match="only an upheld complaint reserves"):
            record_step(
                engine, complaint.reference, "rejected", actor="ops", reason="r", reserve=()
            )
        upheld, made, skipped = record_step(
            engine,
            complaint.reference,
            "upheld",
            actor="lee",
            reason="the tdmrep.json of press.example reserved TDM since January",
            reserve=(),
            now=T0 + dt.timedelta(days=3),
        )
        assert upheld.status == "upheld"
        assert upheld.decided_at == T0 + dt.timedelta(days=3)
        assert [(e.scope, e.target, e.source) for e in made] == [
            ("prefix", "press.example/books/", f"complaint {complaint.reference}")
        ]
        assert skipped == ["The Novel (ISBN 978-3-16-148410-0)"]
        assert [e.id for e in registry_in_force(engine)] == [made[0].id]
        with pytest.raises(ComplaintError, match="was already upheld"):
            record_step(engine, complaint.reference, "rejected", actor="ops", reason="r")
        with pytest.raises(NotFoundError):
            record_step(engine, "HC-NOPE", "acknowledged", actor="ops")
        assert [c.reference for c in list_complaints(engine, "received")] == [other.reference]
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("UPDATE complaint_event SET status = 'rejected'"))
    finally:
        engine.dispose()


def test_the_figures_the_documents_publish(tmp_path: Path) -> None:
    from audit import complaint_figures

    db = str(tmp_path / "heed.db")
    with AuditStore.open(db):
        pass
    engine = open_publisher(db)
    try:
        assert complaint_figures(engine).received == 0
        refs = [submit_complaint(engine, GOOD, now=T0)[0].reference for _ in range(4)]
        record_step(engine, refs[0], "upheld", actor="a", reason="r", now=T0 + dt.timedelta(days=2))
        record_step(
            engine, refs[1], "rejected", actor="a", reason="r", now=T0 + dt.timedelta(days=5)
        )
        record_step(engine, refs[2], "acknowledged", actor="a", now=T0 + dt.timedelta(days=1))
        figures = complaint_figures(engine)
    finally:
        engine.dispose()
    assert (figures.received, figures.upheld, figures.rejected, figures.withdrawn) == (4, 1, 1, 0)
    assert figures.open == 2
    assert figures.median_days == 3.5
