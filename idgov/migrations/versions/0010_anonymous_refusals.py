"""Anonymous refusals: shadow lockout counters and aggregated refusal windows

Revision ID: 0010_anonymous_refusals
Revises: 0009_oidc
Create Date: 2026-12-06 15:10:00
"""

import sqlalchemy as sa
from alembic import op

from idgov.db import UTCDateTime

revision = "0010_anonymous_refusals"
down_revision = "0009_oidc"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shadow_locks",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_shadow_locks")),
    )
    op.create_table(
        "refusal_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_address", sa.String(length=64), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("window_end", UTCDateTime(), nullable=False),
        sa.Column("refusals", sa.Integer(), nullable=False),
        sa.Column("flushed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refusal_windows")),
        sa.UniqueConstraint("source_address", "window_start", name="uq_refusal_window"),
    )
    op.create_index(
        op.f("ix_refusal_windows_window_end"), "refusal_windows", ["window_end"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_refusal_windows_window_end"), table_name="refusal_windows")
    op.drop_table("refusal_windows")
    op.drop_table("shadow_locks")
