"""The decision model every signal speaks (docs/protocols.md#the-decision-model).

A URL gets two answers that stay separate (draft-ietf-aipref-attach-05 §3.1, "two-stage
arrangement"; docs/protocols.md#two-answers-per-url):

* ``crawl`` — may the crawler request it at all (robots.txt): ALLOW, DISALLOW or DEFER;
* per purpose (``tdm``, ``train-ai``, ``ai-input``, ``search``) — is the use reserved under DSM
  Art. 4(3): RESERVED, NOT_RESERVED, UNKNOWN (no statement), or DEFER (a source exists but could
  not be read, so the check did not complete).

Each observed statement is a :class:`Signal` carrying its evidence (protocol, source URL, HTTP
status, matched rule and line or raw value, parser version, sha256 of the document seen).
:func:`combine` folds the signals into one :class:`Decision`, most restrictive per purpose
(docs/protocols.md#combining-verdicts).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any

#: Version of the protocol set this engine implements; recorded with every decision so that an
#: audit can tell which rules applied (docs/protocols.md#protocol-set-version).
PROTOCOL_SET_VERSION = "heed-protocols/2026.12"


class Crawl(StrEnum):
    """May the URL be requested at all."""

    ALLOW = "allow"
    DISALLOW = "disallow"
    #: Do not request now, retry later: a temporary DISALLOW that never turns into ALLOW by itself.
    DEFER = "defer"


class Verdict(StrEnum):
    """Rights-reservation state of one purpose, as one signal (or the combination) states it."""

    RESERVED = "reserved"
    NOT_RESERVED = "not-reserved"
    UNKNOWN = "unknown"
    #: The source exists but could not be read (5xx, timeout, parse failure): never "allow".
    DEFER = "defer"


class Use(StrEnum):
    """The one overall answer for the crawler's configured purpose."""

    RESERVED = "reserved"
    NOT_RESERVED = "not-reserved"
    UNKNOWN = "unknown"


class Purpose(StrEnum):
    """Uses a reservation can address (docs/protocols.md#purposes)."""

    TDM = "tdm"
    TRAIN_AI = "train-ai"
    AI_INPUT = "ai-input"
    SEARCH = "search"


class Protocol(StrEnum):
    """Where a signal came from. One value per technique, so evidence says exactly which."""

    ROBOTS_TXT = "robots.txt"
    AI_BOT_BLOCK = "robots.txt-ai-bot-block"
    CONTENT_USAGE_ROBOTS = "content-usage-robots.txt"
    CONTENT_USAGE_HEADER = "content-usage-header"
    CONTENT_SIGNAL_ROBOTS = "content-signal-robots.txt"
    CONTENT_SIGNAL_HEADER = "content-signal-header"
    AI_TRAINING_ROBOTS = "disallowaitraining-robots.txt"
    TDMREP_FILE = "tdmrep-file"
    TDMREP_HEADER = "tdmrep-header"
    TDMREP_META = "tdmrep-meta"
    TDMREP_EPUB = "tdmrep-epub"
    TDMREP_PDF = "tdmrep-pdf"
    ROBOTS_META = "robots-meta"
    X_ROBOTS_TAG = "x-robots-tag"
    RSL = "rsl"
    AI_TXT = "ai.txt"
    C2PA = "c2pa"
    IPTC = "iptc"
    #: The provider's reservations registry (reservations notified other than on the site).
    REGISTRY = "registry"


#: Most restrictive first: any RESERVED wins; a source that could not be read beats any
#: permission (we cannot know it did not reserve); an explicit permission beats silence.
_RESTRICTIVENESS = {
    Verdict.RESERVED: 3,
    Verdict.DEFER: 2,
    Verdict.NOT_RESERVED: 1,
    Verdict.UNKNOWN: 0,
}
_CRAWL_RESTRICTIVENESS = {Crawl.DISALLOW: 2, Crawl.DEFER: 1, Crawl.ALLOW: 0}


def most_restrictive(verdicts: Iterable[Verdict]) -> Verdict:
    """Return the most restrictive of *verdicts*, UNKNOWN for none.

    docs/protocols.md#combining-verdicts, rule 3.
    """
    best = Verdict.UNKNOWN
    for verdict in verdicts:
        if _RESTRICTIVENESS[verdict] > _RESTRICTIVENESS[best]:
            best = verdict
    return best


def sha256_hex(data: bytes) -> str:
    """Return the hex sha256 of *data*: the content address of a document seen."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """Every policy knob (docs/protocols.md#policy-knobs), with Heed's conservative defaults.

    One value, recorded with each decision (:meth:`as_dict`, :meth:`digest`).
    """

    #: The purpose the crawler collects for; ``use`` answers for this one.
    purpose: Purpose = Purpose.TRAIN_AI
    #: RFC 9309 says a crawler MAY treat 401/403 as "no robots.txt"; we do not by default (F02).
    robots_403_allow: bool = False
    #: A site that blocks GPTBot, CCBot, … at "/" has expressed intent against AI training
    #: (docs/protocols.md#named-ai-crawlers).
    treat_named_ai_blocks_as_reservation: bool = True
    #: Apply Content-Usage / Content-Signal of the ``*`` group even when we have our own group
    #: (docs/protocols.md#preference-scope).
    apply_star_group_preferences: bool = True
    #: Apply preference lines written before the first User-agent line to every group (A16, C08).
    apply_ungrouped_preferences: bool = True
    #: Map stale AIPREF labels (``ai=n``, ``train-genai=n``) to a reservation (A09); off = log only.
    legacy_label_mapping: bool = False
    #: Accept near-miss values (``tdm-reservation: "1"``, ``ai-train=No``) as what they evidently mean.
    lenient_values: bool = True
    #: Treat a 200 robots.txt whose body is an HTML page as unavailable rather than empty (F08).
    robots_html_strict: bool = False
    #: Treat Microsoft ``noarchive``/``nocache`` as a training reservation (N12); off = log only.
    microsoft_noarchive_as_reservation: bool = False
    #: Maximum robots.txt redirect hops (RFC 9309 §2.3.1.2: at least five); more ⇒ unreachable.
    robots_max_redirects: int = 5
    #: Bytes of robots.txt parsed (RFC 9309 §2.5: at least 500 KiB); the rest is ignored and logged.
    robots_parse_limit: int = 2 * 1024 * 1024

    def as_dict(self) -> dict[str, Any]:
        """Return the knob values as plain JSON-ready data."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    def digest(self) -> str:
        """Return a stable sha256 of the knob values, to store once and reference per decision."""
        return _policy_digest(self)


DEFAULT_POLICY = Policy()


class PolicyError(ValueError):
    """A policy knob Heed does not know, or a value it cannot take."""


def policy_from_knobs(knobs: Mapping[str, Any], robots_parse_limit: int) -> Policy:
    """Return the Policy with *knobs* (plain values, as configured) over Heed's defaults.

    Strict: an unknown knob, a wrong type or an unknown purpose raises :class:`PolicyError`,
    so that a typo never silently leaves a default in place. The robots.txt parse limit is a
    setting of its own (``OPTOUT_ROBOTS_MAXSIZE``), not a knob.
    """
    names = {f.name for f in fields(Policy)}
    unknown = sorted(set(knobs) - names)
    if unknown:
        raise PolicyError(f"unknown knobs {unknown}; known: {sorted(names)}")
    if "robots_parse_limit" in knobs:
        raise PolicyError("set the robots.txt limit with OPTOUT_ROBOTS_MAXSIZE")
    values: dict[str, Any] = {"robots_parse_limit": robots_parse_limit}
    for name, value in knobs.items():
        if name == "purpose":
            try:
                values[name] = Purpose(value)
            except ValueError:
                raise PolicyError(
                    f"purpose {value!r}: one of {[p.value for p in Purpose]}"
                ) from None
        elif name == "robots_max_redirects":
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise PolicyError("robots_max_redirects: a whole number >= 0")
            values[name] = value
        elif not isinstance(value, bool):
            raise PolicyError(f"{name}: true or false, got {value!r}")
        else:
            values[name] = value
    return Policy(**values)


@functools.lru_cache(maxsize=64)
def _policy_digest(policy: Policy) -> str:
    text = json.dumps(policy.as_dict(), sort_keys=True, separators=(",", ":"))
    return sha256_hex(text.encode())


@dataclass(frozen=True, slots=True, kw_only=True)
class Signal:
    """One protocol's statement about one URL, with the evidence behind it."""

    protocol: Protocol
    #: The crawl verdict, for crawl-permission signals only (robots.txt).
    crawl: Crawl | None = None
    #: Per purpose, only the purposes this signal speaks about.
    purposes: Mapping[Purpose, Verdict] = field(default_factory=dict)
    #: One human sentence: why this signal says what it says.
    reason: str
    #: The document or resource the signal was read from.
    source: str | None = None
    status: int | None = None
    #: The raw rule, header value, meta tag or JSON rule that matched.
    rule: str | None = None
    #: 1-based line number of ``rule`` in the source document, when it has lines.
    line: int | None = None
    #: sha256 of the exact bytes of the source document seen.
    sha256: str | None = None
    #: Parser name and version, e.g. ``heed-robots/1``.
    parser: str = ""
    #: Lenience and context markers: ``lenient``, ``nonconformant``, ``ungrouped``, ``stale``,
    #: ``conflict``, ``named_ai_block``, ``legacy_label``, …
    flags: tuple[str, ...] = ()
    #: A licence or policy URL the signal points to (RSL licence, ``tdm-policy``).
    licence_url: str | None = None
    #: The use is permitted only under a licence that must be obtained first (RSL ``server=``).
    licence_required: bool = False
    #: When the source document was fetched (ISO 8601), as given by the caller.
    fetched_at: str | None = None

    @property
    def verdict(self) -> str:
        """Return a short summary verdict: the crawl verdict, else the most restrictive purpose."""
        if self.crawl is not None and self.crawl is not Crawl.ALLOW:
            return self.crawl.value
        if self.purposes:
            return most_restrictive(self.purposes.values()).value
        return self.crawl.value if self.crawl is not None else Verdict.UNKNOWN.value

    @property
    def detail(self) -> str:
        """Return the evidence in one line: the rule (with its line number) or the raw value."""
        parts = [self.reason]
        if self.rule is not None:
            where = f"line {self.line}: " if self.line is not None else ""
            parts.append(f"[{where}{self.rule}]")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Return the signal as JSON-ready data."""
        data = {name: _plain(value) for name, value in asdict(self).items()}
        data["verdict"] = self.verdict
        data["detail"] = self.detail
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The combined answer for one URL, with every signal that went into it."""

    url: str
    crawl: Crawl
    purposes: Mapping[Purpose, Verdict]
    use: Use
    purpose: Purpose
    signals: tuple[Signal, ...]
    licence_required: bool = False
    #: Every site-level and page-level check that applies was made (Art. 4(3) default needs it).
    complete: bool = True
    #: Reasons that no single signal carries ("no reservation found", "redirect not followed").
    notes: tuple[str, ...] = ()
    policy: Policy = field(default_factory=Policy)
    protocol_set: str = PROTOCOL_SET_VERSION

    @property
    def reasons(self) -> tuple[str, ...]:
        """Return why: the evidence of every restricting signal, then the notes.

        Computed on demand: the crawler needs ``crawl`` and ``use`` for every request, the
        sentences only when it records or shows the decision.
        """
        out = [
            sig.detail
            for sig in self.signals
            if (sig.crawl is not None and sig.crawl is not Crawl.ALLOW)
            or any(v is Verdict.RESERVED or v is Verdict.DEFER for v in sig.purposes.values())
        ]
        out.extend(self.notes)
        if not out and self.crawl is Crawl.ALLOW:
            out.append("crawl allowed")
        return tuple(out)

    @property
    def policy_digest(self) -> str:
        """Return the digest of the policy knobs this decision was made under."""
        return self.policy.digest()

    def to_dict(self) -> dict[str, Any]:
        """Return the decision as JSON-ready data (the ``heed check --json`` line shape)."""
        return {
            "url": self.url,
            "crawl": self.crawl.value,
            "use": self.use.value,
            "purpose": self.purpose.value,
            "purposes": {p.value: v.value for p, v in self.purposes.items()},
            "licence_required": self.licence_required,
            "complete": self.complete,
            "reasons": list(self.reasons),
            "signals": [s.to_dict() for s in self.signals],
            "policy": self.policy.as_dict(),
            "policy_digest": self.policy_digest,
            "protocol_set": self.protocol_set,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Mapping):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


_PURPOSES = tuple(Purpose)


def combine(
    url: str,
    signals: Iterable[Signal],
    *,
    policy: Policy = DEFAULT_POLICY,
    complete: bool = True,
    gaps: Sequence[str] = (),
) -> Decision:
    """Fold *signals* into one :class:`Decision` (docs/protocols.md#combining-verdicts).

    Crawl permission first: the most restrictive crawl verdict of any crawl signal, ALLOW when
    there is none. Per purpose, most restrictive wins across protocols; intra-TDMRep precedence
    must already have been applied by the TDMRep module (it emits one effective signal).
    *complete* says whether every check that applies was made; if not, a purpose nobody reserved
    is UNKNOWN rather than NOT-RESERVED, since the missing check might have reserved it.
    *gaps* say why a check that was made is not complete (a page-level source read only in
    part: "HTML head not read to its end (…)"); any gap makes the decision not complete, and the
    gaps are its notes when the use is not reserved.
    """
    sigs = tuple(signals)
    complete = complete and not gaps
    crawl = Crawl.ALLOW
    per_purpose: dict[Purpose, Verdict] = dict.fromkeys(_PURPOSES, Verdict.UNKNOWN)
    licence_required = False
    rank, crawl_rank = _RESTRICTIVENESS, _CRAWL_RESTRICTIVENESS
    for sig in sigs:
        if sig.crawl is not None and crawl_rank[sig.crawl] > crawl_rank[crawl]:
            crawl = sig.crawl
        for purpose, verdict in sig.purposes.items():
            if rank[verdict] > rank[per_purpose[purpose]]:
                per_purpose[purpose] = verdict
        if sig.licence_required:
            licence_required = True

    notes: tuple[str, ...] = ()
    target = per_purpose[policy.purpose]
    if target is Verdict.RESERVED:
        use = Use.RESERVED
    elif licence_required:
        # RSL server= : the use needs a licence we do not hold; conservative (L05, X11).
        use = Use.RESERVED
        notes = ("licence required before this use (RSL server=)",)
    elif target is Verdict.DEFER or not complete:
        use = Use.UNKNOWN
        if crawl is not Crawl.ALLOW:
            notes = (f"{policy.purpose.value}: not checked, the URL may not be crawled",)
        elif gaps:
            notes = tuple(f"{policy.purpose.value}: not complete, {gap}" for gap in gaps)
        elif target is Verdict.DEFER:
            notes = (f"{policy.purpose.value}: a signal source could not be read",)
        else:
            notes = (f"{policy.purpose.value}: page-level signals not checked yet",)
    else:
        use = Use.NOT_RESERVED
        if target is Verdict.UNKNOWN:
            # Art. 4(3): absent an express reservation, the exception applies
            # (docs/protocols.md#combining-verdicts, rule 5).
            notes = ("no reservation found",)
    return Decision(
        url=url,
        crawl=crawl,
        purposes=per_purpose,
        use=use,
        purpose=policy.purpose,
        signals=sigs,
        licence_required=licence_required,
        complete=complete,
        notes=notes,
        policy=policy,
    )
