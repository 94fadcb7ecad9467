"""The public domain look-up (audit.domain_view) and signal documents (audit.signal_document),
on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import text

from audit import NotFoundError, TargetError, domain_view, open_reader, signal_document
from tests.heed.serve.portal import ALLOW, DISALLOW, T0, build_verdicts_db


def test_domain_view_and_documents(db_url: str) -> None:
    build_verdicts_db(db_url)
    engine = open_reader(db_url)
    try:
        view = domain_view(engine, "withdrawn.test")
        total = view.total
        assert view.found
        assert view.tokens == ("HeedBot",)
        assert total.decisions == 2
        assert [m.month for m in total.by_month] == ["2026-03", "2026-04"]
        assert total.by_action == {"fetched-stored": 1, "skipped-robots": 1}
        assert (total.kept.items, total.kept.bytes) == (1, 1234)
        assert total.reservation is not None
        assert total.reservation.first_seen == T0
        assert total.reservation.protocols == ("robots.txt",)
        assert (total.reservation.urls, total.kept_after_total) == (1, 1)
        item = total.kept_after_reservation[0]
        assert item.time == T0 + dt.timedelta(days=40)
        assert not item.while_reserved
        assert total.kept_while_reserved == 0
        versions = {d.sha256: d for d in total.documents}
        assert len(versions) == 2
        for body in (DISALLOW, ALLOW):
            sha = hashlib.sha256(body.encode()).hexdigest()
            assert signal_document(engine, sha) == body.encode()
            assert versions[sha].statuses == (200,)
        fault = domain_view(engine, "fault.test")
        assert [h.name for h in fault.hosts] == ["www.fault.test"]
        assert fault.total.kept_while_reserved == 1
        assert not domain_view(engine, "nothing.test").found
        with pytest.raises(NotFoundError):
            signal_document(engine, "0" * 64)
        with pytest.raises(TargetError):
            signal_document(engine, "16ceb5ee")
    finally:
        engine.dispose()


def test_look_ups_keep_their_prepared_statements(db_url: str) -> None:
    """Reads end in COMMIT (audit.engine.reading): psycopg drops the statements it prepared on
    the server at every ROLLBACK, so a look-up repeated on a pooled connection would be parsed
    and planned again each time."""
    if not db_url.startswith("postgresql"):
        pytest.skip("prepared statements are psycopg's")
    build_verdicts_db(db_url)
    engine = open_reader(db_url)
    try:
        for _ in range(8):  # psycopg prepares a statement on its 5th run on a connection
            domain_view(engine, "withdrawn.test")
        with engine.connect() as conn:  # the one pooled connection, as the look-ups left it
            prepared = conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
        assert prepared is not None
        assert prepared >= 5
    finally:
        engine.dispose()
