"""Deliver one message over SMTP (the standard library's client), classifying failures.

A refusal of the recipient, or of the message, with a permanent (5xx) reply is final: trying
again would only repeat it. Everything else — the server unreachable, a timeout, a temporary
(4xx) reply, a failed login or TLS handshake, a server without STARTTLS — is the operator's to
fix or the network's to recover from, and the message is retried.
"""

from __future__ import annotations

import email.utils
import smtplib
import ssl
from email.message import EmailMessage

from heed.mail.config import MailConfig


class DeliveryError(Exception):
    """A message was not delivered; ``permanent`` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        """Keep the reason and whether it is final."""
        super().__init__(message)
        self.permanent = permanent


def build_message(config: MailConfig, recipient: str, subject: str, body: str) -> EmailMessage:
    """Return the e-mail: plain text, UTF-8, marked as sent automatically (RFC 3834)."""
    msg = EmailMessage()
    msg["From"] = config.sender
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = email.utils.formatdate(usegmt=True)
    domain = config.sender_address.rpartition("@")[2] or None
    msg["Message-ID"] = email.utils.make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body)
    return msg


def deliver(config: MailConfig, message: EmailMessage) -> None:
    """Send *message* through the server of *config*; raise DeliveryError if it was not."""
    context = ssl.create_default_context()
    try:
        client: smtplib.SMTP
        if config.security == "tls":
            client = smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout, context=context
            )
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        with client:
            client.ehlo()
            if config.security == "starttls":
                if not client.has_extn("starttls"):
                    raise DeliveryError(
                        f"{config.host}:{config.port} does not offer STARTTLS "
                        "(use smtps:// or, for a local relay, smtp+plain://)"
                    )
                client.starttls(context=context)
                client.ehlo()
            if config.username:
                client.login(config.username, config.password or "")
            client.send_message(message)
    except DeliveryError:
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        text = "; ".join(
            f"{rcpt}: {code} {_text(reply)}" for rcpt, (code, reply) in exc.recipients.items()
        )
        raise DeliveryError(
            f"recipient refused: {text}", permanent=all(c >= 500 for c in codes)
        ) from None
    except smtplib.SMTPDataError as exc:
        raise DeliveryError(
            f"message refused: {exc.smtp_code} {_text(exc.smtp_error)}",
            permanent=exc.smtp_code >= 500,
        ) from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"server replied {exc.smtp_code} {_text(exc.smtp_error)}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from None


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:300]
