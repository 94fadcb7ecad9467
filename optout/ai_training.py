"""Microsoft ``DisallowAITraining`` / ``AllowAITraining`` robots.txt lines
(docs/protocols.md#disallowaitraining).

draft-canel-robots-ai-control-00 (expired individual I-D); its grammar was not available, so the
reading is reconstructed from deployments: the value is an RFC 9309 path pattern, matched with
the shared :mod:`optout.urlmatch` matcher. A matching ``DisallowAITraining`` reserves
``train-ai``; ``AllowAITraining`` wins the longest match as ``Allow`` does, and an equally long
allow beats a disallow (RFC 9309 §2.2.2), giving NOT_RESERVED. Nothing matching is no statement.

For grouping both are "other records" (they never close a user-agent run, :mod:`optout.robots`),
and they do not affect crawl permission (R50: Google's parser would read them as Disallow).
Own group, ``*`` group and ungrouped lines (as :meth:`RobotsTxt.preferences_for` selected them)
are matched separately and combined most-restrictively, as for Content-Usage
(docs/protocols.md#preference-scope).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from optout.aipref import Evidence, Preferences, Statement, build_cached
from optout.decision import DEFAULT_POLICY, Policy, Protocol, Purpose, Signal, Verdict
from optout.robots import ALLOW_AI_TRAINING, DISALLOW_AI_TRAINING, PreferenceLine
from optout.urlmatch import Rule, RuleMatcher, normalize_pattern

PARSER = "heed-ai-training/1"

_RESERVED = Preferences(purposes={Purpose.TRAIN_AI: Verdict.RESERVED})
_ALLOWED = Preferences(purposes={Purpose.TRAIN_AI: Verdict.NOT_RESERVED})


class RobotsAiTraining:
    """One robots.txt's (Dis)AllowAITraining rules for one crawler, compiled once, per-path use."""

    __slots__ = ("_ev", "_matchers", "_memo")

    def __init__(self, matchers: Sequence[RuleMatcher], ev: Evidence) -> None:
        self._matchers = tuple(m for m in matchers if m)
        self._ev = ev
        self._memo: dict[tuple[int, ...], Signal | None] = {}

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
    ) -> RobotsAiTraining:
        """Compile the ``DisallowAITraining`` / ``AllowAITraining`` lines among *lines*."""
        by_scope: dict[str, list[Rule]] = {}
        for pl in lines:
            if pl.key not in (DISALLOW_AI_TRAINING, ALLOW_AI_TRAINING):
                continue
            # An empty value is no rule, as "Disallow:" is; other non-patterns are invalid lines.
            pattern = normalize_pattern(pl.value)
            if pattern is None:
                continue
            prefs = _ALLOWED if pl.key == ALLOW_AI_TRAINING else _RESERVED
            stmt = Statement(prefs, pl.text, pl.line, pl.scope)
            by_scope.setdefault(pl.scope, []).append(
                Rule(pl.value, pattern, stmt, pl.line, pl.text)
            )
        ev = Evidence(
            protocol=Protocol.AI_TRAINING_ROBOTS,
            where="robots.txt AI-training rule",
            parser=PARSER,
            source=source,
            status=status,
            sha256=sha256,
            fetched_at=fetched_at,
            policy=policy,
        )
        return cls([RuleMatcher(rules) for rules in by_scope.values()], ev)

    def evaluate(self, path: str) -> Signal | None:
        """Return the train-ai signal for normalised *path* (urlmatch.normalize_path)."""
        stmts: list[Statement] = []
        for matcher in self._matchers:
            best = matcher.best(path)
            if best:
                # Equally specific allow and disallow: the allow wins, as for robots.txt.
                chosen = next((r for r in best if r.value.prefs is _ALLOWED), best[0])
                stmts.append(chosen.value)
        return build_cached(self._memo, stmts, self._ev) if stmts else None
