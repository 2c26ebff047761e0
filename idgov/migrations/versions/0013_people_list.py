"""The console's people list: indexes for its filters in username order, and for prefix search

Revision ID: 0013_people_list
Revises: 0012_audit_keyset
Create Date: 2026-12-06 18:45:00

Each filter of the list (status, source, role) walks an index in username order, so a page
costs a range read at 100,000 identities (identity/people_query.py). A prefix of a username
or printed name, case aside, is a range of byte-ordered values: on PostgreSQL under the "C"
collation (any database collation may be the default; pg_trgm is not assumed); on SQLite
usernames under its default BINARY collation (their unique index serves) and printed names
under NOCASE. These prefix indexes stay out of the models' metadata: Alembic cannot compare
collated expression indexes (tests/functional/test_migrations.py names them).
"""

from alembic import op

revision = "0013_people_list"
down_revision = "0012_audit_keyset"
branch_labels = None
depends_on = None

PREFIX_INDEXES = {
    "postgresql": {
        "ix_identities_username_bytes": 'username COLLATE "C"',
        "ix_identities_name_prefix": '(lower(printed_name)) COLLATE "C"',
    },
    "sqlite": {"ix_identities_name_nocase": "printed_name COLLATE NOCASE"},
}


def upgrade() -> None:
    op.create_index("ix_identities_status_username", "identities", ["status", "username"])
    op.create_index("ix_identities_provider_username", "identities", ["provider", "username"])
    op.create_index("ix_identity_roles_role", "identity_roles", ["role", "identity_id"])
    for name, expression in PREFIX_INDEXES.get(op.get_bind().dialect.name, {}).items():
        op.execute(f"CREATE INDEX {name} ON identities ({expression})")


def downgrade() -> None:
    for name in PREFIX_INDEXES.get(op.get_bind().dialect.name, {}):
        op.drop_index(name, table_name="identities")
    op.drop_index("ix_identity_roles_role", table_name="identity_roles")
    op.drop_index("ix_identities_provider_username", table_name="identities")
    op.drop_index("ix_identities_status_username", table_name="identities")
