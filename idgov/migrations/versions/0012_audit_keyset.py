"""Audit trail filters end in seq: keyset pages of the console's trail stay fast (AUD-1)

Revision ID: 0012_audit_keyset
Revises: 0011_password_setups
Create Date: 2026-12-06 15:30:00
"""

from alembic import op

revision = "0012_audit_keyset"
down_revision = "0011_password_setups"
branch_labels = None
depends_on = None

# (old index, its columns) -> (new index, its columns): the same filters, with seq last.
REPLACED = (
    ("ix_audit_events_occurred_at", ["occurred_at"], "ix_audit_events_occurred_at_seq"),
    ("ix_audit_events_action", ["action"], "ix_audit_events_action_seq"),
    ("ix_audit_events_target", ["target_type", "target_id"], "ix_audit_events_target_seq"),
    ("ix_audit_events_actor", ["actor_type", "actor_id"], "ix_audit_events_actor_seq"),
)
NEW_COLUMNS = {
    "ix_audit_events_occurred_at_seq": ["occurred_at", "seq"],
    "ix_audit_events_action_seq": ["action", "seq"],
    "ix_audit_events_target_seq": ["target_type", "target_id", "seq"],
    "ix_audit_events_actor_seq": ["actor_id", "seq"],
}


def upgrade() -> None:
    for old, _columns, new in REPLACED:
        op.create_index(new, "audit_events", NEW_COLUMNS[new])
        op.drop_index(old, table_name="audit_events")


def downgrade() -> None:
    for old, columns, new in REPLACED:
        op.create_index(old, "audit_events", columns)
        op.drop_index(new, table_name="audit_events")
