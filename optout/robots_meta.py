"""Robots meta tag and ``X-Robots-Tag``: ``noai``, ``noimageai`` and friends
(docs/protocols.md#noai-and-noimageai).

``noai`` (DeviantArt, 2022) reserves tdm, train-ai and ai-input for the page or resource it is
served with; ``noimageai`` does the same for images only (docs/protocols.md#noai-meaning). Both
the global scope (``<meta name="robots">``, an unscoped header value) and our own product token
(``<meta name="mybot">``, ``X-Robots-Tag: mybot: noai``) apply, and their directives are
unioned: "Requestors must obey the sum of negative rules specific to their product token and the
global product token" (draft-illyes-repext-00 §2.1.2). Directives are case-insensitive and
unknown ones are ignored. The signals are page-scoped: they say nothing about linked resources
(N14).

Index controls (``noindex``, ``nofollow``, …) are not AI reservations and are only logged (N09,
X15). Microsoft gives ``noarchive``/``nocache`` an AI-training meaning for its own models (BING);
they are logged as ``microsoft_ai_optout`` and count as a train-ai reservation only with
``Policy.microsoft_noarchive_as_reservation`` (N12). Mojeek's proposed ``noml`` is logged.

A page read only in part (:attr:`optout.html_head.HtmlHead.incomplete`: the head not read to
its end, bytes not decodable) adds a DEFER signal for each AI purpose no directive that was read
reserves (flag ``incomplete``): the meta not read might have said ``noai``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from optout.decision import DEFAULT_POLICY, Policy, Protocol, Purpose, Signal, Verdict
from optout.html_head import HtmlHead
from optout.robots import product_token

PARSER = "heed-robots-meta/1"

#: Characters of one header value or meta content parsed; the repext draft requires at least
#: 8 KiB. Real values are a few dozen bytes; the rest of a longer one is ignored.
MAX_VALUE_CHARS = 16 * 1024
#: Characters of a raw value kept as evidence in ``Signal.rule``.
MAX_RULE_CHARS = 512

NOAI = "noai"
NOIMAGEAI = "noimageai"
NOML = "noml"
_AI_PURPOSES = (Purpose.TDM, Purpose.TRAIN_AI, Purpose.AI_INPUT)
#: Bing gives these an AI meaning for Microsoft's own models (BING, Sept 2023).
_MICROSOFT = frozenset({"noarchive", "nocache"})
#: Index and presentation controls worth a log line (docs/protocols.md#noai-meaning); defaults
#: (index, follow, all) are not.
_LOGGED = frozenset(
    {"noindex", "nofollow", "none", "nosnippet", "max-snippet", "noimageindex", "notranslate"}
)
_AI = frozenset({NOAI, NOIMAGEAI, NOML})
#: Directives known by name: a ``name:`` prefix that is one of these is never a user agent
#: (``unavailable_after: 25 Jun 2010 15:00:00 PST``, ``max-snippet: 20``; N11).
KNOWN_DIRECTIVES = frozenset(
    {
        "all",
        "index",
        "follow",
        "noodp",
        "noydir",
        "indexifembedded",
        "unavailable_after",
        "max-image-preview",
        "max-video-preview",
    }
    | _LOGGED
    | _MICROSOFT
    | _AI
)
#: Standard HTML meta names (WHATWG) that never name a crawler.
_HTML_NAMES = frozenset(
    {"application-name", "author", "color-scheme", "description", "generator", "keywords"}
    | {"referrer", "theme-color", "viewport", "creator", "publisher", "title", "rating"}
)
#: An RFC 9309 product token, as the repext draft's ABNF has it.
_TOKEN = re.compile(r"[A-Za-z_-]+")
#: A repext ``robots-tag`` segment: ``*=rules`` or ``ExampleBot=rules``.
_REPEXT_SEGMENT = re.compile(r"\s*(\*|[A-Za-z_-]+)\s*=(.*)", re.DOTALL)
GLOBAL = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Directive:
    """One robots directive as read: its lower-case name and the product token it is scoped to."""

    name: str
    #: Lower-case product token, or ``""`` for the global scope.
    scope: str = GLOBAL


def parse_value(value: str, *, scoped: bool = True) -> list[Directive]:
    """Return the directives of one ``X-Robots-Tag`` value or robots meta ``content``.

    Google's ``ua: d1, d2`` scoping is read when *scoped*; so is the expired repext draft's
    ``*=d1, d2; ExampleBot=d3`` syntax (read leniently, docs/protocols.md#robots-meta-syntax). A
    ``name:`` prefix counts as a user agent only if it is a valid product token and not a known
    directive (N11).
    """
    directives: list[Directive] = []
    # Lenience: ';' separates repext segments; a stray ';' between plain directives is harmless.
    for segment in value[:MAX_VALUE_CHARS].split(";"):
        scope = GLOBAL
        rules = segment
        m = _REPEXT_SEGMENT.fullmatch(segment) if scoped else None
        if m is not None and m.group(1).lower() not in KNOWN_DIRECTIVES:
            scope = "" if m.group(1) == "*" else m.group(1).lower()
            rules = m.group(2)
        for item in rules.split(","):
            key, sep, rest = item.partition(":")
            key = key.strip()
            lowered = key.lower()
            if scoped and sep and lowered not in KNOWN_DIRECTIVES and _TOKEN.fullmatch(key):
                # Google's convention: the scope holds for the following comma items too.
                scope = lowered
                key = rest.partition(":")[0].strip()
                lowered = key.lower()
            if lowered:
                directives.append(Directive(name=lowered, scope=scope))
    return directives


def from_html(
    head: HtmlHead,
    *,
    token: str,
    source: str | None,
    status: int | None = None,
    fetched_at: str | None = None,
    policy: Policy = DEFAULT_POLICY,
    is_image: bool = False,
) -> list[Signal]:
    """Return the signals of the robots meta elements (``robots`` and *token*) of a page."""
    if not isinstance(head, HtmlHead):
        raise TypeError(f"head must be an HtmlHead, not {type(head).__name__}")
    ours = product_token(token)
    ctx = _Context(source, status, fetched_at, policy, is_image, Protocol.ROBOTS_META)
    signals: list[Signal] = []
    for meta in head.metas:
        if meta.name in ("robots", ours):
            scope = "" if meta.name == "robots" else ours
            found = [
                Directive(name=d.name, scope=scope) for d in parse_value(meta.content, scoped=False)
            ]
            signals.extend(ctx.build(found, ours, meta.text, meta.line, ()))
        elif meta.name == "x-robots-tag":
            # Lenience: <meta http-equiv="X-Robots-Tag"> is not a convention anyone defines, but
            # its intent is plain; read it with the header syntax and say so.
            found = parse_value(meta.content)
            signals.extend(ctx.build(found, ours, meta.text, meta.line, ("lenient",)))
        elif _TOKEN.fullmatch(meta.name) and meta.name not in _HTML_NAMES:
            # Another crawler's meta element (N04): not ours to obey; worth a log line if AI.
            found = [
                Directive(name=d.name, scope=meta.name)
                for d in parse_value(meta.content, scoped=False)
            ]
            signals.extend(ctx.build(found, ours, meta.text, meta.line, ()))
    if head.incomplete is not None:
        # Part of the page was not read: a noai meta may be there (fail closed).
        reserved = {p for s in signals for p, v in s.purposes.items() if v is Verdict.RESERVED}
        open_purposes = [p for p in _AI_PURPOSES if p not in reserved]
        if open_purposes:
            signals.append(
                Signal(
                    protocol=Protocol.ROBOTS_META,
                    purposes=dict.fromkeys(open_purposes, Verdict.DEFER),
                    reason=f"{head.incomplete}: robots meta check deferred",
                    source=source,
                    status=status,
                    parser=PARSER,
                    flags=("incomplete",),
                    fetched_at=fetched_at,
                )
            )
    return signals


def from_headers(
    values: Sequence[str],
    *,
    token: str,
    source: str | None,
    status: int | None,
    fetched_at: str | None = None,
    policy: Policy = DEFAULT_POLICY,
    is_image: bool = False,
    header: str = "X-Robots-Tag",
) -> list[Signal]:
    """Return the signals of every ``X-Robots-Tag`` (or repext ``Robots-Tag``) value.

    Multiple headers and comma lists are unioned (N10); *header* names the field in evidence.
    """
    if isinstance(values, str) or not all(isinstance(v, str) for v in values):
        raise TypeError("values must be a sequence of header value strings")
    ours = product_token(token)
    ctx = _Context(source, status, fetched_at, policy, is_image, Protocol.X_ROBOTS_TAG)
    signals: list[Signal] = []
    for value in values:
        rule = f"{header}: {value}"
        signals.extend(ctx.build(parse_value(value), ours, rule, None, ()))
    return signals


@dataclass(frozen=True, slots=True)
class _Context:
    source: str | None
    status: int | None
    fetched_at: str | None
    policy: Policy
    is_image: bool
    protocol: Protocol

    def build(
        self,
        directives: Iterable[Directive],
        ours: str,
        rule: str,
        line: int | None,
        extra: tuple[str, ...],
    ) -> list[Signal]:
        """Return one signal per kind of directive found in one value (ordered, deduplicated)."""
        mine: dict[str, str] = {}
        others: dict[str, str] = {}
        for d in directives:
            if d.scope in (GLOBAL, ours):
                mine.setdefault(d.name, d.scope)
            elif d.name in _AI:
                others.setdefault(d.name, d.scope)
        rule = rule[:MAX_RULE_CHARS]
        out: list[Signal] = []

        def signal(reason: str, purposes: dict[Purpose, Verdict], flags: tuple[str, ...]) -> None:
            out.append(
                Signal(
                    protocol=self.protocol,
                    purposes=purposes,
                    reason=reason,
                    source=self.source,
                    status=self.status,
                    rule=rule,
                    line=line,
                    parser=PARSER,
                    flags=flags + extra,
                    fetched_at=self.fetched_at,
                )
            )

        def where(*names: str) -> str:
            scopes = sorted({mine[n] for n in names if mine.get(n)})
            return f" (for {', '.join(scopes)})" if scopes else ""

        if NOAI in mine:
            reserved = dict.fromkeys(_AI_PURPOSES, Verdict.RESERVED)
            signal(f"noai{where(NOAI)}: tdm, train-ai and ai-input reserved", reserved, ())
        if NOIMAGEAI in mine:
            if self.is_image:
                reserved = dict.fromkeys(_AI_PURPOSES, Verdict.RESERVED)
                signal(
                    f"noimageai{where(NOIMAGEAI)}: AI uses of this image reserved",
                    reserved,
                    ("images_only",),
                )
            else:
                signal(
                    f"noimageai{where(NOIMAGEAI)}: reserves images only, not this resource",
                    {},
                    ("images_only",),
                )
        if NOML in mine:
            # Mojeek's proposal (docs/protocols.md#noai-meaning): no published meaning to map, so
            # it is logged.
            signal(
                f"noml{where(NOML)}: proposed no-machine-learning directive, logged", {}, ("noml",)
            )
        microsoft = sorted(_MICROSOFT.intersection(mine))
        if microsoft:
            names = ", ".join(microsoft)
            prefix = f"{names}{where(*microsoft)}: Microsoft's AI-training opt-out"
            if self.policy.microsoft_noarchive_as_reservation:
                reserved = {Purpose.TRAIN_AI: Verdict.RESERVED}
                signal(f"{prefix}, a reservation by policy", reserved, ("microsoft_ai_optout",))
            else:
                signal(f"{prefix}, logged only (policy)", {}, ("microsoft_ai_optout",))
        logged = sorted(_LOGGED.intersection(mine))
        if logged:
            names = ", ".join(logged)
            signal(
                f"{names}{where(*logged)}: index controls, not an AI reservation",
                {},
                ("not_ai_reservation",),
            )
        for name, scope in others.items():
            signal(f"{name} addressed to {scope}, not to us: not applicable", {}, ("other_token",))
        return out
