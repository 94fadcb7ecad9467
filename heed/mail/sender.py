"""Send what is due in the outbox: once (``heed mail send``, the operator's commands), or in
the background of the portal, never inside a request.

:func:`send_due` claims the due messages (audit/outbox.py), delivers each, and marks it sent,
to be retried, or given up. :class:`BackgroundSender` runs it in a worker thread of the
portal's event loop every :data:`INTERVAL` seconds, and at once when woken (a complaint was
just submitted). A database or server that fails is logged and tried again at the next round;
it never stops the portal.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass, field
from email.message import EmailMessage

from sqlalchemy import Engine

from audit.outbox import Claimed, claim_due, mark_failed, mark_sent
from heed.mail.config import MailConfig
from heed.mail.smtp import DeliveryError, build_message, deliver

#: Seconds between two rounds of the background sender (retries are due a minute apart first).
INTERVAL = 30.0
log = logging.getLogger("heed.mail")


@dataclass(slots=True)
class SendReport:
    """What one round did: messages sent, to be retried, and given up (with their errors)."""

    sent: int = 0
    retrying: int = 0
    given_up: int = 0
    errors: list[str] = field(default_factory=list)


def send_due(
    engine: Engine,
    config: MailConfig,
    *,
    complaint_id: int | None = None,
    now: dt.datetime | None = None,
    limit: int = 100,
) -> SendReport:
    """Deliver the messages due (those of *complaint_id* when given); return what happened."""
    report = SendReport()
    for claimed in claim_due(engine, now=now, limit=limit, complaint_id=complaint_id):
        try:
            deliver(config, message_of(config, claimed))
        except DeliveryError as exc:
            gave_up = mark_failed(engine, claimed.id, str(exc), permanent=exc.permanent)
            report.errors.append(f"message {claimed.id} to {claimed.recipient}: {exc}")
            if gave_up:
                report.given_up += 1
            else:
                report.retrying += 1
            log.warning(
                "mail %d (attempt %d) not sent%s: %s",
                claimed.id,
                claimed.attempt,
                ", given up" if gave_up else "",
                exc,
            )
            continue
        mark_sent(engine, claimed.id)
        report.sent += 1
    return report


def message_of(config: MailConfig, claimed: Claimed) -> EmailMessage:
    """Return the e-mail of *claimed*; DeliveryError (permanent) if it cannot be built, so
    that it is given up with its reason instead of being claimed again every few minutes."""
    try:
        return build_message(config, claimed.recipient, claimed.subject, claimed.body)
    except (ValueError, TypeError) as exc:
        raise DeliveryError(f"not a valid message: {exc}", permanent=True) from None


class BackgroundSender:
    """The portal's sender: a task on its event loop, sending in a worker thread."""

    def __init__(self, engine: Engine, config: MailConfig, interval: float = INTERVAL) -> None:
        """Send the due messages of *engine*'s outbox through *config*'s server."""
        self._engine = engine
        self._config = config
        self._interval = interval
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = False

    def wake(self) -> None:
        """Start a round now (callable from any thread; a no-op before :meth:`run` starts)."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def stop(self) -> None:
        """End :meth:`run` after the round in progress (so no delivery is left unmarked)."""
        self._stopping = True
        self.wake()

    async def run(self) -> None:
        """Send rounds until :meth:`stop` (or cancelled)."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        while not self._stopping:
            self._wake.clear()
            try:
                await asyncio.to_thread(send_due, self._engine, self._config)
            except Exception:
                log.exception("mail round failed; trying again in %g s", self._interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)
