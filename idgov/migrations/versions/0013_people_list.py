"""The console's people list: usernames in byte order, indexes for its filters and prefix search

Revision ID: 0013_people_list
Revises: 0012_audit_keyset
Create Date: 2026-12-06 18:45:00

Each filter of the list (status, source, role) walks an index in username order, so a page
costs a range read at 100,000 identities (identity/people_query.py). Usernames sort in byte
order on both databases: on PostgreSQL the column takes the "C" collation (whatever the
database's default), as SQLite's BINARY already is; then a username prefix is a range of its
index, and the list's order and keyset cursors are the same everywhere. A prefix of a printed
name, case aside, is a range of an index on the lowered name in byte order ("C" on
PostgreSQL; NOCASE on SQLite); pg_trgm is not assumed. That index stays out of the models'
metadata: Alembic cannot compare collated expression indexes (tests/functional/
test_migrations.py names it).
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_people_list"
down_revision = "0012_audit_keyset"
branch_labels = None
depends_on = None

NAME_PREFIX_INDEXES = {
    "postgresql": ("ix_identities_name_prefix", '(lower(printed_name)) COLLATE "C"'),
    "sqlite": ("ix_identities_name_nocase", "printed_name COLLATE NOCASE"),
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # Rebuilds the unique index on username in byte order too.
        op.alter_column(
            "identities",
            "username",
            type_=sa.String(64, collation="C"),
            existing_type=sa.String(64),
            existing_nullable=False,
        )
    op.create_index("ix_identities_status_username", "identities", ["status", "username"])
    op.create_index("ix_identities_provider_username", "identities", ["provider", "username"])
    op.create_index("ix_identity_roles_role", "identity_roles", ["role", "identity_id"])
    if dialect in NAME_PREFIX_INDEXES:
        name, expression = NAME_PREFIX_INDEXES[dialect]
        op.execute(f"CREATE INDEX {name} ON identities ({expression})")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect in NAME_PREFIX_INDEXES:
        op.drop_index(NAME_PREFIX_INDEXES[dialect][0], table_name="identities")
    op.drop_index("ix_identity_roles_role", table_name="identity_roles")
    op.drop_index("ix_identities_provider_username", table_name="identities")
    op.drop_index("ix_identities_status_username", table_name="identities")
    if dialect == "postgresql":
        op.alter_column(
            "identities",
            "username",
            type_=sa.String(64),
            existing_type=sa.String(64, collation="C"),
            existing_nullable=False,
        )
