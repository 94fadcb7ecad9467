"""The README keeps up with the code: every ``heed`` command is shown there and has help.

And the code's citations stay inside the repository: a comment that cites the protocol or
regulation notes cites ``docs/<page>.md`` (never a file outside the repository), and every
``docs/<page>.md#anchor`` cited exists as a heading of that page.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import unicodedata
from functools import cache
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from heed.cli import main
from heed.cli.lazy import COMMANDS
from heed.cli.report import SUBCOMMANDS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "heed") -> list[tuple[str, click.Command]]:
    found = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        found.append((f"{prefix} {name}", command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{prefix} {name}"))
    return found


@pytest.mark.parametrize(
    ("name", "command"), _commands(main), ids=lambda v: v if isinstance(v, str) else ""
)
def test_command_is_documented_and_has_help(name: str, command: click.Command) -> None:
    """Each command (and subcommand) appears in the README and has a help text."""
    assert name in README, f"README never shows {name!r}"
    assert command.help, f"{name} has no help"
    result = CliRunner().invoke(main, [*name.split()[1:], "--help"])
    assert result.exit_code == 0


@pytest.mark.parametrize("registry", [COMMANDS, SUBCOMMANDS], ids=["heed", "heed report"])
def test_lazy_help_matches_the_commands(registry: dict[str, tuple[str, str, str]]) -> None:
    """The short help listed without importing a command is that command's own."""
    for module, attr, short in registry.values():
        command = getattr(importlib.import_module(module), attr)
        assert short == command.get_short_help_str(limit=200)


def test_help_and_lookups_do_not_load_the_crawler() -> None:
    """`heed --help` and `heed status` start without importing Scrapy (start-up time)."""
    code = (
        "import sys; from click.testing import CliRunner; from heed.cli import main; "
        "CliRunner().invoke(main, ['--help']); CliRunner().invoke(main, ['status', '--help']); "
        "print('scrapy' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


def test_readme_keeps_the_two_newcomer_commands() -> None:
    """The demo and the test command are there, each installing from scratch."""
    assert 'pip install -e ".[dev]" && heed demo' in README
    assert 'pip install -e ".[dev]" && pytest' in README


def test_heed_toml_tables_agree() -> None:
    """`heed crawl --config` accepts exactly the provider tables the reports read."""
    from crawler.run import PROVIDER_TABLES
    from policy.provider import TABLES

    assert tuple(PROVIDER_TABLES) == tuple(TABLES)


def test_every_heed_setting_is_in_the_readme_table() -> None:
    """The README's settings table lists exactly the OPTOUT_*/HEED_* settings that exist."""
    import re

    from crawler import defaults

    names = {n for n in vars(defaults) if n.startswith(("OPTOUT_", "HEED_"))}
    table = set(re.findall(r"^\| `((?:OPTOUT|HEED)_[A-Z_]+)` \|", README, flags=re.MULTILINE))
    assert table == names


# -- citations into docs/ --------------------------------------------------------------------------

#: Notes that live in docs/ under these names; anywhere else in the repository they are cited as
#: ``docs/<name>.md`` (a bare name pointed at notes outside the repository).
DOC_NAMES = ("protocols", "regulation", "style", "landscape")
#: Files copied byte for byte from elsewhere (their provenance is documented beside them): the
#: protocol test vectors keep their source's section numbers, the corpus is real-world files.
VENDORED = ("tests/data/vectors/", "tests/data/robots_corpus/")
_BARE = re.compile(r"(?<![\w-])(?:" + "|".join(DOC_NAMES) + r")\.md\b")
#: ``docs/<page>.md#anchor`` anywhere; an anchor is letters, digits, ``-`` and ``_`` (so a full stop
#: ending the sentence is not part of it).
_CITED_ANCHOR = re.compile(r"(?<![\w-])docs/([\w-]+\.md)#([\w-]+)")
#: ``docs/<page>.md AC-07`` / ``docs/<page>.md R36``: a case identifier explained on that page.
_CITED_ID = re.compile(r"(?<![\w-])docs/([\w-]+\.md) (AC-\d\d|[A-Z]\d\d?[a-c]?)\b")
#: A relative Markdown link inside docs/: ``](<page>.md#anchor)``, ``](#anchor)``, ``](<page>.md)``.
_LINK = re.compile(r"\]\(([\w-]+\.md)?(?:#([\w-]+))?\)")
_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


@cache
def _tracked_files() -> tuple[str, ...]:
    """Return the repository's tracked files (relative paths), or its files when git is absent."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        names = [n for n in out.decode("utf-8").split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = []
    if not names:
        skip = {".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
        names = [
            p.relative_to(ROOT).as_posix()
            for p in ROOT.rglob("*")
            if p.is_file() and not skip.intersection(p.relative_to(ROOT).parts)
        ]
    return tuple(sorted(n for n in names if (ROOT / n).is_file()))


def _text(name: str) -> str | None:
    """Return a tracked file's text, None for a binary file."""
    data = (ROOT / name).read_bytes()
    if b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace")


def github_anchor(heading: str) -> str:
    """Return the anchor GitHub gives a Markdown heading: its text lower-cased, every character
    but letters, digits, ``_``, ``-`` and spaces dropped, each space turned into ``-``."""
    text = _MD_LINK.sub(r"\1", heading).lower()
    kept = (
        ch
        for ch in text
        if ch in " -" or unicodedata.category(ch)[0] in "LMN" or unicodedata.category(ch) == "Pc"
    )
    return "".join(kept).replace(" ", "-")


@cache
def anchors(page: str) -> frozenset[str]:
    """Return every heading anchor of ``docs/<page>`` (duplicates numbered as GitHub does)."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    fenced = False
    for line in (ROOT / "docs" / page).read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        m = None if fenced else _HEADING.match(line)
        if m is None:
            continue
        slug = github_anchor(m.group(2))
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return frozenset(found)


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("robots.txt status codes", "robotstxt-status-codes"),
        ("Scrapy's robots middleware", "scrapys-robots-middleware"),
        ("Measure 1.3 rights reservations", "measure-13-rights-reservations"),
        ("`Content-Usage` and [RSL](https://rslstandard.org/)", "content-usage-and-rsl"),
        ("The template's fields", "the-templates-fields"),
    ],
)
def test_github_anchor(heading: str, anchor: str) -> None:
    """Anchors are computed the way GitHub renders them."""
    assert github_anchor(heading) == anchor


def test_no_citation_of_notes_outside_the_repository() -> None:
    """Outside docs/, the notes of :data:`DOC_NAMES` are cited only as ``docs/<name>.md``: the
    notes a bare name cited are not part of a clone."""
    offenders = []
    for name in _tracked_files():
        if name.startswith(("docs/", *VENDORED)):
            continue
        text = _text(name)
        if text is None:
            continue
        for m in _BARE.finditer(text):
            if not text[: m.start()].endswith("docs/"):
                line = text.count("\n", 0, m.start()) + 1
                offenders.append(f"{name}:{line}: {m.group(0)}")
    assert offenders == []


def test_cited_docs_and_anchors_exist() -> None:
    """Every ``docs/<page>.md``, ``docs/<page>.md#anchor`` and ``docs/<page>.md ID`` cited
    anywhere in the repository names an existing page, a heading of that page, and an
    identifier that page explains; relative links between the docs pages resolve too."""
    problems = []
    for name in _tracked_files():
        if name.startswith(VENDORED):
            continue
        text = _text(name)
        if text is None:
            continue
        for page in set(re.findall(r"(?<![\w-])docs/([\w-]+\.md)", text)):
            if not (ROOT / "docs" / page).is_file():
                problems.append(f"{name}: docs/{page} does not exist")
        for page, anchor in _CITED_ANCHOR.findall(text):
            if (ROOT / "docs" / page).is_file() and anchor not in anchors(page):
                problems.append(f"{name}: docs/{page}#{anchor} is no heading of that page")
        for page, ident in _CITED_ID.findall(text):
            path = ROOT / "docs" / page
            if path.is_file() and not re.search(rf"\b{ident}\b", path.read_text("utf-8")):
                problems.append(f"{name}: docs/{page} does not explain {ident}")
        if name.startswith("docs/") and name.endswith(".md"):
            here = name.removeprefix("docs/")
            for page, anchor in _LINK.findall(text):
                target = page or here
                if not (ROOT / "docs" / target).is_file():
                    problems.append(f"{name}: link to {target}, which does not exist")
                elif anchor and anchor not in anchors(target):
                    problems.append(f"{name}: link to {target}#{anchor}, no such heading")
    assert problems == []


def test_protocol_doc_explains_every_vector_family() -> None:
    """docs/protocols.md names each vendored vector file and explains its id family."""
    text = (ROOT / "docs/protocols.md").read_text(encoding="utf-8")
    for path in sorted((ROOT / "tests" / "data" / "vectors").glob("*.json")):
        if path.name == "google_robotstxt.json":
            continue
        assert f"`{path.name}`" in text, path.name
