"""Registrable domains under unlisted top-level domains follow the PSL default rule ``*``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

Before this revision ``origin.domain`` was the whole host when no Public Suffix List rule matched
(``www.site.test`` → ``www.site.test``); the crawler's scope and denylist already applied the
list's default rule, under which the last label is the suffix (→ ``site.test``). The column now
agrees with them, so that ``heed status site.test`` and the summary's domain ranking take in
every host of such a site. Only those origins change; ids are derived from the origin text and
stay as they are. The rule is frozen here: a migration must not change meaning when
``audit.urls`` does.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence

import sqlalchemy as sa
import tldextract
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ORIGIN = sa.table("origin", sa.column("id", sa.BigInteger), sa.column("host"), sa.column("domain"))
_BATCH = 5_000
#: The bundled snapshot only, as audit.urls: never a download.
_EXTRACT = tldextract.TLDExtract(
    suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False
)


def _unlisted_suffix_domain(host: str) -> str | None:
    """Return the default-rule domain of *host* when no PSL rule matches it and it differs."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return None
    if _EXTRACT.extract_str(host).suffix:
        return None
    labels = host.split(".")
    if len(labels) < 3 or not all(labels[-2:]):
        return None  # a single label, or already two: the host is its own domain
    return ".".join(labels[-2:])


def _origins(where: sa.ColumnElement[bool]) -> Iterator[list[tuple[int, str]]]:
    """Yield batches of ``(id, host)`` of the origins matching *where*, by id."""
    bind = op.get_bind()
    last = None
    while True:
        stmt = sa.select(_ORIGIN.c.id, _ORIGIN.c.host).where(where).order_by(_ORIGIN.c.id)
        if last is not None:
            stmt = stmt.where(_ORIGIN.c.id > last)
        rows = [(int(r[0]), str(r[1])) for r in bind.execute(stmt.limit(_BATCH))]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _set_domains(changes: list[dict[str, object]]) -> None:
    if changes:
        op.get_bind().execute(
            _ORIGIN.update()
            .where(_ORIGIN.c.id == sa.bindparam("oid"))
            .values(domain=sa.bindparam("new")),
            changes,
        )


def upgrade() -> None:
    """Give the origins of hosts under unlisted suffixes their default-rule domain."""
    # Only an origin whose domain is its host can be affected (the old fallback).
    for rows in _origins(_ORIGIN.c.domain == _ORIGIN.c.host):
        changes = []
        for oid, host in rows:
            domain = _unlisted_suffix_domain(host)
            if domain is not None:
                changes.append({"oid": oid, "new": domain})
        _set_domains(changes)


def downgrade() -> None:
    """Restore the old fallback: such an origin's domain is its host again."""
    for rows in _origins(_ORIGIN.c.domain != _ORIGIN.c.host):
        changes = [
            {"oid": oid, "new": host}
            for oid, host in rows
            if _unlisted_suffix_domain(host) is not None
        ]
        _set_domains(changes)
