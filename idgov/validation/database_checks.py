"""IQ of the target database: engine and version, schema at the migration head, and the audit
trail's append-only triggers present and refusing (AUD-2, 11.10(e))."""

from __future__ import annotations

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from idgov.audit.context import Target
from idgov.audit.models import AuditEvent
from idgov.audit.trail import AuditTrail
from idgov.db import current_revision, head_revision
from idgov.validation.checks import Check

AUDIT_TABLE = "audit_events"
TRIGGERS = {
    "sqlite": ("audit_events_refuse_update", "audit_events_refuse_delete"),
    "postgresql": ("audit_events_append_only", "audit_events_no_truncate"),
}
PROBE_ACTION = "validation:trigger-probe:recorded"


def engine_version(engine: Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return f"SQLite {conn.execute(text('select sqlite_version()')).scalar_one()}"
        return f"PostgreSQL {conn.execute(text('show server_version')).scalar_one()}"


def database_checks(
    engine: Engine, sessions: sessionmaker[Session], trail: AuditTrail
) -> list[Check]:
    found = [
        Check(
            "IQ-DATABASE",
            "Database engine and version",
            "SQLite or PostgreSQL",
            engine_version(engine),
            engine.dialect.name in TRIGGERS,
        ),
    ]
    revision, head = current_revision(engine), head_revision()
    found.append(
        Check(
            "IQ-SCHEMA",
            "Schema at the migration head",
            f"Alembic revision {head}",
            f"Alembic revision {revision or 'none (empty database)'}",
            revision == head,
        )
    )
    found.append(_triggers_present(engine))
    found.append(_triggers_refuse(sessions, trail))
    return found


def _triggers_present(engine: Engine) -> Check:
    expected = TRIGGERS.get(engine.dialect.name, ())
    query = (
        "select name from sqlite_master where type = 'trigger' and tbl_name = :table"
        if engine.dialect.name == "sqlite"
        else "select tgname from pg_trigger where tgrelid = cast(:table as regclass)"
        " and not tgisinternal"
    )
    with engine.connect() as conn:
        names = set(conn.execute(text(query), {"table": AUDIT_TABLE}).scalars())
    missing = [name for name in expected if name not in names]
    return Check(
        "IQ-TRIGGERS",
        "Audit triggers present (AUD-2)",
        ", ".join(expected),
        ", ".join(sorted(names)) or "none",
        not missing and bool(expected),
    )


def _triggers_refuse(sessions: sessionmaker[Session], trail: AuditTrail) -> Check:
    """Append a probe event, try to UPDATE and DELETE it, then roll everything back: the
    database itself must refuse both (a row-level trigger needs a row to fire on)."""
    refused: list[str] = []
    allowed: list[str] = []
    with sessions() as session:
        try:
            trail.record(session, PROBE_ACTION, Target("validation-report", "trigger-probe"))
            session.flush()
            seq = session.execute(select(func.max(AuditEvent.seq))).scalar_one()
            statements = {
                "UPDATE": update(AuditEvent).where(AuditEvent.seq == seq).values(reason="probe"),
                "DELETE": delete(AuditEvent).where(AuditEvent.seq == seq),
            }
            for name, statement in statements.items():
                try:
                    with session.begin_nested():
                        session.execute(statement)
                    allowed.append(name)
                except DBAPIError:
                    refused.append(name)
        finally:
            session.rollback()
    observed = (
        f"refused: {', '.join(refused) or 'none'}"
        + (f"; ALLOWED: {', '.join(allowed)}" if allowed else "")
        + " (probe rolled back)"
    )
    return Check(
        "IQ-TRIGGERS-REFUSE",
        "Audit triggers refuse UPDATE and DELETE (AUD-2)",
        "UPDATE and DELETE refused",
        observed,
        not allowed and len(refused) == 2,
    )
