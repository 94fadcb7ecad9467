"""The tamper-evident audit log (audit/leaves.py, audit/log.py, audit/logcheck.py, heed db
verify): leaves appended in the writer's transaction, proofs from the stored tree, signed
checkpoints, and tampering — with the append-only triggers dropped, as an attacker with the
database would — detected and located, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text

from audit import Action, AuditStore
from audit.checkpoint import open_checkpoint, parse_verifier_key, signer_key, verifier_key
from audit.engine import make_engine, resolve_url
from audit.leaves import LEAF_COLUMNS, LeafError, leaf_data, leaf_hashes, parse_leaf
from audit.log import LogReader, checkpoints, decode_refs, encode_refs
from audit.logcheck import verify_log
from audit.merkle import CompactTree, leaf_hash, root, verify_consistency, verify_inclusion
from audit.models import Base
from heed.cli import main
from tests.audit.conftest import T0, decide, robots_fetch, robots_signal

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
SIGNER = signer_key("crawler.example/heed-log", KEY)
VERIFIER = verifier_key("crawler.example/heed-log", KEY.public_key())


def fill(store: AuditStore, sites: int = 6, pages: int = 40, *, sign_every: int = 0) -> int:
    """Record *sites* × *pages* decisions (an item for one in three) in small batches."""
    run = store.start_run(crawler_name="HeedBot", product_token="HeedBot", user_agent="HeedBot/1")
    n = 0
    for s in range(sites):
        origin = f"https://site{s}.example"
        doc = robots_fetch(origin)
        store.record_document(doc, kind="robots.txt", run_id=run)
        for p in range(pages):
            url = f"{origin}/page/{p}.html"
            decision = decide(url, robots_signal(doc))
            did = store.record_decision(
                run, decision, Action.FETCHED_STORED, time=T0, request_key=f"{s}-{p}"
            )
            if p % 3 == 0:
                store.record_item(
                    did, url=url, content_type="text/html", size=10, on_durable=lambda _: None
                )
            n += 1
            if sign_every and n % sign_every == 0:
                store.sign_checkpoint()
    store.end_run(run)
    return run


@pytest.fixture
def signed_db(db_url: str) -> Iterator[str]:
    """Yield the URL of a database holding a small crawl and several signed checkpoints."""
    with AuditStore.open(db_url, batch_size=37) as store:
        store.signer = SIGNER
        fill(store, sign_every=50)
    return db_url


def reader(db_url: str) -> Engine:
    return make_engine(resolve_url(db_url))


# -- pure parts ------------------------------------------------------------------------------


def test_leaf_columns_are_the_tables_columns() -> None:
    tables = Base.metadata.tables
    for name, columns in LEAF_COLUMNS.items():
        expected = [c.name for c in tables[name].c if not (name == "document" and c.name == "body")]
        assert list(columns) == expected, name


def test_leaf_data_round_trips_and_refuses_other_forms() -> None:
    values = [1, 2, "k", 1, 1767225600000000, 3, "https://a.example/é", 4, "fetched", None, None, 5]
    data = leaf_data("decision", values)
    assert parse_leaf(data) == (
        "decision",
        dict(zip(LEAF_COLUMNS["decision"], values, strict=True)),
    )
    assert leaf_hashes("decision", [values]) == [leaf_hash(data)]
    for bad in (
        data.replace(b",", b", ", 1),  # not canonical
        b"nosuchtable " + data.split(b" ", 1)[1],
        b"decision [1,2]",
        b"decision {",
    ):
        with pytest.raises(LeafError):
            parse_leaf(bad)


def test_refs_encode_runs_and_keep_order() -> None:
    refs = {"decision": [5, 6, 7, 9, 10, 2], "document": ["ab", "cd"], "origin": [1]}
    text_ = encode_refs(refs)
    assert '"decision":[[5,3],[9,2],[2,1]]' in text_
    assert decode_refs(text_) == [
        ("origin", 1),
        ("document", "ab"),
        ("document", "cd"),
        *[("decision", k) for k in (5, 6, 7, 9, 10, 2)],
    ]


def test_bulk_extend_reports_the_complete_subtrees() -> None:
    leaves = [hashlib.sha256(str(i).encode()).digest() for i in range(1500)]
    for start in (0, 1, 255, 256, 257, 700):
        tree = CompactTree()
        tree.extend(leaves[:start])
        nodes = tree.extend(leaves[start:], keep_from=3)
        assert tree.root() == root(leaves)
        expected = {
            (level, i)
            for level in range(3, 12)
            for i in range(len(leaves) >> level)
            if (i + 1) << level > start
        }
        assert {(lv, i) for lv, i, _ in nodes} == expected
        for level, i, node in nodes:
            assert node == root(leaves[i << level : (i + 1) << level])


# -- the log in the database -----------------------------------------------------------------


def test_every_row_is_a_leaf_and_proofs_verify(signed_db: str) -> None:
    engine = reader(signed_db)
    try:
        with engine.connect() as conn:
            log = LogReader(conn)
            size = log.size()
            stored = checkpoints(conn)
            batches = list(log.batches())
        tables = {t for _, refs, _ in batches for t, _ in refs}
        assert tables == set(LEAF_COLUMNS)
        leaves = [b[i : i + 32] for _, _, b in batches for i in range(0, len(b), 32)]
        assert len(leaves) == size == stored[-1].size  # the run's end signed the last one
        assert len(stored) >= 5
        name, public = parse_verifier_key(stored[-1].verifier_key)
        assert stored[-1].verifier_key == VERIFIER
        with engine.connect() as conn:
            log = LogReader(conn)
            for cp in stored:
                opened = open_checkpoint(cp.note, name, public)
                assert opened.size == cp.size
                assert opened.root == root(leaves[: cp.size])
                for index in {0, cp.size // 2, cp.size - 1}:
                    proof = log.inclusion(index, cp.size)
                    assert verify_inclusion(index, cp.size, leaves[index], proof, opened.root)
            for older, newer in itertools.pairwise(stored):
                proof = log.consistency(older.size, newer.size)
                assert verify_consistency(
                    older.size,
                    newer.size,
                    proof,
                    bytes.fromhex(older.root),
                    bytes.fromhex(newer.root),
                )
        report = verify_log(engine, (VERIFIER,))
        assert report.ok, report.problems
        assert report.leaves == size
        assert report.unsigned == 0
    finally:
        engine.dispose()


def test_a_row_written_twice_is_logged_once(db_url: str) -> None:
    """Two stores (two processes of one crawl) record the same robots.txt and signals: the
    shared rows get one leaf each, from whichever committed them first."""
    for _ in range(2):
        with AuditStore.open(db_url) as store:
            fill(store, sites=2, pages=3)
    engine = reader(db_url)
    try:
        report = verify_log(engine)
        assert report.ok, report.problems
    finally:
        engine.dispose()


def test_a_store_without_the_log_leaves_rows_the_verifier_reports(db_url: str) -> None:
    with AuditStore.open(db_url, log=False) as store:
        fill(store, sites=1, pages=2)
    engine = reader(db_url)
    try:
        report = verify_log(engine)
        kinds = {(p.kind, p.table) for p in report.problems}
        assert ("inserted", "decision") in kinds
        assert ("inserted", "origin") in kinds
    finally:
        engine.dispose()


def test_a_large_tree_in_bulk_gives_logarithmic_proofs(db_url: str) -> None:
    """A log of 2^20 + 3 leaves, appended in batches straight through audit.log.append (as a
    long crawl's commits would): root, inclusion and consistency proofs from the stored tree,
    each reading O(log n) rows."""
    from audit.log import append
    from audit.rows import now_function

    count = (1 << 20) + 3
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(count)]
    engine = make_engine(resolve_url(db_url), writer=True)
    try:
        from audit.migrate import ensure_schema

        ensure_schema(engine, create=True)
        now = now_function(engine.dialect.name)()
        step = 1 << 17
        with engine.begin() as conn:
            for start in range(0, count, step):
                chunk = leaves[start : start + step]
                append(conn, {"decision": list(range(start, start + len(chunk)))}, chunk, now)
        expected = root(leaves)
        statements: list[str] = []

        def count_statement(*args: Any) -> None:
            statements.append(str(args[2]))

        from sqlalchemy import event

        with engine.connect() as conn:
            log = LogReader(conn)
            assert log.size() == count
            event.listen(engine, "before_cursor_execute", count_statement)
            try:
                for index in (0, 1 << 19, count - 1):
                    statements.clear()
                    proof = log.inclusion(index, count)
                    assert verify_inclusion(index, count, leaves[index], proof, expected)
                    assert len(statements) <= 4 * 21
                statements.clear()
                size1 = 777_777
                proof = log.consistency(size1, count)
                assert verify_consistency(size1, count, proof, root(leaves[:size1]), expected)
                assert len(statements) <= 4 * 21
            finally:
                event.remove(engine, "before_cursor_execute", count_statement)
    finally:
        engine.dispose()


# -- tampering -------------------------------------------------------------------------------


def _drop_triggers(conn: Any, table: str) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"DROP TRIGGER trg_{table}_append_only ON {table}"))
    else:
        conn.execute(text(f"DROP TRIGGER trg_{table}_no_update"))
        conn.execute(text(f"DROP TRIGGER trg_{table}_no_delete"))


def _tamper(db_url: str, table: str, sql: str) -> None:
    engine = make_engine(resolve_url(db_url))
    try:
        with engine.begin() as conn:
            _drop_triggers(conn, table)
            assert conn.execute(text(sql)).rowcount == 1
    finally:
        engine.dispose()


def _problems(db_url: str, keys: tuple[str, ...] = (VERIFIER,)) -> list[Any]:
    engine = reader(db_url)
    try:
        return verify_log(engine, keys).problems
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("table", "sql", "kind"),
    [
        (
            "decision",
            "UPDATE decision SET action = 'skipped-robots' WHERE id = (SELECT min(id) FROM decision)",
            "changed",
        ),
        (
            "decision",
            (
                "DELETE FROM decision WHERE id = (SELECT max(d.id) FROM decision d WHERE NOT EXISTS "
                "(SELECT 1 FROM stored_item i WHERE i.decision_id = d.id))"
            ),  # nothing rests on it
            "deleted",
        ),
        (
            "signal",
            "UPDATE signal SET rule = 'Allow: /' WHERE id = (SELECT min(id) FROM signal)",
            "changed",
        ),
        (
            "document",
            "UPDATE document SET body = body || body WHERE sha256 = (SELECT min(sha256) FROM document)",
            "changed",
        ),
        (
            "stored_item",
            (
                "UPDATE stored_item SET url = 'https://elsewhere.example/' "
                "WHERE id = (SELECT min(id) FROM stored_item)"
            ),
            "changed",
        ),
    ],
)
def test_a_tampered_row_is_found_and_located(
    signed_db: str, table: str, sql: str, kind: str
) -> None:
    _tamper(signed_db, table, sql)
    problems = _problems(signed_db)
    located = [p for p in problems if p.kind == kind and p.table == table]
    assert len(located) == 1, problems
    problem = located[0]
    assert problem.leaf is not None
    assert problem.checkpoint is not None
    engine = reader(signed_db)
    try:
        with engine.connect() as conn:
            stored = checkpoints(conn)
    finally:
        engine.dispose()
    first = next(c for c in stored if c.size > problem.leaf)
    assert problem.checkpoint == first.id
    # Every checkpoint from that one on is reported as not matching the rows.
    broken = {p.checkpoint for p in problems if p.kind == "checkpoint"}
    assert broken == {c.id for c in stored if c.size > problem.leaf}


def test_an_inserted_row_is_reported(signed_db: str) -> None:
    engine = make_engine(resolve_url(signed_db))
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO decision SELECT id + 1000000000, run_id, request_key || 'x', "
                    "attempt, time, origin_id, url, outcome_id, action, http_status, "
                    "denylist_version, request_hash + 1 FROM decision WHERE id = "
                    "(SELECT min(id) FROM decision)"
                )
            )
    finally:
        engine.dispose()
    problems = _problems(signed_db)
    assert [(p.kind, p.table) for p in problems] == [("inserted", "decision")]


def test_a_rewritten_history_is_found(signed_db: str) -> None:
    """A row changed together with its stored leaf hash: the stored leaves agree with the rows,
    but no longer with the signed checkpoints."""
    engine = make_engine(resolve_url(signed_db))
    try:
        with engine.begin() as conn:
            for table in ("decision", "log_batch"):
                _drop_triggers(conn, table)
            first_id = conn.execute(text("SELECT min(id) FROM decision")).scalar_one()
            conn.execute(text(f"UPDATE decision SET url = url || '?x' WHERE id = {first_id}"))
            log = LogReader(conn)
            for first, refs, blob in log.batches():
                if ("decision", first_id) in refs:
                    offset = refs.index(("decision", first_id))
                    row = conn.execute(
                        text(
                            "SELECT id, run_id, request_key, attempt, time, origin_id, url, "
                            "outcome_id, action, http_status, denylist_version, request_hash "
                            f"FROM decision WHERE id = {first_id}"
                        )
                    ).one()
                    from audit.leaves import _micros

                    values = list(row)
                    if not isinstance(values[4], int):
                        values[4] = _micros(values[4])
                    new = leaf_hashes("decision", [values])[0]
                    blob = blob[: offset * 32] + new + blob[(offset + 1) * 32 :]
                    conn.execute(
                        text("UPDATE log_batch SET leaves = :b WHERE first = :f"),
                        {"b": blob, "f": first},
                    )
                    break
    finally:
        engine.dispose()
    problems = _problems(signed_db)
    assert {p.kind for p in problems} == {"checkpoint", "log"}, problems
    assert not any(p.table for p in problems)  # the rows and stored leaves agree


def test_a_tampered_checkpoint_is_found(signed_db: str) -> None:
    engine = make_engine(resolve_url(signed_db))
    try:
        with engine.begin() as conn:
            _drop_triggers(conn, "log_checkpoint")
            conn.execute(
                text(
                    "UPDATE log_checkpoint SET note = replace(note, 'time 20', 'time 19') "
                    "WHERE id = (SELECT min(id) FROM log_checkpoint)"
                )
            )
    finally:
        engine.dispose()
    problems = _problems(signed_db)
    assert [p.kind for p in problems] == ["checkpoint"], problems
    assert "does not verify" in problems[0].text


def test_a_checkpoint_by_another_key_is_refused(signed_db: str) -> None:
    other = verifier_key("crawler.example/heed-log", Ed25519PrivateKey.generate().public_key())
    problems = _problems(signed_db, (other,))
    assert problems
    assert all("no signature of" in p.text for p in problems)


def test_heed_db_verify(signed_db: str, tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["db", "verify", "--db", signed_db, "--key", VERIFIER])
    assert ok.exit_code == 0, ok.output
    assert ok.output.endswith("ok\n")
    bad = runner.invoke(main, ["db", "verify", "--db", signed_db, "--key", "nonsense"])
    assert bad.exit_code == 2
    assert "Traceback" not in bad.output
    _tamper(
        signed_db,
        "decision",
        "UPDATE decision SET action = 'skipped-robots' WHERE id = (SELECT min(id) FROM decision)",
    )
    failed = runner.invoke(main, ["db", "verify", "--db", signed_db])
    assert failed.exit_code == 3
    assert "problem: decision" in failed.output
    assert "was changed (leaf" in failed.output
