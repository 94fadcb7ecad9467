"""RFC 9309 path patterns: normalisation and longest match (RFC 9309 §2.2.2-2.2.3, protocols.md §3.5).

One matcher serves robots.txt Allow/Disallow, AIPREF ``Content-Usage`` paths,
``DisallowAITraining``, TDMRep ``location``, RSL ``content url`` and ai.txt (protocols.md §16.4).

Percent-normalisation and the wildcard primitive come from Protego (>= 0.7), which is right on
both since the post-0.6.1 fixes: unreserved ``%XX`` decoded and reserved ones kept (R37-R40),
``=`` compared equal in both spellings (D7/R42), non-ASCII and SP encoded (R36, R54), linear
``str.find`` wildcard matching (D15). What Protego does not give — and Heed needs — is the
matched rule itself (for evidence: its line and text) and speed on large files, so the rules of a
group are compiled here into hash tables: literal prefixes bucketed by length, ``$``-anchored
literals by value, and only true wildcard patterns scanned, in priority order, with early exit.

Corrections to Protego (protocols.md §4.2): no ``index.html`` ⇒ directory rule (R44, strict
RFC); a trailing ``$`` is only an anchor, never also a literal ``%24`` rule; patterns must start
with ``/`` or ``*`` (R52, R53).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from protego._urlpattern import _URLPattern
from protego._utils import _quote_path, _quote_pattern


def normalize_path(url: str) -> str:
    """Return the path+params+query of *url* (a URL or a path) normalised for matching.

    Fragment, scheme and authority are dropped; the result always starts with ``/``.
    """
    if not url:
        return "/"
    try:
        return _quote_path(url)
    except ValueError:
        # urlsplit rejects some hostile inputs (bad IPv6 literals); match them as opaque paths.
        return _quote_path("/" + url.partition("#")[0].lstrip("/"))


def normalize_pattern(pattern: str) -> str | None:
    """Return *pattern* normalised for matching, or None if it can never be a valid rule.

    A valid pattern starts with ``/`` or (RFC 9309 §5.1's own example) ``*``.
    """
    pattern = pattern.strip()
    if not pattern or pattern[0] not in "/*":
        return None
    try:
        quoted = _quote_pattern(pattern)
    except ValueError:
        return None
    return quoted or None


@dataclass(frozen=True, slots=True)
class Rule:
    """One path rule: the pattern as written and normalised, with what it says."""

    #: The pattern as written in the source (for evidence).
    raw: str
    #: The normalised pattern matched against normalised paths.
    pattern: str
    #: What the rule says; its meaning belongs to the caller (``"allow"``, a preference map, …).
    value: Any
    #: 1-based line (or position) in the source document.
    line: int = 0
    #: Caller's text of the whole line, for evidence.
    text: str = ""

    @property
    def priority(self) -> int:
        """Return the rule's specificity: its normalised length, wildcards and ``$`` counted."""
        return len(self.pattern)


@dataclass(slots=True)
class _Compiled:
    literal: dict[int, dict[str, list[Rule]]] = field(default_factory=dict)
    lengths: tuple[int, ...] = ()
    exact: dict[str, list[Rule]] = field(default_factory=dict)
    wildcard: list[tuple[int, _URLPattern, Rule]] = field(default_factory=list)


class RuleMatcher:
    """Compiled rules answering "which rules match this path most specifically"."""

    __slots__ = ("_c", "rules")

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        c = _Compiled()
        for rule in self.rules:
            p = rule.pattern
            if "*" in p:
                c.wildcard.append((len(p), _URLPattern(p), rule))
            elif p.endswith("$"):
                c.exact.setdefault(p[:-1], []).append(rule)
            else:
                c.literal.setdefault(len(p), {}).setdefault(p, []).append(rule)
        c.lengths = tuple(sorted(c.literal, reverse=True))
        c.wildcard.sort(key=lambda item: item[0], reverse=True)
        self._c = c

    def __bool__(self) -> bool:
        return bool(self.rules)

    def best(self, path: str) -> Sequence[Rule]:
        """Return every rule of the highest priority that matches normalised *path*.

        Empty when nothing matches. Ties are the caller's to resolve (robots: allow wins;
        Content-Usage: most restrictive).
        """
        c = self._c
        found: list[Rule] = []
        top = -1
        exact = c.exact.get(path)
        if exact:
            top = len(path) + 1
            found = list(exact)
        n_path = len(path)
        for n in c.lengths:
            if n < top:
                break
            if n > n_path:
                continue
            hit = c.literal[n].get(path[:n])
            if hit:
                if n > top:
                    top, found = n, list(hit)
                else:
                    found.extend(hit)
                break
        for priority, compiled, rule in c.wildcard:
            if priority < top:
                break
            if compiled.match(path):
                if priority > top:
                    top, found = priority, [rule]
                else:
                    found.append(rule)
        return found

    def first(self, path: str) -> Rule | None:
        """Return the first rule in source order that matches *path* (TDMRep's "first in sequence")."""
        for rule in self.rules:
            if match(rule.pattern, path):
                return rule
        return None


def match(pattern: str, path: str) -> bool:
    """Return True if normalised *pattern* matches normalised *path*."""
    return _URLPattern(pattern).match(path)
