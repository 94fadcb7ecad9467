"""robots.txt per RFC 9309: Heed's own raw-line group builder and group selection.

Groups are built here, not by Protego, because Protego splits groups on every non-user-agent
line (D5, R07/R62), and group selection is exact-token, not substring (D1, R56/R61):

* blank lines never split a group; only *rules* close a user-agent run: Allow, Disallow and
  AIPREF ``Content-Usage`` (a ``rule`` per attach-05, R08). Other records — Sitemap, Crawl-delay,
  Content-Signal, License, DisallowAITraining/AllowAITraining, unknown lines — never do (§2.2.4);
* a user-agent value is cut at the first character outside ``[A-Za-z_-]`` (``Foo Bar`` → ``foo``,
  ``ExampleBot/1.0`` → ``examplebot``); ``*`` followed by anything is the global token (R55);
* same-token groups merge; a specific group never inherits from ``*`` (R14);
* BOM stripped (a UTF-16 or UTF-32 BOM names the file's encoding; bytes that are not text are
  noted ``undecodable``: :func:`optout.charset.decode_robots`), CR / LF / CRLF line ends, lines
  cut at 16,663 bytes (Google's limit, R49), the file parsed up to ``Policy.robots_parse_limit``
  (≥ 500 KiB, RFC 9309 §2.5);
* lines without a colon are read as ``key value`` when they have exactly two words (R04, Google).

Path matching inside the selected group is :mod:`optout.urlmatch` (Protego's normalisation and
wildcard primitive, compiled). Preference lines (Content-Usage, Content-Signal,
DisallowAITraining) are kept raw with their line numbers for :mod:`optout.aipref`,
:mod:`optout.content_signal` and :mod:`optout.ai_training`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from optout.charset import decode_robots
from optout.decision import sha256_hex
from optout.urlmatch import Rule, RuleMatcher, normalize_pattern

PARSER = "heed-robots/1"

#: Bytes of a line kept: Google's robots.cc buffers kMaxLineLen - 1 = 2083 * 8 - 1 bytes (R49).
MAX_LINE_BYTES = 16_663

_USER_AGENT = frozenset({"user-agent", "useragent", "user agent"})
_DISALLOW = frozenset({"disallow", "dissallow", "dissalow", "disalow", "diasllow", "disallaw"})
_ALLOW = frozenset({"allow"})
_SITEMAP = frozenset({"sitemap", "site-map", "sitemaps"})
_CRAWL_DELAY = frozenset({"crawl-delay", "crawl delay"})
CONTENT_USAGE = "content-usage"
CONTENT_SIGNAL = "content-signal"
DISALLOW_AI_TRAINING = "disallowaitraining"
ALLOW_AI_TRAINING = "allowaitraining"
_LICENSE = frozenset({"license", "licence"})
_PREFERENCE_KEYS = frozenset(
    {CONTENT_USAGE, CONTENT_SIGNAL, DISALLOW_AI_TRAINING, ALLOW_AI_TRAINING}
)
_KNOWN = (
    _USER_AGENT
    | _DISALLOW
    | _ALLOW
    | _SITEMAP
    | _CRAWL_DELAY
    | _LICENSE
    | _PREFERENCE_KEYS
    | {"host", "request-rate", "visit-time", "clean-param", "noindex", "nofollow", "noarchive"}
)
_LINE_END = re.compile(r"\r\n|\r|\n")
_TOKEN_PREFIX = re.compile(r"[A-Za-z_-]*")
STAR = "*"


def user_agent(token: str, version: str, info_url: str) -> str:
    """Return a crawler's User-Agent: its product token as a substring (RFC 9309 §2.2.1), the
    software version, and the page that describes the crawler (Code of Practice Measure 1.3)."""
    return f"Mozilla/5.0 (compatible; {token}/{version}; +{info_url})"


def product_token(value: str) -> str:
    """Return the robots.txt product token of a user-agent value: lower-cased ``[A-Za-z_-]`` prefix.

    ``*`` (alone or followed by whitespace and anything) is the global token; an empty result
    means the line names no valid token.
    """
    value = value.strip()
    if value.startswith("*") and (len(value) == 1 or value[1] in " \t"):
        return STAR
    m = _TOKEN_PREFIX.match(value)
    return m.group(0).lower() if m else ""


@dataclass(frozen=True, slots=True)
class PreferenceLine:
    """A preference record as written: Content-Usage, Content-Signal or (Dis)AllowAITraining."""

    #: ``content-usage``, ``content-signal``, ``disallowaitraining`` or ``allowaitraining``.
    key: str
    #: The value after the colon, comment removed, stripped.
    value: str
    line: int
    #: The full line as written (comment removed), for evidence.
    text: str
    #: ``group`` (the selected token's own group), ``star`` (the ``*`` group, applied to a
    #: crawler that has its own group) or ``ungrouped`` (before any user-agent line).
    scope: str = "group"


@dataclass(slots=True)
class Group:
    """One merged group: every rule and record of every group naming one token."""

    token: str
    rules: list[Rule] = field(default_factory=list)
    preferences: list[PreferenceLine] = field(default_factory=list)
    crawl_delay: float | None = None
    #: Lines where this token's user-agent lines stand.
    ua_lines: list[int] = field(default_factory=list)


@dataclass(slots=True)
class RobotsTxt:
    """A parsed robots.txt: merged groups by token plus the file-wide records."""

    groups: dict[str, Group]
    sitemaps: list[str]
    licenses: list[tuple[int, str]]
    ungrouped: list[PreferenceLine]
    sha256: str
    size: int
    #: Lines that could not be read as a record (counted, RFC 9309 §2.3.1.5: skip and go on).
    invalid_lines: int = 0
    #: Notes for the evidence log: ``bom``, ``encoding_utf-16le`` (…), ``non_utf8``,
    #: ``undecodable``, ``truncated``, ``html_body``.
    notes: tuple[str, ...] = ()
    _matchers: dict[str, RuleMatcher] = field(default_factory=dict)

    def group_for(self, token: str) -> Group | None:
        """Return the merged group that binds *token*: its own, else ``*``, else None (§2.2.1)."""
        key = product_token(token)
        return (
            self.groups.get(key) or self.groups.get(STAR) if key != STAR else self.groups.get(STAR)
        )

    def matcher_for(self, token: str) -> RuleMatcher:
        """Return the compiled Allow/Disallow matcher of *token*'s group (cached)."""
        key = product_token(token)
        matcher = self._matchers.get(key)
        if matcher is None:
            group = self.group_for(token)
            matcher = RuleMatcher(group.rules if group else ())
            self._matchers[key] = matcher
        return matcher

    def can_fetch(self, path: str, token: str) -> tuple[bool, Rule | None]:
        """Return (allowed, deciding rule) for normalised *path*; ``/robots.txt`` is always allowed."""
        return decide(self.matcher_for(token), path)

    def preferences_for(self, token: str, *, star: bool, ungrouped: bool) -> list[PreferenceLine]:
        """Return the preference lines that apply to *token*, scope-tagged (A16/A17, C07/C08).

        docs/protocols.md#preference-scope.
        """
        key = product_token(token)
        own = self.groups.get(key) if key != STAR else None
        lines: list[PreferenceLine] = []
        star_group = self.groups.get(STAR)
        if own is not None:
            lines.extend(own.preferences)
            if star and star_group is not None:
                lines.extend(_rescope(p, "star") for p in star_group.preferences)
        elif star_group is not None:
            lines.extend(star_group.preferences)
        if ungrouped:
            lines.extend(self.ungrouped)
        return lines


def decide(matcher: RuleMatcher, path: str) -> tuple[bool, Rule | None]:
    """Return (allowed, deciding rule) of a group's compiled rules for normalised *path*."""
    if path == "/robots.txt":
        return True, None  # "implicitly allowed" (RFC 9309 §2.2.2)
    best = matcher.best(path)
    if not best:
        return True, None
    # Equivalent allow and disallow: "the 'allow' rule SHOULD be used" (§2.2.2).
    for rule in best:
        if rule.value == "allow":
            return True, rule
    return False, best[0]


def _rescope(line: PreferenceLine, scope: str) -> PreferenceLine:
    return PreferenceLine(line.key, line.value, line.line, line.text, scope)


def decode(body: bytes, limit: int) -> tuple[str, tuple[str, ...]]:
    """Return the text of a robots.txt body and notes (:func:`optout.charset.decode_robots`):
    BOM stripped (UTF-8, UTF-16, UTF-32), cut at *limit*, UTF-8 otherwise."""
    return decode_robots(body, limit)


def _split_record(line: str) -> tuple[str, str] | None:
    """Return (lower-case key, value) of a comment-free, stripped line, or None."""
    key, sep, value = line.partition(":")
    if sep:
        key = key.strip().lower()
        if key in _KNOWN or not (" " in key or "\t" in key):
            return key, value.strip()
    # No colon (or a colon inside the value): Google accepts exactly two words (R04).
    words = line.split()
    if len(words) == 2:
        return words[0].lower(), words[1]
    if len(words) == 3 and f"{words[0]} {words[1]}".lower() in _KNOWN:
        return f"{words[0]} {words[1]}".lower(), words[2]
    return (key, value.strip()) if sep else None


def parse(body: bytes | str, *, limit: int = 2 * 1024 * 1024) -> RobotsTxt:
    """Parse a robots.txt body (RFC 9309 §2.2) into merged groups and file-wide records."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    text, notes = decode(raw, limit)
    groups: dict[str, Group] = {}
    sitemaps: list[str] = []
    licenses: list[tuple[int, str]] = []
    ungrouped: list[PreferenceLine] = []
    invalid = 0
    current: list[Group] = []
    #: Non-rule records met while the user-agent run is still open (no rule yet).
    run_prefs: list[PreferenceLine] = []
    run_delay: float | None = None
    seen_ua = False  # any user-agent line yet
    in_rules = False  # a rule followed the current user-agent run

    for number, line in enumerate(_LINE_END.split(text), start=1):
        if len(line) > MAX_LINE_BYTES and len(line.encode("utf-8")) > MAX_LINE_BYTES:
            line = line.encode("utf-8")[:MAX_LINE_BYTES].decode("utf-8", errors="ignore")
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        record = _split_record(line)
        if record is None:
            invalid += 1
            continue
        key, value = record
        if key in _USER_AGENT:
            if in_rules or not seen_ua:
                current = []
                in_rules = False
                run_prefs = []
                run_delay = None
            seen_ua = True
            token = product_token(value)
            if not token:
                invalid += 1
                continue
            group = groups.get(token)
            if group is None:
                group = groups[token] = Group(token)
            group.ua_lines.append(number)
            if group not in current:
                current.append(group)
                # Other records seen earlier in this user-agent run bind this token too (C15, R62).
                for pref in run_prefs:
                    group.preferences.append(pref)
                if run_delay is not None:
                    group.crawl_delay = _max_delay(group.crawl_delay, run_delay)
            continue
        if key in _ALLOW or key in _DISALLOW or key == CONTENT_USAGE:
            # Rules close the user-agent run; before any user-agent they bind no group (§2.2.2).
            if seen_ua:
                in_rules = True
            if key == CONTENT_USAGE:
                pref = PreferenceLine(CONTENT_USAGE, value, number, line)
                if not seen_ua:
                    ungrouped.append(
                        PreferenceLine(CONTENT_USAGE, value, number, line, "ungrouped")
                    )
                for group in current:
                    group.preferences.append(pref)
                continue
            pattern = normalize_pattern(value)
            if pattern is None:
                if value:
                    invalid += 1
                continue
            verb = "allow" if key in _ALLOW else "disallow"
            rule = Rule(raw=value, pattern=pattern, value=verb, line=number, text=line)
            for group in current:
                group.rules.append(rule)
        elif key in _PREFERENCE_KEYS:
            if not seen_ua:
                ungrouped.append(PreferenceLine(key, value, number, line, "ungrouped"))
            pref = PreferenceLine(key, value, number, line)
            if not in_rules:
                run_prefs.append(pref)
            for group in current:
                group.preferences.append(pref)
        elif key in _SITEMAP:
            sitemaps.append(value)
        elif key in _LICENSE:
            licenses.append((number, value))
        elif key in _CRAWL_DELAY:
            delay = _parse_delay(value)
            if delay is not None:
                if not in_rules:
                    run_delay = _max_delay(run_delay, delay)
                for group in current:
                    group.crawl_delay = _max_delay(group.crawl_delay, delay)
        elif key not in _KNOWN:
            invalid += 1

    if "<html" in text[:2048].lower() and not any(g.rules for g in groups.values()):
        notes += ("html_body",)
    return RobotsTxt(
        groups=groups,
        sitemaps=sitemaps,
        licenses=licenses,
        ungrouped=ungrouped,
        sha256=sha256_hex(raw),
        size=len(raw),
        invalid_lines=invalid,
        notes=notes,
    )


def _max_delay(current: float | None, new: float) -> float:
    # Several Crawl-delay values for one token: the most polite wins.
    return new if current is None else max(current, new)


def _parse_delay(value: str) -> float | None:
    try:
        delay = float(value)
    except ValueError:
        return None
    return delay if 0 <= delay < float("inf") else None


def named_groups(robots: RobotsTxt, tokens: Sequence[str]) -> list[tuple[str, Rule]]:
    """Return (token, rule) for every token in *tokens* whose own group disallows ``/``
    (docs/protocols.md#named-ai-crawlers)."""
    blocked = []
    for token in tokens:
        key = product_token(token)
        if key in robots.groups and key != STAR:
            allowed, rule = robots.can_fetch("/", key)
            if not allowed and rule is not None:
                blocked.append((token, rule))
    return blocked
