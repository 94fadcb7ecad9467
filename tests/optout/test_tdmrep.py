"""TDMRep (docs/protocols.md#tdmrep): every T vector, plus contract, robustness and
speed checks."""

from __future__ import annotations

import io
import json
import re
import zipfile
from inspect import ismodule
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optout import tdmrep, urlmatch
from optout.decision import Policy, Protocol, Purpose, Signal, Verdict
from optout.document import FetchResult
from optout.html_head import parse_head
from optout.tdmrep.assets import MAX_XML
from optout.tdmrep.wellknown import MAX_RULES
from optout.urlmatch import normalize_path
from tests.optout.vectors import load

CASES = load("tdmrep")
STRICT = Policy(lenient_values=False)
LENIENT = Policy()
ORIGIN = "https://example.com"
WELL_KNOWN = ORIGIN + "/.well-known/tdmrep.json"
_NAMES = {
    Verdict.RESERVED: "RESERVED",
    Verdict.NOT_RESERVED: "NOT-RESERVED",
    Verdict.UNKNOWN: "UNKNOWN",
    Verdict.DEFER: "DEFER",
}


def verdict(sig: Signal | None) -> str:
    """Return the vector spelling of a signal's tdm verdict (no statement = UNKNOWN)."""
    if sig is None or Purpose.TDM not in sig.purposes:
        return "UNKNOWN"
    return _NAMES[sig.purposes[Purpose.TDM]]


def assert_evidence(sig: Signal | None) -> None:
    """A RESERVED or DEFER signal carries its evidence; TDMRep never speaks about search."""
    if sig is None:
        return
    assert Purpose.SEARCH not in sig.purposes
    if sig.purposes:
        assert set(sig.purposes) == {Purpose.TDM, Purpose.TRAIN_AI, Purpose.AI_INPUT}
        assert len(set(sig.purposes.values())) == 1
    if any(v in (Verdict.RESERVED, Verdict.DEFER) for v in sig.purposes.values()):
        assert sig.reason
        assert sig.source
        assert sig.rule
        assert sig.parser == tdmrep.PARSER
        assert sig.protocol.value.startswith("tdmrep-")


# -- adapters: one per input shape of vectors/tdmrep.json ---------------------------------------


def fetch(
    doc: Any = None, *, status: int | None = 200, url: str = WELL_KNOWN, **kw: Any
) -> FetchResult:
    body = kw.pop("body", None)
    if body is None:
        body = b"" if doc is None else json.dumps(doc).encode()
    return FetchResult(url=url, status=status, body=body, **kw)


def wellknown(doc: Any = None, *, policy: Policy = LENIENT, **kw: Any) -> tdmrep.TdmRepFile:
    return tdmrep.parse_wellknown(fetch(doc, **kw), policy=policy)


def headers(case_headers: dict[str, str], url: str) -> Signal | None:
    # Names exactly as the vector writes them (T12: "TDM-Reservation").
    return tdmrep.from_headers(tuple(case_headers.items()), source=url, status=200)


def html(head: str, url: str) -> Signal | None:
    return tdmrep.from_html(parse_head(head), source=url, status=200)


def opf_package(inner: str, prefix: str | None = None) -> bytes:
    attr = f' prefix="{prefix}"' if prefix else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><package xmlns="http://www.idpf.org/2007/opf"'
        f' version="3.0"{attr}><metadata>{inner}</metadata></package>'
    ).encode()


def epub_zip(opf: bytes, path: str = "OEBPS/content.opf") -> bytes:
    container = (
        '<?xml version="1.0"?><container version="1.0" '
        'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
        f'<rootfile full-path="{path}" media-type="application/oebps-package+xml"/>'
        "</rootfiles></container>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        zf.writestr("META-INF/container.xml", container)
        zf.writestr(path, opf)
    return buf.getvalue()


def xmp_packet(description: str) -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f"{description}</rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def pdf_with(packet: bytes) -> bytes:
    head = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Metadata 2 0 R >>\nendobj\n2 0 obj\n"
    stream = b"<< /Type /Metadata /Subtype /XML /Length " + str(len(packet)).encode() + b" >>"
    tail = b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    return head + stream + b"\nstream\n" + packet + tail


def file_layer(case_inputs: dict[str, Any], path: str, policy: Policy) -> Signal | None:
    if "tdmrep_json" in case_inputs:
        return wellknown(case_inputs["tdmrep_json"], policy=policy).evaluate(path)
    if "tdmrep_json_status" in case_inputs:
        return wellknown(status=case_inputs["tdmrep_json_status"], policy=policy).evaluate(path)
    return None


def run(case: dict[str, Any], policy: Policy = LENIENT) -> list[Signal | None]:
    """Return Heed's effective TDMRep signal per URL of *case* (a list aligned with ``tdm``)."""
    inputs = case["inputs"]
    if "variants" in inputs:  # T09: each variant is a one-rule file
        return [wellknown([rule], policy=policy).evaluate("/x") for rule in inputs["variants"]]
    if "redirect" in inputs:  # T24: both origins' files, most restrictive
        hop = inputs["redirect"]
        files = []
        for origin, doc in inputs["tdmrep_json_by_origin"].items():
            url = origin + "/.well-known/tdmrep.json"
            got = wellknown(doc, url=url, status=200 if doc is not None else 404, policy=policy)
            target = hop["from"] if hop["from"].startswith(origin) else hop["to"]
            files.append(got.evaluate(normalize_path(target)))
        return [tdmrep.resolve([tdmrep.most_restrictive_file(files)])]
    if "image" in inputs:  # T17: the page's meta is not a layer of the image
        image = inputs["image"]
        url = ORIGIN + image["url"]
        layers = [file_layer(inputs, image["url"], policy), headers(image["response_headers"], url)]
        return [tdmrep.resolve(layers)]
    if "epub3_opf" in inputs:
        opf = inputs["epub3_opf"].encode()
        return [tdmrep.from_epub_opf(opf, source="book.epub", policy=policy)]
    if "epub2_opf_meta" in inputs:
        opf = opf_package(inputs["epub2_opf_meta"])
        return [tdmrep.from_epub(epub_zip(opf), source="book.epub", policy=policy)]
    if "pdf_xmp" in inputs:
        packet = xmp_packet(inputs["pdf_xmp"])
        return [tdmrep.from_pdf(pdf_with(packet), source="doc.pdf", policy=policy)]
    if "urls" in inputs and "response_headers" not in inputs:
        return [file_layer(inputs, normalize_path(u), policy) for u in inputs["urls"]]
    # A resource or page: file < header < meta (docs/protocols.md#tdmrep-precedence).
    path = "/" + inputs.get("target", "resource")
    url = ORIGIN + path
    layers = [file_layer(inputs, path, policy), headers(inputs.get("response_headers", {}), url)]
    if "html_head" in inputs:
        layers.append(html(inputs["html_head"], url))
    return [tdmrep.resolve(layers)]


# -- the vectors ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_vector(case: dict[str, Any]) -> None:
    expected = case["expected"]
    if case["id"] == "T08":  # rule without location: ignored, nothing matches
        got = wellknown(case["inputs"]["example_tdmrep_json"])
        assert got.rules == ()
        assert got.ignored == (1,)
        assert got.evaluate("/") is None
        assert got.evaluate("/x") is None
        return
    signals = run(case)
    want = expected["tdm"]
    if len(want) == 1 and len(signals) > 1:  # T09: every variant gives the one expected value
        want = want * len(signals)
    assert [verdict(s) for s in signals] == want
    for sig in signals:
        assert_evidence(sig)
        for flag in expected.get("flags", []) + expected.get("log", []):
            assert sig is not None
            assert flag in sig.flags
    if "tdm_policy" in expected:  # T02: the policy travels with the reservation
        assert [s.licence_url if s else None for s in signals] == expected["tdm_policy"]


@pytest.mark.parametrize(
    "case", [c for c in CASES if "strict" in c["expected"]], ids=lambda c: c["id"]
)
def test_vector_strict(case: dict[str, Any]) -> None:
    signals = run(case, STRICT)
    want = case["expected"]["strict"]
    assert [verdict(s) for s in signals] == want * (len(signals) if len(want) == 1 else 1)


def test_t05_reason_and_state() -> None:
    got = wellknown(status=404)
    assert got.state is tdmrep.FileState.ABSENT
    assert "protocol not implemented" in got.reason
    assert got.summary().purposes == {}


def test_t06_longest_match_alone_would_permit() -> None:
    got = wellknown(
        [{"location": "/", "tdm-reservation": 1}, {"location": "/public/", "tdm-reservation": 0}]
    )
    sig = got.evaluate("/public/a")
    assert sig is not None
    assert sig.line == 1
    assert "rule 1" in sig.reason
    assert "rule 2" in sig.reason
    # Reversed roles: first in sequence says 0, only the longest match reserves → reserve.
    got = wellknown(
        [{"location": "/p*", "tdm-reservation": 0}, {"location": "/public/", "tdm-reservation": 1}]
    )
    sig = got.evaluate("/public/a")
    assert verdict(sig) == "RESERVED"
    assert sig is not None
    assert sig.line == 2
    assert "conflict" in sig.flags


def test_t13_t16_reason_names_superseded_layer() -> None:
    (t13,) = run(next(c for c in CASES if c["id"] == "T13"))
    assert t13 is not None
    assert t13.protocol is Protocol.TDMREP_HEADER
    assert "supersedes tdmrep-file reserved" in t13.reason
    (t16,) = run(next(c for c in CASES if c["id"] == "T16"))
    assert t16 is not None
    assert t16.protocol is Protocol.TDMREP_META
    assert "supersedes tdmrep-header reserved" in t16.reason


def test_t14_header_true_is_invalid_even_when_lenient() -> None:
    sig = tdmrep.from_headers((("tdm-reservation", "true"),), source="u", status=200)
    assert sig is not None
    assert sig.purposes == {}
    assert "invalid_value" in sig.flags


def test_t18_policy_with_zero_is_recorded_not_processed() -> None:
    sig = tdmrep.from_headers(
        {"tdm-reservation": "0", "tdm-policy": "https://p.example/policy.json"},
        source="u",
        status=200,
    )
    assert verdict(sig) == "NOT-RESERVED"
    assert sig is not None
    assert sig.licence_url is None
    assert sig.rule is not None
    assert "https://p.example/policy.json" in sig.rule


def test_t19_policy_unreachable_is_unknown_conditions() -> None:
    (sig,) = run(next(c for c in CASES if c["id"] == "T19"))
    assert verdict(sig) == "RESERVED"
    assert sig is not None
    assert sig.licence_url == "https://…"
    assert tdmrep.policy_kind(FetchResult(url="https://…", status=404)) == "unknown conditions"
    assert tdmrep.policy_kind(None) == "unknown conditions"
    ld = FetchResult(
        url="https://p/x",
        status=200,
        body=b"{}",
        headers=(("content-type", "application/ld+json"),),
    )
    assert tdmrep.policy_kind(ld) == "machine-readable"
    page = FetchResult(url="https://p/x", status=200, headers=(("content-type", "text/html"),))
    assert tdmrep.policy_kind(page) == "human-readable"


def test_t20_t21_whole_epub_and_opf_agree() -> None:
    epub3 = opf_package(
        '<meta property="tdm:reservation">1</meta>'
        '<meta property="tdm:policy">https://p.example/policy.json</meta>',
        prefix="tdm: http://www.w3.org/ns/tdmrep#",
    )
    whole = tdmrep.from_epub(epub_zip(epub3), source="https://b.example/book.epub")
    assert verdict(whole) == "RESERVED"
    assert whole is not None
    assert whole.licence_url == "https://p.example/policy.json"
    assert whole.protocol is Protocol.TDMREP_EPUB
    epub2 = opf_package('<meta name="tdm:reservation" content="1"/>')
    assert verdict(tdmrep.from_epub_opf(epub2, source="b")) == "RESERVED"


def test_epub3_prefix_rules() -> None:
    undeclared = opf_package('<meta property="tdm:reservation">1</meta>')
    lenient = tdmrep.from_epub_opf(undeclared, source="b")
    assert verdict(lenient) == "RESERVED"
    assert lenient is not None
    assert "nonconformant" in lenient.flags
    assert tdmrep.from_epub_opf(undeclared, source="b", policy=STRICT) is None
    other = opf_package(
        '<meta property="t:reservation">1</meta>', prefix="t: http://www.w3.org/ns/tdmrep#"
    )
    assert verdict(tdmrep.from_epub_opf(other, source="b")) == "RESERVED"


@pytest.mark.parametrize("ns", ["http://www.w3.org/ns/tdmrep/", "http://www.w3.org/ns/tdmrep#"])
def test_t22_both_namespaces_element_and_attribute_form(ns: str) -> None:
    element = xmp_packet(
        f'<rdf:Description rdf:about="" xmlns:tdm="{ns}"><tdm:reservation>1</tdm:reservation>'
        "<tdm:policy>https://p.example/policy.json</tdm:policy></rdf:Description>"
    )
    sig = tdmrep.from_pdf(pdf_with(element), source="https://d.example/doc.pdf")
    assert verdict(sig) == "RESERVED"
    assert sig is not None
    assert sig.licence_url == "https://p.example/policy.json"
    assert sig.sha256 is not None
    attribute = xmp_packet(f'<rdf:Description rdf:about="" xmlns:tdm="{ns}" tdm:reservation="1"/>')
    assert verdict(tdmrep.from_pdf_xmp(attribute, source="d")) == "RESERVED"


def test_pdf_xmp_boolean_is_lenient_and_packets_combine_restrictively() -> None:
    ns = "http://www.w3.org/ns/tdmrep/"
    true = xmp_packet(
        f'<rdf:Description xmlns:tdm="{ns}"><tdm:reservation>True</tdm:reservation></rdf:Description>'
    )
    assert verdict(tdmrep.from_pdf_xmp(true, source="d")) == "RESERVED"
    assert tdmrep.from_pdf_xmp(true, source="d", policy=STRICT).purposes == {}  # type: ignore[union-attr]
    zero = xmp_packet(
        f'<rdf:Description xmlns:tdm="{ns}"><tdm:reservation>0</tdm:reservation></rdf:Description>'
    )
    one = xmp_packet(
        f'<rdf:Description xmlns:tdm="{ns}"><tdm:reservation>1</tdm:reservation></rdf:Description>'
    )
    both = tdmrep.from_pdf(pdf_with(zero) + pdf_with(one), source="d")
    assert verdict(both) == "RESERVED"
    assert both is not None
    assert "conflict" in both.flags


def test_unreadable_assets_defer() -> None:
    broken = b'%PDF-1.7\n<x:xmpmeta><tdm:reservation xmlns:tdm="http://www.w3.org/ns/tdmrep/">1'
    sig = tdmrep.from_pdf(broken, source="d")
    assert verdict(sig) == "DEFER"
    assert_evidence(sig)
    assert tdmrep.from_pdf(b"%PDF-1.7\nno metadata here", source="d") is None
    sig = tdmrep.from_epub(b"PK\x03\x04 not really a zip", source="b")
    assert verdict(sig) == "DEFER"
    assert_evidence(sig)
    no_tdm = epub_zip(opf_package('<meta name="cover" content="img"/>'))
    assert tdmrep.from_epub(no_tdm, source="b") is None


def test_hostile_xml_is_not_expanded() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "1"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b'<package prefix="tdm: http://www.w3.org/ns/tdmrep#">'
        b'<meta property="tdm:reservation">&b;</meta></package>'
    )
    sig = tdmrep.from_epub_opf(bomb, source="b")
    assert verdict(sig) == "DEFER"  # names TDMRep, cannot be read safely: fail closed
    xxe = xmp_packet(
        '<rdf:Description xmlns:tdm="http://www.w3.org/ns/tdmrep/">'
        "<tdm:reservation>&x;</tdm:reservation></rdf:Description>"
    ).replace(b"<x:xmpmeta", b'<!DOCTYPE x [<!ENTITY x SYSTEM "file:///etc/passwd">]><x:xmpmeta')
    assert verdict(tdmrep.from_pdf(xxe, source="d")) == "DEFER"


def test_epub_members_are_read_bounded() -> None:
    huge = b"<package>" + b" " * (MAX_XML + 10) + b"</package>"
    sig = tdmrep.from_epub(epub_zip(huge), source="b")  # deflates to a few KiB
    assert verdict(sig) == "DEFER"
    missing = io.BytesIO()
    with zipfile.ZipFile(missing, "w") as zf:
        zf.writestr("mimetype", "application/epub+zip")
    assert verdict(tdmrep.from_epub(missing.getvalue(), source="b")) == "DEFER"
    no_container = io.BytesIO()
    with zipfile.ZipFile(no_container, "w") as zf:
        zf.writestr("book.opf", opf_package('<meta name="tdm:reservation" content="1"/>'))
    assert verdict(tdmrep.from_epub(no_container.getvalue(), source="b")) == "RESERVED"


# -- the origin file: retrieval outcomes ------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "state", "flag"),
    [
        ({"status": 410}, "absent", "not_implemented"),
        ({"status": 400}, "absent", "not_implemented"),
        ({"status": 401}, "unreadable", "unreachable"),
        ({"status": 403}, "unreadable", "unreachable"),
        ({"status": 429}, "unreadable", "unreachable"),
        ({"status": 500}, "unreadable", "unreachable"),
        ({"status": 301}, "unreadable", "unreachable"),
        ({"status": None, "error": "timeout"}, "unreadable", "unreachable"),
        ({"status": 200, "error": "too_many_redirects"}, "unreadable", "unreachable"),
        (
            {"status": 200, "body": b'[{"location":"/"', "truncated": True},
            "unreadable",
            "truncated",
        ),
        ({"status": 200, "body": b'[{"location":"/",'}, "unreadable", "invalid_json"),
        ({"status": 200, "body": b"[" * 100_000 + b"]" * 100_000}, "unreadable", "invalid_json"),
        (
            {"status": 200, "body": b"<!doctype html><title>Not found</title>"},
            "absent",
            "html_body",
        ),
        ({"status": 200, "body": b"  \n"}, "rules", "empty"),
        ({"status": 200, "body": b'"just a string"'}, "rules", "nonconformant"),
    ],
)
def test_retrieval_outcomes(kw: dict[str, Any], state: str, flag: str) -> None:
    got = tdmrep.parse_wellknown(fetch(**kw))
    assert got.state.value == state
    assert flag in got.flags
    sig = got.evaluate("/x")
    if state == "unreadable":
        assert verdict(sig) == "DEFER"
        assert_evidence(sig)
        assert got.summary() is sig
    else:
        assert sig is None


def test_too_many_rules_defers() -> None:
    doc = [{"location": f"/a{i}", "tdm-reservation": 0} for i in range(MAX_RULES + 1)]
    got = wellknown(doc)
    assert got.state is tdmrep.FileState.UNREADABLE
    assert verdict(got.evaluate("/a1")) == "DEFER"


def test_rule_evidence_and_policy_resolution() -> None:
    doc = [{"location": "/b/", "tdm-reservation": 1, "tdm-policy": "/policy.json"}]
    got = wellknown(doc, fetched_at="2026-10-30T12:00:00Z")
    sig = got.evaluate("/b/c")
    assert sig is not None
    assert sig.rule == '{"location":"/b/","tdm-reservation":1,"tdm-policy":"/policy.json"}'
    assert sig.line == 1
    assert sig.licence_url == ORIGIN + "/policy.json"
    assert sig.fetched_at == "2026-10-30T12:00:00Z"
    assert sig.sha256 == got.sha256
    assert sig.status == 200


def test_invalid_values_ignore_the_rule() -> None:
    doc = [{"location": "/", "tdm-reservation": 2}, {"location": "/", "tdm-reservation": "0"}]
    got = wellknown(doc)
    assert got.ignored == (1, 2)
    assert got.evaluate("/x") is None


def test_percent_and_wildcards_go_through_urlmatch() -> None:
    got = wellknown([{"location": "/caf%C3%A9/*.pdf", "tdm-reservation": 1}])
    assert verdict(got.evaluate(normalize_path("/café/x/y.pdf"))) == "RESERVED"
    assert got.evaluate(normalize_path("/cafe/x/y.pdf")) is None


# -- headers, meta and precedence -------------------------------------------------------------


def test_header_repeats_and_lists() -> None:
    sig = tdmrep.from_headers((("tdm-reservation", "1, 0"),), source="u", status=200)
    assert verdict(sig) == "RESERVED"
    assert sig is not None
    assert {"conflict", "nonconformant"} <= set(sig.flags)
    repeated = (("tdm-reservation", "0"), ("TDM-RESERVATION", "0"))
    assert verdict(tdmrep.from_headers(repeated, source="u", status=200)) == "NOT-RESERVED"
    assert tdmrep.from_headers((("content-type", "text/html"),), source="u", status=200) is None


def test_policy_alone_fills_in_a_later_reservation() -> None:
    file = wellknown([{"location": "/", "tdm-reservation": 1, "tdm-policy": "https://p/a"}])
    later = tdmrep.from_html(parse_head('<meta name="tdm-reservation" content="1">'), source="u")
    sig = tdmrep.resolve([file.evaluate("/x"), None, later])
    assert sig is not None
    assert sig.protocol is Protocol.TDMREP_META
    assert sig.licence_url == "https://p/a"  # absence never resets (TDMRep precedence)
    only_policy = tdmrep.from_headers({"tdm-policy": "https://p/b"}, source="u", status=200)
    assert only_policy is not None
    assert only_policy.purposes == {}
    assert "policy_only" in only_policy.flags
    sig = tdmrep.resolve([file.evaluate("/x"), only_policy])
    assert sig is not None
    assert sig.licence_url == "https://p/b"


def test_resolve_defer_and_order() -> None:
    deferred = wellknown(status=503).evaluate("/x")
    one = tdmrep.from_headers({"tdm-reservation": "1"}, source="u", status=200)
    zero = tdmrep.from_headers({"tdm-reservation": "0"}, source="u", status=200)
    meta0 = tdmrep.from_html(parse_head('<meta name="tdm-reservation" content="0">'), source="u")
    assert verdict(tdmrep.resolve([deferred])) == "DEFER"
    assert verdict(tdmrep.resolve([deferred, zero])) == "NOT-RESERVED"  # more specific wins
    assert verdict(tdmrep.resolve([meta0, one])) == "NOT-RESERVED"  # order given does not matter
    bad_epub = tdmrep.from_epub(b"garbage", source="b")
    assert verdict(tdmrep.resolve([one, bad_epub])) == "RESERVED"
    assert verdict(tdmrep.resolve([zero, bad_epub])) == "DEFER"  # cannot lift to permission
    assert tdmrep.resolve([]) is None
    assert tdmrep.resolve([None, None]) is None
    with pytest.raises(ValueError, match="not a TDMRep signal"):
        tdmrep.resolve([Signal(protocol=Protocol.RSL, reason="x")])


def test_t17_meta_is_page_scoped() -> None:
    page = html('<meta name="tdm-reservation" content="1">', ORIGIN + "/page")
    assert verdict(page) == "RESERVED"
    assert page is not None
    assert page.source == ORIGIN + "/page"
    assert page.line == 1


# -- contracts --------------------------------------------------------------------------------


def test_package_exports_its_surface() -> None:
    """optout.tdmrep re-exports each name of __all__ from its modules, once (httpx's guard)."""
    assert len(set(tdmrep.__all__)) == len(tdmrep.__all__)
    public = {n for n, v in vars(tdmrep).items() if not n.startswith("_") and not ismodule(v)}
    assert public == set(tdmrep.__all__)


def test_empty_inputs_give_none() -> None:
    assert tdmrep.from_headers((), source="u", status=200) is None
    assert tdmrep.from_html(parse_head(b""), source="u") is None
    assert tdmrep.from_epub(b"", source="b") is None
    assert tdmrep.from_epub_opf(b"", source="b") is None
    assert tdmrep.from_pdf(b"", source="d") is None
    assert tdmrep.from_pdf_xmp(b"", source="d") is None
    assert tdmrep.most_restrictive_file([]) is None
    assert wellknown([]).evaluate("/") is None


def test_wrong_argument_types_raise() -> None:
    with pytest.raises(TypeError):
        tdmrep.parse_wellknown(b"[]")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tdmrep.from_epub("book", source="b")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tdmrep.from_html("<meta>", source="u")  # type: ignore[arg-type]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=20), inner, max_size=5)
    ),
    max_leaves=30,
)
_rule_keys = st.sampled_from(["location", "tdm-reservation", "tdm-policy", "x"])
_rules = st.lists(
    st.dictionaries(
        _rule_keys,
        st.one_of(_json, st.sampled_from(["/", "/a*", "/b$", "*", "1", 1, 0])),
        max_size=4,
    ),
    max_size=8,
)
_paths = st.lists(st.text(max_size=30), max_size=5)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from([200, 206, 404, 500, None]), _paths)
def test_parse_wellknown_never_raises_on_bytes(
    body: bytes, status: int | None, paths: list[str]
) -> None:
    got = tdmrep.parse_wellknown(fetch(body=body, status=status))
    for p in ["/", *paths]:
        assert_evidence(got.evaluate(normalize_path(p)))
    assert_evidence(got.summary())


@settings(max_examples=200, deadline=None)
@given(st.one_of(_rules, _json), _paths, st.booleans())
def test_parse_wellknown_never_raises_on_json(doc: Any, paths: list[str], lenient: bool) -> None:
    got = wellknown(doc, policy=Policy(lenient_values=lenient))
    for p in ["/", "/a", "/b", *paths]:
        assert_evidence(got.evaluate(normalize_path(p)))


_header_name = st.sampled_from(["tdm-reservation", "TDM-Policy", "tdm-policy", "x"]) | st.text(
    max_size=10
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_header_name, st.text(max_size=40)), max_size=5), st.text(max_size=200))
def test_headers_and_meta_never_raise(pairs: list[tuple[str, str]], page: str) -> None:
    sig = tdmrep.from_headers(tuple(pairs), source="u", status=200)
    assert_evidence(sig)
    meta = tdmrep.from_html(parse_head(page), source="u")
    assert_evidence(meta)
    head = parse_head(f'<meta name="tdm-reservation" content="{page[:10]}">')
    assert_evidence(tdmrep.from_html(head, source="u"))
    assert_evidence(tdmrep.resolve([sig, meta]))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_asset_readers_never_raise(data: bytes) -> None:
    for reader in (tdmrep.from_epub, tdmrep.from_pdf, tdmrep.from_epub_opf, tdmrep.from_pdf_xmp):
        assert_evidence(reader(data, source="u"))
    spiked = b"%PDF <x:xmpmeta ns/tdmrep" + data
    assert_evidence(tdmrep.from_pdf(spiked, source="u"))


# -- speed: 10k lookups on a 1,000-rule file use only precompiled matchers ---------------------


def _big_file() -> tdmrep.TdmRepFile:
    doc: list[dict[str, Any]] = []
    for i in range(1000):
        kind = i % 4
        location = (f"/sec{i}/", f"/img{i}/*.jpg$", f"/page{i}.html$", f"*/tag{i}/")[kind]
        doc.append({"location": location, "tdm-reservation": i % 2})
    return wellknown(doc)


def test_evaluate_is_precompiled(monkeypatch: pytest.MonkeyPatch) -> None:
    got = _big_file()
    kinds = ("/sec{}/x", "/img{}/a.jpg", "/page{}.html", "/z/tag{}/q")
    paths = [normalize_path(kinds[i % 4].format(i)) for i in range(1000)] * 10
    assert len(paths) == 10_000

    def no_compile(*_args: object, **_kw: object) -> None:
        raise AssertionError("a pattern was compiled per lookup")

    monkeypatch.setattr(re, "compile", no_compile)
    monkeypatch.setattr(urlmatch.RuleMatcher, "__init__", no_compile)
    found = [got.evaluate(p) for p in paths]
    monkeypatch.undo()
    expected = ["NOT-RESERVED" if i % 2 == 0 else "RESERVED" for i in range(1000)] * 10
    assert [verdict(s) for s in found] == expected
    assert [s.line for s in found[:4] if s] == [1, 2, 3, 4]
