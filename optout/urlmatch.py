"""RFC 9309 path patterns: normalisation and longest match (RFC 9309 §2.2.2-2.2.3,
docs/protocols.md#robotstxt-path-matching).

One matcher serves robots.txt Allow/Disallow, AIPREF ``Content-Usage`` paths,
``DisallowAITraining``, TDMRep ``location``, RSL ``content url`` and ai.txt
(docs/protocols.md#one-path-matcher-for-every-protocol).

Normalisation (both sides alike: a rule's pattern and the URL it is matched against) follows
Protego (>= 0.7): unreserved ``%XX`` decoded, the escapes of ``/`` and ``%`` kept, every other
reserved or non-ASCII octet percent-encoded with upper-case hex (R36-R40), ``=`` compared equal in
both spellings (D7/R42), SP encoded (R54); patterns also keep ``*`` and a final ``$``. Two
corrections: an escape that is not part of valid UTF-8 (``%E9`` alone, ``%FF``) stays the octet it
names, written ``%XX`` in upper case — Protego decodes every such octet to U+FFFD, so that
``Disallow: /a%E9`` would also block ``/a%E8`` and ``/a%FF``; and a ``%`` that starts no escape
is the octet 0x25 itself, written ``%25`` — Protego leaves it bare, so that ``Disallow: /a%3``
matched ``/a?`` (normalised ``/a%3F``) by ending inside an escape. The normalised form is thus a
prefix code over the octets a pattern or path stands for: one character per unreserved or ``=``
octet, ``%XX`` for every other octet, whatever spelling the source used (only ``%2F`` stays
distinct from ``/``, a reserved delimiter); a literal pattern matches a path exactly when its
code is a prefix of the path's.

Specificity (RFC 9309 §2.2.2: "the most specific match is the match that has the most
octets"): a rule's priority is the number of octets its pattern stands for, counted on the
normalised pattern — each ``%XX`` escape is one octet (the octet it encodes), every other
character is one octet, ``*`` and the end anchor ``$`` included (a trailing ``*`` counts, as at
Google and in Protego: ``/fish*`` (6) outranks ``/fish`` (5), R34). The count equals the octet
length of the pattern as written (UTF-8) with each ``%XX`` it contains read as one octet: the
normalisation only changes spelling, never the octets, so two spellings of one pattern
(``/~joe`` and ``/%7Ejoe``, ``/a?b`` and ``/a%3Fb``, ``/ツ`` and ``/%E3%83%84``) weigh the same and
an Allow and a Disallow of the same pattern tie (allow wins, :func:`optout.robots.decide`).
Protego instead ranks by the length of the *encoded* pattern, so that ``Disallow: /*?`` (read
as ``/*%3F``, 5) outranked ``Allow: /wa/`` (4) and ``/wa/?q=1`` was refused; Google ranks by the
pattern's length with only non-ASCII octets escaped, which agrees with this count on every
pattern written without ``%`` escapes or non-ASCII characters.

Protego's wildcard primitive (linear ``str.find`` matching, D15) is used as is. What Protego
does not give — and Heed needs — is the matched rule itself (for evidence: its line and text)
and speed on large files, so the rules of a group are compiled here into hash tables: literal
prefixes bucketed by length, ``$``-anchored literals by value, and only true wildcard patterns
scanned, in priority order, with early exit.

Corrections to Protego (docs/protocols.md#protego-deviations): no ``index.html`` ⇒ directory
rule (R44, strict RFC); a trailing ``$`` is only an anchor, never also a literal ``%24`` rule;
patterns must start with ``/`` or ``*`` (R52, R53); specificity in octets, invalid UTF-8 escapes
and bare ``%`` kept (above).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit

from protego._urlpattern import _URLPattern

#: Escapes kept as they are while normalising: the path separator, and ``%`` itself so that an
#: escape is never doubled; patterns also keep ``*`` (a literal star is written ``%2A``).
_KEPT = "/%"
_PATTERN_KEPT = "/%*"
#: Characters ``quote`` leaves verbatim: the kept ones and ``=`` (D7: ``%3D`` decodes to it).
_SAFE = "/%="
_PATTERN_SAFE = "/%*="

#: A path or pattern that normalisation leaves unchanged (Protego's fast paths): a URL whose
#: path holds only unreserved characters, ``/`` and ``=`` (a leading ``//`` would be read as an
#: authority), and a pattern made of those and ``*``, with an optional final ``$``.
_PLAIN_URL = re.compile(
    r"(?:[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)?(/(?!/)[A-Za-z0-9_.~/=-]*)"
).fullmatch
_PLAIN_PATTERN = re.compile(r"[A-Za-z0-9_.~/=*-]+\$?").fullmatch

#: A URL or path whose path and query hold only characters normalisation leaves alone: the fast
#: path above plus simple queries, which would otherwise go through urlsplit and quote (``?``
#: and ``&`` come out as ``%3F`` and ``%26``, as here).
_SIMPLE_QUERY = re.compile(
    r"(?:[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)?(/(?!/)[A-Za-z0-9_.~/=-]*)\?([A-Za-z0-9_.~=&-]*)"
).fullmatch

_HEX = frozenset("0123456789ABCDEFabcdef")
#: What ``bytes.decode(errors="surrogateescape")`` makes of an octet that is not valid UTF-8.
_STRAY_OCTET = re.compile("[\udc80-\udcff]")


def _stray(m: re.Match[str]) -> str:
    return f"%{ord(m[0]) - 0xDC00:02X}"


def _unquote(text: str, kept: str) -> str:
    """Return *text* with its ``%XX`` escapes decoded, except those of *kept* characters and of
    octets that are not part of valid UTF-8, which stay escaped (hex upper-cased); a ``%`` that
    starts no escape becomes ``%25``."""
    if "%" not in text:
        return text
    keep = {f"{ord(c):02X}" for c in kept}
    parts = text.split("%")
    # surrogatepass: a lone surrogate in the input becomes invalid UTF-8, hence stays escaped.
    out = bytearray(parts[0].encode("utf-8", "surrogatepass"))
    for part in parts[1:]:
        if len(part) >= 2 and part[0] in _HEX and part[1] in _HEX:
            code = part[:2].upper()
            if code not in keep:
                out += bytes.fromhex(code)
                out += part[2:].encode("utf-8", "surrogatepass")
                continue
            part = code + part[2:]
            out += b"%"
        else:
            # A "%" that starts no escape is the octet 0x25 itself: written "%25", so that every
            # "%" of a normalised string starts an escape (no pattern ends inside one).
            out += b"%25"
        out += part.encode("utf-8", "surrogatepass")
    return _STRAY_OCTET.sub(_stray, out.decode("utf-8", "surrogateescape"))


def _quote(text: str, kept: str, safe: str) -> str:
    """Return *text* with its percent-encoding normalised (see the module docstring)."""
    text = _unquote(text, kept)
    if not text.isascii():
        # Raw lone surrogates (never valid UTF-8) are escaped octet by octet, like stray escapes.
        text = _STRAY_OCTET.sub(
            _stray, text.encode("utf-8", "surrogatepass").decode("utf-8", "surrogateescape")
        )
    return quote(text, safe=safe)


def _quote_path(url: str) -> str:
    """Return the path and query of *url* normalised; scheme, authority and fragment dropped."""
    plain = _PLAIN_URL(url)
    if plain:
        return plain[1]
    url = url.partition("#")[0]
    parts = urlsplit(url)
    path = parts.path
    if "?" in url:
        # A "?" with nothing after it is still part of what rules match against.
        path += f"?{parts.query}"
    path = _quote(path, _KEPT, _SAFE)
    return path if path.startswith("/") else f"/{path}"


def normalize_path(url: str) -> str:
    """Return the path+params+query of *url* (a URL or a path) normalised for matching.

    Fragment, scheme and authority are dropped; the result always starts with ``/``.
    """
    if not url:
        return "/"
    simple = _SIMPLE_QUERY(url)
    if simple:
        return f"{simple[1]}%3F{simple[2].replace('&', '%26')}"
    try:
        return _quote_path(url)
    except ValueError:
        # urlsplit rejects some hostile inputs (bad IPv6 literals); match them as opaque paths.
        return _quote_path("/" + url.partition("#")[0].lstrip("/"))


def normalize_pattern(pattern: str) -> str | None:
    """Return *pattern* normalised for matching, or None if it can never be a valid rule.

    A valid pattern starts with ``/`` or (RFC 9309 §5.1's own example) ``*``. A final ``$`` is
    the end anchor and stays as it is; a ``$`` anywhere else is an ordinary character.
    """
    pattern = pattern.strip()
    if not pattern or pattern[0] not in "/*":
        return None
    if _PLAIN_PATTERN(pattern):
        return pattern
    anchor = "$" if pattern.endswith("$") else ""
    body = pattern[:-1] if anchor else pattern
    try:
        quoted = _quote(body, _PATTERN_KEPT, _PATTERN_SAFE) + anchor
    except ValueError:
        return None
    return quoted or None


def specificity(pattern: str) -> int:
    """Return the number of octets normalised *pattern* stands for (RFC 9309 §2.2.2).

    Each ``%XX`` escape is one octet; every other character (``*`` and a final ``$`` included)
    is one. See the module docstring for why this is the octet count of the pattern as written.
    """
    # Every "%" of a normalised pattern starts a three-character escape (_unquote).
    return len(pattern) - 2 * pattern.count("%")


class Rule(NamedTuple):
    """One path rule: the pattern as written and normalised, with what it says.

    A NamedTuple rather than a dataclass: files with tens of thousands of rules are parsed on
    the crawl's critical path, and tuple construction is several times cheaper.
    """

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
        """Return the rule's specificity: the octets its pattern stands for (:func:`specificity`)."""
        return specificity(self.pattern)


#: Wildcard patterns per compiled alternation: keeps regex compilation bounded on hostile files.
_CHUNK = 256


def wildcard_regex(pattern: str) -> str:
    """Return a regex equivalent to RFC 9309 wildcard *pattern*, matching in linear time.

    Each ``*`` becomes a lazy scan inside an atomic group, so the engine commits to the first
    occurrence of the next literal part and never backtracks into it — the same greedy-leftmost
    algorithm as Protego's ``str.find`` matcher (D15), executed inside the regex engine.
    """
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    parts = re.sub(r"\*+", "*", body).split("*")
    out = [re.escape(parts[0])]
    for part in parts[1:-1]:
        out.append(f"(?>.*?{re.escape(part)})")
    last = parts[-1]
    if anchored:
        out.append(f".*{re.escape(last)}\\Z")
    elif last:
        out.append(f"(?>.*?{re.escape(last)})")
    return "".join(out)


#: Length of the pattern prefix used to bucket rules: a path only meets the rules whose first
#: _K characters equal its own, so most rules are never looked at (compiled, not scanned).
_K = 4


@dataclass(slots=True)
class _Alternation:
    """Wildcard rules, highest priority first, compiled into chunked regex alternations."""

    rules: list[Rule]
    chunks: list[tuple[int, Callable[[str], re.Match[str] | None]]]
    #: Single-rule matchers (Protego's linear matcher), built on first need: ties are rare.
    singles: dict[int, Callable[[str], bool]] = field(default_factory=dict)

    def single(self, index: int) -> Callable[[str], bool]:
        """Return the matcher of rule *index* alone."""
        matcher = self.singles.get(index)
        if matcher is None:
            matcher = self.singles[index] = _URLPattern(self.rules[index].pattern).match
        return matcher

    @classmethod
    def build(cls, rules: list[Rule]) -> _Alternation:
        """Compile *rules* (sorted here, highest priority first) into chunked alternations."""
        rules.sort(key=lambda r: r.priority, reverse=True)
        chunks: list[tuple[int, Callable[[str], re.Match[str] | None]]] = []
        for start in range(0, len(rules), _CHUNK):
            part = rules[start : start + _CHUNK]
            alternation = "|".join(
                f"(?P<r{start + i}>{wildcard_regex(r.pattern)})" for i, r in enumerate(part)
            )
            chunks.append((start, re.compile(alternation, re.DOTALL).match))
        return cls(rules, chunks)

    def best(self, path: str, floor: int) -> tuple[int, list[Rule]]:
        """Return (priority, rules) of the best matches with priority ≥ *floor*, or (-1, [])."""
        rules = self.rules
        for start, chunk_match in self.chunks:
            if rules[start].priority < floor:
                break
            m = chunk_match(path)
            if m is None:
                continue
            index = int(m.lastgroup[1:])  # type: ignore[index]
            priority = rules[index].priority
            if priority < floor:
                break
            # Rules of the same priority after the first hit may match too (ties).
            found = [rules[index]]
            i = index + 1
            while i < len(rules) and rules[i].priority == priority:
                if self.single(i)(path):
                    found.append(rules[i])
                i += 1
            return priority, found
        return -1, []


@dataclass(slots=True)
class _Compiled:
    literal: dict[int, dict[str, list[Rule]]] = field(default_factory=dict)
    #: Distinct literal lengths (descending) per first-_K-characters bucket, and for short ones.
    buckets: dict[str, tuple[int, ...]] = field(default_factory=dict)
    short: tuple[int, ...] = ()
    exact: dict[str, list[Rule]] = field(default_factory=dict)
    #: Wildcard rules whose literal prefix has _K characters, by that prefix; and the rest.
    wild_buckets: dict[str, _Alternation] = field(default_factory=dict)
    wild_general: _Alternation | None = None


class RuleMatcher:
    """Compiled rules answering "which rules match this path most specifically"."""

    __slots__ = ("_c", "rules")

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        c = _Compiled()
        lengths: dict[str, set[int]] = {}
        short: set[int] = set()
        wild: dict[str, list[Rule]] = {}
        general: list[Rule] = []
        for rule in self.rules:
            p = rule.pattern
            if "*" in p:
                prefix = p[: p.index("*")]
                (wild.setdefault(prefix[:_K], []) if len(prefix) >= _K else general).append(rule)
            elif p.endswith("$"):
                c.exact.setdefault(p[:-1], []).append(rule)
            else:
                c.literal.setdefault(len(p), {}).setdefault(p, []).append(rule)
                (lengths.setdefault(p[:_K], set()) if len(p) >= _K else short).add(len(p))
        c.buckets = {k: tuple(sorted(v, reverse=True)) for k, v in lengths.items()}
        c.short = tuple(sorted(short, reverse=True))
        c.wild_buckets = {k: _Alternation.build(v) for k, v in wild.items()}
        c.wild_general = _Alternation.build(general) if general else None
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
            top = exact[0].priority
            found = list(exact)
        n_path = len(path)
        key = path[:_K]
        literal = c.literal
        # A literal's priority never exceeds its length (escapes weigh one octet for three
        # characters), so lengths are tried longest first down to the best priority so far.
        for lengths in (c.buckets.get(key, ()), c.short):
            for n in lengths:
                if n < top:
                    break
                if n <= n_path:
                    hit = literal[n].get(path[:n])
                    if hit:
                        priority = hit[0].priority  # one pattern, one priority
                        if priority > top:
                            top, found = priority, list(hit)
                        elif priority == top:
                            found.extend(hit)
        for alternation in (c.wild_buckets.get(key), c.wild_general):
            if alternation is None:
                continue
            priority, rules = alternation.best(path, top)
            if priority > top:
                top, found = priority, rules
            elif priority == top and rules:
                found.extend(rules)
        return found

    def first(self, path: str) -> Rule | None:
        """Return the first rule in source order that matches *path* (TDMRep's "first in sequence")."""
        for rule in self.rules:
            if match(rule.pattern, path):
                return rule
        return None


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str) -> _URLPattern:
    return _URLPattern(pattern)


def match(pattern: str, path: str) -> bool:
    """Return True if normalised *pattern* matches normalised *path*."""
    return _compiled(pattern).match(path)
