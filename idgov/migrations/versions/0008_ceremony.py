"""the signing ceremony: signing requests and hosts' return URLs

Revision ID: 0008_ceremony
Revises: 0007_reviews
Create Date: 2026-12-06 12:30:00
"""

import sqlalchemy as sa
from alembic import op

from idgov.db import UTCDateTime

revision = "0008_ceremony"
down_revision = "0007_reviews"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("host_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("return_urls", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "signing_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failure", sa.String(length=200), nullable=True),
        sa.Column("meaning", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("records", sa.Text(), nullable=False),
        sa.Column("batched", sa.Boolean(), nullable=False),
        sa.Column("signer", sa.String(length=256), nullable=True),
        sa.Column("return_url", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("identity_id", sa.String(length=36), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["host_clients.client_id"],
            name=op.f("fk_signing_requests_client_id_host_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.id"],
            name=op.f("fk_signing_requests_identity_id_identities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_requests")),
    )
    with op.batch_alter_table("signing_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signing_requests_client_id"), ["client_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("signing_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signing_requests_client_id"))
    op.drop_table("signing_requests")
    with op.batch_alter_table("host_clients", schema=None) as batch_op:
        batch_op.drop_column("return_urls")
