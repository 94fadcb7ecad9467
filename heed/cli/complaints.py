"""``heed complaints``: the operator's side of the complaints rightsholders lodge (Measure 1.5).

``list`` shows the complaints and their status (``--overdue DAYS``: those still open after that
long), ``show`` one with its history, ``ack`` and ``review`` move it on, and ``resolve`` decides
it: upheld, rejected or withdrawn, with the reason the claimant will read. ``--reserve`` on an
upheld complaint puts each domain, host or URL prefix it names into the reservations registry
(``heed registry``), with the complaint's reference as the source. Every step is recorded,
never rewritten, with who took it (``--by``, by default the login name) and when. When a mail
server is configured (``HEED_SMTP_URL``, ``HEED_MAIL_FROM``), the claimant is told of each step
by e-mail: the message is written with the step and sent at once; one that cannot be sent stays
in the outbox (``heed mail``) for a later try.
"""

from __future__ import annotations

import json
from typing import Any

import click

from heed.cli.db import audit_errors, db_option
from heed.cli.mail import mail_options, mail_settings, send_now
from heed.cli.registry import BY, actor_of

_STATUSES = ("received", "acknowledged", "in-review", "upheld", "rejected", "withdrawn")


@click.group("complaints")
def complaints() -> None:
    """Handle rightsholders' complaints: list, show, acknowledge, review and resolve them."""


@complaints.command("list")
@click.option("--status", type=click.Choice(_STATUSES), help="Only complaints in this status.")
@click.option(
    "--overdue",
    "overdue_days",
    metavar="DAYS",
    type=click.FloatRange(min=0),
    help="Only complaints still undecided DAYS after they were received (e.g. 30).",
)
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of text.")
@db_option
def list_command(
    status: str | None, overdue_days: float | None, as_json: bool, db: str | None
) -> None:
    """Show the complaints, oldest first, with their status and age."""
    import datetime as dt

    from audit import open_reader
    from audit.complaints import list_complaints, overdue

    with audit_errors(db):
        engine = open_reader(db)
        try:
            found = list_complaints(engine, status)
        finally:
            engine.dispose()
    now = dt.datetime.now(dt.UTC)
    if overdue_days is not None:
        found = overdue(found, overdue_days, now=now)
    for c in found:
        age = (now - c.received_at).days
        if as_json:
            click.echo(json.dumps(_data(c) | {"age_days": age}, ensure_ascii=False))
            continue
        click.echo(
            f"{c.reference}  {c.status:<12}  received {c.received_at:%Y-%m-%d} ({age} days)  "
            f"{c.submission.claimant} ({c.submission.capacity})"
        )
    if not found and not as_json:
        click.echo("no complaints")


@complaints.command("show")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@db_option
def show(reference: str, as_json: bool, db: str | None) -> None:
    """Show the complaint REFERENCE as submitted, with every step of its handling."""
    from audit import NotFoundError, open_reader
    from audit.complaints import find_complaint

    with audit_errors(db):
        engine = open_reader(db)
        try:
            found = find_complaint(engine, reference)
        finally:
            engine.dispose()
        if found is None:
            raise NotFoundError(f"no complaint {reference}")
    if as_json:
        click.echo(json.dumps(_data(found), ensure_ascii=False, indent=1))
        return
    s = found.submission
    click.echo(f"{found.reference}: {found.status}")
    click.echo(f"  from       {s.claimant} ({s.capacity}) <{s.email}>")
    if s.verified_domain:
        click.echo(f"  verified   owner of {s.verified_domain}")
    click.echo(f"  right      {s.right_claimed}")
    click.echo(f"  requests   {', '.join(s.requested)}")
    for concern in s.concerns:
        click.echo(f"  concerns   {concern}")
    click.echo(f"  statement  {s.statement}")
    for step in found.steps:
        why = f": {step.reason}" if step.reason else ""
        click.echo(f"  {step.at:%Y-%m-%d %H:%M} UTC  {step.status} by {step.actor}{why}")


def _move(
    reference: str, status: str, reason: str, by: str | None, db: str | None, mail: Any
) -> None:
    from audit import open_publisher
    from audit.complaints import record_step
    from heed.mail import step_notice

    with audit_errors(db):
        engine = open_publisher(db)
        try:
            found, _, _ = record_step(
                engine,
                reference,
                status,
                actor=actor_of(by),
                reason=reason,
                notify=step_notice() if mail is not None else None,
            )
            click.echo(f"{found.reference}: {found.status}")
            send_now(engine, mail, found.id)
        finally:
            engine.dispose()


_REASON = click.option("--reason", metavar="TEXT", default="", help="Why, for the claimant.")


def _step_command(name: str, status: str, summary: str) -> click.Command:
    """Return the command *name* that moves a complaint to *status*."""

    @complaints.command(name, help=summary)
    @click.argument("reference")
    @_REASON
    @BY
    @mail_options
    @db_option
    def command(
        reference: str,
        reason: str,
        by: str | None,
        smtp_url: str | None,
        mail_from: str | None,
        db: str | None,
    ) -> None:
        _move(reference, status, reason, by, db, mail_settings(smtp_url, mail_from))

    return command


ack = _step_command(
    "ack", "acknowledged", "Acknowledge the complaint REFERENCE (received, to be handled)."
)
review = _step_command("review", "in-review", "Mark the complaint REFERENCE as in review.")


@complaints.command("resolve")
@click.argument("reference")
@click.option("--upheld", "decision", flag_value="upheld", help="The complaint is founded.")
@click.option("--rejected", "decision", flag_value="rejected", help="It is not.")
@click.option("--withdrawn", "decision", flag_value="withdrawn", help="The claimant withdrew it.")
@click.option("--reason", metavar="TEXT", default="", help="The reasoning, for the claimant.")
@click.option(
    "--reserve",
    is_flag=True,
    help="With --upheld: put each domain, host or URL prefix concerned in the registry.",
)
@click.option(
    "--purpose",
    "purposes",
    metavar="NAME",
    multiple=True,
    help="With --reserve: a use reserved (repeat); default tdm, train-ai and ai-input.",
)
@BY
@mail_options
@db_option
def resolve(
    reference: str,
    decision: str | None,
    reason: str,
    reserve: bool,
    purposes: tuple[str, ...],
    by: str | None,
    smtp_url: str | None,
    mail_from: str | None,
    db: str | None,
) -> None:
    """Decide the complaint REFERENCE: --upheld, --rejected or --withdrawn, with --reason."""
    from audit import open_publisher
    from audit.complaints import record_step
    from heed.mail import step_notice

    if decision is None:
        raise click.UsageError("say --upheld, --rejected or --withdrawn")
    if purposes and not reserve:
        raise click.UsageError("--purpose goes with --reserve")
    mail = mail_settings(smtp_url, mail_from)
    with audit_errors(db):
        engine = open_publisher(db)
        try:
            found, made, skipped = record_step(
                engine,
                reference,
                decision,
                actor=actor_of(by),
                reason=reason,
                reserve=purposes if reserve else None,
                notify=step_notice() if mail is not None else None,
            )
            click.echo(f"{found.reference}: {found.status}")
            for entry in made:
                click.echo(
                    f"  registry entry {entry.id}: {entry.scope} {entry.target} reserved for "
                    f"{', '.join(entry.purposes)}"
                )
            for concern in skipped:
                click.echo(f"  not a domain, host or URL prefix, not in the registry: {concern}")
            send_now(engine, mail, found.id)
        finally:
            engine.dispose()


def _data(c: Any) -> dict[str, Any]:
    s = c.submission
    return {
        "reference": c.reference,
        "status": c.status,
        "claimant": s.claimant,
        "capacity": s.capacity,
        "email": s.email,
        "concerns": list(s.concerns),
        "right_claimed": s.right_claimed,
        "statement": s.statement,
        "requested": list(s.requested),
        "verified_domain": s.verified_domain,
        "received_at": c.received_at.isoformat(),
        "steps": [
            {"status": st.status, "at": st.at.isoformat(), "by": st.actor, "reason": st.reason}
            for st in c.steps
        ],
    }
