"""How Heed reaches its mail server: ``HEED_SMTP_URL`` and ``HEED_MAIL_FROM``, checked.

The URL says how the connection is protected by its scheme, so that a password is never sent
in clear by accident:

* ``smtp://[user[:password]@]host[:port]`` — STARTTLS, required (port 587 by default); a server
  that does not offer it is refused, the message stays in the outbox;
* ``smtps://…`` — TLS from the first byte (port 465);
* ``smtp+plain://…`` — no encryption (port 25), for a relay on the same host or network only;
  a user name or password is refused with it.

User name and password are percent-decoded. Both values come from the environment (or the
``--smtp`` and ``--mail-from`` options, though a password on a command line is visible to
every local user); a URL without a sender address, or a sender without a URL, is refused.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

#: Scheme → (connection security, default port).
SCHEMES = {"smtp": ("starttls", 587), "smtps": ("tls", 465), "smtp+plain": ("plain", 25)}
#: Seconds each SMTP operation (connect, each command) may take.
TIMEOUT = 30.0


class MailConfigError(ValueError):
    """The mail settings are not usable (the message says which and why)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MailConfig:
    """A mail server and the sender's address."""

    host: str
    port: int
    #: ``starttls``, ``tls`` or ``plain``.
    security: str
    username: str | None
    password: str | None
    #: The From header: ``Example AI crawler <crawler@example.ai>``.
    sender: str
    timeout: float = TIMEOUT

    @property
    def sender_address(self) -> str:
        """Return the bare address of :attr:`sender`."""
        return email.utils.parseaddr(self.sender)[1]

    def describe(self) -> str:
        """Return the server in words, without the password."""
        who = f", as {self.username}" if self.username else ""
        return f"{self.host}:{self.port} ({self.security}{who})"

    def __repr__(self) -> str:
        """Hide the password from logs and tracebacks."""
        return f"MailConfig({self.describe()}, sender={self.sender!r})"


def mail_config(url: str | None, sender: str | None) -> MailConfig | None:
    """Return the configuration of *url* and *sender*, None when neither is given.

    Raises MailConfigError naming the problem.
    """
    if not url and not sender:
        return None
    if not url:
        raise MailConfigError("a sender address (HEED_MAIL_FROM) needs a server (HEED_SMTP_URL)")
    if not sender:
        raise MailConfigError("HEED_SMTP_URL needs a sender address (HEED_MAIL_FROM)")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise MailConfigError(f"HEED_SMTP_URL is not a URL: {exc}") from None
    if parts.scheme not in SCHEMES:
        raise MailConfigError(
            "HEED_SMTP_URL must start with " + ", ".join(f"{s}://" for s in SCHEMES)
        )
    if not parts.hostname:
        raise MailConfigError("HEED_SMTP_URL names no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise MailConfigError("HEED_SMTP_URL takes no path, query or fragment")
    security, default_port = SCHEMES[parts.scheme]
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if security == "plain" and (username or password):
        raise MailConfigError(
            "smtp+plain:// would send the password unencrypted: use smtp:// (STARTTLS) or smtps://"
        )
    name, address = email.utils.parseaddr(sender)
    if "@" not in address or any(c in sender for c in "\r\n"):
        raise MailConfigError(
            f"HEED_MAIL_FROM {sender!r} is not an address such as crawler@example.ai"
        )
    return MailConfig(
        host=parts.hostname,
        port=port or default_port,
        security=security,
        username=username,
        password=password,
        sender=email.utils.formataddr((name, address)) if name else address,
    )
