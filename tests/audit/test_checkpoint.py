"""audit/checkpoint.py: C2SP signed notes and checkpoints, against the example of Go's
golang.org/x/mod/sumdb/note (the key pair, the note and its published signature)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    open_checkpoint,
    open_note,
    parse_signer_key,
    parse_verifier_key,
    sign,
    signer_key,
    verifier_key,
)
from audit.merkle import EMPTY_ROOT

# The example of golang.org/x/mod/sumdb/note (package documentation and note_test.go).
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_keys_and_the_go_example_round_trip() -> None:
    name, private = parse_signer_key(GO_SIGNER)
    assert name == "PeterNeumann"
    assert signer_key(name, private) == GO_SIGNER
    assert verifier_key(name, private.public_key()) == GO_VERIFIER
    vname, public = parse_verifier_key(GO_VERIFIER)
    assert open_note(GO_NOTE, vname, public) == GO_TEXT
    # Ed25519 is deterministic: signing the same text gives the published note, byte for byte.
    blob = base64.b64encode(bytes.fromhex("c74f20a3") + private.sign(GO_TEXT.encode())).decode()
    assert GO_NOTE.endswith(f"PeterNeumann {blob}\n")


def test_a_checkpoint_is_signed_and_opened() -> None:
    private = Ed25519PrivateKey.generate()
    point = Checkpoint("heed.example/audit", 8, EMPTY_ROOT, ("time 2026-12-05T13:00:00Z",))
    note = sign(point, "heed.example/audit", private)
    assert note.startswith(f"heed.example/audit\n8\n{base64.b64encode(EMPTY_ROOT).decode()}\n")
    assert open_checkpoint(note, "heed.example/audit", private.public_key()) == point


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda n: n.replace("\n8\n", "\n9\n", 1), "does not verify"),
        (lambda n: n.replace("heed.example/audit\n", "heed.example/other\n", 1), "does not verify"),
        (lambda n: n.replace("time 2026", "time 2025", 1), "does not verify"),
        (lambda n: n.replace("\u2014 heed.example/audit", "\u2014 someone", 1), "no signature"),
        (lambda n: n.replace("\n\n", "\n", 1), "not a signed note"),
        (lambda n: n[:-2] + "A\n", "does not verify|not base64|bytes, not 68"),
    ],
)
def test_a_changed_note_is_refused(change: object, why: str) -> None:
    private = Ed25519PrivateKey.generate()
    point = Checkpoint("heed.example/audit", 8, EMPTY_ROOT, ("time 2026-12-05T13:00:00Z",))
    note = sign(point, "heed.example/audit", private)
    assert callable(change)
    with pytest.raises(CheckpointError, match=why):
        open_checkpoint(change(note), "heed.example/audit", private.public_key())


def test_another_key_is_refused_and_bad_input_is_one_clear_error() -> None:
    note = sign(Checkpoint("log", 0, EMPTY_ROOT), "log", Ed25519PrivateKey.generate())
    with pytest.raises(CheckpointError, match="no signature of log with this key"):
        open_checkpoint(note, "log", Ed25519PrivateKey.generate().public_key())
    for bad in (
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # id
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  # base64
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ):
        with pytest.raises(CheckpointError):
            parse_verifier_key(bad)
    for text in ("log\n8\n", "log\n08\nAAAA\n", "log\nx\nAAAA\n", "log\n1\nAAAA\n", "log\n1\n"):
        with pytest.raises(CheckpointError):
            Checkpoint.parse(text)
