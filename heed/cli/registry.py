"""``heed registry``: the reservations a rightsholder notified other than on the site.

``add`` records a reservation of a domain, a host or a URL prefix (audit/registry.py says what
each covers), ``remove`` withdraws one by recording its removal, ``list`` shows the entries in
force (``--all``: the whole history). Nothing is ever rewritten: the registry is append-only
evidence of what was in force when, recorded with who made each change (``--by``, by default
the login name) and why.
"""

from __future__ import annotations

import getpass
import json
from typing import Any

import click

from heed.cli.db import audit_errors, db_option

#: Said on every addition: when the entry takes effect, and where it does not show yet.
APPLIES_FROM = (
    "note: crawls apply the registry from their next start; heed check (with the same HEED_DB) "
    "and the portal's look-up at once"
)


def actor_of(value: str | None) -> str:
    """Return who makes a change: *value* (``--by``), else the login name."""
    if value:
        return value
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "operator"


BY = click.option(
    "--by", metavar="NAME", help="Who makes the change, for the record. Default: the login name."
)
_NOTE = click.option("--note", metavar="TEXT", default="", help="Why, for the record.")


@click.group("registry")
def registry() -> None:
    """Keep the reservations registry: opt-outs notified by letter, complaint or request."""


@registry.command("add")
@click.argument("target")
@click.option(
    "--purpose",
    "purposes",
    metavar="NAME",
    multiple=True,
    help="A use reserved: tdm, train-ai, ai-input or search; repeat for more. "
    "Default: tdm, train-ai and ai-input.",
)
@click.option(
    "--source",
    metavar="TEXT",
    default="operator",
    show_default=True,
    help="Where the reservation comes from: a reference such as 'letter L-12' or a complaint's, "
    "never a person's name (it is shown with the decisions it applies to).",
)
@_NOTE
@BY
@db_option
def add(
    target: str,
    purposes: tuple[str, ...],
    source: str,
    note: str,
    by: str | None,
    db: str | None,
) -> None:
    """Reserve TARGET: a registrable domain (every host of it), a host, or a URL prefix
    (https://example.com/books/: its URLs on any scheme or port)."""
    from audit import TargetError, open_publisher
    from audit.registry import (
        RegistryError,
        add_registry_entry,
        parse_purposes,
        parse_registry_target,
    )

    try:  # bad input is bad usage (exit status 2), found before the database is opened
        parse_registry_target(target)
    except TargetError as exc:
        raise click.BadParameter(str(exc), param_hint="TARGET") from None
    try:
        parse_purposes(purposes)
    except RegistryError as exc:
        raise click.BadParameter(str(exc), param_hint="--purpose") from None
    with audit_errors(db):
        engine = open_publisher(db)
        try:
            entry = add_registry_entry(
                engine, target, purposes=purposes, source=source, note=note, actor=actor_of(by)
            )
        finally:
            engine.dispose()
    click.echo(
        f"entry {entry.id}: {entry.scope} {entry.target} reserved for "
        f"{', '.join(entry.purposes)} (source: {entry.source})"
    )
    click.echo(APPLIES_FROM, err=True)


@registry.command("remove")
@click.argument("entry_id", metavar="ID", type=click.IntRange(min=1))
@_NOTE
@BY
@db_option
def remove(entry_id: int, note: str, by: str | None, db: str | None) -> None:
    """Withdraw the entry ID (its removal is recorded; the entry stays in the history)."""
    from audit import open_publisher
    from audit.registry import remove_registry_entry

    with audit_errors(db):
        engine = open_publisher(db)
        try:
            row = remove_registry_entry(engine, entry_id, note=note, actor=actor_of(by))
        finally:
            engine.dispose()
    click.echo(f"entry {entry_id} ({row.scope} {row.target}) removed: row {row.id}")


@registry.command("list")
@click.option("--all", "everything", is_flag=True, help="The whole history, removals included.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of text.")
@db_option
def list_command(everything: bool, as_json: bool, db: str | None) -> None:
    """Show the entries in force (with --all: every addition and removal, oldest first)."""
    from audit import open_reader
    from audit.registry import registry_history, registry_in_force

    with audit_errors(db):
        engine = open_reader(db)
        try:
            rows = registry_history(engine) if everything else registry_in_force(engine)
        finally:
            engine.dispose()
    for r in rows:
        if as_json:
            data: dict[str, Any] = {
                "id": r.id,
                "action": r.action,
                "entry": r.entry_id,
                "scope": r.scope,
                "target": r.target,
                "purposes": list(r.purposes),
                "source": r.source,
                "note": r.note,
                "by": r.actor,
                "recorded_at": r.recorded_at.isoformat(),
            }
            click.echo(json.dumps(data, ensure_ascii=False))
            continue
        when = r.recorded_at.strftime("%Y-%m-%d %H:%M UTC")
        what = f"removes entry {r.entry_id}" if r.action == "remove" else ", ".join(r.purposes)
        note = f" — {r.note}" if r.note else ""
        click.echo(
            f"{r.id:>5}  {when}  {r.scope:6s} {r.target}  {what}  [{r.source}; by {r.actor}]{note}"
        )
    if not rows and not as_json:
        click.echo("no entries" if everything else "no entries in force")
