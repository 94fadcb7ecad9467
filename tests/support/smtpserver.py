"""A local SMTP server for the tests (aiosmtpd, in a thread): it keeps every message it
accepts, and refuses recipients on demand.

Recipients whose local part is ``refused`` get a permanent 550, ``busy`` a temporary 451; all
others are accepted. :meth:`Mailbox.wait_for` blocks until a number of messages has arrived
(a condition variable, no fixed sleep).
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Mailbox:
    """The messages the server accepted, as parsed e-mails."""

    messages: list[EmailMessage] = field(default_factory=list)
    #: Envelope recipients of each message.
    envelopes: list[list[str]] = field(default_factory=list)
    port: int = 0
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        """Return the ``HEED_SMTP_URL`` of this server (no TLS: a local relay)."""
        return f"smtp+plain://127.0.0.1:{self.port}"

    def wait_for(self, count: int, timeout: float = 30) -> list[EmailMessage]:
        """Return the messages once at least *count* arrived; AssertionError after *timeout*."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"{len(self.messages)} messages arrived, not {count}")
            return list(self.messages)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        """Refuse ``refused@…`` for good and ``busy@…`` for now; accept the others."""
        local = address.partition("@")[0].lower()
        if local == "refused":
            return "550 5.1.1 no such user"
        if local == "busy":
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the message."""
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._arrived:
            self.messages.append(parsed)
            self.envelopes.append(list(envelope.rcpt_tos))
            self._arrived.notify_all()
        return "250 Message accepted"


class _AnyPortController(Controller):
    """aiosmtpd's controller on port 0: the trigger connection goes to the port bound."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """Run an SMTP server on a free local port; yield its mailbox."""
    box = Mailbox()
    controller = _AnyPortController(box, hostname="127.0.0.1", port=0)
    controller.start()
    box.port = controller.port
    try:
        yield box
    finally:
        controller.stop()
