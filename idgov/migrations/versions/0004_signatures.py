"""host clients and signatures

Revision ID: 0004_signatures
Revises: 0003_sessions
Create Date: 2026-11-22 01:44:43.585014
"""

import sqlalchemy as sa
from alembic import op

from idgov.db import UTCDateTime
from idgov.migrations.triggers import refuse_changes

revision = "0004_signatures"
down_revision = "0003_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "host_clients",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("secret_hash", sa.String(length=128), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("allowed_cidrs", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("secret_rotated_at", UTCDateTime(), nullable=False),
        sa.Column("disabled_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_host_clients")),
        sa.UniqueConstraint("name", name=op.f("uq_host_clients_name")),
    )
    op.create_table(
        "host_access_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["host_clients.client_id"],
            name=op.f("fk_host_access_tokens_client_id_host_clients"),
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_host_access_tokens")),
    )
    with op.batch_alter_table("host_access_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_host_access_tokens_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_host_access_tokens_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "signing_sequences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("meanings", sa.Text(), nullable=False),
        sa.Column("allow_same_signer", sa.Boolean(), nullable=False),
        sa.Column("declared_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["host_clients.client_id"],
            name=op.f("fk_signing_sequences_client_id_host_clients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_sequences")),
        sa.UniqueConstraint("client_id", "record_type", name="uq_signing_sequence"),
    )
    op.create_table(
        "signing_sessions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("identity_id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("last_signed_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoke_reason", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["host_clients.client_id"],
            name=op.f("fk_signing_sessions_client_id_host_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.id"],
            name=op.f("fk_signing_sessions_identity_id_identities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_sessions")),
    )
    with op.batch_alter_table("signing_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signing_sessions_identity_id"), ["identity_id"], unique=False
        )

    op.create_table(
        "signatures",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("identity_id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("printed_name", sa.String(length=200), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("signed_at", UTCDateTime(), nullable=False),
        sa.Column("meaning", sa.String(length=64), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=200), nullable=False),
        sa.Column("record_version", sa.String(length=64), nullable=False),
        sa.Column("record_digest", sa.String(length=71), nullable=False),
        sa.Column("record_title", sa.String(length=500), nullable=True),
        sa.Column("signing_session_id", sa.String(length=36), nullable=False),
        sa.Column("session_seq", sa.Integer(), nullable=False),
        sa.Column("components", sa.String(length=100), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=True),
        sa.Column("batch_index", sa.Integer(), nullable=True),
        sa.Column("merkle_root", sa.String(length=64), nullable=True),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["host_clients.client_id"],
            name=op.f("fk_signatures_client_id_host_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"], ["identities.id"], name=op.f("fk_signatures_identity_id_identities")
        ),
        sa.ForeignKeyConstraint(
            ["signing_session_id"],
            ["signing_sessions.id"],
            name=op.f("fk_signatures_signing_session_id_signing_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signatures")),
    )
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signatures_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_signatures_identity_id"), ["identity_id"], unique=False
        )
        batch_op.create_index(
            "ix_signatures_record", ["record_type", "record_id", "record_version"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_signatures_signed_at"), ["signed_at"], unique=False)
    # LNK-1, REC-1: a signature, once given, is never altered or removed.
    refuse_changes("signatures", update=True)


def downgrade() -> None:
    raise RuntimeError("the signatures migration cannot be downgraded: signatures are kept (REC-1)")
