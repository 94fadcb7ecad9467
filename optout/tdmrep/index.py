"""A tdmrep.json's rules compiled for the two readings of "most specific match"
(docs/protocols.md#where-tdmrep-leaves-room).

TDMRep says "the most specific match is the first in sequence"; Heed decides by the first rule in
sequence that matches and also computes the longest match, to keep a reservation when only that
reading reserves (:class:`optout.tdmrep.wellknown.TdmRepFile`, T06). A file may hold up to
``MAX_RULES`` rules from a stranger, so both readings are precompiled rather than tried rule by
rule for every URL of the site.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from optout.urlmatch import Rule, RuleMatcher, wildcard_regex

#: Wildcard patterns per compiled alternation: bounds regex compilation on hostile files.
_CHUNK = 256

_Chunk = tuple[int, Callable[[str], "re.Match[str] | None"], list[int]]


class RuleIndex:
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
        """Return the first rule in sequence whose pattern matches normalised *path*."""
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
        """Return the longest-matching rules for *path*; none when all rules say the same."""
        # Only a file whose rules say both 0 and 1 can have readings that disagree.
        return self._all.best(path) if self._mixed else ()
