"""Alembic migrations (script_location idgov:migrations)."""
