"""Set-password links issued by resets: hashed, single use, short-lived (CMP-2)

Revision ID: 0011_password_setups
Revises: 0010_anonymous_refusals
Create Date: 2026-12-06 15:00:00
"""

import sqlalchemy as sa
from alembic import op

from idgov.db import UTCDateTime

revision = "0011_password_setups"
down_revision = "0010_anonymous_refusals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "password_setups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("identity_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("delivery", sa.String(length=16), nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("handed_over_by", sa.String(length=100), nullable=True),
        sa.Column("handed_over_at", UTCDateTime(), nullable=True),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("ended", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.id"],
            name=op.f("fk_password_setups_identity_id_identities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_setups")),
    )
    op.create_index(
        op.f("ix_password_setups_identity_id"), "password_setups", ["identity_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_password_setups_identity_id"), table_name="password_setups")
    op.drop_table("password_setups")
