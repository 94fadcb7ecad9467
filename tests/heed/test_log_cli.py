"""``heed log`` (key, checkpoint, show) and the log's publication by ``heed report crawler-info``:
keys are created secret and never overwritten, bad keys are refused in one line, checkpoints
verify with the printed verifier key, and only the public half of a key is ever published."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from audit import Action, AuditStore
from audit.checkpoint import open_checkpoint, parse_verifier_key
from audit.log import LogReader
from audit.logkey import KEY_ENV, default_name, read_key
from audit.queries import open_reader
from heed.cli import main
from optout.decision import DEFAULT_POLICY, Crawl, Protocol, Signal, combine

T0 = dt.datetime(2026, 2, 1, 9, 0, tzinfo=dt.UTC)
NAME = "crawler.example.test/heed-log"
_ALLOW = Signal(
    protocol=Protocol.ROBOTS_TXT,
    crawl=Crawl.ALLOW,
    reason="robots.txt allows",
    source="https://a.example/robots.txt",
    status=200,
    sha256="0" * 64,
    parser="heed-robots/1",
)
CONFIG = """
[provider]
name = "Example AI SAS"
contact_point = "copyright@example.ai"
complaints = "https://example.ai/copyright/complaints"

[crawler]
purpose = "Collect web text"
info_url = "https://example.ai/bot"
"""


def heed(*args: str) -> Result:
    """Run ``heed`` in-process (stdout and stderr apart)."""
    return CliRunner().invoke(main, list(args))


def crawled_db(path: Path, decisions: int = 3) -> str:
    """Return a SQLite audit database with one run of *decisions* decisions (log leaves)."""
    db = str(path)
    with AuditStore.open(db) as store:
        run = store.start_run(crawler_name="heed/web", product_token="HeedBot", user_agent="u")
        for i in range(decisions):
            decision = combine(f"https://a.example/{i}", (_ALLOW,), policy=DEFAULT_POLICY)
            store.record_decision(run, decision, Action.FETCHED_STORED, time=T0)
        store.end_run(run, ended_at=T0)
    return db


def log_size(db: str) -> int:
    engine = open_reader(db)
    try:
        with engine.connect() as conn:
            return LogReader(conn).size()
    finally:
        engine.dispose()


def new_key(tmp_path: Path, name: str = NAME) -> tuple[Path, str]:
    """Create a key file; return it and the verifier key printed."""
    path = tmp_path / "log.key"
    result = heed("log", "key", "--create", "--key", str(path), "--name", name)
    assert result.exit_code == 0, result.output
    return path, result.stdout.strip()


# -- heed log key -------------------------------------------------------------------------------


def test_create_writes_a_secret_file_and_prints_only_the_verifier_key(tmp_path: Path) -> None:
    path, verifier = new_key(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"PRIVATE+KEY+{NAME}+")
    assert text.endswith("\n")
    name, _ = parse_verifier_key(verifier)
    assert name == NAME
    assert verifier == read_key(path).verifier
    # Shown again without --create: the same public key, never the private one.
    again = heed("log", "key", "--key", str(path))
    assert again.exit_code == 0
    assert again.stdout.strip() == verifier
    assert "PRIVATE" not in again.output
    assert str(path) in again.stderr


def test_an_existing_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path, _ = new_key(tmp_path)
    before = path.read_bytes()
    result = heed("log", "key", "--create", "--key", str(path))
    assert result.exit_code == 2
    assert result.output == f"Error: log key file {path} already exists: not overwritten\n"
    assert path.read_bytes() == before


def test_default_file_and_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No --key: $HEED_LOG_KEY, else ./heed-log.key; no --name: HOST/heed-audit-log."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(KEY_ENV, raising=False)
    result = heed("log", "key", "--create")
    assert result.exit_code == 0, result.output
    assert read_key(tmp_path / "heed-log.key").name == default_name()
    assert default_name().endswith("heed-audit-log")
    monkeypatch.setenv(KEY_ENV, str(tmp_path / "env.key"))
    assert heed("log", "key", "--create", "--name", "other").exit_code == 0
    assert read_key(tmp_path / "env.key").name == "other"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "does not exist (create one with: heed log key --create)"),
        ("", "holds no signer key"),
        ("garbage\n", "holds no signer key: not a signer key"),
        ("PRIVATE+KEY+name+00000000+AAAA\n", "holds no signer key"),
    ],
    ids=["missing", "empty", "garbage", "truncated"],
)
def test_a_missing_or_malformed_key_is_one_line_exit_2(
    tmp_path: Path, content: str | None, says: str
) -> None:
    path = tmp_path / "bad.key"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    db = crawled_db(tmp_path / "heed.db")
    for args in (["log", "key"], ["log", "checkpoint", "--db", db]):
        result = heed(*args, "--key", str(path))
        assert result.exit_code == 2, result.output
        assert result.output.count("\n") == 1
        assert says in result.output
        assert "Traceback" not in result.output
    # A verifier key where the signer key belongs: refused, and its text never echoed.
    (tmp_path / "sub").mkdir()
    _, verifier = new_key(tmp_path / "sub")
    path.write_text(verifier + "\n", encoding="utf-8")
    result = heed("log", "key", "--key", str(path))
    assert result.exit_code == 2
    assert verifier not in result.output


def test_bad_names_and_options_are_usage_errors(tmp_path: Path) -> None:
    result = heed("log", "key", "--create", "--key", str(tmp_path / "k"), "--name", "a b")
    assert result.exit_code == 2
    assert "a key name has no '+', space or control character" in result.output
    assert not (tmp_path / "k").exists()
    result = heed("log", "key", "--key", str(tmp_path / "k"), "--name", "x")
    assert result.exit_code == 2
    assert "only applies with --create" in result.output


# -- heed log checkpoint / show ----------------------------------------------------------------


def test_checkpoint_signs_the_log_as_it_is_and_show_lists_it(tmp_path: Path) -> None:
    path, verifier = new_key(tmp_path)
    db = crawled_db(tmp_path / "heed.db")
    empty = heed("log", "show", "--db", db)
    assert empty.exit_code == 0
    assert "0 checkpoints" in empty.stdout
    assert "No checkpoint signed yet" in empty.stdout
    result = heed("log", "checkpoint", "--db", db, "--key", str(path))
    assert result.exit_code == 0, result.output
    name, public = parse_verifier_key(verifier)
    checkpoint = open_checkpoint(result.stdout, name, public)
    assert checkpoint.origin == NAME
    assert checkpoint.size == log_size(db) > 0
    assert checkpoint.extensions[0].startswith("time ")
    assert f"{checkpoint.size} leaves, root {checkpoint.root.hex()}" in result.stderr

    shown = heed("log", "show", "--db", db)
    assert shown.exit_code == 0
    assert f"Audit log: {checkpoint.size} leaves, 1 checkpoints" in shown.stdout
    key_id = verifier.split("+")[1]
    assert f"{NAME}+{key_id}" in shown.stdout
    assert checkpoint.root.hex()[:16] in shown.stdout

    # More rows: the JSON says how many leaves no checkpoint covers yet.
    crawled_db(tmp_path / "heed.db", decisions=2)
    data = json.loads(heed("log", "show", "--db", db, "--json").stdout)
    assert data["log_size"] == log_size(db) > checkpoint.size
    assert data["unsigned_leaves"] == data["log_size"] - checkpoint.size
    [entry] = data["checkpoints"]
    assert entry["id"] == 1
    assert entry["size"] == checkpoint.size
    assert entry["root"] == checkpoint.root.hex()
    assert entry["verifier_key"] == verifier
    assert entry["note"] == result.stdout
    assert entry["signed_at"].endswith("Z")


def test_show_and_checkpoint_need_an_existing_database(tmp_path: Path) -> None:
    path, _ = new_key(tmp_path)
    missing = str(tmp_path / "none.db")
    for args in (["show"], ["checkpoint", "--key", str(path)]):
        result = heed("log", *args, "--db", missing)
        assert result.exit_code == 1, result.output
        assert result.output.startswith("Error: ")
        assert result.output.count("\n") == 1
    assert not Path(missing).exists()


# -- heed report crawler-info ------------------------------------------------------------------


def _crawler_info(db: str, out: Path, *extra: str) -> Result:
    config = out.parent / "heed.toml"
    config.write_text(CONFIG, encoding="utf-8")
    return heed("report", "crawler-info", "--db", db, "--config", str(config), "--out", str(out),
                "--publish", *extra)  # fmt: skip


def test_crawler_info_publishes_the_verifier_key_and_the_checkpoints(tmp_path: Path) -> None:
    path, verifier = new_key(tmp_path)
    db = crawled_db(tmp_path / "heed.db")
    assert heed("log", "checkpoint", "--db", db, "--key", str(path)).exit_code == 0
    out = tmp_path / "site"
    result = _crawler_info(db, out, "--log-key", str(path))
    assert result.exit_code == 0, result.output
    secret = read_key(path).signer
    for file in out.iterdir():
        assert secret.split("+")[-1] not in file.read_text(encoding="utf-8"), file
    document = json.loads((out / "crawler-info.json").read_text(encoding="utf-8"))
    assert document["information"]["log_verifier_key"] == verifier
    assert document["log_checkpoints"] == {
        "latest": "log-checkpoint.txt",
        "all": "log-checkpoints.json",
    }
    page = (out / "crawler-info.html").read_text(encoding="utf-8")
    assert verifier in page
    assert 'href="log-checkpoint.txt"' in page
    assert verifier in (out / "crawler-info.md").read_text(encoding="utf-8")
    note = (out / "log-checkpoint.txt").read_text(encoding="utf-8")
    name, public = parse_verifier_key(verifier)
    assert open_checkpoint(note, name, public).size == log_size(db)
    listed = json.loads((out / "log-checkpoints.json").read_text(encoding="utf-8"))
    assert [c["note"] for c in listed["checkpoints"]] == [note]

    # Published again without the option: the key stated stays; a new key is a new version.
    again = _crawler_info(db, out)
    assert again.exit_code == 0, again.output
    assert "crawler-info version 1 (unchanged)." in again.stderr
    other = tmp_path / "other"
    other.mkdir()
    _, rotated = new_key(other, "crawler.example.test/heed-log-2")
    third = _crawler_info(db, out, "--log-verifier-key", rotated)
    assert third.exit_code == 0, third.output
    assert "crawler-info version 2 (published)." in third.stderr
    assert "Audit log verifier key changed" in third.stderr
    # The checkpoints were signed by the old key: said, not hidden.
    assert "was signed with the key crawler.example.test/heed-log+" in third.stderr


def test_crawler_info_without_checkpoints_and_with_bad_keys(tmp_path: Path) -> None:
    path, verifier = new_key(tmp_path)
    db = crawled_db(tmp_path / "heed.db")
    out = tmp_path / "site"
    result = _crawler_info(db, out, "--log-verifier-key", verifier)
    assert result.exit_code == 0, result.output
    assert "no signed checkpoint yet" in result.stderr
    assert not (out / "log-checkpoint.txt").exists()
    document = json.loads((out / "crawler-info.json").read_text(encoding="utf-8"))
    assert document["information"]["log_verifier_key"] == verifier
    assert "log_checkpoints" not in document

    missing = _crawler_info(db, out, "--log-key", str(tmp_path / "none.key"))
    assert missing.exit_code == 2
    assert "does not exist" in missing.output
    bad = _crawler_info(db, out, "--log-verifier-key", "PRIVATE+KEY+x")
    assert bad.exit_code == 2
    assert "--log-verifier-key" in bad.output
    both = _crawler_info(db, out, "--log-key", str(path), "--log-verifier-key", verifier)
    assert both.exit_code == 2
    assert "not both" in both.output
