"""One origin's site-level documents, compiled once for one crawler, deciding URL after URL.

This is the engine's front door for the I/O layers (``heed check``, the Scrapy middleware):

* :class:`SiteDocuments` — what the I/O layer fetched for an origin (scheme + host + port, F12):
  robots.txt, ``/.well-known/tdmrep.json``, optionally ``/ai.txt`` and RSL licence documents.
* :class:`Site` — those documents parsed and compiled for one product token and :class:`Policy`.
  :meth:`Site.before_request` answers before a request is sent (crawl permission plus every
  reservation already known from site-level documents, so a download that could not be used can be
  skipped); :meth:`Site.after_response` adds the response's headers, HTML meta and embedded
  metadata and gives the complete decision.

Per-URL work is kept small (the crawler asks for every request): paths are normalised once,
each compiled signal source answers from hash tables, and the Signal for a matched rule is built
once and reused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from optout import ai_training, aipref, aitxt, asset_meta, content_signal, robots_meta, rsl, tdmrep
from optout.ai_tokens import AI_OTHER, TRAINING
from optout.charset import starts_with_markup
from optout.decision import (
    DEFAULT_POLICY,
    Crawl,
    Decision,
    Policy,
    Protocol,
    Purpose,
    Signal,
    Verdict,
    combine,
)
from optout.document import FetchResult
from optout.html_head import parse_head
from optout.registry import Registry
from optout.robots import PARSER, RobotsTxt, decide, named_groups, product_token
from optout.robots_fetch import RobotsOutcome, outcome
from optout.url import parse_authority, resolved_path
from optout.urlmatch import Rule, RuleMatcher, normalize_path

_HTML_TYPES = ("text/html", "application/xhtml+xml")
#: Work allowed to match one path against robots.txt: wildcard rules × path characters. Matching
#: runs on the crawl's event loop, so a hostile file (tens of thousands of wildcard rules within
#: the 2 MiB limit) against long URLs would stall every other request for seconds. About 10 ms
#: of matching on this machine; past it the URL is not matched but deferred — never allowed
#: (docs/architecture.md, "Bounded work"). Real files stay far below: a few hundred wildcard
#: rules against paths of a few hundred characters.
MATCH_BUDGET = 1_000_000
#: Wildcard rules of one group compiled, at most: compiling costs about 40 µs a rule on the
#: event loop (5,000: 0.2 s, once per origin). A group with more is not applied: every URL of the
#: origin defers (a file that cannot be applied is never read as "allow").
MAX_WILDCARD_RULES = 5_000
#: Signals read from a file's embedded metadata (HTML's own gaps come from its head).
_ASSET_PROTOCOLS = frozenset({Protocol.TDMREP_PDF, Protocol.TDMREP_EPUB, Protocol.IPTC})


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteDocuments:
    """The site-level documents of one origin as retrieved (or failed to be)."""

    origin: str
    robots: FetchResult
    tdmrep: FetchResult | None = None
    ai_txt: FetchResult | None = None
    #: RSL licence documents by URL (those named by robots.txt ``License:``).
    licenses: Mapping[str, FetchResult] = field(default_factory=dict)
    #: robots.txt of the other origins serving those licences, by origin: read to learn whether
    #: this crawler may request the licence there.
    licence_robots: Mapping[str, FetchResult] = field(default_factory=dict)


class Site:
    """An origin's signals compiled for one crawler token and policy."""

    def __init__(
        self,
        docs: SiteDocuments,
        *,
        token: str,
        policy: Policy = DEFAULT_POLICY,
        robots_outcome: RobotsOutcome | None = None,
        registry: Registry | None = None,
    ) -> None:
        self.docs = docs
        #: The reservations registry's entries that may cover this origin's URLs.
        self.registry = registry
        self._registry_entries = (
            registry.for_host(parse_authority(docs.origin)[1]) if registry is not None else ()
        )
        self.token = token
        self.policy = policy
        self.robots_outcome = robots_outcome or outcome(docs.robots, policy)
        self._robots_signals: dict[int, Signal] = {}
        rb = self.robots_outcome.robots
        self.robots: RobotsTxt | None = rb
        self._group_name = ""
        self.crawl_delay: float | None = None
        self.sitemaps: list[str] = []
        self.license_urls: list[str] = []
        self._site_level: list[Callable[[str], Signal | None]] = []
        self._fixed: list[Signal] = []
        group_rules = group.rules if rb is not None and (group := rb.group_for(token)) else ()
        #: Wildcard rules of this crawler's group: what matching a path costs, per character.
        self._wildcards = sum("*" in rule.pattern for rule in group_rules)
        #: Set when the group has too many wildcard rules to compile: every path then defers.
        self._too_complex: str | None = None
        if self._wildcards > MAX_WILDCARD_RULES:
            self._too_complex = (
                f"robots.txt has {self._wildcards} wildcard rules for this crawler's group; Heed "
                f"compiles at most {MAX_WILDCARD_RULES:,} (not matched: deferred)"
            )
            self._matcher = RuleMatcher(())
        else:
            self._matcher = rb.matcher_for(token) if rb is not None else RuleMatcher(())
        if rb is not None:
            group = rb.group_for(token)
            if group is not None:
                self._group_name = group.token
                self.crawl_delay = group.crawl_delay
            self.sitemaps = list(rb.sitemaps)
            prefs = rb.preferences_for(
                token,
                star=policy.apply_star_group_preferences,
                ungrouped=policy.apply_ungrouped_preferences,
            )
            by_key = {k: [p for p in prefs if p.key == k] for k in {p.key for p in prefs}}
            usage = by_key.get("content-usage", [])
            signal_lines = by_key.get("content-signal", [])
            training = by_key.get("disallowaitraining", []) + by_key.get("allowaitraining", [])
            where = {
                "source": docs.robots.url,
                "sha256": docs.robots.sha256,
                "status": docs.robots.status,
                "fetched_at": docs.robots.fetched_at,
            }
            compilers = (
                (usage, aipref.RobotsContentUsage.from_lines),
                (signal_lines, content_signal.RobotsContentSignal.from_lines),
                (training, ai_training.RobotsAiTraining.from_lines),
            )
            for lines, compile_lines in compilers:
                if lines:
                    compiled = compile_lines(lines, policy=policy, **where)  # type: ignore[arg-type]
                    self._site_level.append(compiled.evaluate)
            self._fixed.extend(self._ai_blocks(rb))
            self.license_urls = [u for u, _line, _flag in rsl.license_urls(rb, docs.robots.url)]
        if docs.tdmrep is not None:
            self._site_level.append(tdmrep.parse_wellknown(docs.tdmrep, policy=policy).evaluate)
        if docs.ai_txt is not None:
            self._site_level.append(
                partial(aitxt.parse(docs.ai_txt, policy=policy).evaluate, token=token)
            )
        for url in self.license_urls:
            result = docs.licenses.get(url)
            if result is not None:
                self._site_level.append(rsl.parse_license(result).evaluate)

    # -- site level -------------------------------------------------------------------------

    def _ai_blocks(self, rb: RobotsTxt) -> list[Signal]:
        """Return the named-AI-crawler block signal, if the file blocks any at ``/``.

        docs/protocols.md#named-ai-crawlers.
        """
        own = product_token(self.token)
        blocked = [(t, r) for t, r in named_groups(rb, TRAINING) if product_token(t) != own]
        others = [t for t, _r in named_groups(rb, AI_OTHER) if product_token(t) != own]
        if not blocked and not others:
            return []
        reserve = bool(blocked) and self.policy.treat_named_ai_blocks_as_reservation
        names = ", ".join(t for t, _ in blocked) or "none"
        first: Rule | None = blocked[0][1] if blocked else None
        reason = f"robots.txt blocks named AI training crawlers at /: {names}"
        if others:
            reason += f"; also AI search/user agents: {', '.join(others)}"
        return [
            Signal(
                protocol=Protocol.AI_BOT_BLOCK,
                purposes={Purpose.TRAIN_AI: Verdict.RESERVED} if reserve else {},
                reason=reason,
                source=self.docs.robots.url,
                status=self.docs.robots.status,
                rule=first.text if first else None,
                line=first.line if first else None,
                sha256=self.docs.robots.sha256,
                parser=PARSER,
                flags=("named_ai_block",) if blocked else ("named_ai_other_block",),
                fetched_at=self.docs.robots.fetched_at,
            )
        ]

    def _robots_signal(self, allowed: bool, rule: Rule | None) -> Signal:
        key = id(rule) if rule is not None else (1 if allowed else 0)
        sig = self._robots_signals.get(key)
        if sig is None:
            group = f'group "{self._group_name}"' if self._group_name else "no group applies"
            if rule is None:
                reason = f"robots.txt: no rule matches ({group})"
            else:
                verb = "allows" if allowed else "disallows"
                reason = f"robots.txt {verb} ({group})"
            sig = Signal(
                protocol=Protocol.ROBOTS_TXT,
                crawl=Crawl.ALLOW if allowed else Crawl.DISALLOW,
                reason=reason,
                source=self.docs.robots.url,
                status=self.docs.robots.status,
                rule=rule.text if rule else None,
                line=rule.line if rule else None,
                sha256=self.docs.robots.sha256,
                parser=PARSER,
                flags=self.robots_outcome.flags,
                fetched_at=self.docs.robots.fetched_at,
            )
            self._robots_signals[key] = sig
        return sig

    def _crawl_signals(self, path: str) -> list[Signal]:
        ro = self.robots_outcome
        if ro.robots is None:
            assert ro.signal is not None
            return [ro.signal]
        if self._too_complex is not None:
            return [self._deferred(self._too_complex, "too_many_wildcards")]
        if self._wildcards * len(path) > MATCH_BUDGET:
            return [self._over_budget(path)]
        allowed, rule = decide(self._matcher, path)
        if allowed and "%" in path:
            # A server may decode %2F before resolving dot segments: that path must be allowed too.
            resolved = _resolved_match_path(path)
            if resolved is not None:
                allowed, rule = decide(self._matcher, resolved)
        return [self._robots_signal(allowed, rule)]

    def _over_budget(self, path: str) -> Signal:
        """Return the DEFER signal of a path too costly to match against this group's rules."""
        reason = (
            f"robots.txt matching budget exceeded: {self._wildcards} wildcard rules × a "
            f"{len(path)}-character path > {MATCH_BUDGET:,} (not matched: deferred)"
        )
        return self._deferred(reason, "match_budget")

    def _deferred(self, reason: str, flag: str) -> Signal:
        """Return a robots.txt DEFER signal: the file was read but could not be applied."""
        return Signal(
            protocol=Protocol.ROBOTS_TXT,
            crawl=Crawl.DEFER,
            reason=reason,
            source=self.docs.robots.url,
            status=self.docs.robots.status,
            sha256=self.docs.robots.sha256,
            parser=PARSER,
            flags=(*self.robots_outcome.flags, flag),
            fetched_at=self.docs.robots.fetched_at,
        )

    def _site_signals(self, path: str) -> list[Signal]:
        found = list(self._fixed)
        for evaluate in self._site_level:
            sig = evaluate(path)
            if sig is not None:
                found.append(sig)
        return found

    def _registry_signals(self, url: str) -> list[Signal]:
        if not self._registry_entries or self.registry is None:
            return []
        return self.registry.signals(url, self._registry_entries)

    def robots_allows(self, url: str) -> bool:
        """Return True if robots.txt (or its absence) lets this crawler request *url*."""
        return self._crawl_signals(normalize_path(url))[0].crawl is Crawl.ALLOW

    @property
    def crawls_anything(self) -> bool:
        """Return False when robots.txt leaves no URL of the origin to crawl (a complete
        disallow for this crawler's group, or an unusable robots.txt)."""
        ro = self.robots_outcome
        if ro.robots is None:
            return ro.crawl_all is Crawl.ALLOW
        if self._too_complex is not None:
            return False  # every URL defers: nothing else is requested from the origin
        return decide(self._matcher, "/")[0] or any(
            rule.value == "allow" for rule in self._matcher.rules
        )

    def before_request(self, url: str) -> Decision:
        """Return the decision possible before requesting *url*: crawl plus site-level signals."""
        path = normalize_path(url)
        signals = self._crawl_signals(path)
        if signals[0].crawl is Crawl.ALLOW:
            signals.extend(self._site_signals(path))
            signals.extend(self._registry_signals(url))
        return combine(url, signals, policy=self.policy, complete=False)

    # -- page level -------------------------------------------------------------------------

    def after_response(
        self,
        url: str,
        response: FetchResult,
        *,
        via: Sequence[tuple[Site, str]] = (),
    ) -> Decision:
        """Return the complete decision for *url* given its *response*.

        Not ``complete`` when a page-level source was read only in part (an HTML head that did
        not end within the scan, bytes that cannot be decoded, more XMP packets than examined, a
        body cut at the size cap): such a decision says why, and its use is never not-reserved.

        *via* lists the (site, URL) of earlier redirect hops: their origins' TDMRep files count
        too, most restrictively (T24).
        """
        path = normalize_path(url)
        signals = self._crawl_signals(path)
        if signals[0].crawl is not Crawl.ALLOW:
            return combine(url, signals, policy=self.policy, complete=False)
        site = self._site_signals(path)
        file_layers = [s for s in site if s.protocol is Protocol.TDMREP_FILE]
        for hop_site, hop_url in via:
            hop_path = normalize_path(hop_url)
            file_layers.extend(
                s for s in hop_site._site_signals(hop_path) if s.protocol is Protocol.TDMREP_FILE
            )
        signals.extend(s for s in site if s.protocol is not Protocol.TDMREP_FILE)
        signals.extend(self._registry_signals(url))
        page, gaps = self._page_signals(url, response, file_layers)
        signals.extend(page)
        return combine(url, signals, policy=self.policy, gaps=gaps)

    def _page_signals(
        self, url: str, response: FetchResult, file_layers: list[Signal]
    ) -> tuple[list[Signal], list[str]]:
        """Return the page-level signals and why their read is not complete (empty: it is)."""
        policy, token, status, when = self.policy, self.token, response.status, response.fetched_at
        file_sig = tdmrep.most_restrictive_file(file_layers)
        if response.error is not None or status is None or status >= 400:
            # No usable representation: page-level signals could not be read.
            why = response.error or (f"HTTP {status}" if status is not None else "no response")
            return ([file_sig] if file_sig else []), [f"page-level signals not read ({why})"]
        ctype = response.content_type
        is_image = ctype.startswith("image/")
        found: list[Signal | None] = [
            aipref.from_header(
                response.header("content-usage"),
                source=url,
                status=status,
                fetched_at=when,
                policy=policy,
            ),
            content_signal.from_header(
                response.header("content-signal"),
                source=url,
                status=status,
                fetched_at=when,
                policy=policy,
            ),
            *robots_meta.from_headers(
                response.header("x-robots-tag"),
                token=token,
                is_image=is_image,
                source=url,
                status=status,
                fetched_at=when,
                policy=policy,
            ),
        ]
        layers: list[Signal | None] = [
            file_sig,
            tdmrep.from_headers(
                response.headers, source=url, status=status, fetched_at=when, policy=policy
            ),
        ]
        body = response.body
        #: Why the page-level read is not complete, if it is not (each one a reason).
        gaps: list[str] = []
        is_html = ctype in _HTML_TYPES or (not ctype and starts_with_markup(body))
        if is_html:
            content_type = response.header("content-type")
            head = parse_head(
                body,
                content_type=content_type[-1] if content_type else None,
                truncated=response.truncated,
            )
            if head.incomplete is not None:
                gaps.append(head.incomplete)
            layers.append(
                tdmrep.from_html(
                    head,
                    source=url,
                    status=status,
                    fetched_at=when,
                    sha256=response.sha256,
                    policy=policy,
                )
            )
            found += robots_meta.from_html(
                head, token=token, source=url, status=status, fetched_at=when, policy=policy
            )
        elif ctype == "application/pdf" or body.startswith(b"%PDF"):
            layers.append(
                tdmrep.from_pdf(body, source=url, status=status, fetched_at=when, policy=policy)
            )
        elif ctype == "application/epub+zip":
            layers.append(
                tdmrep.from_epub(body, source=url, status=status, fetched_at=when, policy=policy)
            )
        if is_image and body:
            found.append(asset_meta.from_xmp(body, source=url, status=status, fetched_at=when))
        found.append(tdmrep.resolve(layers))
        # Embedded metadata read only in part (more XMP packets or values than examined).
        gaps.extend(
            s.reason
            for s in [*found, *layers]
            if s is not None and "incomplete" in s.flags and s.protocol in _ASSET_PROTOCOLS
        )
        if response.truncated and not is_html:
            # A body cut at the size cap may hide metadata past the cut (PDF XMP often sits at
            # the end). HTML is judged by its head: complete if the head ended before the cut.
            gaps.append("body cut at the download size limit: metadata past the cut not read")
        return [s for s in found if s is not None], list(dict.fromkeys(gaps))


def _resolved_match_path(path: str) -> str | None:
    """Return the match path of normalised *path* as a server decoding ``%2F`` would resolve it
    (:func:`optout.url.resolved_path`), or None when that changes nothing."""
    # normalize_path encodes the query's "?" as %3F; a path's own %3F stays data either way.
    bare, sep, query = path.partition("%3F")
    resolved = resolved_path(bare)
    if resolved is None:
        return None
    return normalize_path(resolved) + sep + query
