"""The published documents in words for people: no internal identifier, no ambiguous date, no
line said twice (issue 12, item 10).

One ``heed demo`` run gives the documents of a crawl that met every protocol the demo web
shows; the Markdown forms are rendered from the same database. Code spans (``<code>``, Markdown
backticks) are left out of the search: they are where a document shows a machine name on
purpose, beside the words for it (a parser version, a policy setting's name).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re

import pytest
from click.testing import CliRunner

from heed.cli import main
from optout.action import Action
from optout.decision import Policy, Protocol
from policy.summary.labels import FIELDS, LAST_UPDATE_LABEL
from tests.heed.test_demo import run_demo

#: Recorded values that are words already (robots.txt, ai.txt) or appear in specifications' own
#: names (c2pa.training-mining), and actions whose value is a plain English word.
_PLAIN = {
    "robots.txt", "ai.txt", "rsl", "c2pa", "iptc", "registry", "redirected", "deferred",
    "denylisted",
}  # fmt: skip
INTERNAL_IDS = sorted(
    (
        {p.value for p in Protocol}
        | {a.value for a in Action}
        | {f.name for f in dataclasses.fields(Policy)}
    )
    - _PLAIN
    - {"error", "purpose"}
)
_ID = re.compile(
    r"(?<![\w./-])(?:" + "|".join(re.escape(i) for i in INTERNAL_IDS) + r")(?![\w-])"
    r"|policy knob"
)
#: A numeric day/month or month/year date (04/12/26, 12/2026), which readers take either way.
_NUMERIC_DATE = re.compile(
    r"(?<![\w/.])\d{1,2}/\d{1,2}(?:/\d{2,4})?(?![\w/])|(?<![\w/.])\d{2}/\d{4}\b"
)
_ISO_DATE = re.compile(r"(?<!\d)\d{4}-\d{2}(?:-\d{2})?(?!\d)")
_SPELLED_DAY = re.compile(r"[1-3]?\d [A-Z][a-z]+ \d{4} \((\d{4}-\d{2}-\d{2})\)")
_SPELLED_MONTH = re.compile(r"[A-Z][a-z]+ \d{4} \((\d{4}-\d{2})\)")


def heed(*args: str) -> str:
    """Run ``heed`` in-process; return its standard output."""
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _html_text(page: str, *, cells: bool = True) -> str:
    """Return what a reader sees of *page*: no style, no markup, no code elements (nor the
    tables of many columns, unless *cells*: a column repeats its values by design)."""
    page = re.sub(r"<(style|code)\b.*?</\1>", " ", page, flags=re.DOTALL)
    if not cells:
        page = re.sub(r'<table class="cols">.*?</table>', " ", page, flags=re.DOTALL)
    page = re.sub(r"<[^>]+>", "\n", page)
    return html.unescape(page)


def _md_text(text: str) -> str:
    """Return the Markdown *text* without its code spans."""
    return re.sub(r"`[^`\n]*`", " ", text)


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Return ``{name: reader-visible text}`` of every public document of a demo crawl."""
    where = tmp_path_factory.mktemp("words")
    done = run_demo(where)
    assert done.returncode == 0, done.stderr[-3000:]
    demo = where / "heed-demo"
    db, config = str(demo / "heed.db"), str(demo / "heed.toml")
    published = demo / "published"
    out: dict[str, str] = {
        name: _html_text((published / name).read_text(encoding="utf-8"))
        for name in (
            "summary.html",
            "copyright-policy.html",
            "copyright-policy-public.html",
            "crawler-info.html",
        )
    }
    summary = ("report", "summary", "--db", db, "--config", config, "--format", "md")
    for name in list(out):
        page = (published / name).read_text(encoding="utf-8")
        out[f"{name} prose"] = _html_text(page, cells=False)
    out["summary.md"] = _md_text(heed(*summary))
    for variant in ((), ("--public",)):
        policy = ("report", "policy", "--db", db, "--config", config, "--format", "md")
        out[f"copyright-policy{'-public' if variant else ''}.md"] = _md_text(
            heed(*policy, *variant)
        )
    return out


def _names() -> list[str]:
    return [
        "summary.html",
        "summary.md",
        "copyright-policy.html",
        "copyright-policy.md",
        "copyright-policy-public.html",
        "copyright-policy-public.md",
        "crawler-info.html",
    ]


def test_the_identifiers_searched_for_are_real() -> None:
    """A guard against a search that finds nothing because it looks for nothing."""
    for known in ("tdmrep-file", "content-signal-robots.txt", "skipped-reservation"):
        assert _ID.search(f"excluded by {known}: 1 URL"), known
    assert _ID.search("policy knob robots_403_allow = false")
    assert not _ID.search("heed-tdmrep/1, robots.txt, TDMRep file /.well-known/tdmrep.json")
    assert _NUMERIC_DATE.search("Last update 04/12/26")
    assert _NUMERIC_DATE.search("12/2026 to 12/2026")
    assert not _NUMERIC_DATE.search("401/402/403, heed-robots/1, Mozilla/5.0, 1 / 4")


@pytest.mark.parametrize("name", _names())
def test_no_internal_identifier_in_public_documents(documents: dict[str, str], name: str) -> None:
    """Protocols, actions and policy choices are named in words: never "tdmrep-file",
    "skipped-reservation" or "policy knob robots_403_allow = false"."""
    found = sorted({m.group(0) for m in _ID.finditer(documents[name])})
    assert not found, f"{name}: {found}"


@pytest.mark.parametrize("name", _names())
def test_dates_are_unambiguous(documents: dict[str, str], name: str) -> None:
    """Every date is ISO 8601, or spelled out beside its ISO form where the template asks
    for a format of its own; no numeric DD/MM or MM/YYYY anywhere."""
    text = documents[name]
    assert not _NUMERIC_DATE.findall(text), name
    for iso in _ISO_DATE.findall(text):
        dt.date.fromisoformat(iso if len(iso) == 10 else f"{iso}-01")


@pytest.mark.parametrize("name", ["summary.html", "summary.md"])
def test_the_summary_dates_spell_out_the_template_formats(
    documents: dict[str, str], name: str
) -> None:
    text = re.sub(r"\s+", " ", documents[name])
    after = text.split(LAST_UPDATE_LABEL, 1)[1]
    last_update = _SPELLED_DAY.search(after)
    assert last_update is not None
    assert after.index(last_update.group(0)) < 10  # the field's value, right after its label
    when = dt.date.fromisoformat(last_update.group(1))
    assert last_update.group(0).startswith(f"{when.day} {when:%B} {when.year}")
    period = re.search(
        rf"Period of data collection\W+({_SPELLED_MONTH.pattern}) to ({_SPELLED_MONTH.pattern})",
        text,
    )
    assert period is not None, text[:3000]
    latest = re.search(
        rf"Latest date of data acquisition/collection for model training\W+"
        rf"({_SPELLED_MONTH.pattern})",
        text,
    )
    assert latest is not None


@pytest.mark.parametrize("name", _names())
def test_no_line_is_said_twice(documents: dict[str, str], name: str) -> None:
    """A sentence appears once per document; only the template's own labels (each section's
    "Additional comments (optional)", …) and short answers (Yes, Not applicable) repeat."""
    labels = {spec.label for fields in FIELDS.values() for spec in fields}
    lines = [
        line.strip(" -*#|:")
        for line in documents.get(f"{name} prose", documents[name]).splitlines()
        if len(line.strip(" -*#|:")) > 40
    ]
    said = [line for line in lines if line not in labels and not line.startswith("Public Summary")]
    repeated = sorted({line for line in said if said.count(line) > 1})
    assert not repeated, f"{name}: {repeated}"


def test_the_demo_web_met_the_protocols_named(documents: dict[str, str]) -> None:
    """The summary's exclusions name the protocols the demo web uses, in words."""
    text = documents["summary.html"]
    for words in (
        "Cloudflare Content-Signal in robots.txt: 1 URL",
        "TDMRep file /.well-known/tdmrep.json: 1 URL",
        "TDMRep HTTP header: 1 URL",
        "skipped: rights reserved",
    ):
        assert words in text, words
