"""Alembic revisions of the audit schema, oldest first."""
