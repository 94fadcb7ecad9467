"""Receipts (audit/receipts.py, audit/receiptcheck.py, heed receipt, heed verify-receipt): made
on SQLite and PostgreSQL, verified offline, and refused once anything in them is altered."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import AuditStore
from audit.checkpoint import verifier_key
from audit.engine import make_engine, resolve_url
from audit.errors import IntegrityError
from audit.receiptcheck import verify_receipt
from audit.receipts import ReceiptError, build_receipt, decision_for_url
from heed.cli import main
from tests.audit.test_audit_log import SIGNER, VERIFIER, fill

Receipt = dict[str, Any]


@pytest.fixture
def signed(db_url: str) -> Iterator[tuple[str, Receipt]]:
    """Yield a database with a signed crawl and the receipt of a decision with a stored item."""
    with AuditStore.open(db_url, batch_size=29) as store:
        store.signer = SIGNER
        fill(store, sites=3, pages=9, sign_every=10)
    engine = make_engine(resolve_url(db_url))
    try:
        decision = decision_for_url(engine, "https://site1.example/page/3.html")
        yield db_url, build_receipt(engine, decision)
    finally:
        engine.dispose()


def test_a_receipt_verifies_and_says_what_it_proves(signed: tuple[str, Receipt]) -> None:
    _, receipt = signed
    tables = [r["table"] for r in receipt["records"]]
    assert sorted(tables) == sorted(
        ["decision", "outcome", "origin", "signal", "stored_item", "document"]
    )
    assert receipt["documents"][0]["body_base64"]
    report = verify_receipt(json.loads(json.dumps(receipt)), VERIFIER)
    assert report.ok, report.problems
    text = " ".join(report.proves)
    assert "https://site1.example/page/3.html" in text
    assert "stored item" in text
    assert "does not prove that the crawler acted as recorded" in text
    untrusted = verify_receipt(receipt)
    assert untrusted.ok
    assert "published on the crawler's information page" in " ".join(untrusted.proves)


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    return 1  # None


def _alterations(receipt: Receipt) -> Iterator[tuple[str, Callable[[Receipt], None]]]:
    """Yield every single alteration a forger might try, as (what, how)."""
    for n, record in enumerate(receipt["records"]):
        for name in record["fields"]:

            def shown(r: Receipt, n: int = n, name: str = name) -> None:
                fields = r["records"][n]["fields"]
                fields[name] = _changed(fields[name])

            def logged(r: Receipt, n: int = n, name: str = name) -> None:
                # Field and leaf changed together: the proof no longer leads to the root.
                record = r["records"][n]
                record["fields"][name] = _changed(record["fields"][name])
                values = list(record["fields"].values())
                table = record["table"]
                from audit.leaves import leaf_data

                record["leaf"] = leaf_data(table, values).decode()

            yield f"{record['table']}.{name} shown", shown
            yield f"{record['table']}.{name} logged", logged
        for k in range(len(record["proof"])):

            def proof(r: Receipt, n: int = n, k: int = k) -> None:
                raw = bytearray(base64.b64decode(r["records"][n]["proof"][k]))
                raw[0] ^= 1
                r["records"][n]["proof"][k] = base64.b64encode(bytes(raw)).decode()

            yield f"{record['table']} proof {k}", proof

        def index(r: Receipt, n: int = n) -> None:
            r["records"][n]["index"] += 1

        yield f"{record['table']} index", index

    def note(r: Receipt) -> None:
        r["checkpoint"]["note"] = r["checkpoint"]["note"].replace("\n", "\n0", 1)

    def size(r: Receipt) -> None:
        r["checkpoint"]["size"] += 1

    def key(r: Receipt) -> None:
        other = Ed25519PrivateKey.generate().public_key()
        r["checkpoint"]["verifier_key"] = verifier_key("crawler.example/heed-log", other)

    def document(r: Receipt) -> None:
        r["documents"][0]["body_base64"] = base64.b64encode(b"User-agent: *\nAllow: /\n").decode()

    def dropped(r: Receipt) -> None:
        r["records"] = [x for x in r["records"] if x["table"] != "signal"]

    def url(r: Receipt) -> None:
        r["url"] = "https://elsewhere.example/"

    yield from (
        ("note", note),
        ("size", size),
        ("key", key),
        ("document", document),
        ("signal dropped", dropped),
        ("url", url),
    )


def test_every_alteration_is_refused(signed: tuple[str, Receipt]) -> None:
    _, receipt = signed
    tried = 0
    for what, alter in _alterations(receipt):
        forged = copy.deepcopy(receipt)
        alter(forged)
        report = verify_receipt(forged)
        assert not report.ok, what
        assert report.problems, what
        tried += 1
    assert tried > 60


def test_a_receipt_for_another_key_is_refused(signed: tuple[str, Receipt]) -> None:
    _, receipt = signed
    other = verifier_key("crawler.example/heed-log", Ed25519PrivateKey.generate().public_key())
    report = verify_receipt(receipt, other)
    assert not report.ok
    assert "another key" in report.problems[0]


@pytest.mark.parametrize(
    "data",
    [None, [], "x", {}, {"format": "heed-receipt/1"}, {"format": 1},
     {"format": "heed-receipt/1", "checkpoint": {"note": 3, "verifier_key": "k"}}],
)  # fmt: skip
def test_malformed_receipts_are_problems_not_errors(data: Any) -> None:
    report = verify_receipt(data)
    assert not report.ok
    assert report.problems


def test_malformed_records_are_problems_not_errors(signed: tuple[str, Receipt]) -> None:
    _, receipt = signed
    for bad in ("x", [1], [{"table": "decision"}], [{"table": 1, "index": "0", "leaf": 2}]):
        forged = copy.deepcopy(receipt)
        forged["records"] = bad
        assert not verify_receipt(forged).ok


def test_no_receipt_without_a_covering_checkpoint(db_url: str) -> None:
    with AuditStore.open(db_url) as store:
        fill(store, sites=1, pages=2)
    engine = make_engine(resolve_url(db_url))
    try:
        decision = decision_for_url(engine, "https://site0.example/page/1.html")
        with pytest.raises(ReceiptError, match="no signed checkpoint covers"):
            build_receipt(engine, decision)
        with pytest.raises(ReceiptError, match="no decision recorded"):
            decision_for_url(engine, "https://nowhere.example/")
    finally:
        engine.dispose()


def test_no_receipt_for_a_row_that_left_its_leaf(signed: tuple[str, Receipt]) -> None:
    from sqlalchemy import text

    db_url, receipt = signed
    engine = make_engine(resolve_url(db_url))
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("DROP TRIGGER trg_decision_append_only ON decision"))
            else:
                conn.execute(text("DROP TRIGGER trg_decision_no_update"))
            conn.execute(
                text("UPDATE decision SET action = 'skipped-robots' WHERE id = :i"),
                {"i": receipt["decision"]},
            )
        with pytest.raises(IntegrityError, match="no longer matches its leaf"):
            build_receipt(engine, receipt["decision"])
    finally:
        engine.dispose()


def test_cli_round_trip(signed: tuple[str, Receipt], tmp_path: Path) -> None:
    db_url, _ = signed
    runner = CliRunner()
    out = tmp_path / "r.json"
    made = runner.invoke(
        main, ["receipt", "https://site2.example/page/0.html", "--db", db_url, "--out", str(out)]
    )
    assert made.exit_code == 0, made.output
    assert "receipt of decision" in made.output
    again = runner.invoke(main, ["receipt", "1", "--db", db_url, "--out", str(out)])
    assert again.exit_code == 2
    assert "exists" in again.output
    checked = runner.invoke(main, ["verify-receipt", str(out), "--key", VERIFIER])
    assert checked.exit_code == 0, checked.output
    assert "the receipt verifies" in checked.output
    forged = json.loads(out.read_text())
    forged["records"][0]["fields"]["url"] = "https://elsewhere.example/"
    out.write_text(json.dumps(forged))
    refused = runner.invoke(main, ["verify-receipt", str(out)])
    assert refused.exit_code == 3
    assert "problem:" in refused.output
    out.write_text("{not json")
    broken = runner.invoke(main, ["verify-receipt", str(out)])
    assert broken.exit_code == 2
    assert "Traceback" not in broken.output
    missing = runner.invoke(main, ["verify-receipt", str(tmp_path / "none.json")])
    assert missing.exit_code == 2
    unknown = runner.invoke(main, ["receipt", "https://no.example/", "--db", db_url,
                                   "--out", str(tmp_path / "x.json")])  # fmt: skip
    assert unknown.exit_code == 1
    assert "no decision recorded" in unknown.output
