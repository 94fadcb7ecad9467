"""The README keeps up with the code: every ``heed`` command is shown there and has help."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from heed.cli import main
from heed.cli.lazy import COMMANDS
from heed.cli.report import SUBCOMMANDS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


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
