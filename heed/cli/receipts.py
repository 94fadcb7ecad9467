"""``heed receipt`` and ``heed verify-receipt``: a decision's receipt, made and checked.

A receipt proves, to someone who trusts only the published verifier key, that a decision and
the evidence it rests on were in the audit log when a checkpoint was signed, unchanged since
(audit/receipts.py makes it, audit/receiptcheck.py checks it offline).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from audit.queries import open_reader
from heed.cli.db import EXIT_INTEGRITY, audit_errors, db_option

#: Exit status of a usage error (bad arguments, an unreadable file, an output that exists).
EXIT_USAGE = 2


@click.command("receipt")
@click.argument("target")
@db_option
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the receipt (JSON) to this file.",
)
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def receipt(target: str, db: str | None, out: Path, force: bool) -> None:
    """Write the receipt of a decision: TARGET is a decision id, or a URL (its latest decision).

    The receipt holds the decision, its outcome, signals, origin, stored item and signal
    documents, each with its leaf of the audit log and an inclusion proof to the newest signed
    checkpoint covering them, and that checkpoint's signed note and verifier key. Check it
    anywhere with ``heed verify-receipt``. No checkpoint covering the decision yet: exit 1 (sign
    one with ``heed log checkpoint``); rows that no longer match the log: exit 3.
    """
    from audit.receipts import build_receipt, decision_for_url

    if out.exists() and not force:
        raise click.UsageError(f"{out} exists (nothing is overwritten without --force)")
    with audit_errors(db):
        engine = open_reader(db)
        try:
            decision_id = int(target) if target.isdigit() else decision_for_url(engine, target)
            document = build_receipt(engine, decision_id)
        finally:
            engine.dispose()
    out.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    records = len(document["records"])
    click.echo(
        f"{out}: receipt of decision {decision_id} ({document['url']}): {records} records, "
        f"proved against checkpoint {document['checkpoint']['id']} "
        f"({document['checkpoint']['size']} leaves)"
    )


@click.command("verify-receipt")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "key",
    metavar="VERIFIER_KEY",
    default=None,
    help="The verifier key the crawler publishes: the receipt must be signed with it.",
)
def verify_receipt_command(file: Path, key: str | None) -> None:
    """Check a receipt offline (no database): say what it proves, or why it proves nothing.

    Exit 0: it verifies (what it proves is printed); 3: it does not (each problem on a line);
    2: the file cannot be read or is not JSON.
    """
    from audit.receiptcheck import verify_receipt

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise click.UsageError(f"{file}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not JSON"
        raise click.UsageError(f"{file}: {reason}") from None
    report = verify_receipt(data, key)
    if not report.ok:
        for problem in report.problems:
            click.echo(f"problem: {problem}", err=True)
        click.echo(f"{file}: the receipt does not verify", err=True)
        raise click.exceptions.Exit(EXIT_INTEGRITY)
    click.echo(f"{file}: the receipt verifies.")
    for sentence in report.proves:
        click.echo(f"- {sentence}")
