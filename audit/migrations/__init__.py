"""Alembic migrations of the audit schema (run by ``heed db upgrade`` and on first use)."""
