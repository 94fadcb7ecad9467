"""The README documents every command and option that exists, and nothing that does not.

The command line is walked as ``--help`` sees it (lazy groups included); the README's
"Command reference" lists one usage line per command and an exit-code row per command.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from heed.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
_OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")


def commands() -> dict[str, click.Command]:
    """Return every leaf command by its path (``heed report summary``)."""
    found: dict[str, click.Command] = {}

    def walk(command: click.Command, path: str, ctx: click.Context) -> None:
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None, f"{path} {name}"
                walk(sub, f"{path} {name}", click.Context(sub, parent=ctx, info_name=name))
        else:
            found[path] = command

    walk(main, "heed", click.Context(main, info_name="heed"))
    return found


def options(command: click.Command) -> set[str]:
    """Return the long options of *command* (``--help`` aside)."""
    return {
        opt
        for param in command.params
        if isinstance(param, click.Option)
        for opt in (*param.opts, *param.secondary_opts)
        if opt.startswith("--") and opt != "--help"
    }


def reference() -> tuple[dict[str, str], str]:
    """Return the README's usage lines by command path, and its exit-code table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Command reference", 1)[1].split("\n## ", 1)[0]
    block = section.split("```text\n", 1)[1].split("```", 1)[0]
    known = commands()
    usage: dict[str, str] = {}
    for line in block.splitlines():
        words = line.split()
        # The command is the longest run of leading words that names one.
        path = next(
            (" ".join(words[:n]) for n in range(len(words), 0, -1) if " ".join(words[:n]) in known),
            line,
        )
        assert path not in usage, f"README lists {path} twice"
        usage[path] = line
    table = section.split("Exit codes", 1)[1]
    return usage, table


COMMANDS = commands()


def test_every_command_is_in_the_reference_and_nothing_else() -> None:
    usage, _ = reference()
    assert sorted(usage) == sorted(COMMANDS)


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_option_is_documented_and_every_documented_option_exists(path: str) -> None:
    usage, _ = reference()
    documented = set(_OPTION.findall(usage[path]))
    assert documented == options(COMMANDS[path]), usage[path]


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_command_has_its_exit_codes(path: str) -> None:
    _, table = reference()
    rows = {row.split("|")[1].strip() for row in table.splitlines() if row.startswith("| `heed")}
    group = " ".join(path.split()[:2]) + " …"
    assert f"`{path}`" in rows or f"`{group}`" in rows, path
