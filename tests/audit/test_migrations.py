"""Schema migrations: up from empty, equal to the models, reversible, and checked on open."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import Engine, inspect, text

from audit import AuditStore, DatabaseURLError, SchemaError, open_reader
from audit.migrate import (
    HEAD,
    alembic_config,
    current_revision,
    downgrade,
    ensure_schema,
    script_head,
    upgrade,
)
from audit.models import APPEND_ONLY_TABLES, Base
from audit.rows import request_hash
from heed.cli import main


def test_head_constant_is_the_scripts_head() -> None:
    """The revision every open checks for is the newest migration script."""
    assert script_head() == HEAD


def test_upgrade_from_empty_gives_the_models_schema(engine: Engine) -> None:
    """`upgrade head` on an empty database produces exactly the schema the models declare."""
    assert upgrade(engine) == (None, HEAD)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert {"decision_signal", "audit_decision"} <= set(inspect(engine).get_view_names())


def test_upgrade_is_idempotent_and_downgrade_reverses_it(engine: Engine) -> None:
    """Upgrading twice changes nothing; downgrading to base leaves no Heed table behind."""
    upgrade(engine)
    assert upgrade(engine) == (HEAD, HEAD)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    leftover = set(inspect(engine).get_table_names()) & set(Base.metadata.tables)
    assert leftover == set()
    assert upgrade(engine) == (None, HEAD)


def test_a_writer_creates_the_schema_of_a_new_database(db_url: str, engine: Engine) -> None:
    """First use by a writer runs the migrations (no separate step needed)."""
    with AuditStore.open(db_url):
        pass
    with engine.connect() as conn:
        assert current_revision(conn) == HEAD


def test_readers_never_create_a_database(db_url: str, engine: Engine) -> None:
    """A look-up on a missing file or an empty database says so instead of creating anything."""
    if engine.dialect.name == "sqlite":
        path = Path(db_url)
        with pytest.raises(DatabaseURLError, match="no audit database at"):
            open_reader(db_url)
        assert not path.exists()
        path.touch()  # an empty file is an empty SQLite database
    with pytest.raises(SchemaError, match="no Heed audit schema"):
        open_reader(db_url)
    assert inspect(engine).get_table_names() == []


def test_an_unknown_revision_is_refused(engine: Engine, db_url: str) -> None:
    """A database written by a newer Heed is not touched by this one."""
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    with pytest.raises(SchemaError, match="newer than this Heed"):
        AuditStore.open(db_url)
    with pytest.raises(SchemaError, match="newer"):
        ensure_schema(engine, create=False)


def test_foreign_tables_without_a_revision_are_refused(engine: Engine, db_url: str) -> None:
    """Tables named like Heed's but without an alembic revision are not adopted."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE decision (x INTEGER)"))
    with pytest.raises(SchemaError, match=r"not a Heed audit database \(it has tables decision"):
        AuditStore.open(db_url)


def _tables(engine: Engine) -> list[str]:
    inspector = inspect(engine)
    return sorted([*inspector.get_table_names(), *inspector.get_view_names()])


def test_a_foreign_database_is_never_written(engine: Engine, db_url: str) -> None:
    """Another application's database (tables, no Heed revision): every door refuses it in one
    line (exit 1) and Heed's schema is never added beside its tables."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        conn.execute(text("CREATE VIEW recent AS SELECT * FROM notes"))
        for n in range(6):
            conn.execute(text(f"CREATE TABLE extra{n} (x INTEGER)"))
        conn.execute(text("INSERT INTO notes (id, body) VALUES (1, 'mine')"))
    before = _tables(engine)
    refusal = (
        " is not a Heed audit database (it has tables extra0, extra1, extra2, extra3, extra4 and "
        "3 more and no Heed schema revision); use another --db"
    )
    for attempt in (
        lambda: AuditStore.open(db_url),
        lambda: open_reader(db_url),
        lambda: upgrade(engine),
        lambda: ensure_schema(engine, create=True),
    ):
        with pytest.raises(SchemaError) as raised:
            attempt()
        assert str(raised.value).endswith(refusal)
    runner = CliRunner()
    for args in (["db", "upgrade"], ["status", "example.com"], ["db", "check"]):
        result = runner.invoke(main, [*args, "--db", db_url])
        assert result.exit_code == 1, (args, result.output)
        assert result.output.endswith(refusal + "\n")
        assert len(result.output.splitlines()) == 1
    assert _tables(engine) == before
    with engine.connect() as conn:
        assert conn.execute(text("SELECT body FROM notes")).scalars().all() == ["mine"]


def test_another_applications_alembic_revision_is_refused(engine: Engine, db_url: str) -> None:
    """An alembic revision, but none of Heed's tables: someone else's migrated database."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('1a2b3c4d')"))
        conn.execute(text("CREATE TABLE users (id INTEGER)"))
    message = "not a Heed audit database (its alembic revision '1a2b3c4d' is another application's)"
    with pytest.raises(SchemaError, match=re.escape(message)):
        AuditStore.open(db_url)
    with pytest.raises(SchemaError, match=re.escape(message)):
        upgrade(engine)
    with pytest.raises(SchemaError, match=re.escape(message)):
        open_reader(db_url)
    assert _tables(engine) == ["alembic_version", "users"]


def test_an_empty_database_is_not_foreign(engine: Engine, db_url: str) -> None:
    """An empty database, or one whose Heed schema was downgraded away (an empty
    alembic_version left behind), still gets the schema."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
    with AuditStore.open(db_url):
        pass
    with engine.connect() as conn:
        assert current_revision(conn) == HEAD


def test_opening_a_foreign_sqlite_file_leaves_its_bytes_alone(tmp_path: Path) -> None:
    """Refusing another application's SQLite file does not even switch it to WAL mode."""
    path = tmp_path / "notes.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(SchemaError, match="not a Heed audit database"):
        AuditStore.open(str(path))
    with pytest.raises(SchemaError, match="not a Heed audit database"):
        open_reader(str(path))
    assert path.read_bytes() == before
    fresh = tmp_path / "fresh.db"
    with AuditStore.open(str(fresh)):
        pass
    with sqlite3.connect(fresh) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


def test_append_only_triggers_are_installed(engine: Engine) -> None:
    """Every append-only table rejects UPDATE and DELETE at the database level."""
    upgrade(engine)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            found = set(
                conn.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                ).scalars()
            )
            expected = {f"trg_{t}_no_{e}" for t in APPEND_ONLY_TABLES for e in ("update", "delete")}
        else:
            found = set(
                conn.execute(
                    text(
                        "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = current_schema() AND NOT t.tgisinternal"
                    )
                ).scalars()
            )
            expected = {f"trg_{t}_append_only" for t in APPEND_ONLY_TABLES}
    assert expected <= found


def test_cli_db_upgrade(db_url: str) -> None:
    """`heed db upgrade` creates the schema, then reports it is current."""
    runner = CliRunner()
    first = runner.invoke(main, ["db", "upgrade", "--db", db_url])
    assert first.exit_code == 0, first.output
    assert f"upgraded from an empty database to revision {HEAD}" in first.output
    again = runner.invoke(main, ["db", "upgrade", "--db", db_url])
    assert again.exit_code == 0
    assert f"already at revision {HEAD}" in again.output


def _seed_at_0002(engine: Engine) -> None:
    """Write one run, origin, outcome, decision and item the way revision 0002 stored them."""
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0002")
        sqlite = engine.dialect.name == "sqlite"
        when = "2026-03-01 12:00:00.250000" if sqlite else "2026-03-01 12:00:00.25+00"
        statements = (
            "INSERT INTO policy (id, digest, protocol_set, knobs) VALUES (1, 'p', 's', '{}')",
            (
                "INSERT INTO crawl_run (id, run_key, crawler_name, product_token, user_agent, config, "
                "config_sha256, policy_id, protocol_set, started_at, resumed) VALUES (1, 'run-a', "
                f"'HeedBot', 'HeedBot', 'HeedBot/1', '{{}}', 'c', 1, 's', '{when}', 0)"
            ),
            (
                "INSERT INTO origin (id, origin, scheme, host, port, domain) VALUES "
                "(7, 'https://www.a.com', 'https', 'www.a.com', 443, 'a.com')"
            ),
            (
                "INSERT INTO outcome (id, digest, crawl, use, purpose, purposes, reasons, signal_ids, "
                "complete, licence_required, policy_id) VALUES (9, 'o', 'allow', 'not-reserved', "
                "'train-ai', 'train-ai=not-reserved', '[]', '[]', true, false, 1)"
            ),
            (
                "INSERT INTO decision (id, run_id, request_key, attempt, time, origin_id, url, "
                "outcome_id, action, http_status, denylist_version) VALUES (1, 1, "
                f"'{'ab' * 16}', 1, '{when}', 7, 'https://www.a.com/x', 9, 'fetched-stored', 200, "
                "NULL)"
            ),
            (
                "INSERT INTO stored_item (id, decision_id, time, url, content_type, modality, bytes, "
                f"tokens, content_sha256) VALUES (1, 1, '{when}', 'https://www.a.com/x', "
                "'text/html', 'text', 100, 25, NULL)"
            ),
        )
        for statement in statements:
            conn.execute(text(statement))


def test_upgrade_keeps_rows_written_before_0003(engine: Engine, db_url: str) -> None:
    """Times and request keys written under 0002 read back the same and still deduplicate."""
    _seed_at_0002(engine)
    upgrade(engine)
    reader = open_reader(db_url)
    try:
        from audit import lookup, parse_target

        records = list(lookup(reader, parse_target("a.com")))
    finally:
        reader.dispose()
    assert [r.time for r in records] == [dt.datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=dt.UTC)]
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            kinds = conn.execute(text("SELECT typeof(time) FROM decision")).scalars().all()
        assert kinds == ["integer"]
    with engine.connect() as conn:
        hashed = conn.execute(text("SELECT request_hash FROM decision")).scalar_one()
    assert hashed == request_hash(1, "ab" * 16, 1)  # what the writer deduplicates on


def test_downgrade_from_0003_restores_text_times(engine: Engine) -> None:
    """0003 is reversible: text times and the text key come back."""
    _seed_at_0002(engine)
    upgrade(engine)
    downgrade(engine, "0002")
    with engine.connect() as conn:
        value = conn.execute(text("SELECT time FROM decision")).scalar_one()
    if engine.dialect.name == "sqlite":
        assert value == "2026-03-01 12:00:00.250000"
    else:
        assert value == dt.datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=dt.UTC)


def test_0004_gives_hosts_under_unlisted_suffixes_their_default_rule_domain(
    engine: Engine,
) -> None:
    """Origins stored with the old fallback (domain = host) move to eTLD+1 by the rule "*";
    every other origin keeps its domain; downgrading restores the fallback."""
    upgrade(engine, "0003")
    origins = {
        1: ("http://www.site.test", "www.site.test", "www.site.test"),
        2: ("http://site.test", "site.test", "site.test"),
        3: ("https://www.example.co.uk", "www.example.co.uk", "example.co.uk"),
        4: ("http://10.0.0.1", "10.0.0.1", "10.0.0.1"),
        5: ("http://localhost", "localhost", "localhost"),
        6: ("http://a.b.site.internal", "a.b.site.internal", "a.b.site.internal"),
    }
    with engine.begin() as conn:
        for oid, (origin, host, domain) in origins.items():
            conn.execute(
                text(
                    "INSERT INTO origin (id, origin, scheme, host, port, domain) "
                    "VALUES (:id, :origin, 'http', :host, NULL, :domain)"
                ),
                {"id": oid, "origin": origin, "host": host, "domain": domain},
            )

    def domains() -> dict[int, str]:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT id, domain FROM origin")).all())  # type: ignore[arg-type]

    upgrade(engine)
    assert domains() == {
        1: "site.test",
        2: "site.test",
        3: "example.co.uk",
        4: "10.0.0.1",
        5: "localhost",
        6: "site.internal",
    }
    downgrade(engine, "0003")
    assert domains() == {oid: domain for oid, (_, _, domain) in origins.items()}


def test_0011_logs_the_rows_already_stored(engine: Engine, db_url: str) -> None:
    """Rows written before the audit log existed are entered by the upgrade that adds it, so
    that the log covers the whole database and verifies."""
    from audit.logcheck import verify_log
    from tests.audit.conftest import T0, decide, robots_fetch, robots_signal

    upgrade(engine)
    with AuditStore.open(db_url) as store:
        run = store.start_run(crawler_name="C", product_token="C", user_agent="C/1")
        doc = robots_fetch("https://a.com")
        store.record_document(doc, kind="robots.txt", run_id=run)
        for n in range(5):
            did = store.record_decision(
                run, decide(f"https://a.com/{n}", robots_signal(doc)), "fetched-stored", time=T0
            )
            store.record_item(did, url=f"https://a.com/{n}", content_type="text/html", size=3)
        store.end_run(run)
    downgrade(engine, "0010")
    with engine.connect() as conn:
        assert not inspect(conn).has_table("log_batch")
    assert upgrade(engine) == ("0010", HEAD)
    report = verify_log(engine)
    assert report.ok, report.problems
    assert report.leaves == 1 + 1 + 1 + 1 + 1 + 5 + 5  # origin, document, fetch, signal, outcome
