"""TDMRep for one resource: its HTTP headers and HTML meta, and the layers' precedence.

docs/protocols.md#tdmrep-layers and docs/protocols.md#tdmrep-precedence.

A page's own statements (vectors T11-T19, T24) may override what the origin's file says
(:mod:`optout.tdmrep.wellknown`); EPUB and PDF metadata are read in :mod:`optout.tdmrep.assets`.
:func:`resolve` turns all the layers found for one resource into the one effective signal.

Choices (recorded in the signal's flags):

* HTTP headers and HTML meta are text tokens and stay strict (T14, :mod:`optout.tdmrep.values`).
* HTML read only in part (:attr:`optout.html_head.HtmlHead.incomplete`): the meta layer DEFERs
  unless what was read already reserves (flag ``incomplete``).
* Precedence (:func:`resolve`): file < header < HTML meta / EPUB / PDF; a later value wins
  even when it says 0, absence never resets. HTML meta covers only the page it is in (T17): the
  caller passes it only for that page's own URL, never for embedded media.
* Several origins (redirects, T24): :func:`most_restrictive_file` over each origin's file signal,
  then :func:`resolve` with that as the file layer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from optout.decision import DEFAULT_POLICY, Policy, Protocol, Purpose, Signal, Verdict
from optout.document import FetchResult, normalize_headers
from optout.html_head import HtmlHead
from optout.tdmrep.values import PARSER, Where, add_flag, statement, strictest, verdict_purposes


def from_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    *,
    source: str | None,
    status: int | None,
    fetched_at: str | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> Signal | None:
    """Return the signal of the ``tdm-reservation`` / ``tdm-policy`` response headers (T11-T14)."""
    del policy  # headers are strict: T14 needs "true" to be unset so the file value applies
    pairs = normalize_headers(headers)  # names case-insensitive (T12), whatever the caller passed
    res = [v for n, v in pairs if n == "tdm-reservation"]
    pol = [v for n, v in pairs if n == "tdm-policy"]
    rule = "; ".join(f"{n}: {v}" for n, v in pairs if n in ("tdm-reservation", "tdm-policy"))
    at = Where(source=source, status=status, fetched_at=fetched_at)
    return statement(
        Protocol.TDMREP_HEADER, res, pol, label="tdm-reservation header", rule=rule, at=at
    )


def from_html(
    head: HtmlHead,
    *,
    source: str | None,
    status: int | None = None,
    fetched_at: str | None = None,
    sha256: str | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> Signal | None:
    """Return the signal of ``<meta name="tdm-reservation|tdm-policy">`` for this page only."""
    if not isinstance(head, HtmlHead):
        raise TypeError("head must be an HtmlHead")
    del policy  # meta values are text tokens, strict like headers
    res, pol = head.meta("tdm-reservation"), head.meta("tdm-policy")
    metas = sorted([*res, *pol], key=lambda m: m.line)
    at = Where(source=source, status=status, fetched_at=fetched_at, sha256=sha256)
    label, rule = '<meta name="tdm-reservation">', " ".join(m.text for m in metas)
    line = metas[0].line if metas else None
    contents = [m.content for m in res], [m.content for m in pol]
    sig = statement(
        Protocol.TDMREP_META, *contents, label=label, rule=rule, at=at, line=line, split=False
    )
    if head.incomplete is None:
        return sig
    if sig is not None and sig.purposes.get(Purpose.TDM) is Verdict.RESERVED:
        return add_flag(sig, "incomplete")  # a reservation read stands, however much was read
    # Part of the page was not read: a tdm-reservation meta may be there (fail closed).
    return Signal(
        protocol=Protocol.TDMREP_META,
        purposes=verdict_purposes(Verdict.DEFER),
        reason=f"{head.incomplete}: TDMRep meta check deferred",
        source=source,
        status=status,
        rule=rule or None,
        line=line,
        sha256=sha256,
        parser=PARSER,
        flags=("incomplete",),
        fetched_at=fetched_at,
    )


#: The order of precedence: tdmrep.json < HTTP header < HTML meta / EPUB / PDF (one kind per
#: resource).
_RANK = {Protocol.TDMREP_FILE: 0, Protocol.TDMREP_HEADER: 1}
_RANK |= dict.fromkeys((Protocol.TDMREP_META, Protocol.TDMREP_EPUB, Protocol.TDMREP_PDF), 2)


def resolve(layers: Sequence[Signal | None]) -> Signal | None:
    """Return the one effective TDMRep signal: a later, more specific value supersedes."""
    present = [s for s in layers if s is not None]
    for s in present:
        if s.protocol not in _RANK:
            raise ValueError(f"not a TDMRep signal: {s.protocol}")
    present.sort(key=lambda s: _RANK[s.protocol])  # stable: the caller's order within a rank
    current: Signal | None = None
    replaced: list[Signal] = []
    policy: str | None = None
    for sig in present:
        verdict = sig.purposes.get(Purpose.TDM)
        if sig.licence_url and verdict is not Verdict.NOT_RESERVED:
            policy = sig.licence_url  # absence never resets; a later policy replaces
        if verdict is None:
            continue
        now = current.purposes[Purpose.TDM] if current is not None else None
        if verdict is Verdict.DEFER and now not in (None, Verdict.NOT_RESERVED):
            continue  # an unreadable later layer cannot lift a reservation (fail closed)
        if current is not None:
            replaced.append(current)
        current = sig
    if current is None:
        return None
    final = current.purposes[Purpose.TDM]
    reason = current.reason
    if replaced:
        said = ", ".join(f"{s.protocol.value} {s.purposes[Purpose.TDM].value}" for s in replaced)
        reason += f" (supersedes {said})"
    url = policy if final is Verdict.RESERVED else None  # the latest policy stated
    current = replace(current, reason=reason, licence_url=url)
    earlier = {s.purposes[Purpose.TDM] for s in replaced} - {final, Verdict.DEFER}
    return add_flag(current, "conflict") if earlier else current


def most_restrictive_file(signals: Sequence[Signal | None]) -> Signal | None:
    """Return the most restrictive of several origins' file signals for one resource (T24)."""
    return strictest(signals)


def policy_kind(result: FetchResult | None) -> str:
    """Return what a fetched ``tdm-policy`` offers: machine-/human-readable or unknown (T19)."""
    if result is None or result.status is None or not 200 <= result.status < 300:
        # "Being unable to access or parse a TDM Policy is not considered a protocol error."
        return "unknown conditions"
    ctype = result.content_type
    if ctype in ("application/json", "application/ld+json"):
        try:
            json.loads(result.body)
        except (ValueError, RecursionError):
            return "unknown conditions"
        return "machine-readable"
    if ctype in ("text/html", "application/xhtml+xml"):
        return "human-readable"
    return "unknown conditions"
