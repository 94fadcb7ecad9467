"""IETF AIPREF ``Content-Usage``: HTTP header and robots.txt rule
(docs/protocols.md#aipref-content-usage).

Vocabulary: draft-ietf-aipref-vocab-07 §4 with the -08 ``ai-use`` label
(docs/protocols.md#aipref-vocabulary); serialization: an RFC 9651 Dictionary of Tokens ``y`` /
``n``, parsed strictly (docs/protocols.md#aipref-parsing): keys and tokens are case sensitive,
parameters and unknown labels are ignored, the last duplicate key wins, and a value that does not
parse means "preferences unknown". Attachment: draft-ietf-aipref-attach-05
(docs/protocols.md#aipref-attachment).

Label → purpose (docs/protocols.md#signals-and-purposes): ``train-ai`` → ``train-ai``, ``ai-use``
→ ``ai-input``, ``search`` → ``search``; ``n`` ⇒ RESERVED, ``y`` ⇒ NOT_RESERVED. ``search=y``
never permits training (docs/protocols.md#aipref-vocabulary).

The statement/combination helpers here (:class:`Preferences`, :class:`Statement`,
:func:`build_signal`, :func:`split_path`) are shared with :mod:`optout.content_signal` and
:mod:`optout.ai_training`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import http_sf

from optout.decision import DEFAULT_POLICY, Policy, Protocol, Purpose, Signal, Verdict
from optout.decision import most_restrictive as _most_restrictive
from optout.robots import CONTENT_USAGE, PreferenceLine
from optout.urlmatch import Rule, RuleMatcher, normalize_pattern

PARSER = "heed-aipref/1"

LABELS: Mapping[str, Purpose] = {
    "train-ai": Purpose.TRAIN_AI,
    "ai-use": Purpose.AI_INPUT,  # vocab-08 "AI Use": input to a generative model
    "search": Purpose.SEARCH,
}
#: Labels of vocab-01…-04 still deployed (docs/protocols.md#aipref-vocabulary). Logged as
#: ``legacy_label``; only with ``Policy.legacy_label_mapping`` does ``=n`` reserve what the old
#: label covered (``=y`` of a withdrawn label never grants anything: its scope is not today's).
LEGACY_LABELS: Mapping[str, tuple[Purpose, ...]] = {
    "tdm": (Purpose.TDM, Purpose.TRAIN_AI, Purpose.AI_INPUT),  # -01 root of the hierarchy
    "ai": (Purpose.TRAIN_AI,),
    "genai": (Purpose.TRAIN_AI,),
    "train-genai": (Purpose.TRAIN_AI,),
    "inference": (Purpose.AI_INPUT,),
    "ai-output": (Purpose.AI_INPUT,),
    "all": tuple(Purpose),
    "bots": tuple(Purpose),
}
_VALUES = {"n": Verdict.RESERVED, "y": Verdict.NOT_RESERVED}
_ANY_LABEL = "|".join(
    re.escape(k) for k in sorted({*LABELS, *LEGACY_LABELS}, key=len, reverse=True)
)
#: A label set to n/no in any spelling: the site evidently meant to reserve (A04, A20).
_INTENDED = re.compile(rf"(?i)(?<![\w-])(?:{_ANY_LABEL})\s*[=:]\s*\"?no?\"?(?![\w-])")
_PATH_VALUE = re.compile(r"(/[^ \t]*)[ \t]*(.*)", re.DOTALL)


@dataclass(frozen=True, slots=True, kw_only=True)
class Preferences:
    """What one preference value says: a verdict per purpose it names, and flags."""

    purposes: Mapping[Purpose, Verdict] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    #: False when the value could not be read at all (its preferences are then unknown).
    valid: bool = True


@dataclass(frozen=True, slots=True)
class Statement:
    """One preference value with where it was written: a robots.txt line or a header."""

    prefs: Preferences
    rule: str
    line: int | None = None
    #: ``group``, ``star``, ``ungrouped`` (robots.txt, see PreferenceLine) or ``header``.
    scope: str = "group"


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """The per-document facts every signal built from one source carries."""

    protocol: Protocol
    #: Human name of the technique, opening each reason ("robots.txt Content-Usage").
    where: str
    parser: str
    source: str | None = None
    status: int | None = None
    sha256: str | None = None
    fetched_at: str | None = None
    policy: Policy = DEFAULT_POLICY


def split_path(value: str) -> tuple[str | None, str]:
    """Split a robots.txt preference value into (path or None, preference) per attach-05 §3."""
    if value.startswith("/"):
        m = _PATH_VALUE.match(value)
        if m:
            return m.group(1), m.group(2).strip()
    return None, value


def bare_item(member: object) -> object:
    """Return the value of an SF Dictionary member without its parameters (they are ignored)."""
    # A member is (bare item, params) or (inner list, params).
    return member[0] if isinstance(member, tuple) and member else member


def parse_usage(value: str, *, policy: Policy = DEFAULT_POLICY) -> Preferences:
    """Parse a ``Content-Usage`` value (vocab-07 §6) into per-purpose verdicts; never raises."""
    if not isinstance(value, str):
        raise TypeError(f"value must be str, not {type(value).__name__}")
    try:
        parsed = http_sf.parse(value.encode("utf-8", "replace"), tltype="dictionary")
    except ValueError:  # http_sf.StructuredFieldError is a ValueError
        # "If the parsing of the Dictionary fails, preferences are unknown" (uppercase keys too).
        flags = (
            ("parse_error", "intended_reservation") if _INTENDED.search(value) else ("parse_error",)
        )
        return Preferences(flags=flags, valid=False)
    purposes: dict[Purpose, Verdict] = {}
    flags_l: list[str] = []
    legacy: set[Purpose] = set()
    for key, member in parsed.items() if isinstance(parsed, dict) else ():
        item = bare_item(member)
        token = str(item) if isinstance(item, http_sf.Token) else None
        purpose = LABELS.get(key)
        if purpose is not None:
            verdict = _VALUES.get(token) if token is not None else None
            if verdict is None:
                # "train-ai=N", "train-ai=?0", '"n"': unknown (A03, A06, A07), logged.
                flags_l.append("invalid_value")
                if isinstance(item, str | http_sf.Token) and str(item).lower() in ("n", "no"):
                    flags_l.append("intended_reservation")
                continue
            purposes[purpose] = verdict
        elif key in LEGACY_LABELS:
            flags_l.append("legacy_label")
            if policy.legacy_label_mapping and token == "n":
                legacy.update(LEGACY_LABELS[key])
        # Any other label: "unknown labels MUST be ignored" (forward compatibility).
    for purpose in (p for p in Purpose if p in legacy):  # stable order: reasons are audited
        purposes[purpose] = Verdict.RESERVED
        flags_l.append("legacy_mapped")
    if purposes.get(Purpose.TRAIN_AI) is Verdict.RESERVED:
        # vocab-08 train-ai covers generative models only; compliance mode reads it as covering
        # all AI training, and says so (docs/protocols.md#aipref-vocabulary).
        flags_l.append("all_training_assumed")
    return Preferences(purposes=purposes, flags=tuple(dict.fromkeys(flags_l)))


def build_signal(statements: Sequence[Statement], ev: Evidence) -> Signal | None:
    """Combine *statements* most-restrictively per purpose (vocab-07 §5.1) into one Signal."""
    if not statements:
        return None
    purposes: dict[Purpose, Verdict] = {}
    conflict = False
    for purpose in Purpose:
        seen = [s.prefs.purposes[purpose] for s in statements if purpose in s.prefs.purposes]
        if seen:
            purposes[purpose] = _most_restrictive(seen)
            conflict = conflict or len(set(seen)) > 1
    contributing = [
        s for s in statements if any(s.prefs.purposes.get(p) is v for p, v in purposes.items())
    ] or list(statements)
    flags: list[str] = [f for s in statements for f in s.prefs.flags]
    flags.extend(s.scope for s in contributing if s.scope in ("star", "ungrouped"))
    if conflict:
        flags.append("conflict")
    if not purposes and not flags:
        return None
    target = purposes.get(ev.policy.purpose)
    primary = next(
        (
            s
            for s in contributing
            if target is not None and s.prefs.purposes.get(ev.policy.purpose) is target
        ),
        contributing[0],
    )
    said = "; ".join(f"{p.value} {v.value}" for p, v in purposes.items())
    reason = f"{ev.where} {primary.rule!r}: " + (said or "no usable preference")
    if len(statements) > 1:
        reason += f" (most restrictive of {len(statements)} statements)"
    return Signal(
        protocol=ev.protocol,
        purposes=purposes,
        reason=reason,
        source=ev.source,
        status=ev.status,
        rule=primary.rule,
        line=primary.line,
        sha256=ev.sha256,
        parser=ev.parser,
        flags=tuple(dict.fromkeys(flags)),
        fetched_at=ev.fetched_at,
    )


#: Distinct rule selections remembered per compiled robots.txt (bounded: a hostile file cannot
#: grow it without limit; when full it is simply cleared).
MEMO_MAX = 4096


def build_cached(
    memo: dict[tuple[int, ...], Signal | None], statements: Sequence[Statement], ev: Evidence
) -> Signal | None:
    """Return :func:`build_signal` of *statements*, memoised by statement identity in *memo*.

    The hot path sees few distinct selections (one per matching rule set), so each Signal is
    built once; the statements are owned by the compiled object, so their ids are stable.
    """
    key = tuple(map(id, statements))
    try:
        return memo[key]
    except KeyError:
        pass
    if len(memo) >= MEMO_MAX:
        memo.clear()
    sig = memo[key] = build_signal(statements, ev)
    return sig


def join_field_lines(values: Sequence[str]) -> str:
    """Return several field lines of one header as one value (RFC 9110 §5.3: comma-joined)."""
    if isinstance(values, str):
        raise TypeError("values must be a list of header values, not str")
    return ", ".join(v.strip() for v in values if v.strip())


def from_header(
    values: Sequence[str],
    *,
    source: str | None,
    status: int | None,
    fetched_at: str | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> Signal | None:
    """Return the ``Content-Usage`` header signal of a response (attach-05 §2), None if absent."""
    joined = join_field_lines(values)
    if not joined:
        return None
    ev = Evidence(
        protocol=Protocol.CONTENT_USAGE_HEADER,
        where="Content-Usage header",
        parser=PARSER,
        source=source,
        status=status,
        fetched_at=fetched_at,
        policy=policy,
    )
    return build_signal([Statement(parse_usage(joined, policy=policy), joined, None, "header")], ev)


@dataclass(frozen=True, slots=True)
class _Scope:
    """The Content-Usage rules of one scope (own group, ``*`` group, ungrouped lines)."""

    matcher: RuleMatcher  # path rules that parsed; Rule.value is the Statement
    pathless: tuple[Statement, ...]
    #: Lines whose preference did not parse: not rules (RFC 9309 skips unparsable lines), so they
    #: never shadow a broader valid rule, but they are reported when nothing better matches.
    broken: RuleMatcher

    def select(self, path: str) -> list[Statement]:
        best = self.matcher.best(path) if self.matcher else ()
        chosen: list[Statement] = [r.value for r in best] if best else list(self.pathless)
        if self.broken:
            bad = self.broken.best(path)
            if bad and (not chosen or bad[0].priority >= (best[0].priority if best else 0)):
                chosen.extend(r.value for r in bad)
        return chosen


class RobotsContentUsage:
    """One robots.txt's Content-Usage rules for one crawler, compiled once, evaluated per path.

    Inside a scope: longest path match, identical-priority matches combined most-restrictively
    (A12); lines without a path apply where no path rule matches (A19). Across scopes (own group,
    ``*`` group, ungrouped lines, as :meth:`RobotsTxt.preferences_for` selected them) the results
    combine most-restrictively (docs/protocols.md#preference-scope).
    """

    __slots__ = ("_const", "_ev", "_memo", "_scopes")

    def __init__(self, scopes: Sequence[_Scope], ev: Evidence) -> None:
        self._scopes = tuple(scopes)
        self._ev = ev
        self._memo: dict[tuple[int, ...], Signal | None] = {}
        # Without path rules the answer is the same for every URL: build it once.
        self._const: tuple[Signal | None] | None = None
        if not any(s.matcher or s.broken for s in self._scopes):
            self._const = (build_signal([st for s in self._scopes for st in s.pathless], ev),)

    @classmethod
    def from_lines(
        cls,
        lines: Iterable[PreferenceLine],
        *,
        source: str | None,
        sha256: str | None,
        status: int | None,
        fetched_at: str | None = None,
        policy: Policy = DEFAULT_POLICY,
    ) -> RobotsContentUsage:
        """Compile the ``content-usage`` lines among *lines* (others are ignored)."""
        by_scope: dict[str, tuple[list[Rule], list[Statement], list[Rule]]] = {}
        for pl in lines:
            if pl.key != CONTENT_USAGE:
                continue
            rules, pathless, broken = by_scope.setdefault(pl.scope, ([], [], []))
            path, pref = split_path(pl.value)
            prefs = parse_usage(pref, policy=policy)
            stmt = Statement(prefs, pl.text, pl.line, pl.scope)
            pattern = normalize_pattern(path) if path is not None else "/"
            if pattern is None:
                bad = Preferences(flags=("invalid_path",), valid=False)
                stmt = Statement(bad, pl.text, pl.line, pl.scope)
                pattern = "/"
            if not stmt.prefs.valid:
                broken.append(Rule(path or "", pattern, stmt, pl.line, pl.text))
            elif path is None:
                pathless.append(stmt)
            else:
                rules.append(Rule(path, pattern, stmt, pl.line, pl.text))
        ev = Evidence(
            protocol=Protocol.CONTENT_USAGE_ROBOTS,
            where="robots.txt Content-Usage",
            parser=PARSER,
            source=source,
            status=status,
            sha256=sha256,
            fetched_at=fetched_at,
            policy=policy,
        )
        scopes = [_Scope(RuleMatcher(r), tuple(p), RuleMatcher(b)) for r, p, b in by_scope.values()]
        return cls(scopes, ev)

    def evaluate(self, path: str) -> Signal | None:
        """Return the Content-Usage signal for normalised *path* (urlmatch.normalize_path)."""
        if self._const is not None:
            return self._const[0]
        return build_cached(
            self._memo, [st for s in self._scopes for st in s.select(path)], self._ev
        )
