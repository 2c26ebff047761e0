"""Append-only guards used by migrations: the database itself refuses changes (AUD-2, UNQ-1)."""

from alembic import op

APPEND_ONLY_MESSAGE = "is append-only (21 CFR 11.10(e))"


def refuse_changes(table: str, *, update: bool) -> None:
    """Refuse DELETE (and UPDATE when `update`) on `table`; on PostgreSQL TRUNCATE too."""
    events = ["DELETE", "UPDATE"] if update else ["DELETE"]
    if op.get_bind().dialect.name == "sqlite":
        for event in events:
            op.execute(
                f"CREATE TRIGGER {table}_refuse_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} {APPEND_ONLY_MESSAGE}'); END"
            )
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION idgov_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION 'table % {APPEND_ONLY_MESSAGE}', TG_TABLE_NAME "
        "USING ERRCODE = 'insufficient_privilege'; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE {' OR '.join(events)} ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION idgov_refuse_change()"
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION idgov_refuse_change()"
    )
