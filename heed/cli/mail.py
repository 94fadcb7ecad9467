"""``heed mail``: the e-mails to claimants in the outbox — ``list`` them, ``send`` those due.

Messages are written to the outbox with the complaint step they tell of (audit/outbox.py) and
sent by ``heed serve`` in the background, by the ``heed complaints`` command that took the
step, or by ``heed mail send`` (for a cron job, or after fixing the mail settings). The mail
server comes from ``HEED_SMTP_URL`` and the sender from ``HEED_MAIL_FROM`` (heed/mail/config.py);
:func:`mail_options` adds the ``--smtp`` and ``--mail-from`` options every such command takes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from heed.cli.db import audit_errors, db_option

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from heed.mail import MailConfig, SendReport

_F = TypeVar("_F", bound=Callable[..., Any])


def mail_options(fn: _F) -> _F:
    """Add ``--smtp URL`` and ``--mail-from ADDRESS`` (from the environment by default)."""
    fn = click.option(
        "--mail-from",
        "mail_from",
        metavar="ADDRESS",
        envvar="HEED_MAIL_FROM",
        help="The sender of e-mails to claimants ('Example AI <crawler@example.ai>'). "
        "Default: $HEED_MAIL_FROM.",
    )(fn)
    return click.option(
        "--smtp",
        "smtp_url",
        metavar="URL",
        envvar="HEED_SMTP_URL",
        help="Mail server for e-mails to claimants: smtp://[USER:PASS@]HOST[:PORT] (STARTTLS), "
        "smtps:// (TLS) or smtp+plain:// (local relay). Default: $HEED_SMTP_URL; none: no "
        "e-mail. Prefer the variable: a password on the command line is visible to others.",
    )(fn)


def mail_settings(smtp_url: str | None, mail_from: str | None) -> MailConfig | None:
    """Return the checked mail settings, None when not configured; a usage error if wrong."""
    from heed.mail import MailConfigError, mail_config

    try:
        return mail_config(smtp_url, mail_from)
    except MailConfigError as exc:
        raise click.UsageError(str(exc)) from None


def send_now(engine: Engine, config: MailConfig | None, complaint_id: int) -> None:
    """Send the messages just written for *complaint_id*, and say what became of them."""
    if config is None:
        click.echo(
            "  no e-mail to the claimant: no mail server (HEED_SMTP_URL) configured", err=True
        )
        return
    from heed.mail import send_due

    report = send_due(engine, config, complaint_id=complaint_id)
    if report.sent:
        click.echo(f"  e-mail to the claimant sent through {config.describe()}")
    for error in report.errors:
        click.echo(f"  e-mail not sent: {error}", err=True)
    if report.retrying:
        click.echo("  it stays in the outbox: heed serve or heed mail send retries it", err=True)


@click.group("mail")
def mail() -> None:
    """Send the e-mails to claimants waiting in the outbox, or list them."""


@mail.command("send")
@mail_options
@db_option
def send(smtp_url: str | None, mail_from: str | None, db: str | None) -> None:
    """Send every message that is due (exit status 1 if one could not be sent)."""
    from audit import open_publisher

    config = mail_settings(smtp_url, mail_from)
    if config is None:
        raise click.UsageError("no mail server: set HEED_SMTP_URL and HEED_MAIL_FROM")
    with audit_errors(db):
        engine = open_publisher(db)
        try:
            report = _send_all(engine, config)
        finally:
            engine.dispose()
    click.echo(f"{report.sent} sent, {report.retrying} to retry later, {report.given_up} given up")
    if report.errors:
        raise click.ClickException(report.errors[-1])


def _send_all(engine: Engine, config: MailConfig) -> SendReport:
    from heed.mail import SendReport, send_due

    total = SendReport()
    while True:
        report = send_due(engine, config)
        total.sent += report.sent
        total.retrying += report.retrying
        total.given_up += report.given_up
        total.errors += report.errors
        if not (report.sent or report.retrying or report.given_up):
            return total


@mail.command("list")
@click.option(
    "--state",
    type=click.Choice(("pending", "sent", "failed")),
    help="Only messages waiting to be sent, sent, or given up.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of text.")
@db_option
def list_command(state: str | None, as_json: bool, db: str | None) -> None:
    """Show the messages in the outbox, oldest first, with how their delivery went."""
    from audit import open_reader
    from audit.outbox import list_outbox

    with audit_errors(db):
        engine = open_reader(db)
        try:
            found = list_outbox(engine, state)
        finally:
            engine.dispose()
    for m in found:
        if as_json:
            click.echo(json.dumps(_data(m), ensure_ascii=False))
            continue
        when = m.sent_at or m.gave_up_at or m.next_attempt_at
        error = f"  last error: {m.last_error}" if m.last_error else ""
        click.echo(
            f"{m.id:>6}  {m.state:<8} {when:%Y-%m-%d %H:%M}  attempts {m.attempts}  "
            f"{m.complaint or '-'}  {m.topic:<12} {m.recipient}{error}"
        )
    if not found and not as_json:
        click.echo("no messages")


def _data(m: Any) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": m.id,
        "state": m.state,
        "complaint": m.complaint,
        "topic": m.topic,
        "recipient": m.recipient,
        "subject": m.subject,
        "created_at": iso(m.created_at),
        "attempts": m.attempts,
        "next_attempt_at": iso(m.next_attempt_at),
        "sent_at": iso(m.sent_at),
        "gave_up_at": iso(m.gave_up_at),
        "last_error": m.last_error,
    }
