"""Cloudflare Content Signals Policy: ``Content-Signal`` in robots.txt and headers
(docs/protocols.md#content-signal).

No formal grammar is published (docs/protocols.md#content-signal-syntax): the observed syntax is
comma-separated ``key=value`` with keys ``search``, ``ai-input``, ``ai-train`` (values ``yes`` /
``no``) and ``use`` (``immediate`` / ``reference`` / ``full``). That is an RFC 9651 Dictionary of
Tokens, so the SF parser reads it first; unlike AIPREF, Heed reads it leniently
(``Policy.lenient_values``), each lenience flagged:

* values compared case-insensitively, quoted ``"no"`` accepted (C04, flag ``lenient``);
* the typo ``ai_train`` (and a few near misses) read as the key it evidently means (C06, flags
  ``lenient``, ``typo_key``);
* a value the SF parser rejects (upper-case keys, spaces around ``=``, trailing comma) is split
  tolerantly on ``,`` and ``=`` with keys lower-cased (flag ``nonconformant``); so is a value with
  a repeated key, because SF keeps only the last and Heed combines them most-restrictively;
* anything else (``false``, ``0``, ``?1``) is no statement for that key (C05, ``invalid_value``).

``yes`` ⇒ NOT_RESERVED, ``no`` ⇒ RESERVED, absent ⇒ no statement ("neither grants nor
restricts", X14). ``use=`` is recorded as a flag (``use=reference``), never a reservation (C03).
In robots.txt every line applies site-wide and all lines combine most-restrictively (C09); a value
that starts with ``/`` (undocumented) is read like AIPREF ``path SP prefs`` and applies where
the path matches (flag ``path_form``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import http_sf

from optout.aipref import (
    Evidence,
    Preferences,
    Statement,
    bare_item,
    build_cached,
    build_signal,
    join_field_lines,
    split_path,
)
from optout.decision import DEFAULT_POLICY, Policy, Protocol, Purpose, Signal, Verdict
from optout.decision import most_restrictive as _most_restrictive
from optout.robots import CONTENT_SIGNAL, PreferenceLine
from optout.urlmatch import Rule, RuleMatcher, normalize_pattern

PARSER = "heed-content-signal/1"

KEYS: Mapping[str, Purpose] = {
    "ai-train": Purpose.TRAIN_AI,
    "ai-input": Purpose.AI_INPUT,
    "search": Purpose.SEARCH,
}
#: Near-miss keys seen in hand-written files, read as the key they evidently mean when lenient.
TYPOS: Mapping[str, str] = {
    "ai_train": "ai-train",
    "aitrain": "ai-train",
    "ai-training": "ai-train",
    "train-ai": "ai-train",
    "ai_input": "ai-input",
    "aiinput": "ai-input",
}
USE_VALUES = frozenset({"immediate", "reference", "full"})
_VALUES = {"no": Verdict.RESERVED, "yes": Verdict.NOT_RESERVED}

#: (key, value text or None for a bare key, value written in the conformant form: a bare token)
_Pair = tuple[str, str | None, bool]


def _tolerant_pairs(value: str) -> list[_Pair]:
    pairs: list[_Pair] = []
    for part in value.split(","):
        key, sep, raw = part.partition("=")
        key = key.strip().lower()
        if not key:
            continue
        raw = raw.split(";", 1)[0].strip()  # parameters, as in SF, say nothing here
        text = raw.strip("\"'").strip() if sep else None
        pairs.append((key, text, raw == text))
    return pairs


def _pairs(value: str, policy: Policy) -> tuple[list[_Pair], list[str]] | None:
    duplicated: list[str] = []

    def on_dup(_key: str, where: str) -> None:
        if where == "dictionary":
            duplicated.append(_key)

    try:
        parsed = http_sf.parse(
            value.encode("utf-8", "replace"), tltype="dictionary", on_duplicate_key=on_dup
        )
    except ValueError:  # http_sf.StructuredFieldError is a ValueError
        if not policy.lenient_values:
            return None
        return _tolerant_pairs(value), ["nonconformant"]
    if duplicated:
        # SF keeps the last value only; a site that wrote both yes and no gets the restrictive one.
        return _tolerant_pairs(value), ["duplicate_key"]
    pairs: list[_Pair] = []
    for key, member in parsed.items() if isinstance(parsed, dict) else ():
        item = bare_item(member)
        if isinstance(item, http_sf.Token):
            pairs.append((key, str(item), True))
        elif isinstance(item, str):
            pairs.append((key, item, False))
        elif item is True:
            pairs.append((key, None, False))  # a bare key: SF Boolean true
        else:
            pairs.append((key, repr(item), False))
    return pairs, []


def parse_signal(value: str, *, policy: Policy = DEFAULT_POLICY) -> Preferences:
    """Parse a ``Content-Signal`` value into per-purpose verdicts and flags; never raises."""
    if not isinstance(value, str):
        raise TypeError(f"value must be str, not {type(value).__name__}")
    found = _pairs(value, policy)
    if found is None:
        return Preferences(flags=("parse_error",), valid=False)
    pairs, flags = found
    seen: dict[Purpose, list[Verdict]] = {}
    for key, text, exact in pairs:
        name = key
        if name not in KEYS and name != "use" and policy.lenient_values and name in TYPOS:
            name = TYPOS[name]
            flags += ["lenient", "typo_key"]
        if name == "use":
            # 2026-07 extension: how much may be reproduced; recorded, not a reservation (C03).
            flags.append(f"use={text or ''}")
            if (text or "").lower() not in USE_VALUES:
                flags.append("invalid_value")
            continue
        purpose = KEYS.get(name)
        if purpose is None:
            continue  # unknown key: not ours to read
        verdict = _VALUES.get(text) if exact and text is not None else None
        if verdict is None and text is not None and policy.lenient_values:
            # "No", "YES", '"no"': what the site evidently meant (C04).
            verdict = _VALUES.get(text.lower())
            if verdict is not None:
                flags.append("lenient")
        if verdict is None:
            flags.append("invalid_value")
            continue
        seen.setdefault(purpose, []).append(verdict)
    purposes = {p: _most_restrictive(vs) for p, vs in seen.items()}
    if any(len(set(vs)) > 1 for vs in seen.values()):
        flags.append("conflict")
    return Preferences(purposes=purposes, flags=tuple(dict.fromkeys(flags)))


def _evidence(
    protocol: Protocol,
    where: str,
    source: str | None,
    status: int | None,
    sha256: str | None,
    fetched_at: str | None,
    policy: Policy,
) -> Evidence:
    return Evidence(
        protocol=protocol,
        where=where,
        parser=PARSER,
        source=source,
        status=status,
        sha256=sha256,
        fetched_at=fetched_at,
        policy=policy,
    )


def from_header(
    values: Sequence[str],
    *,
    source: str | None,
    status: int | None,
    fetched_at: str | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> Signal | None:
    """Return the ``Content-Signal`` header signal of a response (C11), None if absent."""
    joined = join_field_lines(values)
    if not joined:
        return None
    ev = _evidence(
        Protocol.CONTENT_SIGNAL_HEADER,
        "Content-Signal header",
        source,
        status,
        None,
        fetched_at,
        policy,
    )
    return build_signal(
        [Statement(parse_signal(joined, policy=policy), joined, None, "header")], ev
    )


class RobotsContentSignal:
    """One robots.txt's Content-Signal lines for one crawler, compiled once, evaluated per path."""

    __slots__ = ("_const", "_ev", "_memo", "_paths", "_site")

    def __init__(
        self,
        site: Sequence[Statement],
        paths: Sequence[tuple[RuleMatcher, Statement]],
        ev: Evidence,
    ) -> None:
        self._site = tuple(site)
        self._paths = tuple(paths)
        self._ev = ev
        self._memo: dict[tuple[int, ...], Signal | None] = {}
        # The documented form is site-wide: then one answer serves every URL.
        self._const: tuple[Signal | None] | None = None
        if not self._paths:
            self._const = (build_signal(self._site, ev),)

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
    ) -> RobotsContentSignal:
        """Compile the ``content-signal`` lines among *lines* (others are ignored)."""
        site: list[Statement] = []
        paths: list[tuple[RuleMatcher, Statement]] = []
        for pl in lines:
            if pl.key != CONTENT_SIGNAL:
                continue
            path, pref = split_path(pl.value)
            prefs = parse_signal(pref, policy=policy)
            pattern = normalize_pattern(path) if path is not None else None
            if path is not None:
                extra = ("path_form",) if pattern is not None else ("path_form", "invalid_path")
                prefs = Preferences(
                    purposes=prefs.purposes, flags=prefs.flags + extra, valid=prefs.valid
                )
            stmt = Statement(prefs, pl.text, pl.line, pl.scope)
            if pattern is None:
                # Site-wide, and so is a path we cannot read: applying it everywhere is the
                # conservative reading of a line that names a restriction.
                site.append(stmt)
            else:
                paths.append(
                    (RuleMatcher([Rule(path or "", pattern, stmt, pl.line, pl.text)]), stmt)
                )
        ev = _evidence(
            Protocol.CONTENT_SIGNAL_ROBOTS,
            "robots.txt Content-Signal",
            source,
            status,
            sha256,
            fetched_at,
            policy,
        )
        return cls(site, paths, ev)

    def evaluate(self, path: str) -> Signal | None:
        """Return the Content-Signal signal for normalised *path* (urlmatch.normalize_path)."""
        if self._const is not None:
            return self._const[0]
        stmts = list(self._site)
        stmts.extend(stmt for matcher, stmt in self._paths if matcher.best(path))
        return build_cached(self._memo, stmts, self._ev)
