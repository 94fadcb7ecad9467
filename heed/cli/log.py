"""``heed log``: the signer key of the audit log, checkpoints signed on demand, and a listing.

A signed checkpoint commits the operator to the log as it stood (its size and root hash): once
a checkpoint is published, a row changed, deleted or inserted before it shows (``heed db
verify``). Crawls sign one at the end of every run and every ``HEED_LOG_CHECKPOINT_INTERVAL``
seconds when ``HEED_LOG_KEY`` names the key; these commands create that key, sign one now
(before publishing, say), and show what is signed.

Exit status 2 is a key file that is missing, malformed or (``--create``) already there; 1 a
database that cannot be used.
"""

from __future__ import annotations

import datetime as dt
import json

import click

from audit.logkey import DEFAULT_KEY_FILE, KEY_ENV, LogKey, LogKeyError, create_key, key_path
from heed.cli.db import audit_errors, db_option
from heed.cli.errors import ConfigRefused

KEY_HELP = f"The signer key file. Default: ${KEY_ENV}, else ./{DEFAULT_KEY_FILE}."


def key_option(fn: click.decorators.FC) -> click.decorators.FC:
    """Add the ``--key FILE`` option."""
    return click.option("--key", "key", metavar="FILE", default=None, help=KEY_HELP)(fn)


def load_key(given: str | None) -> LogKey:
    """Return the signer key of ``--key`` (or its default); one line and exit 2 if unusable."""
    from audit.logkey import read_key

    try:
        return read_key(key_path(given))
    except LogKeyError as exc:
        raise ConfigRefused(str(exc)) from None


@click.group("log")
def log() -> None:
    """Sign the tamper-evident audit log: create its key, sign checkpoints, list them.

    \b
    Example:
      heed log key --create --name crawler.example.com/heed-log
      heed log checkpoint --db heed.db
      heed log show --db heed.db
    """


@log.command("key")
@key_option
@click.option(
    "--name",
    metavar="NAME",
    default=None,
    help="With --create: the key's name, the log's origin in every checkpoint (C2SP style, "
    "e.g. crawler.example.com/heed-log). Default: HOSTNAME/heed-audit-log.",
)
@click.option("--create", is_flag=True, help="Generate a new Ed25519 key into FILE (mode 0600).")
def key_command(key: str | None, name: str | None, create: bool) -> None:
    """Print the verifier key to publish; with --create, generate the signer key first.

    The verifier key (public) goes to stdout alone, so that it can be handed on
    (heed report crawler-info --log-verifier-key "$(heed log key)"); the signer key never
    leaves its file. An existing file is never overwritten: the checkpoints its key signed
    would lose their verifier. To rotate, create a key with a new name in a new file.
    """
    path = key_path(key)
    if name is not None and not create:
        raise click.UsageError("--name names a new key: it only applies with --create")
    if create:
        from audit.logkey import default_name

        try:
            found = create_key(path, name or default_name())
        except LogKeyError as exc:
            raise ConfigRefused(str(exc)) from None
        click.echo(
            f"Created {path} (mode 0600): keep it secret, off the database host, and backed up.",
            err=True,
        )
    else:
        found = load_key(key)
    click.echo(f"Verifier key of {path} (public: publish it on the crawler page):", err=True)
    click.echo(found.verifier)


@log.command("checkpoint")
@db_option
@key_option
def checkpoint_command(db: str | None, key: str | None) -> None:
    """Sign a checkpoint of the audit log as it is now, store it, and print its note.

    A crawl with HEED_LOG_KEY signs one at the end of each run already; this one covers what
    was committed since (a crawl still running included), for instance just before
    publishing the crawler page.
    """
    from audit import open_publisher
    from audit.log import sign_checkpoint

    found = load_key(key)
    with audit_errors(db):
        engine = open_publisher(db)
        try:
            with engine.begin() as conn:
                stored = sign_checkpoint(conn, found.signer, dt.datetime.now(dt.UTC))
        finally:
            engine.dispose()
    click.echo(f"Checkpoint {stored.id}: {stored.size} leaves, root {stored.root}", err=True)
    click.echo(stored.note, nl=False)


@log.command("show")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (every note and key in full).")
def show_command(db: str | None, as_json: bool) -> None:
    """Show the audit log's size and its signed checkpoints, oldest first."""
    from audit import open_reader
    from heed.auditlog import read_log, utc

    with audit_errors(db):
        engine = open_reader(db)
        try:
            view = read_log(engine)
        finally:
            engine.dispose()
    if as_json:
        click.echo(json.dumps(view.document(), indent=2, ensure_ascii=False))
        return
    document = view.document()
    click.echo(f"Audit log: {view.size} leaves, {len(view.checkpoints)} checkpoints")
    if not view.checkpoints:
        click.echo("No checkpoint signed yet (heed log key --create, then heed log checkpoint).")
        return
    click.echo(f"{'ID':>5}  {'SIZE':>9}  {'ROOT':<16}  {'SIGNED AT':<20}  KEY")
    for cp in view.checkpoints:
        name, key_id = cp.verifier_key.split("+")[:2]
        click.echo(
            f"{cp.id:>5}  {cp.size:>9}  {cp.root[:16]:<16}  {utc(cp.signed_at):<20}  "
            f"{name}+{key_id}"
        )
    if document["unsigned_leaves"]:
        click.echo(f"{document['unsigned_leaves']} leaves are newer than the latest checkpoint.")
