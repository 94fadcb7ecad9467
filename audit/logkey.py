"""The signer key file of the audit log: where it is, how it is created, how it is read.

A checkpoint is worth what its key is worth: whoever holds the signer key can sign any tree, so
the key lives in a file of its own (mode 0600), apart from the database it vouches for, and
only its public half — the *verifier key* — is ever printed or published. Everything that signs
(``heed log``, the crawler's audit extension, ``heed demo``) and everything that publishes the
verifier key (``heed report crawler-info``) reads the file through here, so that a missing or
malformed key is refused the same way everywhere: one line naming the file, never the key.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

from audit.checkpoint import CheckpointError, parse_signer_key, signer_key, verifier_key

#: The environment variable naming the key file of ``heed log`` and ``heed report``.
KEY_ENV = "HEED_LOG_KEY"
#: The key file when neither ``--key`` nor ``$HEED_LOG_KEY`` names one (current directory).
DEFAULT_KEY_FILE = "heed-log.key"
#: The last part of a key's default name (the log's origin): ``<host name>/heed-audit-log``.
DEFAULT_LOG_NAME = "heed-audit-log"
_HOST = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")


class LogKeyError(ValueError):
    """A key file that is missing, unreadable, malformed, or already there (one line)."""


@dataclass(frozen=True, slots=True)
class LogKey:
    """A signer key read from its file."""

    path: Path
    name: str
    #: The secret ``PRIVATE+KEY+…`` text: handed to the signer, never printed.
    signer: str
    #: The public ``name+id+key`` text to publish.
    verifier: str

    def __repr__(self) -> str:  # never the secret, not even in a traceback's locals
        return f"LogKey(path={str(self.path)!r}, name={self.name!r})"


def key_path(given: str | os.PathLike[str] | None = None) -> Path:
    """Return the key file: *given*, else ``$HEED_LOG_KEY``, else ``./heed-log.key``."""
    return Path(given or os.environ.get(KEY_ENV) or DEFAULT_KEY_FILE)


def default_name() -> str:
    """Return the default key name: ``<this host's name>/heed-audit-log`` (C2SP origins name
    the log's operator), or ``heed-audit-log`` alone when the host name is not a DNS name."""
    host = socket.gethostname().strip().lower()
    return f"{host}/{DEFAULT_LOG_NAME}" if _HOST.match(host) else DEFAULT_LOG_NAME


def read_key(path: str | os.PathLike[str]) -> LogKey:
    """Return the signer key in the file *path*; LogKeyError if it is missing or malformed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LogKeyError(
            f"log key file {path} does not exist (create one with: heed log key --create)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a text file"
        raise LogKeyError(f"log key file {path}: cannot read it: {why}") from None
    try:
        name, private = parse_signer_key(text)
    except CheckpointError as exc:
        raise LogKeyError(f"log key file {path} holds no signer key: {exc}") from None
    except ValueError:  # cryptography refusing the key material itself
        raise LogKeyError(f"log key file {path} holds no signer key: bad key") from None
    return LogKey(path, name, text.strip(), verifier_key(name, private.public_key()))


def create_key(path: str | os.PathLike[str], name: str) -> LogKey:
    """Generate an Ed25519 signer key named *name* into the new file *path* (mode 0600) and
    return it; LogKeyError if the file exists (a key is never overwritten: the checkpoints it
    signed would lose their verifier) or the name is not a key name."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = Path(path)
    private = Ed25519PrivateKey.generate()
    try:
        text = signer_key(name, private)
    except CheckpointError as exc:
        raise LogKeyError(str(exc)) from None
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise LogKeyError(f"log key file {path} already exists: not overwritten") from None
    except OSError as exc:
        raise LogKeyError(f"cannot create log key file {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    return LogKey(path, name, text, verifier_key(name, private.public_key()))
