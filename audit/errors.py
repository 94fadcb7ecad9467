"""Exceptions of the audit package.

The tree::

    AuditError                    anything the audit layer reports to its caller
    ├── DatabaseURLError          the --db / HEED_DB value is not a usable database URL or path
    ├── SchemaError               no Heed schema, or one older/newer than this code (run heed db upgrade)
    ├── TargetError               a ``heed status`` target or date that cannot be understood
    ├── NotFoundError             no stored document for a hash
    └── IntegrityError            stored bytes no longer match their sha256, or an id collision

Bad input from a user becomes one of these with a one-line message; the CLI turns them into
``click.ClickException`` so that nobody sees a traceback.
"""

from __future__ import annotations


class AuditError(Exception):
    """Base class of every error the audit package raises on purpose."""


class DatabaseURLError(AuditError):
    """The database URL or path cannot be used."""


class SchemaError(AuditError):
    """The database has no Heed schema, or not the revision this code expects."""


class TargetError(AuditError):
    """A look-up target or a date cannot be parsed."""


class NotFoundError(AuditError):
    """Nothing is stored under the given key."""


class IntegrityError(AuditError):
    """Stored data fails verification: the audit trail was altered or an id collided."""
