"""Check a receipt offline (``heed verify-receipt``): no database, no network. Pure.

What is checked, in order: the checkpoint's signature (with the key the receipt carries, and, if
the caller gives one, that it *is* the published key); each record's leaf data (canonical, the
fields shown are its fields) and its inclusion proof against the signed root; the links between
the records (the decision's outcome and origin, the outcome's signals, the item's decision, the
documents the signals name); the content-derived ids of outcomes and signals; the bytes of the
documents carried inline. Anything malformed is a problem, never an exception.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from audit.checkpoint import CheckpointError, open_checkpoint, parse_verifier_key
from audit.leaves import LeafError, parse_leaf, time_of
from audit.merkle import leaf_hash, verify_inclusion

RECEIPT_FORMAT = "heed-receipt/1"


@dataclass(frozen=True, slots=True)
class ReceiptReport:
    """What a receipt proves, or why it proves nothing."""

    ok: bool
    proves: tuple[str, ...]
    problems: tuple[str, ...]


class _Bad(Exception):
    """A receipt that cannot be checked further."""


def verify_receipt(data: Any, trusted_key: str | None = None) -> ReceiptReport:
    """Check the receipt *data* (parsed JSON); see the module text."""
    problems: list[str] = []
    try:
        proves = _verify(data, trusted_key, problems)
    except _Bad as exc:
        problems.append(str(exc))
        proves = []
    if problems:
        return ReceiptReport(False, (), tuple(problems))
    return ReceiptReport(True, tuple(proves), ())


def _get(mapping: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        raise _Bad(f"{where}: no {key!r}")
    value = mapping[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise _Bad(f"{where}: {key!r} is not a {getattr(kind, '__name__', kind)}")
    return value


def _verify(data: Any, trusted_key: str | None, problems: list[str]) -> list[str]:
    if _get(data, "format", str, "receipt") != RECEIPT_FORMAT:
        raise _Bad(f"not a {RECEIPT_FORMAT} receipt")
    cp = _get(data, "checkpoint", dict, "receipt")
    note = _get(cp, "note", str, "checkpoint")
    key_text = _get(cp, "verifier_key", str, "checkpoint")
    try:
        name, public = parse_verifier_key(key_text)
        checkpoint = open_checkpoint(note, name, public)
    except CheckpointError as exc:
        raise _Bad(f"checkpoint: {exc}") from None
    if trusted_key is not None and trusted_key.strip() != key_text.strip():
        raise _Bad("the checkpoint is signed with another key than the one given")
    if _get(cp, "size", int, "checkpoint") != checkpoint.size:
        problems.append("checkpoint: the size shown is not the size signed")
    records: dict[str, list[dict[str, Any]]] = {}
    for n, record in enumerate(_get(data, "records", list, "receipt")):
        where = f"record {n + 1}"
        table = _get(record, "table", str, where)
        index = _get(record, "index", int, where)
        leaf = _get(record, "leaf", str, where).encode("utf-8")
        try:
            parsed_table, fields = parse_leaf(leaf)
        except LeafError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if parsed_table != table or _get(record, "fields", dict, where) != fields:
            problems.append(f"{where}: the fields shown are not the leaf's")
        try:
            proof = [base64.b64decode(h, validate=True) for h in _get(record, "proof", list, where)]
        except (binascii.Error, TypeError, ValueError):
            problems.append(f"{where}: the proof is not base64 hashes")
            continue
        if not verify_inclusion(index, checkpoint.size, leaf_hash(leaf), proof, checkpoint.root):
            problems.append(f"{where} ({table}): not leaf {index} of the signed tree")
        records.setdefault(parsed_table, []).append(fields)
    _check_links(data, records, problems)
    if problems:
        return []
    decision = records["decision"][0]
    action = decision["action"]
    item = records.get("stored_item")
    stamp = next((line[5:] for line in checkpoint.extensions if line.startswith("time ")), "?")
    return [
        (
            f"Decision {decision['id']} about {decision['url']} (action {action}, at "
            f"{time_of(decision['time'])}) is leaf {_index(data, 'decision')} of the log "
            f"{checkpoint.origin!r}, whose checkpoint of {checkpoint.size} leaves (root "
            f"{checkpoint.root.hex()[:16]}…) was signed at {stamp} by the key {key_text}."
        ),
        f"So are its outcome, its {len(records.get('signal', []))} signals, its origin"
        + (f", its stored item {item[0]['id']}" if item else " (no content was kept)")
        + f" and the {len(records.get('document', []))} signal documents they cite.",
        (
            "None of these records can have changed since that checkpoint was signed without "
            "the signature failing."
        ),
        "It does not prove that the crawler acted as recorded, nor anything recorded after the "
        "checkpoint"
        + (
            "; and the key is the one this receipt carries: compare it with the verifier key "
            "published on the crawler's information page (or pass it with --key)."
            if trusted_key is None
            else "; the key is the one you gave."
        ),
    ]


def _index(data: dict[str, Any], table: str) -> int:
    return next(int(r["index"]) for r in data["records"] if r.get("table") == table)


def _one(records: dict[str, list[dict[str, Any]]], table: str) -> dict[str, Any]:
    found = records.get(table, [])
    if len(found) != 1:
        raise _Bad(f"a receipt holds one {table} record, not {len(found)}")
    return found[0]


def _digest(values: list[Any]) -> str:
    """The content digest audit/rows.py gives outcomes and signals (canonical JSON)."""
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _check_links(
    data: dict[str, Any], records: dict[str, list[dict[str, Any]]], problems: list[str]
) -> None:
    if problems:
        return
    decision = _one(records, "decision")
    outcome = _one(records, "outcome")
    origin = _one(records, "origin")
    if data.get("decision") != decision["id"] or data.get("url") != decision["url"]:
        problems.append("the decision named is not the decision logged")
    if decision["outcome_id"] != outcome["id"]:
        problems.append("the outcome is not the decision's")
    if decision["origin_id"] != origin["id"]:
        problems.append("the origin is not the decision's")
    for row in [outcome, *records.get("signal", [])]:
        values = list(row.values())[2:]
        digest = _digest(values)
        if row["digest"] != digest or row["id"] != int(digest[:16], 16) >> 1:
            problems.append(
                f"{'outcome' if row is outcome else 'signal'} {row['id']}: its id "
                "and digest are not those of its content"
            )
    try:
        listed = json.loads(outcome["signal_ids"])
    except (TypeError, ValueError):
        listed = None
    signals = {s["id"]: s for s in records.get("signal", [])}
    if not isinstance(listed, list) or sorted(map(str, listed)) != sorted(map(str, signals)):
        problems.append("the signals are not the outcome's")
    for item in records.get("stored_item", []):
        if item["decision_id"] != decision["id"]:
            problems.append("the stored item is not the decision's")
    logged = {d["sha256"]: d for d in records.get("document", [])}
    cited = {s["sha256"] for s in signals.values() if s["sha256"]}
    if cited != set(logged):
        problems.append("the documents are not the ones the signals cite")
    for doc in data.get("documents", []) if isinstance(data.get("documents"), list) else [None]:
        if not isinstance(doc, dict) or doc.get("sha256") not in logged:
            problems.append("a document carried is not one the signals cite")
            continue
        body = doc.get("body_base64")
        if body is None:
            continue
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, TypeError, ValueError):
            problems.append(f"document {doc['sha256'][:12]}…: not base64")
            continue
        if (
            hashlib.sha256(raw).hexdigest() != doc["sha256"]
            or len(raw) != logged[doc["sha256"]]["size"]
        ):
            problems.append(
                f"document {doc['sha256'][:12]}…: the bytes carried are not the ones logged"
            )
