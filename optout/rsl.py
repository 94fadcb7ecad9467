"""RSL 1.0 (Really Simple Licensing): discovery and per-usage verdicts (docs/protocols.md#rsl).

Discovery: robots.txt ``License:`` records (global, never tied to a group; relative URLs are
non-conformant but resolved against the robots.txt URL, L09), ``Link: <…>; rel="license";
type="application/rsl+xml"`` headers (L08) and the same ``<link>`` in HTML.

The licence document (namespace ``https://rslstandard.org/rsl``, parsed with defusedxml) holds
``<content url>`` elements matched with the shared RFC 9309 matcher (most specific wins), each
with licences whose ``<permits type="usage">`` / ``<prohibits type="usage">`` tokens map onto
Heed's purposes. Heed's readings, where RSL's normative text was not available
(docs/protocols.md#rsl-readings):

* a prohibited use is RESERVED; when a licence lists permitted uses, every use *not* listed is
  RESERVED too (a use the licence does not grant is not licensed; L02);
* several ``<license>`` elements are combined most-restrictively (Heed buys no licence itself);
* ``server=`` means a licence must be obtained first: ``licence_required`` (L05, X11);
* a declared licence that cannot be read (404, 5xx, network error, invalid XML, not RSL) defers
  tdm, train-ai and ai-input with ``rsl_unresolvable`` (L06) — it was declared, so its absence is
  not "no signal".
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import defusedxml.ElementTree as DET

from optout.decision import Protocol, Purpose, Signal, Verdict, most_restrictive
from optout.document import FetchResult, HeaderPairs, header_values
from optout.html_head import HtmlHead
from optout.robots import RobotsTxt
from optout.urlmatch import Rule, RuleMatcher, normalize_path, normalize_pattern

PARSER = "heed-rsl/1"
RSL_NS = "https://rslstandard.org/rsl"
MEDIA_TYPE = "application/rsl+xml"
#: Bytes of a licence document parsed; real ones are a few KiB. Larger ⇒ unresolvable.
MAX_BYTES = 1024 * 1024
#: ``<content>`` elements kept, and licence URLs discovered per source.
MAX_CONTENTS = 1_000
MAX_LINKS = 32
#: Characters of a Link header value read.
MAX_HEADER_CHARS = 16 * 1024

_ALL = (Purpose.TDM, Purpose.TRAIN_AI, Purpose.AI_INPUT, Purpose.SEARCH)
_AI = (Purpose.TDM, Purpose.TRAIN_AI, Purpose.AI_INPUT)
#: Prohibited usage token ⇒ purposes reserved. ``ai-train`` is training only, as AIPREF's
#: ``train-ai``; ``ai-index`` (AI retrieval indexes) is closest to ai-input
#: (docs/protocols.md#rsl-readings).
_PROHIBITS: dict[str, tuple[Purpose, ...]] = {
    "all": _ALL,
    "ai-all": _AI,
    "ai-train": (Purpose.TRAIN_AI,),
    "ai-input": (Purpose.AI_INPUT,),
    "ai-index": (Purpose.AI_INPUT,),
    "search": (Purpose.SEARCH,),
}
#: Permitted usage token ⇒ purposes granted. ``ai-index`` grants nothing Heed can use: it is
#: narrower than ai-input (RAG, grounding), so granting that from it would not be conservative.
_PERMITS: dict[str, tuple[Purpose, ...]] = {**_PROHIBITS, "ai-index": ()}
_SPLIT = re.compile(r"[\s,]+")
_PARAM = re.compile(r'\s*;\s*([^\s=;,]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;,]*))?')


def _absolute(base: str, ref: str) -> str | None:
    """Return *ref* resolved against *base* if it is an http(s) URL, else None."""
    try:
        url = urljoin(base, ref.strip())
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def license_urls(robots: RobotsTxt, robots_url: str) -> list[tuple[str, int, bool]]:
    """Return (absolute URL, line, non-conformant) for every robots.txt ``License:`` record."""
    found: list[tuple[str, int, bool]] = []
    seen: set[str] = set()
    for line, value in robots.licenses:
        try:
            absolute = bool(urlsplit(value).scheme)
        except ValueError:
            continue
        # RSL wants an absolute URL; a relative one is resolved anyway and flagged (L09).
        url = _absolute(robots_url, value)
        if url is None or url in seen or len(found) >= MAX_LINKS:
            continue
        seen.add(url)
        found.append((url, line, not absolute))
    return found


def links_from_headers(headers: HeaderPairs, base_url: str) -> list[str]:
    """Return the RSL licence URLs of ``Link: <…>; rel="license"; type="application/rsl+xml"``."""
    found: list[str] = []
    for value in header_values(headers, "link"):
        for target, params in _parse_link(value[:MAX_HEADER_CHARS]):
            rels = params.get("rel", "").lower().split()
            if "license" in rels and params.get("type", "").strip().lower() == MEDIA_TYPE:
                url = _absolute(base_url, target)
                if url is not None and url not in found and len(found) < MAX_LINKS:
                    found.append(url)
    return found


def links_from_html(head: HtmlHead, base_url: str) -> list[str]:
    """Return the RSL licence URLs of ``<link rel="license" type="application/rsl+xml">``."""
    found: list[str] = []
    for link in head.links:
        if "license" in link.rel and link.type.strip() == MEDIA_TYPE:
            url = _absolute(base_url, link.href)
            if url is not None and url not in found and len(found) < MAX_LINKS:
                found.append(url)
    return found


def _parse_link(value: str) -> list[tuple[str, dict[str, str]]]:
    """Return (target, lower-cased params) of each link-value in a Link header (RFC 8288)."""
    links: list[tuple[str, dict[str, str]]] = []
    pos = 0
    while len(links) < MAX_LINKS:
        start = value.find("<", pos)
        end = value.find(">", start + 1) if start >= 0 else -1
        if end < 0:
            break
        params: dict[str, str] = {}
        pos = end + 1
        while (m := _PARAM.match(value, pos)) is not None and m.end() > pos:
            raw = (m.group(2) or "").strip()
            if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
                raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
            params.setdefault(m.group(1).lower(), raw)
            pos = m.end()
        links.append((value[start + 1 : end].strip(), params))
    return links


@dataclass(frozen=True, slots=True, kw_only=True)
class RslContent:
    """One ``<content>`` element: its URL pattern and what its licences say per purpose."""

    url: str
    server: str | None
    purposes: dict[Purpose, Verdict]
    flags: tuple[str, ...]
    #: A short rendering of the element for evidence.
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RslLicense:
    """A retrieved RSL licence document, or the reason it could not be read."""

    url: str
    status: int | None = None
    sha256: str | None = None
    fetched_at: str | None = None
    contents: tuple[RslContent, ...] = ()
    #: Why the document could not be used (``http_404``, ``invalid_xml``, …); None when it was.
    unresolvable: str | None = None
    flags: tuple[str, ...] = ()
    matcher: RuleMatcher = field(default_factory=lambda: RuleMatcher(()), repr=False, compare=False)

    def evaluate(self, path: str) -> Signal | None:
        """Return what the licence says about *path* (a path or URL), None if no content matches."""
        if self.unresolvable is not None:
            return self._signal(
                dict.fromkeys(_AI, Verdict.DEFER),
                f"RSL licence declared but unreadable ({self.unresolvable}): AI uses deferred",
                ("rsl_unresolvable", self.unresolvable, *self.flags),
            )
        best = self.matcher.best(normalize_path(path))
        if not best:
            return None
        matched = [self.contents[rule.value] for rule in best]
        purposes: dict[Purpose, Verdict] = {}
        for purpose in _ALL:
            verdicts = [c.purposes[purpose] for c in matched if purpose in c.purposes]
            if verdicts:
                purposes[purpose] = most_restrictive(verdicts)
        flags = tuple(dict.fromkeys(f for c in matched for f in (*self.flags, *c.flags)))
        required = any(c.server for c in matched)
        reserved = [p.value for p, v in purposes.items() if v is Verdict.RESERVED]
        reason = f"RSL licence for {matched[0].url!r}: " + (
            f"{', '.join(reserved)} not licensed" if reserved else "no use reserved"
        )
        if required:
            reason += "; a licence must be obtained from the licence server first"
        rule = " | ".join(c.text for c in matched)
        return self._signal(purposes, reason, flags, rule=rule, licence_required=required)

    def _signal(
        self,
        purposes: dict[Purpose, Verdict],
        reason: str,
        flags: tuple[str, ...],
        *,
        rule: str | None = None,
        licence_required: bool = False,
    ) -> Signal:
        return Signal(
            protocol=Protocol.RSL,
            purposes=purposes,
            reason=reason,
            source=self.url,
            status=self.status,
            rule=rule,
            sha256=self.sha256,
            parser=PARSER,
            flags=flags,
            licence_url=self.url,
            licence_required=licence_required,
            fetched_at=self.fetched_at,
        )


def _unresolvable(result: FetchResult, cause: str) -> RslLicense:
    return RslLicense(
        url=result.url,
        status=result.status,
        sha256=result.sha256 if result.status is not None else None,
        fetched_at=result.fetched_at,
        unresolvable=cause,
    )


def parse_license(result: FetchResult) -> RslLicense:
    """Parse a fetched RSL licence document; an unreadable one defers AI uses (L06)."""
    if not isinstance(result, FetchResult):
        raise TypeError(f"result must be a FetchResult, not {type(result).__name__}")
    if result.status is None or result.error:
        return _unresolvable(result, result.error or "no_response")
    if not 200 <= result.status < 300:
        return _unresolvable(result, f"http_{result.status}")
    if result.truncated or len(result.body) > MAX_BYTES:
        return _unresolvable(result, "too_large")
    try:
        root: ET.Element = DET.fromstring(result.body)
    except Exception:  # noqa: BLE001 - ParseError, defusedxml's entity/DTD refusals, bad encodings
        return _unresolvable(result, "invalid_xml")
    doc_flags: list[str] = []
    if _local(root, doc_flags) != "rsl":
        return _unresolvable(result, "not_rsl")
    contents: list[RslContent] = []
    rules: list[Rule] = []
    for element in root.iter():
        if len(contents) >= MAX_CONTENTS:
            doc_flags.append("truncated")
            break
        if element is root or _local(element, doc_flags) != "content":
            continue
        content, pattern = _content(element)
        rules.append(Rule(raw=content.url, pattern=pattern, value=len(contents), text=content.text))
        contents.append(content)
    return RslLicense(
        url=result.url,
        status=result.status,
        sha256=result.sha256,
        fetched_at=result.fetched_at,
        contents=tuple(contents),
        flags=tuple(dict.fromkeys(doc_flags)),
        matcher=RuleMatcher(rules),
    )


def _local(element: ET.Element, flags: list[str]) -> str | None:
    """Return the local name of an RSL element; lenient about a missing or variant namespace."""
    tag = element.tag
    if not isinstance(tag, str):  # comments and processing instructions
        return None
    ns, _, local = tag[1:].rpartition("}") if tag.startswith("{") else ("", "", tag)
    if ns == RSL_NS:
        return local
    if ns == "" or "rslstandard.org" in ns:
        # Lenience: an RSL vocabulary without (or with a variant of) the namespace is still RSL.
        flags.append("lenient")
        return local
    return None


def _content(element: ET.Element) -> tuple[RslContent, str]:
    """Return one ``<content>`` element read into verdicts, with its normalised URL pattern."""
    flags: list[str] = []
    url = (element.get("url") or "").strip()[:2048]
    pattern = _pattern(url, flags)
    server = (element.get("server") or "").strip() or None
    licences = [e for e in element if _local(e, flags) == "license"]
    if not licences:
        # Lenience: permits/prohibits written directly under <content>.
        licences = [element]
    purposes: dict[Purpose, Verdict] = {}
    text_parts = [f'content url="{url}"' + (f' server="{server}"' if server else "")]
    for licence in licences:
        verdicts = _licence(licence, flags, text_parts)
        for purpose, verdict in verdicts.items():
            purposes[purpose] = most_restrictive((purposes.get(purpose, verdict), verdict))
    content = RslContent(
        url=url,
        server=server,
        purposes=purposes,
        flags=tuple(dict.fromkeys(flags)),
        text="; ".join(text_parts)[:1024],
    )
    return content, pattern


def _pattern(url: str, flags: list[str]) -> str:
    """Return the normalised matching pattern of a ``content url`` (full URL: its path)."""
    if not url:
        # Lenience: a content element without url covers the whole site.
        flags.append("lenient")
        return "/"
    if "://" in url:
        try:
            parts = urlsplit(url)
            url = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        except ValueError:
            flags.append("invalid_value")
            url = "/"
    pattern = normalize_pattern(url)
    if pattern is None:
        flags.append("nonconformant")
        pattern = normalize_pattern("/" + url.lstrip("/")) or "/"
    return pattern


def _licence(licence: ET.Element, flags: list[str], text: list[str]) -> dict[Purpose, Verdict]:
    """Return the per-purpose verdicts of one ``<license>``."""
    prohibited: set[Purpose] = set()
    permitted: set[Purpose] | None = None
    for child in licence:
        name = _local(child, flags)
        if name not in ("permits", "prohibits"):
            if name == "payment":
                flags.append("payment")
            continue
        kind = (child.get("type") or "usage").strip().lower()
        tokens = [t.lower() for t in _SPLIT.split((child.text or "")[:4096]) if t]
        if kind != "usage":
            # user / geo restrictions: recorded; Heed cannot map them onto purposes.
            flags.append(f"{kind[:16]}_restricted")
            continue
        table = _PERMITS if name == "permits" else _PROHIBITS
        mapped: set[Purpose] = set()
        for token in tokens:
            if token in table:
                mapped.update(table[token])
            else:
                flags.append("invalid_value")
        text.append(f"{name} usage: {' '.join(tokens)}")
        if name == "permits":
            permitted = (permitted or set()) | mapped
        else:
            prohibited |= mapped
    verdicts = dict.fromkeys(prohibited, Verdict.RESERVED)
    if permitted is not None:
        for purpose in _ALL:
            if purpose in prohibited and purpose in permitted:
                flags.append("conflict")
            elif purpose not in permitted:
                # Conservative: a use the licence does not grant is not licensed (L02).
                verdicts[purpose] = Verdict.RESERVED
            elif purpose not in prohibited:
                verdicts[purpose] = Verdict.NOT_RESERVED
    return verdicts
