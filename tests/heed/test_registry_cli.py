"""``heed registry add | remove | list`` on a real SQLite file: what is recorded, the history,
and one-line errors with their exit statuses."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from heed.cli import main
from heed.cli.registry import APPLIES_FROM


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output + result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_add_remove_and_list(tmp_path: Path) -> None:
    db = str(tmp_path / "heed.db")
    assert _run("db", "upgrade", "--db", db)[0] == 0
    code, out, err = _run(
        "registry", "add", "https://Example.com/Books/", "--purpose", "train-ai",
        "--source", "complaint C-7", "--note", "by letter", "--by", "alice", "--db", db,
    )  # fmt: skip
    assert code == 0, err
    assert (
        out == "entry 1: prefix example.com/Books/ reserved for train-ai (source: complaint C-7)\n"
    )
    assert APPLIES_FROM in err
    assert _run("registry", "add", "example.org", "--by", "bob", "--db", db)[0] == 0
    code, out, _ = _run(
        "registry", "remove", "1", "--note", "withdrawn", "--by", "carol", "--db", db
    )
    assert (code, out) == (0, "entry 1 (prefix example.com/Books/) removed: row 3\n")
    code, out, _ = _run("registry", "list", "--db", db)
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 1
    assert "domain example.org  tdm, train-ai, ai-input  [operator; by bob]" in lines[0]
    code, out, _ = _run("registry", "list", "--all", "--json", "--db", db)
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["id"], r["action"], r["entry"], r["by"]) for r in rows] == [
        (1, "add", None, "alice"),
        (2, "add", None, "bob"),
        (3, "remove", 1, "carol"),
    ]
    assert rows[2]["note"] == "withdrawn"


def test_errors_are_one_line(tmp_path: Path) -> None:
    db = str(tmp_path / "heed.db")
    assert _run("registry", "list", "--db", db)[0] == 1  # never creates a database
    assert _run("db", "upgrade", "--db", db)[0] == 0
    cases = (
        (("add", "co.uk"), 2, "co.uk is a public suffix"),
        (("add", "example.com", "--purpose", "training"), 2, "unknown purpose 'training'"),
        (("add", "example.com/books/"), 2, "with its scheme"),
        (("remove", "9"), 1, "no registry entry 9"),
    )
    for args, status, words in cases:
        code, _, err = _run("registry", *args, "--db", db)
        assert code == status, err
        assert words in err.strip().splitlines()[-1]
    assert _run("registry", "add", "example.com", "--db", db)[0] == 0
    assert _run("registry", "remove", "1", "--db", db)[0] == 0
    code, _, err = _run("registry", "remove", "1", "--db", db)
    assert code == 1
    assert err.strip().splitlines()[-1] == "Error: registry entry 1 was already removed (row 2)"
