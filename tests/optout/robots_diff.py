"""Differential of Heed's robots.txt reading against Protego's on a corpus of real files.

For every file of ``tests/data/robots_corpus`` and a set of URL paths built from the file's own
rule patterns (plus fixed paths), Heed's verdict (:func:`optout.robots.parse`, then
``can_fetch``) is compared with Protego's ``can_fetch`` for two product tokens: one that names
no group anywhere (so the ``*`` group applies) and ``Googlebot``. Protego reads the text Heed
decoded (UTF-8, BOM stripped, invalid octets replaced), so that decoding is not compared.

Each disagreement is explained by removing, one at a time, the differences Heed documents
(:data:`CAUSES`) until Protego's reading becomes Heed's:

* Protego is first given Heed's own group for the token (the rule lines Heed bound to it, as
  written). If its verdict changes, the groups differ: the cause is Heed's group selection or
  group builder, told apart by the token of the group each side chose.
* Otherwise both read the same lines, and a brute-force reference matcher
  (:func:`reference`) that reproduces Protego exactly, and Heed exactly with every correction
  switched on, is run with one correction at a time; the correction that alone turns Protego's
  verdict into Heed's is the cause (the first in :data:`CORRECTIONS` order if several do; if
  none does, the smallest set that does, reported as ``a+b``).

A disagreement the reference cannot reproduce on either side, or that no documented
difference explains, gets a cause outside :data:`CAUSES`, and the corpus test fails on it.
``bench/robots_diff.py`` prints the same report with examples.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from urllib.parse import unquote

from protego import Protego
from protego._urlpattern import _URLPattern
from protego._utils import _quote as protego_quote
from protego._utils import _quote_path as protego_quote_path

from optout import robots, urlmatch
from optout.robots import product_token
from optout.urlmatch import normalize_path, specificity

CORPUS = Path(__file__).resolve().parents[1] / "data" / "robots_corpus"
#: The corpus directories, one per source repository (README.md and MANIFEST.tsv there).
SOURCES = ("protego", "texting_robots")

#: Product tokens asked: one that no corpus file names (its ``*`` group applies), then tokens
#: many files name. A token is asked of a file only where either side binds it to a group other
#: than the first token's (elsewhere its verdicts are the first token's, already compared).
TOKENS = ("HeedCorpusBot", "Googlebot", "Googlebot-Image", "Bingbot")

#: Rule values sampled per file (evenly over the sorted distinct values): bounds the run time
#: on files with thousands of rules.
PATTERNS_PER_FILE = 32

#: Paths asked of every file.
FIXED_PATHS = (
    "/",
    "/robots.txt",
    "/index.html",
    "/a",
    "/search?q=1",
    "/%7Euser/",
    "/?",
    "/a%E9",
    "/ü",
    "/a b",
    "/wp-admin/",
    "/cgi-bin/x",
)

#: Every documented cause of disagreement, with the reason. A disagreement whose cause is not
#: a key here fails tests/optout/test_robots_corpus.py (docs/robots-corpus.md explains each).
CAUSES: dict[str, str] = {
    "dollar-literal": (
        "Protego reads a pattern with '$' twice: as written (a final '$' anchors) and again with "
        "every '$' as a literal %24, so that 'Allow: /a$' also allows the path '/a$'; Heed "
        "reads a final '$' only as the end anchor and any other '$' as a literal (RFC 9309 "
        "§2.2.3; docs/protocols.md#protego-deviations)"
    ),
    "index-html": (
        "Protego lets 'Allow: /d/index.html' also allow '/d/' (a Google-only rule); Heed follows "
        "RFC 9309 strictly (docs/protocols.md R44)"
    ),
    "pattern-validity": (
        "a path pattern must start with '/' or '*' (RFC 9309 §2.2.2, R53); Protego keeps the "
        "others and reads an absolute URL pattern 'https://h/p' as the path '/https://h/p'"
    ),
    "percent-normalisation": (
        "Heed keeps an escape that is not valid UTF-8 as its own octet and reads a '%' that "
        "starts no escape as '%25'; Protego turns every such octet into U+FFFD and leaves a bare "
        "'%', so that '%%32' reads as '%2' and a pattern can end inside an escape "
        "(optout/urlmatch.py, issue 11)"
    ),
    "specificity": (
        "Heed ranks a rule by the octets its pattern stands for (RFC 9309 §2.2.2: '/*?' is 3 "
        "octets, '/ü' 3); Protego by the length of its percent-encoded form ('/*%3F', 5; "
        "'/%C3%BC', 7) (optout/urlmatch.py, issue 11)"
    ),
    "group-membership": (
        "same token, different rules: Heed's group builder keeps a user-agent run open across "
        "non-rule records (Crawl-delay, unknown lines: RFC 9309 §2.2.4, R07/R62) and Protego "
        "closes it (D5)"
    ),
    "group-selection": (
        "the two choose groups of different tokens: Heed matches the product token exactly, "
        "reading a user-agent value up to its first character outside [A-Za-z_-] (R55, R58, "
        "R61); Protego finds the value anywhere in the token after a boundary (D1) and keeps "
        "the whole value ('googlebot/2.1', '* foo')"
    ),
}

#: Corrections the reference matcher can switch on, in the order causes are reported.
CORRECTIONS = (
    "index-html",
    "dollar-literal",
    "pattern-validity",
    "percent-normalisation",
    "specificity",
)

_RULE_VALUE = re.compile(
    r"^[ \t]*(?:allow|disallow)[ \t]*:?[ \t]*([^#\s]+)", re.IGNORECASE | re.MULTILINE
)
_FIRST_ALNUM = re.compile(r"[A-Za-z0-9]")
_LINE_END = re.compile(r"\r\n|\r|\n")


def corpus_files() -> list[Path]:
    """Return every corpus file, sorted (the provenance notes and licences are not)."""
    return sorted(p for source in SOURCES for p in (CORPUS / source).iterdir() if p.is_file())


def _variants(value: str) -> Iterator[str]:
    """Yield paths built from one rule value: matches, near misses and other spellings."""
    base = value.replace("*", "x")
    base = base.removesuffix("$")
    if not base.startswith("/"):
        base = "/" + base
    yield base
    yield base + "?q=1"
    yield base + "x"
    yield value if value.startswith("/") else "/" + value  # '*' and '$' as literal characters
    yield base[:-1] if base.endswith("/") and len(base) > 1 else base + "/"
    if base.endswith("/"):
        yield base + "index.html"
    elif base.endswith("/index.html"):
        yield base.removesuffix("index.html")
    m = _FIRST_ALNUM.search(base, 1)
    if m:
        i = m.start()
        yield f"{base[:i]}%{ord(base[i]):02x}{base[i + 1 :]}"  # an escaped unreserved character
    if "%" in base:
        yield unquote(base)


def paths_for(text: str) -> list[str]:
    """Return the URL paths asked of a robots.txt *text*: fixed ones, then its own variants."""
    values = sorted(set(_RULE_VALUE.findall(text)))
    if len(values) > PATTERNS_PER_FILE:
        step = len(values) / PATTERNS_PER_FILE
        values = [values[int(i * step)] for i in range(PATTERNS_PER_FILE)]
    paths = list(FIXED_PATHS)
    for value in values:
        paths.extend(_variants(value))
    return list(dict.fromkeys(paths))


# --- the reference matcher ---------------------------------------------------------------------


def _pattern(value: str, heed: frozenset[str]) -> str | None:
    """Return *value* normalised as Protego does, with Heed's corrections in *heed* applied."""
    value = value.strip()
    if not value:
        return None
    if "pattern-validity" in heed:
        if value[0] not in "/*":
            return None
    elif value.startswith(("https://", "http://")):
        value = "/" + value
    anchor = "$" if value.endswith("$") else ""
    body = value[:-1] if anchor else value
    if "percent-normalisation" in heed:
        quoted = urlmatch._quote(body, "/%*", "/%*=")
    else:
        quoted = protego_quote(body, "/%*", "/%*=")
    return (quoted + anchor) or None


def reference(lines: Iterable[tuple[str, str]], url: str, heed: frozenset[str]) -> bool:
    """Return the verdict of one group's rule *lines* ``(verb, value)`` for *url*, by brute force:
    Protego's reading, with the corrections named in *heed* switched to Heed's."""
    path = (
        normalize_path(url) if "percent-normalisation" in heed else protego_quote_path(url or "/")
    )
    if path == "/robots.txt":
        return True
    rules: list[tuple[int, bool, str]] = []

    def add(allow: bool, pattern: str | None) -> None:
        if pattern:
            weight = specificity(pattern) if "specificity" in heed else len(pattern)
            rules.append((weight, allow, pattern))

    for verb, value in lines:
        allow = verb == "allow"
        pattern = _pattern(value, heed)
        if pattern is None:
            continue
        add(allow, pattern)
        if "dollar-literal" not in heed and "$" in value:
            add(allow, _pattern(value.replace("$", "%24"), heed))
        if "index-html" not in heed and allow and pattern.endswith("/index.html"):
            add(True, pattern.removesuffix("index.html") + "$")
    rules.sort(key=lambda r: (r[0], r[1]), reverse=True)
    for _weight, allow, pattern in rules:
        if _URLPattern(pattern).match(path):
            return allow
    return True


# --- Heed's group, as written ------------------------------------------------------------------


def heed_group_lines(text: str, token: str) -> list[tuple[str, str]]:
    """Return the rule lines ``(verb, value as written)`` Heed binds to *token*, in file order,
    including those whose pattern Heed then rejects (empty, or not starting with ``/``/``*``).

    Each rule line is replaced by a marker pattern naming its line before Heed parses the text,
    so that the group builder's choice is read back without reimplementing it.
    """
    lines = _LINE_END.split(text)
    rules: dict[int, tuple[str, str]] = {}
    marked = []
    for number, line in enumerate(lines):
        record = robots._split_record(line.split("#", 1)[0].strip())
        if record is not None and (record[0] in robots._ALLOW or record[0] in robots._DISALLOW):
            verb = "allow" if record[0] in robots._ALLOW else "disallow"
            rules[number] = (verb, record[1])
            line = f"{verb}: /~{number}"
        marked.append(line)
    group = robots.parse("\n".join(marked)).group_for(token)
    if group is None:
        return []
    return [rules[int(rule.raw[2:])] for rule in group.rules]


# --- the differential --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Disagreement:
    """One query on which Heed and Protego disagree, and why."""

    file: str
    token: str
    url: str
    heed: bool
    protego: bool
    cause: str
    detail: str = ""


@dataclass(slots=True)
class Report:
    """The outcome of the differential on a set of files."""

    files: int = 0
    queries: int = 0
    #: Queries per token.
    asked: Counter[str] = field(default_factory=Counter)
    disagreements: list[Disagreement] = field(default_factory=list)

    @property
    def agreement(self) -> float:
        """Return the share of queries on which both agree (1.0 when there were none)."""
        return 1 - len(self.disagreements) / self.queries if self.queries else 1.0

    def by_cause(self) -> Counter[str]:
        """Return the number of disagreements per cause."""
        return Counter(d.cause for d in self.disagreements)

    def by_token(self) -> dict[str, tuple[int, int]]:
        """Return (queries, disagreements) per token, in :data:`TOKENS` order."""
        missed = Counter(d.token for d in self.disagreements)
        return {t: (self.asked[t], missed[t]) for t in TOKENS if self.asked[t]}

    def files_by_cause(self) -> dict[str, set[str]]:
        """Return the files showing each cause."""
        out: dict[str, set[str]] = {}
        for d in self.disagreements:
            out.setdefault(d.cause, set()).add(d.file)
        return out

    def unexplained(self) -> list[Disagreement]:
        """Return the disagreements whose cause is not documented in :data:`CAUSES` (a cause
        ``a+b``, two corrections needed together, is documented when both parts are)."""
        return [d for d in self.disagreements if not set(d.cause.split("+")) <= set(CAUSES)]

    def summary(self) -> str:
        """Return a few lines: agreement rate and the count per cause."""
        agreed = self.queries - len(self.disagreements)
        out = [
            (
                f"robots.txt corpus: {self.files} files, {self.queries} queries, "
                f"{agreed} agree ({100 * self.agreement:.3f} %), "
                f"{len(self.disagreements)} disagree"
            )
        ]
        for token, (asked, missed) in self.by_token().items():
            out.append(f"  token {token}: {asked} queries, {missed} disagree")
        files = self.files_by_cause()
        for cause, count in sorted(self.by_cause().items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"  {cause}: {count} queries, {len(files[cause])} files")
        return "\n".join(out)


@dataclass(slots=True)
class _FileSide:
    """What explaining the disagreements of one file and token needs, computed once."""

    lines: list[tuple[str, str]]
    #: Protego given only Heed's group (as a ``*`` group).
    on_heed_group: Protego
    #: The token of the group each side chose (None: no group).
    ours: str | None
    theirs: str | None


def _side(text: str, heed: robots.RobotsTxt, protego: Protego, token: str) -> _FileSide:
    lines = heed_group_lines(text, token)
    body = "User-agent: *\n" + "".join(f"{verb}: {value}\n" for verb, value in lines)
    group = heed.group_for(token)
    chosen = protego._get_matching_rule_set(token)
    return _FileSide(
        lines,
        Protego.parse(body),
        group.token if group is not None else None,
        chosen.user_agent if chosen is not None else None,
    )


def _explain(side: _FileSide, url: str, heed_verdict: bool, verdict: bool) -> tuple[str, str]:
    """Return (cause, detail) of one disagreement."""
    lines = side.lines
    if side.on_heed_group.can_fetch(url, "x") != verdict:
        detail = f"Heed's group {side.ours!r}, Protego's {side.theirs!r}"
        if side.theirs is None or product_token(side.theirs) != side.ours:
            return "group-selection", detail
        return "group-membership", detail
    if reference(lines, url, frozenset()) != verdict:
        return "unexplained: the reference does not reproduce Protego", ""
    if reference(lines, url, frozenset(CORRECTIONS)) != heed_verdict:
        return "unexplained: the reference does not reproduce Heed", ""
    for size in range(1, len(CORRECTIONS) + 1):
        found = [
            "+".join(combo)
            for combo in combinations(CORRECTIONS, size)
            if reference(lines, url, frozenset(combo)) == heed_verdict
        ]
        if found:
            return found[0], "; ".join(found[1:])
    return "unexplained: no correction explains it", ""


def run(files: Iterable[Path] | None = None) -> Report:
    """Return the differential of every file in *files* (default: the whole corpus)."""
    report = Report()
    for path in corpus_files() if files is None else files:
        body = path.read_bytes()
        ours = robots.parse(body)
        text, _notes = robots.decode(body, 2 * 1024 * 1024)
        theirs = Protego.parse(text)
        name = str(path.relative_to(CORPUS))
        report.files += 1
        base = (ours.group_for(TOKENS[0]), theirs._get_matching_rule_set(TOKENS[0]))
        tokens = [TOKENS[0]] + [
            t for t in TOKENS[1:] if (ours.group_for(t), theirs._get_matching_rule_set(t)) != base
        ]
        sides: dict[str, _FileSide] = {}
        for url in paths_for(text):
            normalized = normalize_path(url)
            for token in tokens:
                report.queries += 1
                report.asked[token] += 1
                heed_verdict = ours.can_fetch(normalized, token)[0]
                verdict = theirs.can_fetch(url, token)
                if heed_verdict != verdict:
                    side = sides.get(token)
                    if side is None:
                        side = sides[token] = _side(text, ours, theirs, token)
                    cause, detail = _explain(side, url, heed_verdict, verdict)
                    report.disagreements.append(
                        Disagreement(name, token, url, heed_verdict, verdict, cause, detail)
                    )
    return report
