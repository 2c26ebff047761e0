"""Simulates an attacker with direct database access who gets past the append-only triggers."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

SQLITE_TRIGGERS = ("audit_events_refuse_update", "audit_events_refuse_delete")


def tamper(engine: Engine, *statements: str) -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            for trigger in SQLITE_TRIGGERS:
                conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
        else:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            conn.exec_driver_sql(statement)
