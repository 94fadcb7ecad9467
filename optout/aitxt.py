"""Spawning ``ai.txt``: robots.txt grammar over file-type patterns
(docs/protocols.md#spawning-aitxt).

``/ai.txt`` uses robots.txt syntax; its meaning is "do not use matching files in AI datasets",
so a ``Disallow`` match reserves train-ai and an ``Allow`` match that wins (longest match, allow
on ties, as RFC 9309) is an explicit permission. The file is parsed with :mod:`optout.robots` and
matched with the shared :mod:`optout.urlmatch` matcher, which accepts the generator's leading
``*`` patterns (``Disallow: *.jpg``). The group for our token applies, else ``*``.

There is no status-code specification; Heed's reading follows RFC 9309's and the fail-closed
rule: 404/410 (and other 4xx except 401/403) = no file, no signal (S04); 401/403, 429, 5xx, any
network error, a truncated body or one that is not text (NUL or control bytes; a BOM names a
UTF-16 or UTF-32 file, as for robots.txt) = the file may exist but could not be read ⇒ train-ai
DEFER.
A 200 whose body is an HTML page (an error page served as 200) has no rules and is flagged (S05).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from optout.decision import DEFAULT_POLICY, Policy, Protocol, Purpose, Signal, Verdict
from optout.document import FetchResult
from optout.robots import RobotsTxt
from optout.robots import parse as parse_robots
from optout.urlmatch import normalize_path

PARSER = "heed-aitxt/1"
_GROUPLESS_PREFIX = b"User-Agent: *\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class AiTxt:
    """A fetched ai.txt: its rules, or the reason it has none or could not be read."""

    url: str
    status: int | None = None
    robots: RobotsTxt | None = None
    #: Why the file could not be read (``http_503``, ``timeout``, …): train-ai is then DEFER.
    deferred: str | None = None
    sha256: str | None = None
    fetched_at: str | None = None
    flags: tuple[str, ...] = ()
    #: Lines added in front of the body before parsing (rules written without a group).
    line_offset: int = field(default=0, repr=False)

    def evaluate(self, path: str, token: str) -> Signal | None:
        """Return the ai.txt verdict for *path* (a path or URL) for crawler *token*."""
        if self.deferred is not None:
            return self._signal(
                {Purpose.TRAIN_AI: Verdict.DEFER},
                f"ai.txt could not be read ({self.deferred}): train-ai deferred",
                ("unreachable", self.deferred),
            )
        if self.robots is None:
            return None
        if not self.robots.groups:
            if self.flags:
                # S05 and the like: a file that says nothing readable is worth a log line.
                return self._signal({}, "ai.txt has no rules", ())
            return None
        best = self.robots.matcher_for(token).best(normalize_path(path))
        if not best:
            return None
        # Equivalent allow and disallow: allow wins, as RFC 9309 §2.2.2 says for robots.txt.
        rule = next((r for r in best if r.value == "allow"), best[0])
        line = rule.line - self.line_offset
        if rule.value == "allow":
            verdict = Verdict.NOT_RESERVED
            reason = f"ai.txt allows this file for AI datasets ({rule.text})"
        else:
            verdict = Verdict.RESERVED
            reason = f"ai.txt excludes this file from AI datasets ({rule.text})"
        return self._signal({Purpose.TRAIN_AI: verdict}, reason, (), rule=rule.text, line=line)

    def _signal(
        self,
        purposes: dict[Purpose, Verdict],
        reason: str,
        flags: tuple[str, ...],
        *,
        rule: str | None = None,
        line: int | None = None,
    ) -> Signal:
        return Signal(
            protocol=Protocol.AI_TXT,
            purposes=purposes,
            reason=reason,
            source=self.url,
            status=self.status,
            rule=rule,
            line=line,
            sha256=self.sha256,
            parser=PARSER,
            flags=tuple(dict.fromkeys((*flags, *self.flags))),
            fetched_at=self.fetched_at,
        )


def parse(result: FetchResult, *, policy: Policy = DEFAULT_POLICY) -> AiTxt:
    """Parse a fetched ``/ai.txt`` into rules, "no file", or a deferred (unreadable) state."""
    if not isinstance(result, FetchResult):
        raise TypeError(f"result must be a FetchResult, not {type(result).__name__}")
    status = result.status
    deferred: str | None = None
    if status is None or result.error:
        deferred = result.error or "no_response"
    elif status in (401, 403, 429) or not (200 <= status < 300 or 400 <= status < 500):
        # 401/403: the file may exist behind a block; 3xx: the redirect was not followed.
        deferred = f"http_{status}"
    elif status >= 400:
        return AiTxt(url=result.url, status=status, fetched_at=result.fetched_at)
    elif result.truncated:
        # A cut file might have lost the rule that reserved a path.
        deferred = "truncated"
    if deferred is not None:
        return AiTxt(url=result.url, status=status, fetched_at=result.fetched_at, deferred=deferred)
    robots = parse_robots(result.body, limit=policy.robots_parse_limit)
    if "undecodable" in robots.notes:
        # Not text (NUL or control bytes): rules may be there that cannot be read.
        return AiTxt(
            url=result.url, status=status, fetched_at=result.fetched_at, deferred="undecodable"
        )
    flags: list[str] = [n for n in robots.notes if n in ("truncated", "html_body", "non_utf8")]
    offset = 0
    if not robots.groups and _has_rules(result.body):
        # Lenience: Allow/Disallow lines without any User-Agent line; read them as the * group.
        robots = parse_robots(_GROUPLESS_PREFIX + result.body, limit=policy.robots_parse_limit)
        offset = 1
        flags.append("ungrouped")
    if result.content_type == "text/html" and not robots.groups:
        flags.append("html_body")
    return AiTxt(
        robots=robots,
        sha256=result.sha256,
        flags=tuple(dict.fromkeys(flags)),
        line_offset=offset,
        url=result.url,
        status=status,
        fetched_at=result.fetched_at,
    )


def _has_rules(body: bytes) -> bool:
    lowered = body[:65536].lower()
    return b"disallow" in lowered or b"allow:" in lowered
