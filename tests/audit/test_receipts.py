"""Receipts (audit/receipts.py, audit/receiptcheck.py, heed receipt, heed verify-receipt): made
on SQLite and PostgreSQL, verified offline, and refused once anything in them is altered."""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import Action, AuditStore
from audit.checkpoint import verifier_key
from audit.engine import make_engine, resolve_url
from audit.errors import IntegrityError
from audit.receiptcheck import verify_receipt
from audit.receipts import ReceiptError, build_receipt, decision_for_url
from heed.cli import main
from optout.decision import Protocol
from tests.audit.conftest import T0, decide, header_signal, robots_fetch, robots_signal
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

            def retyped(r: Receipt, n: int = n, name: str = name) -> None:
                # Equal in Python, not in JSON: 1 shown as true or 1.0, true as 1.
                fields = r["records"][n]["fields"]
                value = fields[name]
                fields[name] = int(value) if isinstance(value, bool) else float(value)

            yield f"{record['table']}.{name} shown", shown
            yield f"{record['table']}.{name} logged", logged
            if isinstance(record["fields"][name], int):
                yield f"{record['table']}.{name} retyped", retyped
        for k in range(len(record["proof"])):

            def proof(r: Receipt, n: int = n, k: int = k) -> None:
                raw = bytearray(base64.b64decode(r["records"][n]["proof"][k]))
                raw[0] ^= 1
                r["records"][n]["proof"][k] = base64.b64encode(bytes(raw)).decode()

            yield f"{record['table']} proof {k}", proof

        def index(r: Receipt, n: int = n) -> None:
            r["records"][n]["index"] += 1

        def twice(r: Receipt, n: int = n) -> None:
            r["records"].append(copy.deepcopy(r["records"][n]))

        yield f"{record['table']} index", index
        yield f"{record['table']} twice", twice

    def note(r: Receipt) -> None:
        r["checkpoint"]["note"] = r["checkpoint"]["note"].replace("\n", "\n0", 1)

    def size(r: Receipt) -> None:
        r["checkpoint"]["size"] += 1

    def key(r: Receipt) -> None:
        other = Ed25519PrivateKey.generate().public_key()
        r["checkpoint"]["verifier_key"] = verifier_key("crawler.example/heed-log", other)

    def document(r: Receipt) -> None:
        r["documents"][0]["body_base64"] = base64.b64encode(b"User-agent: *\nAllow: /\n").decode()

    def document_size(r: Receipt) -> None:
        r["documents"][0]["size"] += 1

    def document_source(r: Receipt) -> None:
        r["documents"][0]["source"] = "https://elsewhere.example/robots.txt"

    def document_bytes_dropped(r: Receipt) -> None:
        r["documents"][0]["body_base64"] = None

    def document_dropped(r: Receipt) -> None:
        r["documents"] = []

    def document_twice(r: Receipt) -> None:
        r["documents"].append(copy.deepcopy(r["documents"][0]))

    def decision_as_text(r: Receipt) -> None:
        r["decision"] = str(r["decision"])

    def dropped(r: Receipt) -> None:
        r["records"] = [x for x in r["records"] if x["table"] != "signal"]

    def url(r: Receipt) -> None:
        r["url"] = "https://elsewhere.example/"

    yield from (
        ("note", note),
        ("size", size),
        ("key", key),
        ("document", document),
        ("document size", document_size),
        ("document source", document_source),
        ("document bytes dropped", document_bytes_dropped),
        ("document dropped", document_dropped),
        ("document twice", document_twice),
        ("decision as text", decision_as_text),
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


def test_a_receipt_without_its_stored_item_claims_nothing_about_it(
    signed: tuple[str, Receipt],
) -> None:
    # Absence cannot be proved: the receipt still verifies, and says only that none is included.
    _, receipt = signed
    receipt["records"] = [r for r in receipt["records"] if r["table"] != "stored_item"]
    report = verify_receipt(receipt, VERIFIER)
    assert report.ok, report.problems
    assert "no stored item is included: a receipt cannot show that none was kept" in " ".join(
        report.proves
    )


def test_a_page_read_for_its_own_signals_is_named_by_hash_only(db_url: str) -> None:
    """A TDMRep <meta> signal names the page's sha256, and pages are not kept: the receipt is
    still made, carries the hash and URL without bytes, and says so."""
    page = b"<html><head><meta name='tdm-reservation' content='1'></head></html>"
    url = "https://site0.example/page/meta.html"
    meta = dataclasses.replace(
        header_signal(url, True),
        protocol=Protocol.TDMREP_META,
        reason="tdm-reservation: 1 (HTML meta)",
        sha256=hashlib.sha256(page).hexdigest(),
    )
    with AuditStore.open(db_url) as store:
        store.signer = SIGNER
        run = store.start_run(crawler_name="HeedBot", product_token="HeedBot", user_agent="H/1")
        doc = robots_fetch("https://site0.example")
        store.record_document(doc, kind="robots.txt", run_id=run)
        store.record_decision(
            run, decide(url, robots_signal(doc), meta), Action.FETCHED_EXCLUDED, time=T0,
            request_key="meta",
        )  # fmt: skip
        store.end_run(run)
    engine = make_engine(resolve_url(db_url))
    try:
        receipt = json.loads(json.dumps(build_receipt(engine, decision_for_url(engine, url))))
    finally:
        engine.dispose()
    entry = next(d for d in receipt["documents"] if d["sha256"] == meta.sha256)
    assert entry == {"sha256": meta.sha256, "size": None, "source": url, "body_base64": None}
    assert [r["table"] for r in receipt["records"]].count("document") == 1  # the robots.txt
    report = verify_receipt(receipt, VERIFIER)
    assert report.ok, report.problems
    assert "not kept by the crawler: only the sha256 is logged" in " ".join(report.proves)
    for alter in ({"size": len(page)}, {"body_base64": base64.b64encode(page).decode()}):
        forged = copy.deepcopy(receipt)
        next(d for d in forged["documents"] if d["sha256"] == meta.sha256).update(alter)
        assert not verify_receipt(forged).ok, alter
    forged = copy.deepcopy(receipt)
    forged["documents"] = [d for d in forged["documents"] if d["sha256"] != meta.sha256]
    assert not verify_receipt(forged).ok


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if path:
        yield path
    if isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, inner in items:
            yield from _paths(inner, (*path, key))


_ODD = [None, True, 0, -1, 1 << 70, 1.5, "", "x", [], [1], {}, {"a": 1}, "AAAA"]


def test_any_value_anywhere_is_a_problem_not_an_error(signed: tuple[str, Receipt]) -> None:
    """Every value of the receipt replaced by values of every JSON type, or deleted: the checker
    answers (and refuses), never raises. Accepted: only the checkpoint's id (the operator's
    reference, which nothing signs) and dropping the stored item (absence is not claimed)."""
    _, receipt = signed
    for path in _paths(receipt):
        for odd in [*_ODD, ...]:
            forged = copy.deepcopy(receipt)
            parent = forged
            for key in path[:-1]:
                parent = parent[key]
            if odd is ...:
                del parent[path[-1]]
            else:
                parent[path[-1]] = odd
            report = verify_receipt(forged)
            if path == ("checkpoint", "id") and type(odd) is int:
                continue
            dropped_item = odd is ... and path[:1] == ("records",) and len(path) == 2
            if dropped_item and receipt["records"][path[1]]["table"] == "stored_item":
                assert report.ok
                continue
            assert not report.ok or json.dumps(forged) == json.dumps(receipt), (path, odd)


def test_cli_refusals_and_overwrites(signed: tuple[str, Receipt], tmp_path: Path) -> None:
    db_url, receipt = signed
    runner = CliRunner()
    out = tmp_path / "r.json"
    out.write_text("old")
    forced = runner.invoke(
        main, ["receipt", str(receipt["decision"]), "--db", db_url, "--out", str(out), "--force"]
    )
    assert forced.exit_code == 0, forced.output
    assert json.loads(out.read_text()) == json.loads(json.dumps(receipt))
    none = runner.invoke(main, ["receipt", "999999", "--db", db_url, "--out", str(tmp_path / "n")])
    assert none.exit_code == 1
    assert "no decision 999999" in none.output
    assert not (tmp_path / "n").exists()
    other = verifier_key("crawler.example/heed-log", Ed25519PrivateKey.generate().public_key())
    wrong = runner.invoke(main, ["verify-receipt", str(out), "--key", other])
    assert wrong.exit_code == 3
    assert "another key" in wrong.output
    out.write_text("[1, 2]")
    array = runner.invoke(main, ["verify-receipt", str(out)])
    assert array.exit_code == 3
    assert "problem: receipt: no 'format'" in array.output
    assert "Traceback" not in array.output
    out.write_bytes(b"\xff\xfe")
    binary = runner.invoke(main, ["verify-receipt", str(out)])
    assert binary.exit_code == 2
    assert "not JSON" in binary.output


def test_a_large_document_travels_by_hash_and_source(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import audit.receiptcheck
    import audit.receipts

    for module in (audit.receipts, audit.receiptcheck):  # "large": over 10 bytes, here
        monkeypatch.setattr(module, "MAX_INLINE", 10)
    with AuditStore.open(db_url) as store:
        store.signer = SIGNER
        fill(store, sites=1, pages=2)
    engine = make_engine(resolve_url(db_url))
    try:
        receipt = build_receipt(
            engine, decision_for_url(engine, "https://site0.example/page/1.html")
        )
    finally:
        engine.dispose()
    (document,) = receipt["documents"]
    assert document["body_base64"] is None
    assert document["size"] > 10
    assert document["source"] == "https://site0.example/robots.txt"
    report = verify_receipt(receipt, VERIFIER)
    assert report.ok, report.problems
    assert "given by hash: fetch it from its source" in " ".join(report.proves)
