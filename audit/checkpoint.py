"""Checkpoints of the audit log, signed: the C2SP formats the transparency-log ecosystem uses
(Go's sumdb, Sigstore's Rekor, the transparency-dev witnesses), so any of their verifiers can
check Heed's. Pure: no I/O.

* A **checkpoint** (c2sp.org/tlog-checkpoint) is text: the log's *origin* (its name) on the first
  line, the tree size on the second, the root hash in base64 on the third, then optional
  extension lines (Heed writes ``time <ISO 8601 UTC>``, when it was signed).
* A **signed note** (c2sp.org/signed-note) is that text, an empty line, and one line per
  signature: ``— <key name> <base64(key id || Ed25519 signature of the text)>``. The key id is
  the first 4 bytes of SHA-256(key name || "\\n" || 0x01 || public key).
* A **verifier key**, what Heed publishes, is ``<name>+<key id, hex>+<base64(0x01 || public
  key)>``; the signer key is the same with ``PRIVATE+KEY+`` before and the 32-byte seed.

Tested against the example of Go's golang.org/x/mod/sumdb/note: Ed25519 is deterministic, so
Heed's signature of that note must be the published one, byte for byte.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

#: The signature type byte of Ed25519 in signed notes.
ED25519 = b"\x01"
_DASH = "\u2014 "


class CheckpointError(ValueError):
    """A key, note or checkpoint that is malformed or whose signature does not verify."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's size and root hash, as signed."""

    origin: str
    size: int
    root: bytes
    #: Extension lines, in order (Heed's: ``time …``).
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        """Return the checkpoint's text (the body of its signed note)."""
        lines = [
            self.origin,
            str(self.size),
            base64.b64encode(self.root).decode(),
            *self.extensions,
        ]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Return the checkpoint of *text*; CheckpointError if it is not one."""
        if not text.endswith("\n"):
            raise CheckpointError("a checkpoint ends with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3 or not lines[0] or any(not line for line in lines):
            raise CheckpointError("a checkpoint has an origin, a size and a root hash line")
        origin, size, root = lines[:3]
        if not size.isdigit() or (size != "0" and size.startswith("0")):
            raise CheckpointError(f"not a tree size: {size!r}")
        return cls(origin, int(size), _b64(root, "root hash", 32), tuple(lines[3:]))


def key_id(name: str, public_key: bytes) -> bytes:
    """Return the 4-byte id of the Ed25519 key *public_key* named *name*."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """Return the verifier key to publish for *public_key* named *name*."""
    _check_name(name)
    raw = _raw(public_key)
    return f"{name}+{key_id(name, raw).hex()}+{base64.b64encode(ED25519 + raw).decode()}"


def signer_key(name: str, private_key: Ed25519PrivateKey) -> str:
    """Return the signer key (secret) of *private_key* named *name*."""
    _check_name(name)
    seed = private_key.private_bytes_raw()
    raw = _raw(private_key.public_key())
    return (
        f"PRIVATE+KEY+{name}+{key_id(name, raw).hex()}+{base64.b64encode(ED25519 + seed).decode()}"
    )


def parse_verifier_key(text: str) -> tuple[str, Ed25519PublicKey]:
    """Return the name and public key of the verifier key *text*; CheckpointError if bad."""
    name, raw = _parse_key(text.strip(), private=False)
    return name, Ed25519PublicKey.from_public_bytes(raw)


def parse_signer_key(text: str) -> tuple[str, Ed25519PrivateKey]:
    """Return the name and private key of the signer key *text*; CheckpointError if bad."""
    name, seed = _parse_key(text.strip(), private=True)
    return name, Ed25519PrivateKey.from_private_bytes(seed)


def _parse_key(text: str, *, private: bool) -> tuple[str, bytes]:
    prefix = "PRIVATE+KEY+" if private else ""
    if not text.startswith(prefix):
        raise CheckpointError("not a signer key (PRIVATE+KEY+…)" if private else "bad key")
    parts = text[len(prefix) :].split("+", 2)  # the base64 may itself hold '+'
    if len(parts) != 3:
        raise CheckpointError("a key is NAME+ID+KEY")
    name, hex_id, material = parts
    _check_name(name)
    decoded = _b64(material, "key", 33)
    if decoded[:1] != ED25519:
        raise CheckpointError("not an Ed25519 key")
    raw = decoded[1:]
    public = _raw(Ed25519PrivateKey.from_private_bytes(raw).public_key()) if private else raw
    if hex_id != key_id(name, public).hex():
        raise CheckpointError("the key's id does not match its name and key")
    return name, raw


def sign(checkpoint: Checkpoint, name: str, private_key: Ed25519PrivateKey) -> str:
    """Return *checkpoint* as a note signed by *private_key* named *name*."""
    _check_name(name)
    text = checkpoint.text()
    raw = _raw(private_key.public_key())
    blob = key_id(name, raw) + private_key.sign(text.encode())
    return f"{text}\n{_DASH}{name} {base64.b64encode(blob).decode()}\n"


def open_note(note: str, name: str, public_key: Ed25519PublicKey) -> str:
    """Return the text of *note* if it carries a valid signature by the key *name*;
    CheckpointError otherwise (other signatures are ignored)."""
    text, sep, signatures = note.rpartition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise CheckpointError("not a signed note (text, an empty line, signature lines)")
    text += "\n"
    wanted = key_id(name, _raw(public_key))
    for line in signatures[:-1].split("\n"):
        if not line.startswith(_DASH):
            raise CheckpointError(f"not a signature line: {line[:60]!r}")
        who, _, blob_text = line[len(_DASH) :].rpartition(" ")
        if who != name:
            continue
        blob = _b64(blob_text, "signature", 68)
        if blob[:4] != wanted:
            continue
        try:
            public_key.verify(blob[4:], text.encode())
        except InvalidSignature:
            raise CheckpointError(f"the signature of {name} does not verify") from None
        return text
    raise CheckpointError(f"no signature of {name} with this key")


def open_checkpoint(note: str, name: str, public_key: Ed25519PublicKey) -> Checkpoint:
    """Return the checkpoint of the signed note *note* (see :func:`open_note`)."""
    return Checkpoint.parse(open_note(note, name, public_key))


def _check_name(name: str) -> None:
    if not name or any(c in name for c in "+ \n\t") or not name.isprintable():
        raise CheckpointError(f"a key name has no '+', space or control character: {name!r}")


def _b64(text: str, what: str, size: int) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError(f"{what}: not base64") from None
    if len(raw) != size:
        raise CheckpointError(f"{what}: {len(raw)} bytes, not {size}")
    return raw
