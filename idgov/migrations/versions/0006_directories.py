"""directories

Revision ID: 0006_directories
Revises: 0005_tokens
Create Date: 2026-11-22 03:48:54.465187
"""

import sqlalchemy as sa
from alembic import op

from idgov.db import UTCDateTime

revision = "0006_directories"
down_revision = "0005_tokens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directory_sync_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=False),
        sa.Column("server", sa.String(length=300), nullable=True),
        sa.Column("high_water", sa.String(length=64), nullable=True),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_sync_runs")),
    )
    with op.batch_alter_table("directory_sync_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directory_sync_runs_provider"), ["provider"], unique=False
        )

    op.create_table(
        "directory_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("identity_id", sa.String(length=36), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("dn", sa.String(length=1024), nullable=False),
        sa.Column("dn_norm", sa.String(length=1024), nullable=False),
        sa.Column("username", sa.String(length=256), nullable=False),
        sa.Column("manager_dn", sa.String(length=1024), nullable=True),
        sa.Column("password_changed_at", UTCDateTime(), nullable=True),
        sa.Column("password_expires_at", UTCDateTime(), nullable=True),
        sa.Column("must_change", sa.Boolean(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("modify_stamp", sa.String(length=64), nullable=True),
        sa.Column("warned_days", sa.Integer(), nullable=True),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("gone_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.id"],
            name=op.f("fk_directory_accounts_identity_id_identities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_accounts")),
        sa.UniqueConstraint("provider", "key", name="uq_directory_account_key"),
    )
    with op.batch_alter_table("directory_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directory_accounts_dn_norm"), ["dn_norm"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_directory_accounts_identity_id"), ["identity_id"], unique=False
        )

    op.create_table(
        "entitlements",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("source_type", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("owner_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("removed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["identities.id"], name=op.f("fk_entitlements_owner_id_identities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entitlements")),
        sa.UniqueConstraint("source_type", "source", "key", name="uq_entitlement_source_key"),
    )
    op.create_table(
        "directory_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("entitlement_id", sa.String(length=36), nullable=False),
        sa.Column("dn", sa.String(length=1024), nullable=False),
        sa.Column("dn_norm", sa.String(length=1024), nullable=False),
        sa.Column("members", sa.Text(), nullable=False),
        sa.Column("modify_stamp", sa.String(length=64), nullable=True),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("gone_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entitlement_id"],
            ["entitlements.id"],
            name=op.f("fk_directory_groups_entitlement_id_entitlements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_groups")),
        sa.UniqueConstraint("provider", "key", name="uq_directory_group_key"),
    )
    op.create_table(
        "entitlement_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entitlement_id", sa.String(length=36), nullable=False),
        sa.Column("identity_id", sa.String(length=36), nullable=True),
        sa.Column("account", sa.String(length=1024), nullable=False),
        sa.Column("via", sa.String(length=1024), nullable=True),
        sa.Column("granted_at", UTCDateTime(), nullable=False),
        sa.Column("removed_at", UTCDateTime(), nullable=True),
        sa.Column("removed_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["entitlement_id"],
            ["entitlements.id"],
            name=op.f("fk_entitlement_grants_entitlement_id_entitlements"),
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.id"],
            name=op.f("fk_entitlement_grants_identity_id_identities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entitlement_grants")),
    )
    with op.batch_alter_table("entitlement_grants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_entitlement_grants_entitlement_id"), ["entitlement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_entitlement_grants_identity_id"), ["identity_id"], unique=False
        )
        batch_op.create_index(
            "uq_entitlement_grants_current",
            ["entitlement_id", "account"],
            unique=True,
            sqlite_where=sa.text("removed_at IS NULL"),
            postgresql_where=sa.text("removed_at IS NULL"),
        )


def downgrade() -> None:
    raise RuntimeError(
        "the directories migration cannot be downgraded: mirrored accounts and entitlement "
        "history are kept (REC-1)"
    )
