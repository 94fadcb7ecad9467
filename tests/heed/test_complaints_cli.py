"""``heed complaints``: the operator handles a complaint from receipt to an upheld decision
that reserves in the registry; every step on record; one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from audit import AuditStore, open_publisher
from audit.complaints import Submission, submit_complaint
from heed.cli import main


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output + result.stderr
    return result.exit_code, result.stdout, result.stderr


def lodge(db: Path, email: str = "rights@press.example") -> str:
    """Create the audit database *db* with one complaint in it; return its reference."""
    db.parent.mkdir(parents=True, exist_ok=True)
    with AuditStore.open(str(db)):
        pass
    engine = open_publisher(str(db))
    try:
        complaint, _ = submit_complaint(
            engine,
            Submission(
                claimant="Example Press",
                capacity="representative",
                email=email,
                concerns=("press.example", "The Novel"),
                right_claimed="copyright",
                statement="not honoured",
                requested=("no-future-use",),
            ),
        )
    finally:
        engine.dispose()
    return complaint.reference


def test_from_receipt_to_an_upheld_reservation(tmp_path: Path) -> None:
    db = str(tmp_path / "heed.db")
    ref = lodge(tmp_path / "heed.db")
    code, out, _ = _run("complaints", "list", "--db", db)
    assert code == 0
    assert out.startswith(f"{ref}  received ")
    assert "Example Press (representative)" in out
    assert _run("complaints", "list", "--overdue", "30", "--db", db)[1] == "no complaints\n"
    assert _run("complaints", "ack", ref, "--by", "ops", "--db", db)[1] == f"{ref}: acknowledged\n"
    assert _run("complaints", "review", ref.lower(), "--db", db)[1] == f"{ref}: in-review\n"
    code, out, _ = _run(
        "complaints", "resolve", ref, "--upheld", "--reason", "reserved since January",
        "--reserve", "--purpose", "train-ai", "--by", "lee", "--db", db,
    )  # fmt: skip
    assert code == 0
    assert out.splitlines() == [
        f"{ref}: upheld",
        "  registry entry 1: domain press.example reserved for train-ai",
        "  not a domain, host or URL prefix, not in the registry: The Novel",
    ]
    code, out, _ = _run("registry", "list", "--json", "--db", db)
    (entry,) = [json.loads(line) for line in out.splitlines()]
    assert (entry["source"], entry["by"]) == (f"complaint {ref}", "lee")
    code, out, _ = _run("complaints", "show", ref, "--json", "--db", db)
    shown = json.loads(out)
    assert [(s["status"], s["by"]) for s in shown["steps"]] == [
        ("received", "portal"),
        ("acknowledged", "ops"),
        ("in-review", shown["steps"][2]["by"]),
        ("upheld", "lee"),
    ]
    assert shown["steps"][3]["reason"] == "reserved since January"
    code, out, _ = _run("complaints", "show", ref, "--db", db)
    assert "upheld by lee: reserved since January" in out
    # the published policy counts it (no personal data)
    code, out, _ = _run("report", "policy", "--public", "--format", "md", "--db", db)
    assert code == 0
    assert (
        "1 complaint lodged through the portal so far: 1 upheld, 0 rejected, 0 withdrawn, 0 open"
        in out
    )
    assert "Example Press" not in out


def test_errors_are_one_line(tmp_path: Path) -> None:
    db = str(tmp_path / "heed.db")
    ref = lodge(tmp_path / "heed.db")
    cases = (
        (("resolve", ref), 2, "say --upheld, --rejected or --withdrawn"),
        (("resolve", ref, "--rejected", "--purpose", "tdm"), 2, "--purpose goes with --reserve"),
        (("resolve", ref, "--upheld"), 1, "a complaint upheld needs its reason"),
        (("resolve", ref, "--rejected", "--reason", "r", "--reserve"), 1, "only an upheld"),
        (("show", "HC-NOPE"), 1, "no complaint HC-NOPE"),
        (("ack", "HC-NOPE"), 1, "no complaint HC-NOPE"),
    )
    for args, status, words in cases:
        code, _, err = _run("complaints", *args, "--db", db)
        assert code == status, (args, err)
        assert words in err.strip().splitlines()[-1]
    assert _run("complaints", "resolve", ref, "--rejected", "--reason", "no", "--db", db)[0] == 0
    code, _, err = _run("complaints", "resolve", ref, "--rejected", "--reason", "no", "--db", db)
    assert code == 1
    assert err.strip().splitlines()[-1] == f"Error: complaint {ref} was already rejected"
