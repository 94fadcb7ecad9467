"""``heed status``, ``heed evidence`` and ``heed db check`` through the command line."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, text

from audit import Action, AuditStore
from heed.cli import main
from optout.decision import Protocol, Purpose, Signal, Verdict
from optout.document import FetchResult
from tests.audit.conftest import T0, decide, header_signal, robots_fetch, robots_signal

#: Bytes that any re-encoding would change: NUL, CRLF, a lone CR, invalid UTF-8, no final newline.
AWKWARD = b"User-agent: *\r\nDisallow: /private/\r\n\x00\xff\xfe caf\xc3\xa9\rAllow: /"


def heed(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run ``heed`` in-process."""
    return CliRunner().invoke(main, list(args), env=env)


@pytest.fixture
def recorded(db_url: str) -> tuple[str, str]:
    """Return (database, robots.txt sha256) after a small crawl of example.com."""
    doc = robots_fetch("https://www.example.com", body=AWKWARD)
    with AuditStore.open(db_url) as store:
        run = store.start_run(crawler_name="HeedBot", product_token="HeedBot", user_agent="UA")
        store.record_document(doc, kind="robots.txt", run_id=run)
        other = FetchResult(url="https://other.org/robots.txt", status=200, body=AWKWARD)
        store.record_document(other, kind="robots.txt", run_id=run)  # the same bytes elsewhere
        url = "https://www.example.com/page"
        did = store.record_decision(
            run,
            decide(url, robots_signal(doc), header_signal(url, reserved=False)),
            Action.FETCHED_STORED,
            time=T0,
            http_status=200,
        )
        store.record_item(did, url=url, content_type="text/html", size=4096)
        blocked = "https://www.example.com/private/x"
        store.record_decision(
            run, decide(blocked, robots_signal(doc, allowed=False)), Action.SKIPPED_ROBOTS, time=T0
        )
    return db_url, doc.sha256


def test_status_human_output(recorded: tuple[str, str]) -> None:
    """Per URL: time, action, verdicts, stored or not, reasons, signals and their documents."""
    db, sha = recorded
    result = heed("status", "example.com", "--db", db)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Audit trail for domain example.com and its subdomains" in out
    assert (
        "https://www.example.com/page\n  2026-03-01T12:00:00Z  fetched and stored "
        "(HTTP 200; crawl allowed, train-ai not reserved)\n      stored: item"
    ) in out
    assert (
        "https://www.example.com/private/x\n  2026-03-01T12:00:00Z  skipped: robots.txt "
        "disallows it (crawl disallowed, train-ai not reserved)\n      not stored\n"
    ) in out
    assert "why: robots.txt disallows [line 2: Disallow: /private/]" in out
    assert f"doc {sha[:12]}" in out
    assert f"{sha}  robots.txt  200  https://www.example.com/robots.txt" in out
    assert "other.org" not in out  # the same bytes fetched from another site stay private
    assert "2 decisions about 2 URLs; content stored for 1." in out


def test_status_reads_each_action_in_words(db_url: str) -> None:
    """Every action reads as a phrase with the verdicts in words: no recorded value such as
    "skipped-reservation: crawl allow" is printed as the headline."""
    with AuditStore.open(db_url) as store:
        run = store.start_run(crawler_name="HeedBot", product_token="HeedBot", user_agent="UA")
        reserved = "https://example.com/reserved"
        store.record_decision(
            run,
            decide(reserved, header_signal(reserved, reserved=True)),
            Action.SKIPPED_RESERVATION,
            time=T0,
        )
    out = heed("status", "example.com", "--db", db_url).output
    assert (
        "  2026-03-01T12:00:00Z  skipped: rights reserved (crawl allowed, train-ai reserved)\n"
        "      not stored\n"
    ) in out
    assert "skipped-reservation" not in out
    assert "crawl allow," not in out


def test_status_says_a_page_was_never_written(db_url: str) -> None:
    """A fetched-stored decision without its stored item (the crawl was killed between the two)
    reads as fetched and not stored, and why, never as "fetched-stored … not stored"."""
    with AuditStore.open(db_url) as store:
        run = store.start_run(crawler_name="HeedBot", product_token="HeedBot", user_agent="UA")
        url = "https://example.com/page"
        store.record_decision(
            run,
            decide(url, header_signal(url, reserved=False)),
            Action.FETCHED_STORED,
            time=T0,
            http_status=200,
        )
    out = heed("status", "example.com", "--db", db_url).output
    assert (
        "  2026-03-01T12:00:00Z  fetched (HTTP 200; crawl allowed, train-ai not reserved)\n"
        "      not stored: the crawl stopped before the page was written\n"
    ) in out
    assert "fetched and stored" not in out
    assert "content stored for 0." in out
    record = json.loads(heed("status", "example.com", "--db", db_url, "--json").output)[0]
    assert (record["action"], record["stored"]) == ("fetched-stored", False)


@pytest.mark.parametrize(
    ("target", "options", "message"),
    [
        (
            "example.com",
            ["--since", "2030-01-01"],
            "for domain example.com and its subdomains since 2030-01-01.",
        ),
        ("example.com", ["--until", "2020-01-31"], "and its subdomains up to 2020-01-31."),
        (
            "example.com",
            ["--since", "2020-01-01", "--until", "2020-01-31"],
            "and its subdomains from 2020-01-01 to 2020-01-31.",
        ),
        (
            "https://www.example.com/nothing/",
            ["--since", "2030-01-01"],
            "for URLs starting with https://www.example.com/nothing/ since 2030-01-01.",
        ),
        ("nothing.example", [], "for domain nothing.example and its subdomains."),
    ],
)
def test_status_names_what_found_nothing(
    recorded: tuple[str, str], target: str, options: list[str], message: str
) -> None:
    """ "No decisions recorded" repeats the target and the time window that found none."""
    db, _ = recorded
    out = heed("status", target, "--db", db, *options).output
    lines = out.splitlines()
    assert lines[-1].startswith("No decisions recorded for ")
    assert lines[-1].endswith(message)
    window = " ".join(options[1::2])
    assert all(part in lines[0] for part in window.split())  # the heading names it too


def test_status_says_when_the_limit_leaves_decisions_out(recorded: tuple[str, str]) -> None:
    """--limit shows that many and says how many there are; a limit that leaves nothing out
    says nothing."""
    db, _ = recorded
    out = heed("status", "example.com", "--db", db, "--limit", "1").output
    assert "1 decision about 1 URL; content stored for 1.\n" in out
    assert "Showing 1 of 2 decisions; raise --limit to see more.\n" in out
    window = heed("status", "example.com", "--db", db, "--limit", "1", "--until", "2026-03-01")
    assert "Showing 1 of 2 decisions up to 2026-03-01; raise --limit to see more." in window.output
    for enough in ("2", "3"):
        full = heed("status", "example.com", "--db", db, "--limit", enough).output
        assert "2 decisions about 2 URLs" in full
        assert "Showing" not in full


def test_status_lists_each_retrieval_once(db_url: str) -> None:
    """A signal document's retrieval is listed once under "Signal documents seen", whether or
    not it was redirected (a retrieval's final URL is its URL when it was not)."""
    direct = FetchResult(
        url="https://example.com/robots.txt",
        final_url="https://example.com/robots.txt",
        status=200,
        body=b"User-agent: *\nDisallow: /private/\n",
        fetched_at="2026-03-01T11:59:00Z",
    )
    moved = FetchResult(
        url="https://example.com/.well-known/tdmrep.json",
        final_url="https://example.com/tdmrep.json",
        redirects=1,
        status=200,
        body=b"[]",
        fetched_at="2026-03-01T11:59:01Z",
    )
    with AuditStore.open(db_url) as store:
        run = store.start_run(crawler_name="HeedBot", product_token="HeedBot", user_agent="UA")
        store.record_document(direct, kind="robots.txt", run_id=run)
        store.record_document(moved, kind="tdmrep.json", run_id=run)
        tdm = Signal(
            protocol=Protocol.TDMREP_FILE,
            purposes={Purpose.TDM: Verdict.NOT_RESERVED},
            reason="no rule matches",
            source=moved.final_url,
            status=200,
            sha256=moved.sha256,
            parser="heed-tdmrep/1",
        )
        for n, path in enumerate(("/a", "/private/b")):
            url = f"https://example.com{path}"
            store.record_decision(
                run,
                decide(url, robots_signal(direct, allowed=n == 0), tdm),
                Action.FETCHED_EXCLUDED if n == 0 else Action.SKIPPED_ROBOTS,
                time=T0,
            )
    out = heed("status", "example.com", "--db", db_url).output
    seen = out.split("Signal documents seen (print one: heed evidence SHA256):\n")[1]
    lines = seen.splitlines()
    assert len(lines) == len(set(lines)) == 2, seen
    assert f"{direct.sha256}  robots.txt  200  https://example.com/robots.txt" in lines[0]
    assert f"{moved.sha256}  tdmrep.json  200  {moved.url}" in lines[1]


def test_status_json(recorded: tuple[str, str]) -> None:
    """--json prints an array of decision objects with the documented keys."""
    db, sha = recorded
    result = heed("status", "https://www.example.com/", "--db", db, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [d["url"] for d in data] == [
        "https://www.example.com/page",
        "https://www.example.com/private/x",
    ]
    page = data[0]
    assert {"url", "time", "crawl", "use", "stored", "action", "reasons", "signals"} <= page.keys()
    assert (page["time"], page["crawl"], page["stored"], page["action"]) == (
        "2026-03-01T12:00:00Z",
        "allow",
        True,
        "fetched-stored",
    )
    robots, header = page["signals"]
    assert (robots["protocol"], robots["verdict"], robots["sha256"], robots["document_stored"]) == (
        "robots.txt",
        "allow",
        sha,
        True,
    )
    assert header["protocol"] == "tdmrep-header"
    assert header["sha256"] is None
    assert header["rule"] == "0"  # no document: the raw value is the evidence
    assert "detail" in header
    empty = heed("status", "nothing.example", "--db", db, "--json")
    assert (empty.exit_code, json.loads(empty.output)) == (0, [])


def test_evidence_round_trip_is_byte_for_byte(recorded: tuple[str, str]) -> None:
    """The stored document comes back exactly, with status, headers and fetch time."""
    db, sha = recorded
    body = heed("evidence", sha, "--db", db, "--body")
    assert body.exit_code == 0
    assert body.stdout_bytes == AWKWARD
    full = heed("evidence", sha[:10], "--db", db)
    assert full.exit_code == 0
    assert full.stdout_bytes.endswith(b"----- %d bytes as fetched -----\n" % len(AWKWARD) + AWKWARD)
    header = full.stdout_bytes[: -len(AWKWARD)].decode()
    assert f"sha256: {sha} (verified)" in header
    assert "retrieval 1 of 2: robots.txt https://www.example.com/robots.txt" in header
    assert (
        'fetched: 2026-03-01T11:59:00Z\nstatus: 200\ncontent-type: text/plain\netag: "v1"' in header
    )
    data = json.loads(heed("evidence", sha, "--db", db, "--json").output)
    assert base64.b64decode(data["body_base64"]) == AWKWARD
    assert (
        hashlib.sha256(base64.b64decode(data["body_base64"])).hexdigest() == data["sha256"] == sha
    )
    assert data["retrievals"][0]["headers"] == [["content-type", "text/plain"], ["etag", '"v1"']]


def test_evidence_errors(recorded: tuple[str, str]) -> None:
    """Unknown, malformed and ambiguous hashes are one-line errors."""
    db, _ = recorded
    missing = heed("evidence", "0" * 64, "--db", db)
    assert (missing.exit_code, missing.output) == (
        1,
        f"Error: no stored document with sha256 {'0' * 64}\n",
    )
    bad = heed("evidence", "xyz", "--db", db)
    assert bad.exit_code == 1
    assert "is not a sha256" in bad.output


def test_tampered_evidence_is_detected(recorded: tuple[str, str], engine: Engine) -> None:
    """Bytes changed behind the API's back fail verification (exit 3), in evidence and db check."""
    db, sha = recorded
    assert heed("db", "check", "--db", db).exit_code == 0
    with engine.begin() as conn:  # an attacker with SQL access drops the trigger first
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER trg_document_no_update"))
        else:
            conn.execute(text("DROP TRIGGER trg_document_append_only ON document"))
        conn.execute(text("UPDATE document SET body = :b"), {"b": b"User-agent: *\nAllow: /\n"})
    result = heed("evidence", sha, "--db", db)
    assert result.exit_code == 3
    assert "fails verification" in result.output
    assert result.stdout_bytes.count(b"Allow: /") == 0  # nothing of the altered bytes printed
    check = heed("db", "check", "--db", db)
    assert check.exit_code == 3
    assert "stored bytes do not match their sha256" in check.output


def test_database_errors_are_one_line(tmp_path: Path) -> None:
    """A missing file, a non-database, a bad URL, a bad target: messages, never tracebacks."""
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    cases = [
        (["status", "example.com", "--db", str(tmp_path / "missing.db")], "no audit database at"),
        (["status", "example.com", "--db", str(junk)], "cannot use database"),
        (["status", "example.com", "--db", "mysql://x/y"], "unsupported database"),
        (["status", "example.com", "--db", str(tmp_path)], "is a directory"),
        (
            ["evidence", "ab" * 32, "--db", "postgresql://nobody@127.0.0.1:1/x"],
            "cannot use database",
        ),
        (["status", "a b", "--db", str(junk)], "is not a domain or host name"),
        (["status", "example.com", "--since", "soon", "--db", str(junk)], "is not a date"),
        (
            ["db", "upgrade", "--db", str(tmp_path / "no" / "such" / "dir.db")],
            "directory does not exist",
        ),
    ]
    for args, message in cases:
        result = heed(*args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_default_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --db: $HEED_DB, else ./heed.db."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HEED_DB", raising=False)
    with AuditStore.open() as store:
        run = store.start_run(crawler_name="HeedBot", product_token="HeedBot", user_agent="UA")
        store.record_decision(run, decide("https://example.com/"), Action.DENYLISTED, time=T0)
    assert (tmp_path / "heed.db").is_file()
    listed = "skipped: infringing-site denylist"
    assert listed in heed("status", "example.com").output
    other = tmp_path / "other.db"
    (tmp_path / "heed.db").rename(other)
    assert listed in heed("status", "example.com", env={"HEED_DB": str(other)}).output
    assert heed("status", "example.com").exit_code == 1  # ./heed.db is gone: not re-created
    assert not (tmp_path / "heed.db").exists()


def garble(path: Path, pages: Iterable[int], page_size: int = 4096) -> None:
    """Write random bytes over *pages* (numbered from 1) of the SQLite file at *path*."""
    rng = random.Random(7)
    with path.open("r+b") as f:
        for page in pages:
            f.seek((page - 1) * page_size)
            f.write(rng.randbytes(page_size))


def heed_process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m heed ARGS...`` in a subprocess (real stderr, real exit status)."""
    env = {k: v for k, v in os.environ.items() if k != "HEED_DB"}
    return subprocess.run(
        [sys.executable, "-m", "heed", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_damaged_sqlite_file_is_one_line_everywhere(tmp_path: Path) -> None:
    """Garbage over the pages of a real audit database's tables: every command that opens it
    says so in one line, exit 1; `heed db check` prints what SQLite's integrity check finds."""
    db = tmp_path / "audit.db"
    with AuditStore.open(str(db)) as store:
        run = store.start_run(crawler_name="HeedBot", product_token="HeedBot", user_agent="UA")
        for n in range(40):
            doc = robots_fetch(f"https://www{n}.example.com", body=AWKWARD + str(n).encode())
            store.record_document(doc, kind="robots.txt", run_id=run)
            url = f"https://www{n}.example.com/page"
            store.record_decision(run, decide(url, robots_signal(doc)), Action.SKIPPED_ROBOTS)
    sha = robots_fetch("https://www0.example.com", body=AWKWARD + b"0").sha256
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # Every table and index but the schema revision: what alembic reads still reads.
        roots = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE rootpage > 0 "
            "AND tbl_name <> 'alembic_version'"
        ).fetchall()
    conn.close()
    assert heed_process("status", "example.com", "--db", str(db), cwd=tmp_path).returncode == 0
    garble(db, sorted(page for (page,) in roots))
    malformed = f"Error: cannot use database {db}: database disk image is malformed"
    damaged = f"Error: {db} is damaged: SQLite's integrity check failed ("
    for args, error in (
        (["status", "example.com"], malformed),
        (["evidence", sha], malformed),
        (["db", "upgrade"], damaged),  # checked before any migration rewrites a table
        (["report", "summary"], malformed),
        (["report", "policy", "--out", "policy.md"], malformed),
        (["report", "crawler-info", "--out", "info.json"], malformed),
    ):
        proc = heed_process(*args, "--db", str(db), cwd=tmp_path)
        assert proc.returncode == 1, (args, proc.stderr)
        errors = [line for line in proc.stderr.splitlines() if not line.startswith("problem: ")]
        assert len(errors) == 1, (args, proc.stderr)
        assert errors[0].startswith(error), (args, proc.stderr)
    check = heed_process("db", "check", "--db", str(db), cwd=tmp_path)
    assert check.returncode == 1
    assert check.stdout == ""
    *problems, error = check.stderr.splitlines()
    assert problems
    assert all(line.startswith("problem: ") for line in problems)
    assert any("btreeInitPage" in line or "malformed" in line for line in problems), problems
    assert error == (
        f"Error: {db} is damaged: SQLite's integrity check failed ({problems[0][9:]}); "
        "the database is not usable"
    )
    assert not (tmp_path / "policy.md").exists()


def test_db_check_and_upgrade_refuse_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    """Not SQLite at all: `heed db check` and `heed db upgrade` say so in one line, exit 1."""
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 400)
    for args in (["db", "check"], ["db", "upgrade"]):
        result = heed(*args, "--db", str(junk))
        assert result.exit_code == 1, result.output
        damaged = f"{junk} is damaged: SQLite's integrity check failed (file is not a database)"
        assert result.output.splitlines() == [
            "problem: file is not a database",
            f"Error: {damaged}; the database is not usable",
        ]
