"""W3C TDM Reservation Protocol: origin file, headers, HTML meta and precedence (protocols.md §6).

Vectors T01-T24. EPUB OPF and PDF XMP are read in :mod:`optout.tdmrep_assets` and re-exported
here. Purposes: a reservation covers ``tdm``, ``train-ai`` and ``ai-input``; ``search`` is not
covered by TDMRep (§2.2), so it is never stated.

Choices where the spec leaves room (each recorded in the signal's flags):

* ``/.well-known/tdmrep.json``: 404/410 (and other 4xx except 401/403/407/408/429) mean "does
  not implement this protocol" (§6.3, T05); 5xx, 401/403/407/408/429, redirects not followed,
  network errors, truncated bodies and invalid JSON of a file that exists DEFER (§6.6, T23;
  fail closed like robots.txt F02-F05, F07, F13). An HTML page served with 200 is a soft 404
  (flag ``html_body``); an empty body has no rules (flag ``empty``).
* "The most specific match is the first in sequence": first-in-sequence decides. Heed also
  computes the longest-match reading, and when only that reading reserves, keeps the
  reservation (T06, flag ``conflict``); when both readings agree the value stands even if less
  specific rules say otherwise (T07).
* Near-miss values (``"1"``, ``true``, ``"yes"``) and a single object instead of an array reserve
  with flag ``nonconformant`` when ``Policy.lenient_values`` (T04, T09); strict: unset / no
  rules. Rules without a valid ``location`` or value are ignored (T08), as is a mandatory
  key's absence; HTTP headers and meta stay strict (T14, see :mod:`optout.tdmrep_assets`).
* Precedence (§6.4, :func:`resolve`): file < header < HTML meta / EPUB / PDF; a later value wins
  even when it says 0, absence never resets. HTML meta covers only the page it is in (T17): the
  caller passes it only for that page's own URL, never for embedded media.
* Several origins (redirects, T24): :func:`most_restrictive_file` over each origin's file signal,
  then :func:`resolve` with that as the file layer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from optout.decision import DEFAULT_POLICY, Policy, Protocol, Purpose, Signal, Verdict
from optout.document import FetchResult, normalize_headers
from optout.html_head import HtmlHead
from optout.tdmrep_assets import (
    PARSER,
    Where,
    add_flag,
    from_epub,
    from_epub_opf,
    from_pdf,
    from_pdf_xmp,
    policy_url,
    statement,
    strictest,
    verdict_purposes,
)
from optout.urlmatch import Rule, RuleMatcher, normalize_pattern, wildcard_regex

#: EPUB and PDF readers live in optout.tdmrep_assets; re-exported so callers need one module.
__all__ = [
    "PARSER",
    "WELL_KNOWN_PATH",
    "FileState",
    "TdmRepFile",
    "from_epub",
    "from_epub_opf",
    "from_headers",
    "from_html",
    "from_pdf",
    "from_pdf_xmp",
    "most_restrictive_file",
    "parse_wellknown",
    "policy_kind",
    "resolve",
]

WELL_KNOWN_PATH = "/.well-known/tdmrep.json"
#: Bytes of tdmrep.json parsed; real files are a few KiB. Larger ⇒ DEFER (cannot check all).
MAX_BODY = 2 * 1024 * 1024
#: Rules evaluated; a file with more is not read partially (a rule past the cap might reserve).
MAX_RULES = 10_000
#: Wildcard patterns per compiled alternation: bounds regex compilation on hostile files.
_CHUNK = 256
_DEFER_STATUSES = frozenset({401, 403, 407, 408, 429})
_LENIENT_YES = frozenset({"1", "true", "yes"})
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


_Chunk = tuple[int, Callable[[str], "re.Match[str] | None"], list[int]]


class _Index:
    """Rules precompiled for first-in-sequence and longest match (patterns per optout.urlmatch).

    First in sequence: every pattern's literal head (before ``*``, or without a final ``$``)
    must prefix a matching path, so rules are bucketed by head. Literal prefixes keep their
    earliest position; wildcard patterns of one head form source-ordered regex alternations
    built with :func:`optout.urlmatch.wildcard_regex`, where the leftmost alternative that
    matches is the earliest rule. Longest match: :class:`optout.urlmatch.RuleMatcher`.
    """

    __slots__ = ("_all", "_exact", "_lengths", "_literal", "_mixed", "_wild", "rules")

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._all = RuleMatcher(self.rules)
        self._mixed = len({r.value.reservation for r in self.rules}) > 1
        self._literal: dict[int, dict[str, int]] = {}
        self._exact: dict[str, int] = {}
        wild: dict[str, list[int]] = {}
        for pos, rule in enumerate(self.rules):
            p = rule.pattern
            if "*" in p:
                wild.setdefault(p[: p.index("*")], []).append(pos)
            elif p.endswith("$"):
                self._exact.setdefault(p[:-1], pos)
            else:
                self._literal.setdefault(len(p), {}).setdefault(p, pos)
        self._wild: dict[int, dict[str, list[_Chunk]]] = {}
        for head, positions in wild.items():
            self._wild.setdefault(len(head), {})[head] = [
                self._chunk(positions[i : i + _CHUNK]) for i in range(0, len(positions), _CHUNK)
            ]
        self._lengths = tuple(sorted(set(self._literal) | set(self._wild)))

    def _chunk(self, positions: list[int]) -> _Chunk:
        alternation = "|".join(
            f"(?P<r{i}>{wildcard_regex(self.rules[pos].pattern)})"
            for i, pos in enumerate(positions)
        )
        return positions[0], re.compile(alternation, re.DOTALL).match, positions

    def first(self, path: str) -> Rule | None:
        best = self._exact.get(path, len(self.rules))
        for n in self._lengths:
            if n > len(path):
                break
            key = path[:n]
            pos = self._literal.get(n, {}).get(key)
            if pos is not None and pos < best:
                best = pos
            for first_pos, chunk_match, positions in self._wild.get(n, {}).get(key, ()):
                if first_pos > best:
                    break
                m = chunk_match(path)
                if m is not None and m.lastgroup is not None:
                    best = min(best, positions[int(m.lastgroup[1:])])
                    break  # chunks are in source order: later ones hold only later rules
        return self.rules[best] if best < len(self.rules) else None

    def longest(self, path: str) -> Sequence[Rule]:
        # Only a file whose rules say both 0 and 1 can have readings that disagree.
        return self._all.best(path) if self._mixed else ()


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
    _index: _Index | None = field(default=None, repr=False, compare=False)
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
    """Return the parsed outcome of fetching ``/.well-known/tdmrep.json`` (§6.3 item 1)."""
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
    return replace(file, _index=_Index(rules) if rules else None, _signals=signals)


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
        return (1, False) if lenient and text in _LENIENT_YES else (None, False)
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
    return statement(
        Protocol.TDMREP_META, *contents, label=label, rule=rule, at=at, line=line, split=False
    )


#: §6.4 order: tdmrep.json < HTTP header < HTML meta / EPUB / PDF (one kind per resource).
_RANK = {Protocol.TDMREP_FILE: 0, Protocol.TDMREP_HEADER: 1}
_RANK |= dict.fromkeys((Protocol.TDMREP_META, Protocol.TDMREP_EPUB, Protocol.TDMREP_PDF), 2)


def resolve(layers: Sequence[Signal | None]) -> Signal | None:
    """Return the one effective TDMRep signal: a later, more specific value supersedes (§6.4)."""
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
            policy = sig.licence_url  # absence never resets; a later policy replaces (§6.4)
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
    url = policy if final is Verdict.RESERVED else None  # the latest policy stated, per §6.4
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
