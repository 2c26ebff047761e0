"""web sessions remember whether the password must change first

Revision ID: 0003_sessions
Revises: 0002_identity
Create Date: 2026-11-23 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_sessions"
down_revision = "0002_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Sessions that exist before this revision were started before the flag existed: false.
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    raise RuntimeError("the sessions migration cannot be downgraded: session records are kept")
