"""Domain owners: verification requests and the credentials issued when one succeeds.

``heed serve`` lets a rightsholder see a domain's decisions URL by URL once they have proved
control of it. What is kept here, and why in this form:

* a verification has an opaque random id (in URLs), the domain, the challenge token the owner
  publishes (public once published, so it proves nothing about *who* asks), and the sha256 of
  a *key* returned once to whoever started it: only the holder of the key may run the check and
  receive the credential, so that someone who reads the token from the domain's DNS cannot
  collect the credential meant for the owner;
* a credential is a bearer token returned once; only its sha256 is stored, so a copy of the
  database grants nothing. It names one registrable domain and expires.

Secrets come from :mod:`secrets` (``token_urlsafe``: 256 bits for keys and credentials, 192 for
challenge tokens). Comparisons of secrets go through their hashes (a database equality on the
sha256 of the presented value; the hash, not the secret, is what a timing leak could reveal).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, update

from audit.engine import reading
from audit.models import CREDENTIAL_T, VERIFICATION_T

#: Prefix of credentials, so that a leaked one is recognisable (secret scanners, logs).
CREDENTIAL_PREFIX = "heed_"


@dataclass(frozen=True, slots=True)
class Verification:
    """A verification request, as stored (never its key)."""

    id: str
    domain: str
    token: str
    created_at: dt.datetime
    expires_at: dt.datetime
    checks: int
    last_check_at: dt.datetime | None
    last_error: str | None
    verified_at: dt.datetime | None
    method: str | None

    def expired(self, now: dt.datetime) -> bool:
        """Whether the challenge can no longer be checked."""
        return now >= self.expires_at


@dataclass(frozen=True, slots=True)
class Credential:
    """A valid credential: the domain it is for and when it expires."""

    id: int
    domain: str
    verification_id: str
    expires_at: dt.datetime


def sha256_hex(secret: str) -> str:
    """Return the sha256 (hex) of a secret, the only form in which it is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def start_verification(
    engine: Engine, domain: str, *, valid_for: dt.timedelta, now: dt.datetime | None = None
) -> tuple[Verification, str]:
    """Record a verification of *domain* (a registrable domain); return it and its key."""
    now = now or dt.datetime.now(dt.UTC)
    key = secrets.token_urlsafe(32)
    row = {
        "id": secrets.token_urlsafe(12),
        "domain": domain,
        "token": secrets.token_urlsafe(24),
        "key_sha256": sha256_hex(key),
        "created_at": now,
        "expires_at": now + valid_for,
        "checks": 0,
    }
    with engine.begin() as conn:
        conn.execute(insert(VERIFICATION_T).values(**row))
    return _verification(row), key


def find_verification(engine: Engine, verification_id: str, key: str) -> Verification | None:
    """Return the verification with this id *and* key, or None (either wrong: the same)."""
    c = VERIFICATION_T.c
    stmt = select(VERIFICATION_T).where(c.id == verification_id, c.key_sha256 == sha256_hex(key))
    with reading(engine) as conn:
        row = conn.execute(stmt).first()
    return None if row is None else _verification(row._mapping)


def record_check(
    engine: Engine,
    verification_id: str,
    *,
    method: str | None,
    error: str | None,
    valid_for: dt.timedelta,
    now: dt.datetime | None = None,
) -> str | None:
    """Record a check; on success (no *error*) issue a credential and return its token."""
    now = now or dt.datetime.now(dt.UTC)
    c = VERIFICATION_T.c
    values: dict[str, object] = {
        "checks": c.checks + 1,
        "last_check_at": now,
        "last_error": error[:300] if error else None,
    }
    if error is None:
        values.update(verified_at=now, method=method)
    with engine.begin() as conn:
        conn.execute(update(VERIFICATION_T).where(c.id == verification_id).values(**values))
        if error is not None:
            return None
        domain = conn.execute(select(c.domain).where(c.id == verification_id)).scalar_one()
        token = CREDENTIAL_PREFIX + secrets.token_urlsafe(32)
        conn.execute(
            insert(CREDENTIAL_T).values(
                token_sha256=sha256_hex(token),
                domain=domain,
                verification_id=verification_id,
                created_at=now,
                expires_at=now + valid_for,
            )
        )
    return token


def find_credential(
    engine: Engine, token: str, now: dt.datetime | None = None
) -> Credential | None:
    """Return the unexpired credential *token* names, or None (unknown, forged or expired)."""
    if not token.startswith(CREDENTIAL_PREFIX) or len(token) > 200:
        return None
    now = now or dt.datetime.now(dt.UTC)
    c = CREDENTIAL_T.c
    stmt = select(c.id, c.domain, c.verification_id, c.expires_at).where(
        c.token_sha256 == sha256_hex(token), c.expires_at > now
    )
    with reading(engine) as conn:
        row = conn.execute(stmt).first()
    if row is None:
        return None
    return Credential(row.id, row.domain, row.verification_id, row.expires_at)


def _verification(m: Mapping[Any, Any]) -> Verification:
    return Verification(
        id=m["id"],
        domain=m["domain"],
        token=m["token"],
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        checks=m["checks"],
        last_check_at=m.get("last_check_at"),
        last_error=m.get("last_error"),
        verified_at=m.get("verified_at"),
        method=m.get("method"),
    )
