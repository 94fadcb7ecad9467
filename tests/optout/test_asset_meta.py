"""CAWG/C2PA training-mining and IPTC ``plus:DataMining`` (M-xx vectors, X10).

docs/protocols.md#asset-metadata."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optout.asset_meta import PARSER, from_c2pa_assertion, from_iptc_data_mining, from_xmp
from optout.decision import Crawl, Protocol, Purpose, Signal, Use, Verdict, combine
from tests.optout.vectors import load

CASES = load("asset_metadata")
CROSS = {c["id"]: c for c in load("cross_protocol")}
URL = "https://example.com/image.jpg"
#: Vector verdict keys; train-ai-gen (generative training) is part of Heed's train-ai.
KEYS = {
    "tdm": Purpose.TDM,
    "train-ai": Purpose.TRAIN_AI,
    "train-ai-gen": Purpose.TRAIN_AI,
    "ai-input": Purpose.AI_INPUT,
    "search": Purpose.SEARCH,
}
VERDICT = {
    "RESERVED": Verdict.RESERVED,
    "NOT-RESERVED": Verdict.NOT_RESERVED,
    "UNKNOWN": Verdict.UNKNOWN,
}


def xmp_packet(
    value: str, *, element: bool = False, ns: str = "http://ns.useplus.org/ldf/xmp/1.0/"
) -> bytes:
    """Return an XMP packet carrying ``plus:DataMining``, as attribute or element."""
    prop = f'<plus:DataMining rdf:resource="{value}"/>' if element else ""
    attr = "" if element else f' plus:DataMining="{value}"'
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:plus="{ns}"{attr}>{prop}</rdf:Description>'
        '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def _verdict(sig: Signal | None, purpose: Purpose) -> Verdict:
    return sig.purposes.get(purpose, Verdict.UNKNOWN) if sig is not None else Verdict.UNKNOWN


def _check(sig: Signal | None, verdicts: dict[str, str]) -> None:
    for key, want in verdicts.items():
        assert _verdict(sig, KEYS[key]) is VERDICT[want], key
    if verdicts.get("train-ai-gen") == "RESERVED" and "train-ai" not in verdicts:
        assert sig is not None
        assert "generative_only" in sig.flags


def _xmp_signals(xmp: dict[str, str]) -> list[Signal | None]:
    value = xmp["plus:DataMining"]
    return [
        from_iptc_data_mining(value, source=URL),
        from_xmp(xmp_packet(value), source=URL),
        from_xmp(xmp_packet(value, element=True), source=URL),
    ]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_vector(case: dict[str, Any]) -> None:
    """Each M-xx vector gives Heed's default per-purpose verdict."""
    inputs, expected = case["inputs"], case["expected"]
    if "c2pa_assertion" in inputs:
        sig = from_c2pa_assertion(
            inputs["c2pa_assertion"], source=URL, signature_valid=inputs.get("signature_valid")
        )
        _check(sig, expected["verdicts"])
        assert sig is not None
        assert set(expected.get("flags", [])) <= set(sig.flags)
        if "licence_info" in expected:
            assert expected["licence_info"] in sig.reason
            assert "constrained" in sig.flags
        return
    if "variants" in inputs:  # M10
        for variant, want in zip(inputs["variants"], expected["verdicts_per_variant"], strict=True):
            for sig in _xmp_signals(variant["xmp"]):
                assert {_verdict(sig, p) for p in Purpose} <= {VERDICT[want], Verdict.UNKNOWN}
                if want == "UNKNOWN":
                    assert sig is None
                else:
                    assert _verdict(sig, Purpose.TRAIN_AI) is VERDICT[want]
        return
    for sig in _xmp_signals(inputs["xmp"]):
        _check(sig, expected["verdicts"])
        for key in expected.get("not_reserved_by_this_signal", []):
            assert _verdict(sig, KEYS[key]) is not Verdict.RESERVED
    if case["id"] == "M11":
        # Only this module's part plus the combination: a site-wide ai-train=yes loses.
        site = Signal(
            protocol=Protocol.CONTENT_SIGNAL_ROBOTS,
            purposes={Purpose.TRAIN_AI: Verdict.NOT_RESERVED},
            reason="Content-Signal ai-train=yes",
        )
        asset = from_xmp(xmp_packet(inputs["xmp"]["plus:DataMining"]), source=URL)
        assert asset is not None
        assert combine(URL, [site, asset]).use is Use.RESERVED


def test_x10_asset_level_generative_reservation() -> None:
    """X10: C2PA gen-AI notAllowed ⇒ crawl ALLOW, train-ai RESERVED."""
    inputs = CROSS["X10"]["inputs"]
    sig = from_c2pa_assertion(inputs["c2pa_assertion"], source=URL)
    assert sig is not None
    assert "generative_only" in sig.flags
    decision = combine(URL, [sig])
    assert decision.crawl is Crawl.ALLOW
    assert decision.purposes[Purpose.TRAIN_AI] is Verdict.RESERVED
    assert decision.use is Use.RESERVED


def test_c2pa_evidence_and_licence_url() -> None:
    """A C2PA signal carries the entries as rule, the parser, and a constraint URL as licence."""
    assertion = {
        "label": "cawg.training-mining",
        "data": {
            "entries": {
                "cawg.ai_training": {"use": "constrained", "constraints_info": "https://l/x"}
            }
        },
    }
    sig = from_c2pa_assertion(assertion, source=URL, status=200, sha256="ab", fetched_at="T")
    assert sig is not None
    assert sig.protocol is Protocol.C2PA
    assert (sig.parser, sig.status, sig.sha256, sig.fetched_at) == (PARSER, 200, "ab", "T")
    assert sig.licence_url == "https://l/x"
    assert sig.rule is not None
    assert "cawg.ai_training" in sig.rule


@pytest.mark.parametrize(
    ("assertion", "expected"),
    [
        ({"label": "c2pa.actions", "entries": {"cawg.ai_training": {"use": "notAllowed"}}}, None),
        ({"label": "cawg.training-mining", "entries": {}}, None),
        (
            {"label": "cawg.training-mining", "entries": {"cawg.ai_training": {"use": "maybe"}}},
            None,
        ),
        ({"label": "cawg.training-mining", "entries": "garbage"}, None),
        (
            {
                "label": "cawg.training-mining.v2__1",
                "entries": {"cawg.data_mining": {"use": "NOTALLOWED"}},
            },
            Verdict.RESERVED,
        ),
        ({"entries": {"c2pa.data_mining": {"use": "notAllowed"}}}, Verdict.RESERVED),
    ],
)
def test_c2pa_shapes(assertion: dict[str, Any], expected: Verdict | None) -> None:
    """Other labels and unreadable entries state nothing; label suffixes and case are tolerated."""
    sig = from_c2pa_assertion(assertion, source=URL)
    if expected is None:
        assert sig is None
    else:
        assert _verdict(sig, Purpose.TDM) is expected


def test_generative_and_general_training() -> None:
    """Both training entries reserved: no ``generative_only`` flag."""
    entries = {
        "cawg.ai_training": {"use": "notAllowed"},
        "cawg.ai_generative_training": {"use": "notAllowed"},
    }
    sig = from_c2pa_assertion({"label": "cawg.training-mining", "entries": entries}, source=URL)
    assert sig is not None
    assert "generative_only" not in sig.flags
    assert sig.purposes[Purpose.TRAIN_AI] is Verdict.RESERVED


@pytest.mark.parametrize(
    ("value", "reserved", "flag"),
    [
        ("DMI-PROHIBITED", set(Purpose), None),
        (
            "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-SEECONSTRAINT",
            set(Purpose),
            "see_constraint",
        ),
        ("dmi-prohibited-aimltraining", {Purpose.TRAIN_AI}, None),
        ("plus:DMI-PROHIBITED-NEWTHING", set(Purpose), "invalid_value"),
        ("something else", set(), "invalid_value"),
    ],
)
def test_iptc_values(value: str, reserved: set[Purpose], flag: str | None) -> None:
    """DMI values are read by suffix, case-insensitively; unknown prohibitions stay prohibitions."""
    sig = from_iptc_data_mining(value, source=URL)
    assert sig is not None
    assert sig.protocol is Protocol.IPTC
    assert {p for p, v in sig.purposes.items() if v is Verdict.RESERVED} == reserved
    if flag:
        assert flag in sig.flags


def test_xmp_namespace_variant_and_broken_packet() -> None:
    """A variant namespace and a malformed packet are read leniently, flagged."""
    value = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING"
    variant = from_xmp(xmp_packet(value, ns="http://ns.useplus.org/ldf/xmp/1.1/"), source=URL)
    assert _verdict(variant, Purpose.TRAIN_AI) is Verdict.RESERVED
    assert variant is not None
    assert "lenient" in variant.flags
    broken = xmp_packet(value)[:-40]
    sig = from_xmp(b"\xff\xd8JPEG" + broken, source=URL)
    assert _verdict(sig, Purpose.TRAIN_AI) is Verdict.RESERVED
    assert sig is not None
    assert "lenient" in sig.flags
    assert sig.sha256 is not None


def test_xmp_without_data_mining() -> None:
    """An XMP packet without DataMining states nothing."""
    assert from_xmp(b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>', source=URL) is None
    assert from_xmp(b"", source=URL) is None


def test_wrong_argument_types_raise() -> None:
    """Programmer errors raise TypeError."""
    with pytest.raises(TypeError):
        from_c2pa_assertion([], source=URL)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        from_iptc_data_mining(b"DMI-ALLOWED", source=URL)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        from_xmp(42, source=URL)  # type: ignore[arg-type]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["use", "constraint_info", "cawg.ai_training", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.binary())
def test_xmp_never_raises(data: bytes) -> None:
    """Arbitrary bytes as XMP never raise."""
    sig = from_xmp(data, source=URL)
    assert sig is None or sig.protocol is Protocol.IPTC


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_iptc_never_raises(value: str) -> None:
    """Arbitrary text as a DataMining value never raises."""
    from_iptc_data_mining(value, source=URL)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["cawg.training-mining", "c2pa.training-mining", "x"]),
    st.dictionaries(
        st.sampled_from(["cawg.ai_training", "c2pa.data_mining", "cawg.ai_inference", "other"]),
        JSON,
        max_size=4,
    ),
)
def test_c2pa_never_raises(label: str, entries: dict[str, Any]) -> None:
    """Arbitrary assertion contents never raise."""
    sig = from_c2pa_assertion({"label": label, "entries": entries}, source=URL)
    assert sig is None or sig.protocol is Protocol.C2PA
