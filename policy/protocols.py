"""What Heed honours, in words: the protocols optout/ implements and the robots.txt policy.

The published documents (crawler information, copyright policy, training-content summary) must
name every rights-reservation protocol the crawler honours, with its version, and state the
robots.txt status-code policy exactly (Code of Practice Measure 1.3(4); docs/regulation.md AC-08,
AC-14, AC-19). Both are derived here from optout/ itself — the :class:`~optout.decision.Protocol`
values and each module's ``PARSER`` constant, the :class:`~optout.decision.Policy` knob values —
so a document cannot claim a protocol or a behaviour the engine does not have. The values the
audit trail records (protocols, actions, purposes, policy knobs) are put in words here too, so
that a published document never shows an internal identifier alone. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from optout import (
    ai_training,
    aipref,
    aitxt,
    asset_meta,
    content_signal,
    registry,
    robots,
    robots_meta,
    rsl,
    tdmrep,
)
from optout.decision import DEFAULT_POLICY, PROTOCOL_SET_VERSION, Protocol
from optout.robots_fetch import MAX_TTL

__all__ = [
    "PROTOCOL_SET_VERSION",
    "ProtocolInfo",
    "action_label",
    "honoured_protocols",
    "knob_label",
    "knob_value",
    "protocol_families",
    "protocol_label",
    "purpose_label",
    "robots_features",
    "robots_policy_lines",
]


@dataclass(frozen=True)
class ProtocolInfo:
    """One technique Heed reads a rights reservation (or crawl permission) from."""

    #: The :class:`~optout.decision.Protocol` value recorded in the audit trail.
    protocol: str
    #: Human name, e.g. "Robots Exclusion Protocol (robots.txt)".
    name: str
    #: The specification followed, e.g. "RFC 9309".
    spec: str
    #: Heed's parser name and version, as recorded with every signal (``heed-robots/1``).
    parser: str
    #: What a statement in it can reserve or restrict.
    expresses: str
    #: The protocol family several techniques share (e.g. "TDMRep"), for grouped lists.
    family: str = ""
    #: Where it is read from.
    where: str = ""

    def to_dict(self) -> dict[str, str]:
        """Return the fields as JSON-ready data."""
        return asdict(self)


_RESERVES_TDM_AI = "reservation of text and data mining, AI training and AI input"
_ROBOTS = "Robots Exclusion Protocol (robots.txt)"
_AIPREF = "IETF AI Preferences (AIPREF) Content-Usage"
_AIPREF_SPEC = "IETF AIPREF drafts draft-ietf-aipref-vocab-08 and draft-ietf-aipref-attach-05"
_CSIG = "Cloudflare Content Signals (Content-Signal)"
_CSIG_SPEC = "Cloudflare Content Signals Policy"
_TDMREP = "W3C TDM Reservation Protocol (TDMRep)"
_TDMREP_SPEC = "W3C TDMRep Community Group Final Report (2024-05-10)"
_NOAI = "Robots meta tag and X-Robots-Tag noai / noimageai"
_NOAI_SPEC = "De-facto convention (DeviantArt, 2022); no formal specification"
_ASSET = "Embedded asset metadata"


#: Every protocol optout/ implements, in the order the documents list them: robots.txt first
#: (the one the Code names), then the other protocols by family.
def _tdmrep(protocol: Protocol, name: str, where: str) -> ProtocolInfo:
    """Return one of TDMRep's techniques: the same protocol, parser and meaning in each place."""
    return ProtocolInfo(
        protocol=protocol.value,
        name=f"{_TDMREP}: {name}",
        spec=_TDMREP_SPEC,
        parser=tdmrep.PARSER,
        expresses=f"{_RESERVES_TDM_AI} (tdm-reservation: 1), with a TDM policy (tdm-policy)",
        family=_TDMREP,
        where=where,
    )


_PROTOCOLS: tuple[ProtocolInfo, ...] = (
    ProtocolInfo(
        protocol=Protocol.ROBOTS_TXT.value,
        name=_ROBOTS,
        spec="RFC 9309",
        parser=robots.PARSER,
        expresses="crawl permission: which URLs of a site the crawler may request at all",
        family=_ROBOTS,
        where="/robots.txt, group for our product token, else the * group",
    ),
    ProtocolInfo(
        protocol=Protocol.AI_BOT_BLOCK.value,
        name="robots.txt blocks of named AI training crawlers (GPTBot, CCBot, ...)",
        spec="RFC 9309 groups of named AI crawlers (de-facto convention)",
        parser=robots.PARSER,
        expresses=(
            "reservation of AI training when a site disallows a named AI training crawler at / "
            "(read so by default; the robots.txt policy says whether this crawler does)"
        ),
        family=_ROBOTS,
        where="/robots.txt, groups of other AI crawlers",
    ),
    ProtocolInfo(
        protocol=Protocol.CONTENT_USAGE_ROBOTS.value,
        name=f"{_AIPREF} in robots.txt",
        spec=_AIPREF_SPEC,
        parser=aipref.PARSER,
        expresses="preferences on AI training (train-ai), AI use (ai-use) and search",
        family=_AIPREF,
        where="/robots.txt Content-Usage rules",
    ),
    ProtocolInfo(
        protocol=Protocol.CONTENT_USAGE_HEADER.value,
        name=f"{_AIPREF} HTTP header",
        spec=_AIPREF_SPEC,
        parser=aipref.PARSER,
        expresses="preferences on AI training (train-ai), AI use (ai-use) and search",
        family=_AIPREF,
        where="Content-Usage response header",
    ),
    ProtocolInfo(
        protocol=Protocol.CONTENT_SIGNAL_ROBOTS.value,
        name=f"{_CSIG} in robots.txt",
        spec=_CSIG_SPEC,
        parser=content_signal.PARSER,
        expresses="ai-train, ai-input and search signals (no = reservation)",
        family=_CSIG,
        where="/robots.txt Content-Signal lines",
    ),
    ProtocolInfo(
        protocol=Protocol.CONTENT_SIGNAL_HEADER.value,
        name=f"{_CSIG} HTTP header",
        spec=_CSIG_SPEC,
        parser=content_signal.PARSER,
        expresses="ai-train, ai-input and search signals (no = reservation)",
        family=_CSIG,
        where="Content-Signal response header",
    ),
    ProtocolInfo(
        protocol=Protocol.AI_TRAINING_ROBOTS.value,
        name="DisallowAITraining / AllowAITraining in robots.txt",
        spec="draft-canel-robots-ai-control-00 (expired IETF individual draft)",
        parser=ai_training.PARSER,
        expresses="reservation of AI training for matching paths",
        family="DisallowAITraining / AllowAITraining",
        where="/robots.txt DisallowAITraining and AllowAITraining lines",
    ),
    *(
        _tdmrep(protocol, name, where)
        for protocol, name, where in (
            (Protocol.TDMREP_FILE, "/.well-known/tdmrep.json", "/.well-known/tdmrep.json"),
            (
                Protocol.TDMREP_HEADER,
                "HTTP headers",
                "tdm-reservation and tdm-policy response headers",
            ),
            (
                Protocol.TDMREP_META,
                "HTML meta elements",
                '<meta name="tdm-reservation"> and <meta name="tdm-policy">',
            ),
            (Protocol.TDMREP_EPUB, "EPUB package metadata", "EPUB OPF package metadata"),
            (Protocol.TDMREP_PDF, "PDF XMP metadata", "PDF XMP metadata"),
        )
    ),
    ProtocolInfo(
        protocol=Protocol.ROBOTS_META.value,
        name="Robots meta tag noai / noimageai",
        spec=_NOAI_SPEC,
        parser=robots_meta.PARSER,
        expresses=f"{_RESERVES_TDM_AI} for the page (noimageai: for its images)",
        family=_NOAI,
        where='<meta name="robots"> and <meta name="our product token">',
    ),
    ProtocolInfo(
        protocol=Protocol.X_ROBOTS_TAG.value,
        name="X-Robots-Tag noai / noimageai",
        spec=_NOAI_SPEC,
        parser=robots_meta.PARSER,
        expresses=f"{_RESERVES_TDM_AI} for the resource (noimageai: for images)",
        family=_NOAI,
        where="X-Robots-Tag response header",
    ),
    ProtocolInfo(
        protocol=Protocol.RSL.value,
        name="Really Simple Licensing (RSL) 1.0",
        spec="RSL 1.0 Industry Specification (RSL Technical Steering Committee, 2025-11-06)",
        parser=rsl.PARSER,
        expresses=(
            "prohibited or unlicensed uses (reservation) and uses that need a licence first"
        ),
        family="Really Simple Licensing (RSL) 1.0",
        where='robots.txt License: lines, Link rel="license" headers, HTML <link rel="license">',
    ),
    ProtocolInfo(
        protocol=Protocol.AI_TXT.value,
        name="Spawning ai.txt",
        spec="Spawning ai.txt convention (vendor; robots.txt syntax over file types)",
        parser=aitxt.PARSER,
        expresses="reservation of AI training for matching files",
        family="Spawning ai.txt",
        where="/ai.txt",
    ),
    ProtocolInfo(
        protocol=Protocol.C2PA.value,
        name="CAWG / C2PA training-and-data-mining assertion",
        spec="CAWG Training and Data Mining Assertion v1.1 (draft); C2PA 1.x c2pa.training-mining",
        parser=asset_meta.PARSER,
        expresses="reservation of data mining, AI training and AI inference for the asset",
        family=_ASSET,
        where="C2PA manifest embedded in images, audio and video",
    ),
    ProtocolInfo(
        protocol=Protocol.IPTC.value,
        name="IPTC / PLUS DataMining",
        spec="IPTC Photo Metadata Standard 2023.1 (PLUS plus:DataMining)",
        parser=asset_meta.PARSER,
        expresses="prohibition of data mining and AI training for the image",
        family=_ASSET,
        where="XMP metadata embedded in images",
    ),
    ProtocolInfo(
        protocol=Protocol.REGISTRY.value,
        name="The provider's reservations registry",
        spec="Code of Practice Measure 1.3(2): reservations expressed in any appropriate manner",
        parser=registry.PARSER,
        expresses=(
            "reservations notified by letter, complaint or request, for a domain, a host or a "
            "URL prefix (by default of text and data mining, AI training and AI input)"
        ),
        family="Reservations registry",
        where="the provider's audit database (heed registry), before any request",
    ),
)


#: Each recorded protocol value in words, short enough for a list of counts (the full names,
#: with their specifications, are :func:`honoured_protocols`).
_LABELS: dict[str, str] = {
    Protocol.ROBOTS_TXT.value: "robots.txt",
    Protocol.AI_BOT_BLOCK.value: "robots.txt block of named AI crawlers",
    Protocol.CONTENT_USAGE_ROBOTS.value: "IETF AIPREF Content-Usage in robots.txt",
    Protocol.CONTENT_USAGE_HEADER.value: "IETF AIPREF Content-Usage HTTP header",
    Protocol.CONTENT_SIGNAL_ROBOTS.value: "Cloudflare Content-Signal in robots.txt",
    Protocol.CONTENT_SIGNAL_HEADER.value: "Cloudflare Content-Signal HTTP header",
    Protocol.AI_TRAINING_ROBOTS.value: "DisallowAITraining in robots.txt",
    Protocol.TDMREP_FILE.value: "TDMRep file /.well-known/tdmrep.json",
    Protocol.TDMREP_HEADER.value: "TDMRep HTTP header",
    Protocol.TDMREP_META.value: "TDMRep HTML meta element",
    Protocol.TDMREP_EPUB.value: "TDMRep EPUB metadata",
    Protocol.TDMREP_PDF.value: "TDMRep PDF metadata",
    Protocol.ROBOTS_META.value: "robots meta tag noai / noimageai",
    Protocol.X_ROBOTS_TAG.value: "X-Robots-Tag noai / noimageai",
    Protocol.RSL.value: "RSL licence",
    Protocol.AI_TXT.value: "Spawning ai.txt",
    Protocol.C2PA.value: "C2PA / CAWG training-and-data-mining assertion",
    Protocol.IPTC.value: "IPTC DataMining metadata",
    Protocol.REGISTRY.value: "reservations registry",
}


def protocol_label(protocol: str) -> str:
    """Return a recorded protocol value in words ("tdmrep-file" → "TDMRep file
    /.well-known/tdmrep.json"); a value this Heed does not know, as it is."""
    return _LABELS.get(protocol, protocol)


#: What each recorded action (optout.action.Action) means, in words: for ``heed status`` and
#: the published figures, which never show the recorded value alone.
_ACTIONS: dict[str, str] = {
    "fetched-stored": "fetched and stored",
    "fetched-not-kept": "fetched, not kept (no dataset)",
    "fetched-excluded": "fetched, excluded from the dataset",
    "redirected": "redirected",
    "skipped-robots": "skipped: robots.txt disallows it",
    "skipped-reservation": "skipped: rights reserved",
    "deferred": "deferred: a source could not be read",
    "access-restricted": "access restricted, not circumvented",
    "denylisted": "skipped: infringing-site denylist",
    "error": "failed",
    "rechecked-usable": "re-checked: may still be used",
    "rechecked-reserved": "re-checked: reserved since, not to be used",
    "rechecked-unknown": "re-checked: a source could not be read",
}


def action_label(action: str) -> str:
    """Return a recorded action value in words ("skipped-reservation" → "skipped: rights
    reserved"); a value this Heed does not know, as it is."""
    return _ACTIONS.get(action, action)


_PURPOSES = {
    "tdm": "text and data mining",
    "train-ai": "AI training",
    "ai-input": "use as AI input",
    "search": "search",
}


def purpose_label(purpose: str) -> str:
    """Return a purpose value in words, with the value ("AI training (train-ai)")."""
    words = _PURPOSES.get(purpose, purpose)
    return purpose if words == purpose else f"{words} ({purpose})"


#: Each policy knob (optout.decision.Policy) as the choice it makes, for a value beside it.
_KNOBS: dict[str, str] = {
    "purpose": "Use that rights reservations are checked for",
    "robots_403_allow": (
        "robots.txt answering 401 or 403 is treated as no robots.txt (no restrictions)"
    ),
    "treat_named_ai_blocks_as_reservation": (
        "A robots.txt that disallows a named AI training crawler (GPTBot, CCBot, ...) at / "
        "reserves AI training"
    ),
    "apply_star_group_preferences": (
        "Content-Usage and Content-Signal lines of the * group apply even where a group names "
        "our product token"
    ),
    "apply_ungrouped_preferences": (
        "Preference lines before the first User-agent line apply to every group"
    ),
    "legacy_label_mapping": "Superseded AIPREF labels (ai=n, train-genai=n) reserve their use",
    "lenient_values": (
        'Near-miss values (tdm-reservation: "1", ai-train=No) are read as what they evidently mean'
    ),
    "robots_html_strict": (
        "robots.txt answering with an HTML page is treated as unreachable (complete disallow)"
    ),
    "microsoft_noarchive_as_reservation": "Microsoft noarchive / nocache reserves AI training",
    "robots_max_redirects": "robots.txt redirects followed, at most",
    "robots_parse_limit": "robots.txt parsed up to",
}


def knob_label(name: str) -> str:
    """Return policy knob *name* as the choice it makes; an unknown knob, as it is."""
    return _KNOBS.get(name, name)


def knob_value(name: str, value: Any) -> str:
    """Return the value of policy knob *name* in words: yes / no, a size, a purpose."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == "purpose":
        return purpose_label(str(value))
    if name == "robots_parse_limit" and isinstance(value, int):
        return _size(value)
    return str(value)


def honoured_protocols() -> list[ProtocolInfo]:
    """Return every protocol optout/ implements, in a stable order (robots.txt first)."""
    return list(_PROTOCOLS)


def protocol_families(infos: Iterable[ProtocolInfo] | None = None) -> list[dict[str, Any]]:
    """Return the protocols grouped by family, in order: family, spec(s), parser(s), techniques.

    A short form for documents that list protocols rather than techniques (one TDMRep entry, not
    five). *infos* defaults to :func:`honoured_protocols`.
    """
    out: dict[str, dict[str, Any]] = {}
    for info in _PROTOCOLS if infos is None else infos:
        entry = out.setdefault(
            info.family, {"family": info.family, "specs": [], "parsers": [], "protocols": []}
        )
        for key, value in (("specs", info.spec), ("parsers", info.parser)):
            if value not in entry[key]:
                entry[key].append(value)
        entry["protocols"].append(info.protocol)
    return list(out.values())


def robots_features() -> list[str]:
    """Return the robots.txt features Heed's parser supports (RFC 9309 and common extensions)."""
    return [
        (
            "User-agent groups matched by product token: case-insensitive, the value cut at the "
            "first character outside letters, '-' and '_' (RFC 9309 §2.2.1); our own group, else "
            "the * group; a specific group never inherits from *"
        ),
        (
            "Groups for the same product token are merged; blank lines and non-rule records "
            "(Sitemap, Crawl-delay, ...) do not split groups"
        ),
        (
            "Allow and Disallow rules: the longest matching path wins, and Allow wins a tie "
            "(RFC 9309 §2.2.2)"
        ),
        (
            "Wildcards: * matches any sequence of characters, $ anchors the end of the path "
            "(RFC 9309 §2.2.3)"
        ),
        "Percent-encoding normalised before matching; /robots.txt itself is always allowed",
        "Crawl-delay honoured (capped by the operator's maximum)",
        "Sitemap records read",
        (
            "Content-Usage (IETF AIPREF), Content-Signal (Cloudflare), DisallowAITraining / "
            "AllowAITraining and License (RSL) records read as rights reservations"
        ),
        (
            "UTF-8, with or without a byte-order mark; UTF-16 and UTF-32 when a byte-order mark "
            "says so; CR, LF and CRLF line ends; unparseable lines skipped and the rest applied "
            "(RFC 9309 §2.3.1.5)"
        ),
        (
            "A robots.txt that is not text at all (NUL or control bytes, e.g. UTF-16 without a "
            "byte-order mark) cannot be read: complete disallow for the origin until it can"
        ),
    ]


def _knob(knobs: Mapping[str, Any], name: str) -> Any:
    """Return knob *name*, Heed's default for a knob the recorded policy predates."""
    return knobs[name] if name in knobs else getattr(DEFAULT_POLICY, name)


def _size(limit: int) -> str:
    if limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} MiB"
    if limit % 1024 == 0:
        return f"{limit // 1024} KiB"
    return f"{limit} bytes"


def robots_policy_lines(
    knobs: Mapping[str, Any], *, retry_seconds: float | None = None
) -> list[str]:
    """Return the robots.txt retrieval and error policy as sentences, from Policy *knobs*.

    *knobs* is :meth:`optout.decision.Policy.as_dict` of the policy in force (knobs missing
    from an older record take Heed's defaults). *retry_seconds* is the crawler's retry delay for
    an unreachable robots.txt (``OPTOUT_DEFER_TTL``), stated when given. The sentences follow
    optout.robots_fetch.outcome and optout.robots_fetch.cache_ttl exactly.
    """
    redirects = int(_knob(knobs, "robots_max_redirects"))
    limit = int(_knob(knobs, "robots_parse_limit"))
    allow_403 = bool(_knob(knobs, "robots_403_allow"))
    html_strict = bool(_knob(knobs, "robots_html_strict"))
    ai_blocks = bool(_knob(knobs, "treat_named_ai_blocks_as_reservation"))
    retry = (
        f"retried after {retry_seconds:g} seconds (or the server's Retry-After)"
        if retry_seconds is not None
        else "retried later"
    )
    hours = MAX_TTL / 3600
    lines = [
        (
            "robots.txt is fetched per origin (scheme, host and port) before any other request to "
            "that origin."
        ),
        "2xx: the file is parsed and its rules are followed (RFC 9309 §2.3.1.1)."
        + (
            " A 2xx answer whose body is an HTML page is treated as unreachable."
            if html_strict
            else " A 2xx answer whose body is an HTML page with no rules is logged."
        ),
        (
            f"3xx: up to {redirects} redirects are followed; more than {redirects} redirects mean "
            "complete disallow for the origin (RFC 9309 §2.3.1.2)."
        ),
        (
            "401 and 403: treated as 'unavailable', no crawl restrictions, as RFC 9309 "
            "§2.3.1.3 permits (this crawler's setting; Heed's default is complete disallow)."
            if allow_403
            else "401 and 403: complete disallow for the origin (a deliberate choice: RFC 9309 "
            "§2.3.1.3 permits but does not require treating them as unavailable)."
        ),
        f"429: complete disallow for the origin until the file can be read; {retry}.",
        (
            "Other 4xx (e.g. 404, 410): robots.txt unavailable, no crawl restrictions "
            "(RFC 9309 §2.3.1.3)."
        ),
        (
            f"5xx, unresolved redirects, network errors, timeouts and truncated bodies: complete "
            f"disallow for the origin (RFC 9309 §2.3.1.4), {retry}; an error is never cached as "
            "'allow'."
        ),
        (
            "While a refreshed robots.txt is unreachable, the last good copy is kept (never "
            "flipped to allow-all) (RFC 9309 §2.4)."
        ),
        (
            f"Caching: at most {hours:g} hours, shorter when Cache-Control max-age says so "
            "(RFC 9309 §2.4)."
        ),
        (
            f"Parsing limit: the first {_size(limit)} of the file are parsed (RFC 9309 §2.5 "
            "requires at least 500 KiB); the rest is ignored and logged."
        ),
        (
            "Matching: the group for our product token applies, else the * group; the longest "
            "matching rule wins and Allow wins a tie; * and $ wildcards are supported."
        ),
    ]
    if ai_blocks:
        lines.append(
            "A site that disallows a named AI training crawler (GPTBot, CCBot, ...) at / is "
            "treated as reserving AI training, although those groups do not bind our product "
            "token."
        )
    else:
        lines.append(
            "Blocks of other named AI crawlers are logged but do not bind our product token, "
            "and are not read as a reservation of AI training (this crawler's setting; Heed's "
            "default reads them as one)."
        )
    return lines
