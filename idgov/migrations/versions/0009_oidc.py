"""OpenID Connect: sign-ins in flight at a provider

Revision ID: 0009_oidc
Revises: 0008_ceremony
Create Date: 2026-12-06 13:00:00
"""

import sqlalchemy as sa
from alembic import op

from idgov.db import UTCDateTime

revision = "0009_oidc"
down_revision = "0008_ceremony"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oidc_flows",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("verifier", sa.String(length=128), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("next_url", sa.String(length=2000), nullable=True),
        sa.Column("signing_request_id", sa.String(length=36), nullable=True),
        sa.Column("identity_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["signing_request_id"],
            ["signing_requests.id"],
            name=op.f("fk_oidc_flows_signing_request_id_signing_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"], ["identities.id"], name=op.f("fk_oidc_flows_identity_id_identities")
        ),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_oidc_flows")),
    )


def downgrade() -> None:
    op.drop_table("oidc_flows")
