"""Cross-protocol verdicts (vectors X01-X15) through the site engine.

docs/protocols.md#cross-protocol-scenarios.

Each situation is played the way the crawler meets it: an origin's documents compiled into a
:class:`~optout.site.Site`, the decision before the request, then the response's headers and HTML.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from optout.asset_meta import from_c2pa_assertion
from optout.decision import Crawl, Decision, Policy, Purpose, Use, Verdict, combine
from optout.document import FetchResult, normalize_headers
from optout.robots_fetch import keep_last_good, outcome
from optout.site import Site, SiteDocuments
from tests.optout.vectors import load

ORIGIN = "https://site.example"
URL = ORIGIN + "/articles/one"
TOKEN = "MyBot"
CASES = {c["id"]: c for c in load("cross_protocol")}


def _site(inputs: dict[str, Any], policy: Policy) -> Site:
    robots_body = inputs.get("robots_txt") or inputs.get("robots_txt_at_dataset_build") or ""
    status = inputs.get("robots_status", 200)
    robots = FetchResult(url=ORIGIN + "/robots.txt", status=status, body=robots_body.encode())
    ro = outcome(robots, policy)
    if inputs.get("cached_copy") and inputs["cached_copy"].get(
        "allows"
    ):  # X08: 503 now, good copy cached
        good = FetchResult(
            url=ORIGIN + "/robots.txt", status=200, body=b"User-agent: *\nAllow: /\n"
        )
        robots = good
        ro = keep_last_good(
            outcome(good, policy), outcome(FetchResult(url=robots.url, status=503), policy)
        )
    if "tdmrep_json" in inputs:
        tdm = FetchResult(
            url=ORIGIN + "/.well-known/tdmrep.json",
            status=200,
            body=json.dumps(inputs["tdmrep_json"]).encode(),
        )
    else:
        tdm = FetchResult(url=ORIGIN + "/.well-known/tdmrep.json", status=404)
    licences = {}
    if "license_xml" in inputs:
        licences["https://h/license.xml"] = FetchResult(
            url="https://h/license.xml", status=200, body=inputs["license_xml"].encode()
        )
    docs = SiteDocuments(origin=ORIGIN, robots=robots, tdmrep=tdm, licenses=licences)
    return Site(docs, token=TOKEN, policy=policy, robots_outcome=ro)


def _decide(case: dict[str, Any], policy: Policy) -> Decision:
    inputs = case["inputs"]
    site = _site(inputs, policy)
    before = site.before_request(URL)
    if before.crawl is not Crawl.ALLOW:
        return before
    headers = dict(inputs.get("response_headers") or {})
    body = b""
    if "html_head" in inputs:
        headers.setdefault("Content-Type", "text/html; charset=utf-8")
        body = f"<html><head>{inputs['html_head']}</head><body>text</body></html>".encode()
    response = FetchResult(url=URL, status=200, headers=normalize_headers(headers), body=body)
    decision = site.after_response(URL, response)
    if "c2pa_assertion" in inputs:  # X10: asset metadata read by the asset worker
        asset = from_c2pa_assertion(inputs["c2pa_assertion"], source=URL)
        assert asset is not None
        decision = combine(URL, [*decision.signals, asset], policy=policy)
    return decision


def _check(decision: Decision, expected: Any, default: str | None) -> None:
    if expected is None:
        assert decision.crawl is not Crawl.ALLOW
    elif expected == "RESERVED":
        assert decision.use is Use.RESERVED
    elif expected == "NOT-RESERVED":
        assert decision.use is Use.NOT_RESERVED
    elif expected == "UNKNOWN":
        assert decision.purposes[Purpose.TRAIN_AI] is Verdict.UNKNOWN
        assert decision.use.value == (default or "UNKNOWN").lower()
    elif "licence" in expected:  # X11
        assert decision.licence_required
        assert decision.use is Use.RESERVED
    elif "cached" in expected:  # X08: the cached copy's signals (none) decide
        assert decision.use is Use.NOT_RESERVED
    else:  # pragma: no cover - a new vector shape
        pytest.fail(f"unhandled expectation {expected!r}")


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_cross_protocol(case: dict[str, Any]) -> None:
    """Heed's default reading of each X-vector situation."""
    expected = case["expected"]
    policy = Policy(**case["inputs"].get("config", {}))
    decision = _decide(case, policy)
    if expected.get("crawl"):
        assert decision.crawl.value == expected["crawl"].lower()
    _check(decision, expected.get("train-ai"), expected.get("default_treatment"))
    for flag in expected.get("flags", []):
        assert any(flag in s.flags for s in decision.signals), flag
    if expected.get("log") == ["conflict"]:
        assert any("conflict" in s.flags for s in decision.signals)


def test_x04_strict_reading() -> None:
    """X04 strict: named AI blocks are only a risk flag when the knob is off."""
    decision = _decide(CASES["X04"], Policy(treat_named_ai_blocks_as_reservation=False))
    assert decision.use is Use.NOT_RESERVED
    assert any("named_ai_block" in s.flags for s in decision.signals)


def test_every_signal_carries_evidence() -> None:
    """Restricting signals name their source and the rule or value behind them."""
    for case in CASES.values():
        decision = _decide(case, Policy())
        for sig in decision.signals:
            if sig.verdict in ("reserved", "disallow", "defer"):
                assert sig.source, (case["id"], sig)
                assert sig.parser, (case["id"], sig)
                assert sig.rule or sig.status is not None, (case["id"], sig)
