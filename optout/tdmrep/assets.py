"""TDMRep in EPUB OPF and PDF XMP: the file's own statement, read from its bytes (T20-T22).

docs/protocols.md#tdmrep-layers.

An EPUB or PDF carries its reservation in its metadata, which outranks the origin's file and the
HTTP headers (:func:`optout.tdmrep.page.resolve`). The values are read like every other text layer
(:func:`optout.tdmrep.values.statement`); this module only finds them.

Choices (recorded in flags):

* XML comes from strangers: defusedxml, bounded sizes, never raises. Metadata that names TDMRep
  but cannot be parsed, and an EPUB that is not a readable ZIP, DEFER (it might reserve).
* EPUB 3's ``tdm:`` prefix must be declared; the spec's own prefix left undeclared is accepted
  with flag ``nonconformant`` when ``Policy.lenient_values``. XMP's Boolean ``True`` is a typed
  spelling of 1 under the same policy.
* PDF XMP is found by scanning the raw bytes for uncompressed packets (as XMP recommends metadata
  streams be written); a packet inside a compressed object stream is not seen. Several packets:
  the most restrictive. Only packets that mention ``tdm`` are parsed, at most ``MAX_PACKETS``;
  more of them than that and the PDF DEFERs (flag ``incomplete``) unless one read reserves.
"""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import fromstring

from optout.decision import DEFAULT_POLICY, Policy, Protocol, Purpose, Signal, Verdict, sha256_hex
from optout.tdmrep.values import (
    PARSER,
    Where,
    add_flag,
    statement,
    strictest,
    verdict_purposes,
)

#: The namespaces of the PDF technique (``/``) and of EPUB 3 and the JSON-LD context (``#``).
TDM_NAMESPACES = ("http://www.w3.org/ns/tdmrep/", "http://www.w3.org/ns/tdmrep#")
#: Largest XMP packet, EPUB container.xml or OPF parsed; metadata is a few KiB.
MAX_XML = 1024 * 1024
#: XMP packets naming TDMRep examined per PDF (document metadata, incremental updates, embedded
#: images); a PDF with more is not read completely: DEFER.
MAX_PACKETS = 32
_TDM = re.compile(rb"tdm", re.IGNORECASE)
_PREFIX_DECL = re.compile(r"([A-Za-z_][\w.-]*):\s+(\S+)")
_KEYS = ("reservation", "policy")
_PACKET_MARKS = (
    (b"<x:xmpmeta", b"</x:xmpmeta>"),
    (b"<x:xapmeta", b"</x:xapmeta>"),
    (b"<rdf:RDF", b"</rdf:RDF>"),
)


def _deferred(protocol: Protocol, why: str, at: Where, flag: str) -> Signal:
    return Signal(
        protocol=protocol,
        purposes=verdict_purposes(Verdict.DEFER),
        reason=f"{why}: TDMRep check deferred",
        source=at.source,
        status=at.status,
        rule=why,
        sha256=at.sha256,
        parser=PARSER,
        flags=(flag,),
        fetched_at=at.fetched_at,
    )


def _parse_xml(data: bytes) -> Element | None:
    if len(data) > MAX_XML:
        return None
    try:
        root = fromstring(data)
    except Exception:  # noqa: BLE001 - defusedxml/expat raise many types on hostile input
        return None
    return root if isinstance(root, Element) else None


def _split_tag(tag: object) -> tuple[str, str]:
    if not isinstance(tag, str):
        return "", ""  # comments and processing instructions
    ns, brace, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return (ns, local) if brace or not ns else ("", tag)


def _tdm_namespace(ns: str) -> tuple[bool, bool]:
    """Return (is a TDMRep namespace, written exactly as the spec writes it)."""
    exact = ns in TDM_NAMESPACES
    loose = ns.rstrip("/#").lower().replace("https://", "http://", 1) == TDM_NAMESPACES[0][:-1]
    return exact or loose, exact


def _read(protocol: Protocol, data: bytes, at: Where) -> tuple[Element | None, Signal | None]:
    """Return the parsed root, or the signal for bytes that are empty or cannot be parsed."""
    if not isinstance(data, bytes | bytearray):
        raise TypeError("metadata must be bytes")
    root = _parse_xml(bytes(data)) if data.strip() else None
    if root is None and b"tdm" in data.lower():
        why = "metadata names TDMRep but cannot be parsed"
        return None, _deferred(protocol, why, at, "unparseable")
    return root, None


def _finish(
    protocol: Protocol, found: list[tuple[str, str, str]], loose: bool, at: Where, lenient: bool
) -> Signal | None:
    values = {k: [v for key, v, _ in found if key == k] for k in _KEYS}
    label = "EPUB tdm:reservation" if protocol is Protocol.TDMREP_EPUB else "XMP tdm:reservation"
    rule = " ".join(text for _, _, text in found)
    sig = statement(
        protocol, *values.values(), label=label, rule=rule, at=at, lenient=lenient, split=False
    )
    return add_flag(sig, "nonconformant") if sig is not None and loose else sig


def from_epub_opf(
    opf: bytes,
    *,
    source: str | None,
    status: int | None = None,
    fetched_at: str | None = None,
    sha256: str | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> Signal | None:
    """Return the signal of an EPUB package document's ``tdm:reservation`` / ``tdm:policy`` meta."""
    at = Where(source=source, status=status, fetched_at=fetched_at, sha256=sha256)
    root, early = _read(Protocol.TDMREP_EPUB, opf, at)
    if root is None:
        return early
    at = replace(at, sha256=sha256 or sha256_hex(bytes(opf)))
    prefixes = _PREFIX_DECL.findall(root.get("prefix") or "")
    declared = {p for p, uri in prefixes if _tdm_namespace(uri)[0]}
    found: list[tuple[str, str, str]] = []
    loose = False
    for el in root.iter():
        if _split_tag(el.tag)[1] != "meta":
            continue
        name = (el.get("name") or "").strip().lower()
        prefix, _, key = (el.get("property") or "").strip().partition(":")
        if name in ("tdm:reservation", "tdm:policy"):  # EPUB 2
            value = el.get("content") or ""
            found.append((name[4:], value, f'<meta name="{name}" content="{value}"/>'))
        elif key in _KEYS and (prefix in declared or (prefix == "tdm" and policy.lenient_values)):
            # EPUB 3; the spec's own prefix left undeclared is accepted when lenient.
            loose = loose or prefix not in declared
            value = "".join(el.itertext())
            found.append((key, value, f'<meta property="{prefix}:{key}">{value}</meta>'))
    return _finish(Protocol.TDMREP_EPUB, found, loose, at, lenient=False)


def from_pdf_xmp(
    xmp: bytes,
    *,
    source: str | None,
    status: int | None = None,
    fetched_at: str | None = None,
    sha256: str | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> Signal | None:
    """Return the signal of one XMP packet's ``tdm:reservation`` / ``tdm:policy`` properties."""
    at = Where(source=source, status=status, fetched_at=fetched_at, sha256=sha256)
    root, early = _read(Protocol.TDMREP_PDF, xmp, at)
    if root is None:
        return early
    at = replace(at, sha256=sha256 or sha256_hex(bytes(xmp)))
    found: list[tuple[str, str, str]] = []
    loose = False
    for el in root.iter():
        ns, local = _split_tag(el.tag)
        # Element form, and XMP's attribute form of simple properties on rdf:Description.
        items = [(ns, local, "".join(el.itertext()))] if local in _KEYS else []
        items += [(*_split_tag(k), v) for k, v in el.attrib.items()]
        for i_ns, i_local, value in items:
            is_tdm, exact = _tdm_namespace(i_ns)
            if i_local in _KEYS and is_tdm:
                loose = loose or not exact
                found.append((i_local, value, f"<tdm:{i_local} xmlns:tdm={i_ns!r}>{value.strip()}"))
    return _finish(Protocol.TDMREP_PDF, found, loose, at, lenient=policy.lenient_values)


def find_opf(body: bytes) -> tuple[bytes | None, str | None]:
    """Return (the package document of an EPUB ZIP, None) or (None, why it could not be read)."""
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            names = zf.namelist()
            path = None
            if "META-INF/container.xml" in names:
                container = _parse_xml(_read_member(zf, "META-INF/container.xml"))
                for el in container.iter() if container is not None else ():
                    if _split_tag(el.tag)[1] == "rootfile" and el.get("full-path"):
                        path = el.get("full-path")
                        break
            if path not in names:
                # No usable container.xml: the first package document in the archive.
                path = next((n for n in names if n.lower().endswith(".opf")), None)
            if path is None:
                return None, "EPUB has no package document"
            return _read_member(zf, path), None
    except Exception:  # noqa: BLE001 - zipfile raises BadZipFile, zlib.error, EOFError, ...
        return None, "EPUB could not be read as a ZIP archive"


def _read_member(zf: zipfile.ZipFile, name: str) -> bytes:
    # At most MAX_XML + 1 decompressed bytes: a lying size header cannot make us inflate more.
    with zf.open(name) as member:
        data = member.read(MAX_XML + 1)
    if len(data) > MAX_XML:
        raise ValueError("member too large")
    return data


def from_epub(
    body: bytes,
    *,
    source: str | None,
    status: int | None = None,
    fetched_at: str | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> Signal | None:
    """Return the TDMRep signal of a whole EPUB file (its OPF, via META-INF/container.xml)."""
    if not isinstance(body, bytes | bytearray):
        raise TypeError("body must be bytes")
    if not body:
        return None
    at = Where(source=source, status=status, fetched_at=fetched_at, sha256=sha256_hex(bytes(body)))
    opf, problem = find_opf(bytes(body))
    if opf is None:
        return _deferred(Protocol.TDMREP_EPUB, problem or "EPUB unreadable", at, "unreadable")
    return from_epub_opf(
        opf, source=source, status=status, fetched_at=fetched_at, sha256=at.sha256, policy=policy
    )


def _packet_spans(body: bytes) -> Iterator[tuple[int, int]]:
    """Yield the (start, end) of every uncompressed XMP packet in *body*, in one linear pass."""
    found = False
    for opener, closer in _PACKET_MARKS:
        if opener == b"<rdf:RDF" and found:
            return  # rdf:RDF is only a fallback, for packets written without x:xmpmeta
        pos = 0
        while (start := body.find(opener, pos)) >= 0:
            end = body.find(closer, start, start + MAX_XML)
            # An unterminated packet is kept cut: if it names TDMRep it will DEFER, not vanish.
            pos = end + len(closer) if end >= 0 else min(len(body), start + MAX_XML)
            found = True
            yield start, pos


def find_xmp_packets(body: bytes) -> list[bytes]:
    """Return the first :data:`MAX_PACKETS` uncompressed XMP packets (``<x:xmpmeta>`` …) in *body*."""
    return [body[a:b] for a, b in itertools.islice(_packet_spans(body), MAX_PACKETS)]


def tdm_packets(body: bytes) -> tuple[list[bytes], bool]:
    """Return the XMP packets of *body* that mention TDMRep (at most :data:`MAX_PACKETS`), and
    whether there are more of them than that.

    A packet that does not contain ``tdm`` can neither hold a TDMRep property nor fail to parse
    in a way that matters, so only the others count towards the limit.
    """
    packets: list[bytes] = []
    for start, end in _packet_spans(body):
        if _TDM.search(body, start, end) is None:
            continue
        if len(packets) == MAX_PACKETS:
            return packets, True
        packets.append(body[start:end])
    return packets, False


def from_pdf(
    body: bytes,
    *,
    source: str | None,
    status: int | None = None,
    fetched_at: str | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> Signal | None:
    """Return the TDMRep signal of a whole PDF: most restrictive over its XMP packets.

    More packets naming TDMRep than :data:`MAX_PACKETS` ⇒ the read is not complete: DEFER (flag
    ``incomplete``), unless a packet examined reserves.
    """
    if not isinstance(body, bytes | bytearray):
        raise TypeError("body must be bytes")
    if b"ns/tdmrep" not in body:
        return None  # no packet can hold a TDMRep property without naming its namespace
    sha = sha256_hex(bytes(body))
    packets, more = tdm_packets(bytes(body))
    sig = strictest(
        [
            from_pdf_xmp(
                p, source=source, status=status, fetched_at=fetched_at, sha256=sha, policy=policy
            )
            for p in packets
        ]
    )
    if not more:
        return sig
    if sig is not None and sig.purposes.get(Purpose.TDM) is Verdict.RESERVED:
        return add_flag(sig, "incomplete")
    why = f"PDF has more than {MAX_PACKETS} XMP packets naming TDMRep, the rest not examined"
    at = Where(source=source, status=status, fetched_at=fetched_at, sha256=sha)
    return _deferred(Protocol.TDMREP_PDF, why, at, "incomplete")
