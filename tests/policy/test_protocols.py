"""policy.protocols: the honoured protocols and the robots.txt policy, derived from optout/."""

from __future__ import annotations

import dataclasses

import pytest

from optout import aipref, robots, tdmrep
from optout.action import Action
from optout.decision import DEFAULT_POLICY, PROTOCOL_SET_VERSION, Policy, Protocol
from optout.document import FetchResult
from optout.robots_fetch import outcome
from policy import protocols
from policy.protocols import (
    ProtocolInfo,
    action_label,
    honoured_protocols,
    knob_label,
    knob_value,
    protocol_families,
    protocol_label,
    purpose_label,
    robots_features,
    robots_policy_lines,
)


def test_every_protocol_value_listed_once_robots_first() -> None:
    infos = honoured_protocols()
    values = [i.protocol for i in infos]
    assert sorted(values) == sorted(p.value for p in Protocol)
    assert len(values) == len(set(values))
    assert infos[0].protocol == Protocol.ROBOTS_TXT.value
    assert infos[0].spec == "RFC 9309"
    assert infos == honoured_protocols()  # stable


def test_fields_filled_and_frozen() -> None:
    for info in honoured_protocols():
        for f in dataclasses.fields(ProtocolInfo):
            assert getattr(info, f.name), (info.protocol, f.name)
        assert info.parser.startswith("heed-")
        assert "/" in info.parser
    with pytest.raises(dataclasses.FrozenInstanceError):
        honoured_protocols()[0].name = "x"  # type: ignore[misc]


def test_parser_versions_are_the_ones_signals_record() -> None:
    by = {i.protocol: i for i in honoured_protocols()}
    assert by["robots.txt"].parser == robots.PARSER
    assert by["content-usage-header"].parser == aipref.PARSER
    # The version a real signal carries, not a copy of it.
    header = tdmrep.from_headers(
        (("tdm-reservation", "1"),), source="https://a.example/x", status=200
    )
    assert header is not None
    assert by[header.protocol.value].parser == header.parser
    robots_sig = outcome(
        FetchResult(url="https://a.example/robots.txt", status=503), DEFAULT_POLICY
    ).signal
    assert robots_sig is not None
    assert by[robots_sig.protocol.value].parser == robots_sig.parser


def test_families_group_techniques() -> None:
    fams = {f["family"]: f for f in protocol_families()}
    tdm = next(f for name, f in fams.items() if "TDMRep" in name)
    assert len(tdm["protocols"]) == 5
    assert tdm["parsers"] == [tdmrep.PARSER]
    assert protocol_families()[0]["protocols"][0] == "robots.txt"


def test_protocol_set_version_reexported() -> None:
    assert protocols.PROTOCOL_SET_VERSION == PROTOCOL_SET_VERSION


def test_default_robots_policy_lines() -> None:
    text = "\n".join(robots_policy_lines(DEFAULT_POLICY.as_dict()))
    assert "up to 5 redirects" in text
    assert "401 and 403: complete disallow" in text
    assert "429" in text
    assert "5xx" in text
    assert "never cached as 'allow'" in text
    assert "at most 24 hours" in text
    assert "2 MiB" in text
    assert "Allow wins a tie" in text
    assert "is treated as reserving AI training" in text
    assert "retried later" in text


def test_knobs_change_the_sentences() -> None:
    knobs = Policy(
        robots_403_allow=True,
        robots_max_redirects=7,
        robots_parse_limit=600 * 1024,
        robots_html_strict=True,
        treat_named_ai_blocks_as_reservation=False,
    ).as_dict()
    text = "\n".join(robots_policy_lines(knobs, retry_seconds=600))
    assert "401 and 403: treated as 'unavailable', no crawl restrictions" in text
    assert "up to 7 redirects" in text
    assert "600 KiB" in text
    assert "HTML page is treated as unreachable" in text
    assert "not read as a reservation of AI training" in text
    assert "retried after 600 seconds" in text


def test_missing_knobs_take_defaults() -> None:
    assert robots_policy_lines({}) == robots_policy_lines(DEFAULT_POLICY.as_dict())


def test_robots_features() -> None:
    features = robots_features()
    joined = " ".join(features)
    assert "longest matching path wins" in joined
    assert "Allow wins a tie" in joined
    assert "$ anchors" in joined
    assert "product token" in joined
    assert all(isinstance(f, str) and f for f in features)


@pytest.mark.parametrize("robots_403_allow", [False, True])
@pytest.mark.parametrize("named_ai_blocks", [False, True])
def test_policy_sentences_name_no_knob(robots_403_allow: bool, named_ai_blocks: bool) -> None:
    """The published policy states each choice in words, never by its knob's name."""
    knobs = Policy(
        robots_403_allow=robots_403_allow, treat_named_ai_blocks_as_reservation=named_ai_blocks
    ).as_dict()
    text = "\n".join(robots_policy_lines(knobs)) + "\n".join(
        i.expresses for i in honoured_protocols()
    )
    for name in knobs:
        assert name not in text
    assert "knob" not in text


def test_every_recorded_value_has_words() -> None:
    """Each protocol, action, purpose and policy knob the audit trail records is put in words,
    and an unknown value (a newer writer's) is shown as it is."""
    for protocol in Protocol:
        if protocol is not Protocol.ROBOTS_TXT:
            assert protocol_label(protocol.value) != protocol.value, protocol
    assert protocol_label("tdmrep-file") == "TDMRep file /.well-known/tdmrep.json"
    assert protocol_label("content-signal-robots.txt") == "Cloudflare Content-Signal in robots.txt"
    for action in Action:
        assert action_label(action.value) != action.value or action.value == "redirected"
    assert action_label("skipped-reservation") == "skipped: rights reserved"
    assert purpose_label("train-ai") == "AI training (train-ai)"
    for name, value in DEFAULT_POLICY.as_dict().items():
        assert knob_label(name) != name, name
        assert knob_value(name, value) not in ("True", "False")
    assert knob_value("robots_403_allow", False) == "no"
    assert knob_value("robots_parse_limit", 2 * 1024 * 1024) == "2 MiB"
    assert protocol_label("new-protocol") == "new-protocol"
    assert action_label("new-action") == "new-action"
    assert knob_label("new_knob") == "new_knob"
