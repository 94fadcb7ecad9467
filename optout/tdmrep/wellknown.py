"""TDMRep's origin file, ``/.well-known/tdmrep.json``: fetch outcome → rules → per-path signal.

The file is the site-level layer of TDMRep (docs/protocols.md#tdmrep-layers, vectors T01-T10,
T23): parsed once per origin by :func:`parse_wellknown`, then asked about every path of the site
by :meth:`TdmRepFile.evaluate`. Page-level layers, which may override it, are in
:mod:`optout.tdmrep.page`.

Choices where the spec leaves room (each recorded in the signal's flags;
docs/protocols.md#where-tdmrep-leaves-room):

* 404/410 (and other 4xx except 401/403/407/408/429) mean "does not implement this protocol"
  (T05); 5xx, 401/403/407/408/429, redirects not followed, network errors, truncated bodies and
  invalid JSON of a file that exists DEFER (T23; fail closed like robots.txt F02-F05, F07,
  F13). An HTML page served with 200 is a soft 404 (flag ``html_body``); an empty body has
  no rules (flag ``empty``).
* "The most specific match is the first in sequence": first-in-sequence decides. Heed also
  computes the longest-match reading (:mod:`optout.tdmrep.index`), and when only that reading
  reserves, keeps the reservation (T06, flag ``conflict``); when both readings agree the value
  stands even if less specific rules say otherwise (T07).
* Near-miss values (``"1"``, ``true``, ``"yes"``) and a single object instead of an array reserve
  with flag ``nonconformant`` when ``Policy.lenient_values`` (T04, T09); strict: unset / no
  rules. Rules without a valid ``location`` or value are ignored (T08), as is a mandatory key's
  absence.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from optout.decision import DEFAULT_POLICY, Policy, Protocol, Signal, Verdict
from optout.document import FetchResult
from optout.tdmrep.index import RuleIndex
from optout.tdmrep.values import LENIENT_YES, PARSER, policy_url, verdict_purposes
from optout.urlmatch import Rule, normalize_pattern

#: Where an origin publishes its TDMRep file (docs/protocols.md#tdmrep-layers).
WELL_KNOWN_PATH = "/.well-known/tdmrep.json"
#: Bytes of tdmrep.json parsed; real files are a few KiB. Larger ⇒ DEFER (cannot check all).
MAX_BODY = 2 * 1024 * 1024
#: Rules evaluated; a file with more is not read partially (a rule past the cap might reserve).
MAX_RULES = 10_000
_DEFER_STATUSES = frozenset({401, 403, 407, 408, 429})
_INVALID = object()


class FileState(StrEnum):
    """What a ``/.well-known/tdmrep.json`` retrieval established."""

    RULES = "rules"  # a file was read (possibly with no rules)
    ABSENT = "absent"  # the origin does not implement the protocol
    UNREADABLE = "unreadable"  # the file exists but could not be read: DEFER


@dataclass(frozen=True, slots=True)
class _Entry:
    reservation: int
    policy: str | None
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TdmRepFile:
    """A parsed ``/.well-known/tdmrep.json`` retrieval, answering per normalised path."""

    source: str
    status: int | None
    state: FileState
    #: One sentence on what the retrieval established (``protocol not implemented``, …).
    reason: str
    rules: tuple[Rule, ...] = ()
    #: 1-based positions of array items ignored (no valid location or value, T08).
    ignored: tuple[int, ...] = ()
    flags: tuple[str, ...] = ()
    sha256: str | None = None
    fetched_at: str | None = None
    _index: RuleIndex | None = field(default=None, repr=False, compare=False)
    _signals: Mapping[int, Signal] = field(default_factory=dict, repr=False, compare=False)
    _defer: Signal | None = field(default=None, repr=False, compare=False)

    def evaluate(self, path: str) -> Signal | None:
        """Return the file's statement about normalised *path*, None when no rule matches."""
        if self._defer is not None:
            return self._defer
        if self._index is None:
            return None
        first = self._index.first(path)
        if first is None:
            return None
        sig = self._signals[first.line]
        longest = self._index.longest(path)
        mine = first.value.reservation
        if all(r.value.reservation == mine for r in longest):  # also when not computed
            return sig
        other = next(r for r in longest if r.value.reservation != mine)
        if mine == 0:
            sig, keep = self._signals[other.line], "Heed keeps the reservation (conservative)"
        else:
            keep = "first in sequence is the spec's most specific match"
        reason = (
            f"tdmrep.json rules disagree: rule {first.line} (first in sequence) says {mine}, "
            f"rule {other.line} (longest match) says {other.value.reservation}; {keep}"
        )
        return replace(sig, reason=reason, flags=(*sig.flags, "conflict"))

    def summary(self) -> Signal:
        """Return a site-level evidence signal for the retrieval (DEFER when unreadable)."""
        if self._defer is not None:
            return self._defer
        return Signal(
            protocol=Protocol.TDMREP_FILE,
            reason=f"tdmrep.json: {self.reason}",
            source=self.source,
            status=self.status,
            sha256=self.sha256,
            parser=PARSER,
            flags=self.flags,
            fetched_at=self.fetched_at,
        )


def parse_wellknown(result: FetchResult, *, policy: Policy = DEFAULT_POLICY) -> TdmRepFile:
    """Return the parsed outcome of fetching ``/.well-known/tdmrep.json``."""
    if not isinstance(result, FetchResult):
        raise TypeError("result must be a FetchResult")
    state, reason, flags, data = _read_file(result, policy.lenient_values)
    file = TdmRepFile(
        source=result.url,
        status=result.status,
        state=state,
        reason=reason,
        flags=flags,
        sha256=result.sha256 if result.body else None,
        fetched_at=result.fetched_at,
    )
    if state is FileState.UNREADABLE:
        defer = Signal(
            protocol=Protocol.TDMREP_FILE,
            purposes=verdict_purposes(Verdict.DEFER),
            reason=f"tdmrep.json {reason}: TDMRep check deferred, retry later",
            source=file.source,
            status=file.status,
            sha256=file.sha256,
            parser=PARSER,
            rule=f"HTTP {result.status}" if result.error is None else f"error: {result.error}",
            flags=flags,
            fetched_at=file.fetched_at,
        )
        return replace(file, _defer=defer)
    if data is None:
        return file
    # Relative tdm-policy URLs resolve against the file's final URL (after redirects).
    rules, ignored = _rules(data, result.final_url or result.url, policy.lenient_values)
    reason = f"{len(rules)} rules, {len(ignored)} ignored"
    file = replace(file, reason=reason, rules=tuple(rules), ignored=tuple(ignored))
    signals = {r.line: _rule_signal(r, file) for r in rules}
    return replace(file, _index=RuleIndex(rules) if rules else None, _signals=signals)


def _read_file(
    result: FetchResult, lenient: bool
) -> tuple[FileState, str, tuple[str, ...], list[Any] | None]:
    """Return (state, reason, flags, JSON array or None) for a tdmrep.json retrieval."""
    status = result.status
    if status is not None and 400 <= status < 500 and status not in _DEFER_STATUSES:
        why = f"HTTP {status}: protocol not implemented"
        return FileState.ABSENT, why, ("not_implemented",), None
    problem = _unreadable(result)
    if problem:
        return FileState.UNREADABLE, problem[0], (problem[1],), None
    text = result.body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text:
        return FileState.RULES, "empty file: no rules", ("empty",), None
    if text[:1] == b"<":
        why = "HTML page instead of JSON (soft 404): protocol not implemented"
        return FileState.ABSENT, why, ("html_body", "not_implemented"), None
    flags: tuple[str, ...] = ()
    try:
        data = json.loads(text)  # bytes: UTF-8/16/32 detected as RFC 8259 allows
    except UnicodeDecodeError:
        flags, data = ("non_utf8",), _loads(text.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        data = _INVALID
    if data is _INVALID:
        return FileState.UNREADABLE, "is not valid JSON", (*flags, "invalid_json"), None
    if isinstance(data, dict) and lenient:
        data, flags = [data], (*flags, "nonconformant")  # T04: one rule written without [ ]
    if not isinstance(data, list):
        why = "is not a JSON array of rules: no rules"
        return FileState.RULES, why, (*flags, "nonconformant"), None
    if len(data) > MAX_RULES:
        why = f"has more than {MAX_RULES} rules"
        return FileState.UNREADABLE, why, (*flags, "too_large"), None
    return FileState.RULES, "", flags, data


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _INVALID


def _unreadable(result: FetchResult) -> tuple[str, str] | None:
    status = result.status
    if status is None or result.error is not None:
        return f"could not be retrieved ({result.error or 'no response'})", "unreachable"
    if not 200 <= status < 300:
        return f"returned HTTP {status}", "unreachable"
    if result.truncated or status == 206:
        return "body truncated", "truncated"
    if len(result.body) > MAX_BODY:
        return f"is larger than {MAX_BODY} bytes", "too_large"
    return None


def _value(raw: Any, lenient: bool) -> tuple[int | None, bool]:
    """Return (1, 0 or None for unset, conformant) for a JSON ``tdm-reservation`` value."""
    if isinstance(raw, bool | str):
        text = str(raw).strip().lower()
        return (1, False) if lenient and text in LENIENT_YES else (None, False)
    if isinstance(raw, int | float) and raw in (0, 1):
        return int(raw), True
    return None, False


def _rules(data: Iterable[Any], base: str, lenient: bool) -> tuple[list[Rule], list[int]]:
    rules: list[Rule] = []
    ignored: list[int] = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            ignored.append(number)
            continue
        location, pol = item.get("location"), item.get("tdm-policy")
        pattern = normalize_pattern(location) if isinstance(location, str) else None
        value, conformant = _value(item.get("tdm-reservation"), lenient)
        if pattern is None or value is None:
            ignored.append(number)
            continue
        url = policy_url(pol, base) if isinstance(pol, str) else None
        flags: tuple[str, ...] = () if conformant else ("nonconformant",)
        if pol is not None and url is None:
            flags += ("invalid_policy",)
        try:
            text = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
        except (ValueError, RecursionError):
            text = "<rule not printable>"
        rules.append(Rule(str(location), pattern, _Entry(value, url, flags), number, text))
    return rules, ignored


def _rule_signal(rule: Rule, file: TdmRepFile) -> Signal:
    entry: _Entry = rule.value
    reserved = entry.reservation == 1
    reason = (
        f"tdmrep.json rule {rule.line} (location {rule.raw!r}) sets tdm-reservation "
        f"{entry.reservation}: TDM rights {'reserved' if reserved else 'not reserved'}"
    )
    return Signal(
        protocol=Protocol.TDMREP_FILE,
        purposes=verdict_purposes(Verdict.RESERVED if reserved else Verdict.NOT_RESERVED),
        reason=reason,
        source=file.source,
        status=file.status,
        rule=rule.text,
        line=rule.line,
        sha256=file.sha256,
        parser=PARSER,
        flags=tuple(dict.fromkeys(file.flags + entry.flags)),
        licence_url=entry.policy if reserved else None,
        fetched_at=file.fetched_at,
    )
