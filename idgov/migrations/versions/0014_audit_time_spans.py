"""Audit time spans: the seq and time range of every 1024 events, for the trail's time filter

Revision ID: 0014_audit_time_spans
Revises: 0013_people_list
Create Date: 2026-12-06 22:15:00

An event's time is read before the chain head's lock is taken, so times rise with seq only
almost, and a time window's seq range cannot be read off one index probe. The console's trail
page bounds a window by the spans whose times meet it (audit/browse.py): a read of about a
thousand rows at 1,000,000 events, where the exact min and max seq of a window read its whole
index range (176 ms for a window over 40% of the trail).

A trigger on audit_events keeps the spans in the inserting transaction, whatever inserts (an
append, a batch, COPY), under the head lock the append already holds. The spans only widen:
the database refuses a DELETE, a TRUNCATE or an UPDATE that narrows one (AUD-2), since a
narrowed span could hide events from the time filter. Existing events are backfilled.
"""

import sqlalchemy as sa
from alembic import op

from idgov.db import UTCDateTime
from idgov.migrations.triggers import APPEND_ONLY_MESSAGE, refuse_changes

revision = "0014_audit_time_spans"
down_revision = "0013_people_list"
branch_labels = None
depends_on = None

SPAN_EVENTS = 1024
NARROWED = "(NEW.span <> OLD.span OR NEW.first_seq > OLD.first_seq OR NEW.last_seq < OLD.last_seq"
NARROWED += " OR NEW.earliest > OLD.earliest OR NEW.latest < OLD.latest)"
NARROWING_REFUSED = f"audit_time_spans only widen: it {APPEND_ONLY_MESSAGE}"
# The spans of a set of rows named `{rows}`, merged into the table by widening. `WHERE true`
# keeps SQLite's parser from reading the upsert's ON CONFLICT as a join's ON (its documented
# ambiguity of INSERT ... SELECT ... ON CONFLICT).
MERGE_SPANS = """
    INSERT INTO audit_time_spans (span, first_seq, last_seq, earliest, latest)
    SELECT seq / {size}, min(seq), max(seq), min(occurred_at), max(occurred_at)
    FROM {rows} WHERE true GROUP BY seq / {size}
    ON CONFLICT (span) DO UPDATE SET
        first_seq = {least}(audit_time_spans.first_seq, excluded.first_seq),
        last_seq = {greatest}(audit_time_spans.last_seq, excluded.last_seq),
        earliest = {least}(audit_time_spans.earliest, excluded.earliest),
        latest = {greatest}(audit_time_spans.latest, excluded.latest)
"""


def merge_spans(rows: str, dialect: str) -> str:
    least, greatest = ("min", "max") if dialect == "sqlite" else ("least", "greatest")
    return MERGE_SPANS.format(rows=rows, size=SPAN_EVENTS, least=least, greatest=greatest)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "audit_time_spans",
        sa.Column("span", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("earliest", UTCDateTime(), nullable=False),
        sa.Column("latest", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("span", name=op.f("pk_audit_time_spans")),
    )
    # The trigger first: from here on no insert (it waits for this transaction) goes unspanned.
    if dialect == "sqlite":
        # Row by row: SQLite has no statement triggers.
        single = merge_spans("(SELECT NEW.seq AS seq, NEW.occurred_at AS occurred_at)", dialect)
        spanned = f"BEGIN {single}; END"
        op.execute(f"CREATE TRIGGER audit_events_time_span AFTER INSERT ON audit_events {spanned}")
        op.execute(
            "CREATE TRIGGER audit_time_spans_widen_only BEFORE UPDATE ON audit_time_spans "
            f"WHEN {NARROWED} BEGIN SELECT RAISE(ABORT, '{NARROWING_REFUSED}'); END"
        )
    else:
        # Once per statement over its transition table: one upsert per COPY or batch.
        op.execute(
            "CREATE FUNCTION idgov_audit_time_span() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {merge_spans('added', dialect)}; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_events_time_span AFTER INSERT ON audit_events "
            "REFERENCING NEW TABLE AS added FOR EACH STATEMENT "
            "EXECUTE FUNCTION idgov_audit_time_span()"
        )
        op.execute(
            "CREATE FUNCTION idgov_refuse_span_narrowing() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF {NARROWED} THEN RAISE EXCEPTION '{NARROWING_REFUSED}' "
            "USING ERRCODE = 'insufficient_privilege'; END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_time_spans_widen_only BEFORE UPDATE ON audit_time_spans "
            "FOR EACH ROW EXECUTE FUNCTION idgov_refuse_span_narrowing()"
        )
    refuse_changes("audit_time_spans", update=False)
    op.execute(merge_spans("audit_events", dialect))


def downgrade() -> None:
    # Derived data only: the events keep every time and seq the spans were made from.
    op.execute("DROP TRIGGER audit_events_time_span" + (" ON audit_events" * _postgres()))
    op.drop_table("audit_time_spans")  # its own triggers go with it
    if _postgres():
        op.execute("DROP FUNCTION idgov_audit_time_span()")
        op.execute("DROP FUNCTION idgov_refuse_span_narrowing()")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"
