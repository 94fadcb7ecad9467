"""Check a receipt offline (``heed verify-receipt``): no database, no network. Pure.

What is checked, in order: the checkpoint's signature (with the key the receipt carries, and, if
the caller gives one, that it *is* the published key); each record's leaf data (canonical, the
fields shown are exactly its fields, one record per row) and its inclusion proof against the
signed root; the links between the records (the decision's outcome and origin, the outcome's
signals, the item's decision, the documents the signals cite); the content-derived ids of
origins, outcomes and signals; the documents carried (their bytes, size and source). Anything
malformed is a problem, never an exception. The checkpoint's ``id`` is the operator's reference
to it: nothing signs it, so nothing here relies on it.

A receipt cannot prove that something is absent: with no stored item, it says that none is
included, not that none was kept.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from audit.checkpoint import Checkpoint, CheckpointError, open_checkpoint, parse_verifier_key
from audit.leaves import KEY_COLUMN, LeafError, parse_leaf, time_of
from audit.merkle import HASH_SIZE, leaf_hash, verify_inclusion

#: The format a receipt names (:mod:`audit.receipts` writes it).
RECEIPT_FORMAT = "heed-receipt/1"
#: Documents up to this size travel inside a receipt; larger ones by hash and URL.
MAX_INLINE = 1 << 20

Records = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class ReceiptReport:
    """What a receipt proves (plain sentences), or why it proves nothing."""

    ok: bool
    proves: tuple[str, ...]
    problems: tuple[str, ...]


class _Bad(Exception):
    """A receipt that cannot be checked further."""


def verify_receipt(data: Any, trusted_key: str | None = None) -> ReceiptReport:
    """Check the receipt *data* (parsed JSON) against its own key, or *trusted_key* if given;
    see the module text."""
    problems: list[str] = []
    try:
        proves = _verify(data, trusted_key, problems)
    except _Bad as exc:
        problems.append(str(exc))
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


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON, types included (Python alone takes ``True == 1 == 1.0``)."""
    try:
        return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    except (TypeError, ValueError):
        return False


def _verify(data: Any, trusted_key: str | None, problems: list[str]) -> list[str]:
    if _get(data, "format", str, "receipt") != RECEIPT_FORMAT:
        raise _Bad(f"not a {RECEIPT_FORMAT} receipt")
    cp = _get(data, "checkpoint", dict, "receipt")
    note = _get(cp, "note", str, "checkpoint")
    key_text = _get(cp, "verifier_key", str, "checkpoint")
    _get(cp, "id", int, "checkpoint")
    try:
        name, public = parse_verifier_key(key_text)
        checkpoint = open_checkpoint(note, name, public)
    except CheckpointError as exc:
        raise _Bad(f"checkpoint: {exc}") from None
    if trusted_key is not None and trusted_key.strip() != key_text.strip():
        raise _Bad("the checkpoint is signed with another key than the one given")
    if _get(cp, "size", int, "checkpoint") != checkpoint.size:
        problems.append("checkpoint: the size shown is not the size signed")
    records = _records(_get(data, "records", list, "receipt"), checkpoint, problems)
    if not problems:
        _check_links(data, records, problems)
    if problems:
        return []
    return _proves(data, records, checkpoint, key_text, trusted_key is not None)


def _records(items: list[Any], checkpoint: Checkpoint, problems: list[str]) -> Records:
    """Check each record's leaf, fields and proof; return the fields by table."""
    records: Records = {}
    seen: set[tuple[str, Any]] = set()
    for n, record in enumerate(items):
        where = f"record {n + 1}"
        table = _get(record, "table", str, where)
        index = _get(record, "index", int, where)
        leaf = _get(record, "leaf", str, where).encode("utf-8")
        shown = _get(record, "fields", dict, where)
        hashes = _get(record, "proof", list, where)
        try:
            parsed_table, fields = parse_leaf(leaf)
        except LeafError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if parsed_table != table or not _same(shown, fields):
            problems.append(f"{where}: the fields shown are not the leaf's")
        key = (parsed_table, fields[KEY_COLUMN[parsed_table]])
        if key in seen:
            problems.append(f"{where}: {parsed_table} {key[1]} is given twice")
        seen.add(key)
        try:
            proof = [base64.b64decode(h, validate=True) for h in hashes]
        except (binascii.Error, TypeError, ValueError):
            proof = []
        if any(len(h) != HASH_SIZE for h in proof) or len(proof) != len(hashes):
            problems.append(f"{where}: the proof is not base64 hashes")
        elif not verify_inclusion(index, checkpoint.size, leaf_hash(leaf), proof, checkpoint.root):
            problems.append(f"{where} ({table}): not leaf {index} of the signed tree")
        records.setdefault(parsed_table, []).append(fields)
    return records


def _one(records: Records, table: str, *, optional: bool = False) -> dict[str, Any] | None:
    found = records.get(table, [])
    if len(found) > 1 or (not found and not optional):
        raise _Bad(f"a receipt holds one {table} record, not {len(found)}")
    return found[0] if found else None


def _digest(values: list[Any]) -> str:
    """The content digest audit/rows.py gives origins, outcomes and signals (its canonical JSON:
    compact, keys sorted, UTF-8), replicated here because audit.rows loads the database layer."""
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _id(digest: str) -> int:
    return int(digest[:16], 16) >> 1


def _check_links(data: dict[str, Any], records: Records, problems: list[str]) -> None:
    decision = _one(records, "decision")
    outcome = _one(records, "outcome")
    origin = _one(records, "origin")
    item = _one(records, "stored_item", optional=True)
    assert decision is not None
    assert outcome is not None
    assert origin is not None
    if not _same(data.get("decision"), decision["id"]) or data.get("url") != decision["url"]:
        problems.append("the decision named is not the decision logged")
    if decision["outcome_id"] != outcome["id"]:
        problems.append("the outcome is not the decision's")
    if decision["origin_id"] != origin["id"]:
        problems.append("the origin is not the decision's")
    if _id(_digest(["origin", origin["origin"]])) != origin["id"]:
        problems.append(f"origin {origin['id']}: its id is not that of its origin")
    for table in ("outcome", "signal"):
        for row in records.get(table, []):
            digest = _digest(list(row.values())[2:])
            if row["digest"] != digest or row["id"] != _id(digest):
                problems.append(f"{table} {row['id']}: its id and digest are not its content's")
    try:
        listed = json.loads(outcome["signal_ids"])
    except (TypeError, ValueError):
        listed = None
    signals = records.get("signal", [])
    if not isinstance(listed, list) or sorted(map(str, listed)) != sorted(
        str(s["id"]) for s in signals
    ):
        problems.append("the signals are not the outcome's")
    if item is not None and item["decision_id"] != decision["id"]:
        problems.append("the stored item is not the decision's")
    _check_documents(data, records, problems)


def _check_documents(data: dict[str, Any], records: Records, problems: list[str]) -> None:
    """The documents the signals cite: a record for each the database holds, and one entry
    each in ``documents`` with its bytes (up to MAX_INLINE), size and source."""
    sources: dict[str, list[Any]] = {}  # a list: a source shown may be any JSON, unhashable
    for signal in records.get("signal", []):
        if signal["sha256"]:
            sources.setdefault(signal["sha256"], []).append(signal["source"])
    logged = {d["sha256"]: d for d in records.get("document", [])}
    if not set(logged) <= set(sources):
        problems.append("a document record is not one the signals cite")
    carried = _get(data, "documents", list, "receipt")
    given: set[str] = set()
    for doc in carried:
        sha = doc.get("sha256") if isinstance(doc, dict) else None
        if not isinstance(sha, str) or sha not in sources or sha in given:
            problems.append("a document carried is not one the signals cite, or is given twice")
            continue
        given.add(sha)
        where = f"document {sha[:12]}…"
        body, size = doc.get("body_base64"), doc.get("size")
        if doc.get("source") not in sources[sha]:
            problems.append(f"{where}: its source is not the signal's")
        if sha not in logged:  # not held by the database (a page): only its hash is logged
            if size is not None or body is not None:
                problems.append(f"{where}: bytes or a size for a document the log does not hold")
            continue
        if not _same(size, logged[sha]["size"]):
            problems.append(f"{where}: the size shown is not the size logged")
        if body is None:
            if logged[sha]["size"] <= MAX_INLINE:
                problems.append(f"{where}: its bytes are missing")
            continue
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, TypeError, ValueError):
            problems.append(f"{where}: not base64")
            continue
        if hashlib.sha256(raw).hexdigest() != sha or len(raw) != logged[sha]["size"]:
            problems.append(f"{where}: the bytes carried are not the ones logged")
    if given != set(sources):
        problems.append("a document the signals cite is not in the receipt's documents")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _proves(
    data: dict[str, Any], records: Records, checkpoint: Checkpoint, key: str, trusted: bool
) -> list[str]:
    decision = records["decision"][0]
    item = records.get("stored_item")
    index = next(r["index"] for r in data["records"] if r["table"] == "decision")
    stamp = next((line[5:] for line in checkpoint.extensions if line.startswith("time ")), "?")
    docs = data["documents"]
    inline = sum(1 for d in docs if d.get("body_base64") is not None)
    large = sum(1 for d in docs if d.get("body_base64") is None and d.get("size") is not None)
    pages = sum(1 for d in docs if d.get("size") is None)
    kept = (
        f" and its stored item {item[0]['id']}"
        if item
        else " (no stored item is included: a receipt cannot show that none was kept)"
    )
    signals = _plural(len(records.get("signal", [])), "signal")
    documents = _plural(len(records.get("document", [])), "signal document")
    sentences = [
        (
            f"Decision {decision['id']} about {decision['url']} (action {decision['action']}, "
            f"at {time_of(decision['time'])}) is leaf {index} of the log {checkpoint.origin!r}, "
            f"whose checkpoint of {checkpoint.size} leaves (root {checkpoint.root.hex()[:16]}…) "
            f"was signed at {stamp} by the key {key}."
        ),
        f"So are its outcome, its {signals}, its origin{kept}, and the {documents} they cite.",
        (
            "None of these records can have changed since that checkpoint was signed without "
            "these proofs failing."
        ),
    ]
    if inline:
        sentences.append(
            f"The bytes of {_plural(inline, 'signal document')} carried here are the ones logged."
        )
    if large:
        sentences.append(
            f"{_plural(large, 'document')} over 1 MiB {'is' if large == 1 else 'are'} given by "
            "hash: fetch it from its source and compare its sha256."
        )
    if pages:
        sentences.append(
            f"{_plural(pages, 'document')} the signals name (a page read for its own signals) "
            f"{'is' if pages == 1 else 'are'} not kept by the crawler: only the sha256 is logged."
        )
    sentences.append(
        "It does not prove that the crawler acted as recorded (that it fetched, skipped or kept "
        "what the decision says, or that the site served these documents), that this is the "
        "latest decision about the URL, or anything logged after the checkpoint."
    )
    sentences.append(
        "The checkpoint is signed by the key you gave."
        if trusted
        else "The key is the one this receipt carries, so the receipt only shows it is consistent "
        "with itself: compare the key with the verifier key published on the crawler's "
        "information page (or pass it with --key)."
    )
    return sentences
