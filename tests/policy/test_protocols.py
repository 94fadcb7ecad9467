"""policy.protocols: the honoured protocols and the robots.txt policy, derived from optout/."""

from __future__ import annotations

import dataclasses

import pytest

from optout import aipref, robots, tdmrep
from optout.decision import DEFAULT_POLICY, PROTOCOL_SET_VERSION, Policy, Protocol
from optout.document import FetchResult
from optout.robots_fetch import outcome
from policy import protocols
from policy.protocols import (
    ProtocolInfo,
    honoured_protocols,
    protocol_families,
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
    assert "treat_named_ai_blocks_as_reservation = true" in text
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
    assert "robots_403_allow = true" in text
    assert "no crawl restrictions" in text
    assert "up to 7 redirects" in text
    assert "600 KiB" in text
    assert "HTML page is treated as unreachable" in text
    assert "treat_named_ai_blocks_as_reservation = false" in text
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
