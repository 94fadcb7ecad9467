"""Asset-embedded reservations: CAWG/C2PA training-mining and IPTC ``plus:DataMining``
(docs/protocols.md#asset-metadata).

Reading a C2PA manifest needs a C2PA SDK and reading XMP needs the media file: both happen in
the I/O layer. This module maps what was extracted:

* a ``cawg.training-mining`` (or legacy C2PA 1.x ``c2pa.training-mining``) assertion: entries
  ``*.data_mining`` → tdm, ``*.ai_training`` and ``*.ai_generative_training`` → train-ai,
  ``*.ai_inference`` → ai-input. ``notAllowed`` and ``constrained`` ("in the absence of
  additional information, ``constrained`` shall be treated as equivalent to ``notAllowed``",
  CAWG) reserve; ``allowed`` does not. An invalid signature is still honoured: the creator's wish
  was expressed (flag ``c2pa_invalid``, M05);
* a PLUS ``DataMining`` value (``http://ns.useplus.org/ldf/vocab/DMI-…``), read by its ``DMI-``
  suffix so namespace variants do not matter, or found in an XMP packet.

Metadata read only in part fails closed: more DataMining values than ``MAX_VALUES``, or a
DataMining property past the first ``MAX_XMP_BYTES`` of the data, gives a signal that DEFERs every
purpose the values read do not reserve (flag ``incomplete``).

Heed's train-ai covers generative and, conservatively, all AI training: a reservation of
generative training only reserves train-ai and is flagged ``generative_only`` (M01, M08).
Absence of metadata means nothing: CDNs strip it.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

import defusedxml.ElementTree as DET

from optout.decision import Protocol, Purpose, Signal, Verdict, most_restrictive, sha256_hex

PARSER = "heed-asset-meta/1"
PLUS_NS = "http://ns.useplus.org/ldf/xmp/1.0/"
#: Bytes of an XMP packet read; real packets are a few KiB (padding included).
MAX_XMP_BYTES = 4 * 1024 * 1024
#: DataMining values examined per packet; more ⇒ the read is not complete (DEFER).
MAX_VALUES = 16
_NAME = b"DataMining"
MAX_RULE_CHARS = 1024

_LABELS = {"cawg.training-mining": False, "c2pa.training-mining": True}
#: A label's version (``.v2``) or instance (``__1``) suffix.
_LABEL_SUFFIX = re.compile(r"(?:\.v\d+)?(?:__\d+)?\Z")
_ENTRIES = {
    "data_mining": Purpose.TDM,
    "ai_training": Purpose.TRAIN_AI,
    "ai_generative_training": Purpose.TRAIN_AI,
    "ai_inference": Purpose.AI_INPUT,
}
_USES = {
    "allowed": Verdict.NOT_RESERVED,
    "notallowed": Verdict.RESERVED,
    "constrained": Verdict.RESERVED,
}

_ALL = (Purpose.TDM, Purpose.TRAIN_AI, Purpose.AI_INPUT, Purpose.SEARCH)
_AI = (Purpose.TDM, Purpose.TRAIN_AI, Purpose.AI_INPUT)
_DMI = re.compile(r"DMI-[A-Z]+(?:-[A-Z]+)*", re.IGNORECASE)
#: DMI value ⇒ (purposes, verdict, flags); None = no statement (DMI-UNSPECIFIED).
_DMI_VALUES: dict[str, tuple[tuple[Purpose, ...], Verdict, tuple[str, ...]] | None] = {
    "DMI-UNSPECIFIED": None,
    # Allowed data mining speaks about mining and AI uses, not about search indexing.
    "DMI-ALLOWED": (_AI, Verdict.NOT_RESERVED, ()),
    "DMI-PROHIBITED-AIMLTRAINING": ((Purpose.TRAIN_AI,), Verdict.RESERVED, ()),
    "DMI-PROHIBITED-GENAIMLTRAINING": ((Purpose.TRAIN_AI,), Verdict.RESERVED, ("generative_only",)),
    "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING": (_AI, Verdict.RESERVED, ()),
    # Plain "prohibited" has an except-search sibling, so it includes search indexing.
    "DMI-PROHIBITED": (_ALL, Verdict.RESERVED, ()),
    # "See constraint / rights expression": prohibited unless that says otherwise, which Heed
    # does not read: conservative.
    "DMI-PROHIBITED-SEECONSTRAINT": (_ALL, Verdict.RESERVED, ("see_constraint",)),
    "DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR": (_ALL, Verdict.RESERVED, ("see_constraint",)),
    "DMI-PROHIBITED-SEELINKEDRIGHTSEXPR": (_ALL, Verdict.RESERVED, ("see_constraint",)),
}


def _signal(
    protocol: Protocol,
    purposes: dict[Purpose, Verdict],
    reason: str,
    flags: list[str],
    **evidence: Any,
) -> Signal:
    return Signal(
        protocol=protocol,
        purposes=purposes,
        reason=reason,
        source=evidence.get("source"),
        status=evidence.get("status"),
        rule=(evidence.get("rule") or "")[:MAX_RULE_CHARS] or None,
        sha256=evidence.get("sha256"),
        parser=PARSER,
        flags=tuple(dict.fromkeys(flags)),
        licence_url=evidence.get("licence_url"),
        fetched_at=evidence.get("fetched_at"),
    )


def from_c2pa_assertion(
    assertion: Mapping[str, Any],
    *,
    source: str | None,
    signature_valid: bool | None = None,
    status: int | None = None,
    fetched_at: str | None = None,
    sha256: str | None = None,
) -> Signal | None:
    """Return the reservation in a CAWG/C2PA training-mining assertion, None if it states none.

    *assertion* is the assertion as JSON (``{"label", "entries"}`` or ``{"label", "data":
    {"entries"}}``); *signature_valid* is the manifest's validation result, if known.
    """
    if not isinstance(assertion, Mapping):
        raise TypeError(f"assertion must be a mapping, not {type(assertion).__name__}")
    flags: list[str] = []
    label = assertion.get("label")
    if isinstance(label, str):
        base = _LABEL_SUFFIX.sub("", label.strip().lower())
        if base not in _LABELS:
            return None
        if _LABELS[base]:
            flags.append("legacy_label")
    elif label is not None:
        return None
    entries = assertion.get("entries")
    data = assertion.get("data")
    if entries is None and isinstance(data, Mapping):
        entries = data.get("entries")
    if not isinstance(entries, Mapping):
        return None
    per: dict[Purpose, list[Verdict]] = {}
    generative: Verdict | None = None
    other_training: Verdict | None = None
    info: list[str] = []
    for key, entry in list(entries.items())[:64]:
        prefix, _, name = str(key).lower().partition(".")
        purpose = _ENTRIES.get(name) if prefix in ("cawg", "c2pa") else None
        if purpose is None or not isinstance(entry, Mapping):
            continue
        use = entry.get("use")
        use_key = use.strip().lower() if isinstance(use, str) else ""
        verdict = _USES.get(use_key)
        if verdict is None:
            flags.append("invalid_value")
            continue
        if use not in ("allowed", "notAllowed", "constrained"):
            flags.append("lenient")
        if prefix == "c2pa":
            flags.append("legacy_label")
        per.setdefault(purpose, []).append(verdict)
        if name == "ai_generative_training":
            generative = verdict
        elif name == "ai_training":
            other_training = verdict
        if use_key == "constrained":
            flags.append("constrained")
            # The CDDL says constraint_info, the spec prose constraints_info: accept both.
            for info_key in ("constraint_info", "constraints_info"):
                text = entry.get(info_key)
                if isinstance(text, str) and text.strip():
                    info.append(text.strip()[:512])
    if not per:
        return None
    if generative is Verdict.RESERVED and other_training is not Verdict.RESERVED:
        flags.append("generative_only")
    if signature_valid is False:
        # Honoured anyway: the creator's wish is expressed even if unverifiable
        # (docs/protocols.md#cawg-training-mining).
        flags.append("c2pa_invalid")
    purposes = {p: most_restrictive(v) for p, v in per.items()}
    reason = _describe("C2PA training-mining assertion", purposes)
    if info:
        reason += f"; constraint: {' / '.join(info)}"
    licence = next((i for i in info if i.startswith(("http://", "https://"))), None)
    rule = json.dumps(_plain(entries), sort_keys=True, separators=(",", ":"), default=str)
    return _signal(
        Protocol.C2PA,
        purposes,
        reason,
        flags,
        source=source,
        status=status,
        rule=rule,
        sha256=sha256,
        licence_url=licence,
        fetched_at=fetched_at,
    )


def _plain(value: Any, depth: int = 0) -> Any:
    """Return *value* as bounded JSON-ready data for evidence."""
    if depth > 4:
        return "…"
    if isinstance(value, Mapping):
        return {str(k): _plain(v, depth + 1) for k, v in list(value.items())[:64]}
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1) for v in value[:64]]
    return value if isinstance(value, str | int | float | bool | None) else str(value)


def _describe(what: str, purposes: Mapping[Purpose, Verdict]) -> str:
    reserved = [p.value for p, v in purposes.items() if v is Verdict.RESERVED]
    if reserved:
        return f"{what} reserves {', '.join(reserved)}"
    return f"{what} reserves nothing"


def from_iptc_data_mining(
    value: str,
    *,
    source: str | None,
    status: int | None = None,
    fetched_at: str | None = None,
    sha256: str | None = None,
    flags: tuple[str, ...] = (),
) -> Signal | None:
    """Return the reservation a PLUS ``DataMining`` value states, None if it states none
    (docs/protocols.md#iptc-datamining)."""
    if not isinstance(value, str):
        raise TypeError(f"value must be a str, not {type(value).__name__}")
    found = _DMI.findall(value[:2048])
    raw = value.strip()[:MAX_RULE_CHARS]
    all_flags = list(flags)
    if not found:
        if not raw:
            return None
        return _signal(
            Protocol.IPTC,
            {},
            "PLUS DataMining value not recognised",
            [*all_flags, "invalid_value"],
            source=source,
            status=status,
            rule=raw,
            sha256=sha256,
            fetched_at=fetched_at,
        )
    code = found[-1].upper()
    if code in _DMI_VALUES:
        meaning = _DMI_VALUES[code]
    elif code.startswith("DMI-PROHIBITED"):
        # An unknown prohibition is still a prohibition: read it as the broadest one.
        meaning = (_ALL, Verdict.RESERVED, ("invalid_value",))
    else:
        meaning = ((), Verdict.UNKNOWN, ("invalid_value",))
    if meaning is None:
        return None
    purposes_list, verdict, extra = meaning
    if not raw.upper().endswith(code):
        all_flags.append("lenient")
    purposes = dict.fromkeys(purposes_list, verdict)
    return _signal(
        Protocol.IPTC,
        purposes,
        _describe(f"PLUS DataMining {code}", purposes),
        [*all_flags, *extra],
        source=source,
        status=status,
        rule=raw,
        sha256=sha256,
        fetched_at=fetched_at,
    )


def from_xmp(
    xmp: bytes | str,
    *,
    source: str | None,
    status: int | None = None,
    fetched_at: str | None = None,
) -> Signal | None:
    """Return the reservation of the ``plus:DataMining`` property in an XMP packet, if any."""
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8", errors="replace")
    if not isinstance(xmp, bytes | bytearray):
        raise TypeError(f"xmp must be bytes, not {type(xmp).__name__}")
    data = bytes(xmp[:MAX_XMP_BYTES])
    digest = sha256_hex(bytes(xmp))
    evidence: dict[str, Any] = {
        "source": source,
        "status": status,
        "fetched_at": fetched_at,
        "sha256": digest,
    }
    values, flags, more = _xmp_values(data)
    signals = [s for v in values if (s := from_iptc_data_mining(v, flags=flags, **evidence))]
    why = None
    if more:
        why = f"more than {MAX_VALUES} DataMining values, the rest not examined"
    elif len(xmp) > MAX_XMP_BYTES and bytes(xmp).find(_NAME, MAX_XMP_BYTES - len(_NAME)) >= 0:
        why = f"a DataMining property past the first {MAX_XMP_BYTES} bytes not read"
    if why is not None:
        return _incomplete(why, signals, flags, **evidence)
    if not signals:
        return None
    # Several values (rdf:Bag, repeated descriptions): the most restrictive one speaks.
    return max(signals, key=lambda s: _rank(s.purposes))


def _incomplete(why: str, signals: list[Signal], flags: tuple[str, ...], **evidence: Any) -> Signal:
    """Return the signal of metadata read only in part: what was read reserves, the rest DEFERs."""
    reserved = {p for s in signals for p, v in s.purposes.items() if v is Verdict.RESERVED}
    purposes = {p: Verdict.RESERVED if p in reserved else Verdict.DEFER for p in _ALL}
    reason = f"XMP not read to its end ({why}): PLUS DataMining check deferred"
    if reserved:
        reason = f"{_describe('PLUS DataMining', purposes)}; {reason}"
    rule = " ".join(s.rule for s in signals if s.rule)
    return _signal(
        Protocol.IPTC, purposes, reason, [*flags, "incomplete"], rule=rule or why, **evidence
    )


def _rank(purposes: Mapping[Purpose, Verdict]) -> tuple[int, int]:
    reserved = sum(v is Verdict.RESERVED for v in purposes.values())
    return (reserved, len(purposes))


def _xmp_values(data: bytes) -> tuple[list[str], tuple[str, ...], bool]:
    """Return the DataMining values in an XMP packet (at most :data:`MAX_VALUES`), lenience
    flags, and whether there were more values than that."""
    start = min(
        (i for i in (data.find(b"<x:xmpmeta"), data.find(b"<rdf:RDF")) if i >= 0), default=0
    )
    ends = [data.rfind(tag) + len(tag) for tag in (b"</x:xmpmeta>", b"</rdf:RDF>")]
    end = max((e for e in ends if e > start + 20), default=len(data))
    try:
        root: ET.Element = DET.fromstring(data[start:end])
    except Exception:  # noqa: BLE001 - malformed packet or a refused entity/DTD: regex fallback
        text = data.decode("utf-8", errors="replace")
        # A DMI value shortly after a DataMining name; searched from the (rare) values so
        # hostile input stays linear.
        found = [
            m.group(0)
            for m in _DMI.finditer(text)
            if "DataMining" in text[max(0, m.start() - 300) : m.start()]
        ]
        return found[:MAX_VALUES], ("lenient",), len(found) > MAX_VALUES
    values: list[str] = []
    flags: list[str] = []
    for element in root.iter():
        if len(values) > MAX_VALUES:
            break
        for key, value in element.attrib.items():
            if _is_data_mining(key, flags):
                values.append(value)
        if isinstance(element.tag, str) and _is_data_mining(element.tag, flags):
            resource = next((v for k, v in element.attrib.items() if k.endswith("}resource")), None)
            inner = " ".join(t.strip() for t in element.itertext() if t.strip())
            values.append(resource or inner)
    return values[:MAX_VALUES], tuple(dict.fromkeys(flags)), len(values) > MAX_VALUES


def _is_data_mining(name: str, flags: list[str]) -> bool:
    ns, _, local = name[1:].rpartition("}") if name.startswith("{") else ("", "", name)
    if local != "DataMining":
        return False
    if ns != PLUS_NS:
        # Lenience (the namespace is unverified, docs/protocols.md#iptc-datamining): any
        # namespace's DataMining, flagged.
        flags.append("lenient")
    return True
