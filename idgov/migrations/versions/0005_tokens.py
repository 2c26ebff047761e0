"""tokens

Revision ID: 0005_tokens
Revises: 0004_signatures
Create Date: 2026-11-22 02:30:09.690025
"""

import sqlalchemy as sa
from alembic import op

from idgov.db import UTCDateTime
from idgov.migrations.triggers import refuse_changes

revision = "0005_tokens"
down_revision = "0004_signatures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "otp_tokens",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("identity_id", sa.String(length=36), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("activated_at", UTCDateTime(), nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=True),
        sa.Column("test_due_at", UTCDateTime(), nullable=True),
        sa.Column("last_tested_at", UTCDateTime(), nullable=True),
        sa.Column("reminded_at", UTCDateTime(), nullable=True),
        sa.Column("failed_tests", sa.Integer(), nullable=False),
        sa.Column("status_changed_at", UTCDateTime(), nullable=False),
        sa.Column("status_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["identity_id"], ["identities.id"], name=op.f("fk_otp_tokens_identity_id_identities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_otp_tokens")),
    )
    with op.batch_alter_table("otp_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_otp_tokens_identity_id"), ["identity_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_otp_tokens_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_otp_tokens_test_due_at"), ["test_due_at"], unique=False
        )

    op.create_table(
        "loss_cases",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("identity_id", sa.String(length=36), nullable=False),
        sa.Column("credential", sa.String(length=16), nullable=False),
        sa.Column("token_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("reported_by", sa.String(length=36), nullable=False),
        sa.Column("reported_at", UTCDateTime(), nullable=False),
        sa.Column("deauthorized_at", UTCDateTime(), nullable=False),
        sa.Column("verified_by", sa.String(length=36), nullable=True),
        sa.Column("verified_at", UTCDateTime(), nullable=True),
        sa.Column("verification_evidence", sa.String(length=200), nullable=True),
        sa.Column("temporary_issued_at", UTCDateTime(), nullable=True),
        sa.Column("temporary_expires_at", UTCDateTime(), nullable=True),
        sa.Column("temporary_uses_left", sa.Integer(), nullable=True),
        sa.Column("temporary_secret_hash", sa.String(length=64), nullable=True),
        sa.Column("replacement_token_id", sa.String(length=36), nullable=True),
        sa.Column("replaced_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(
            ["identity_id"], ["identities.id"], name=op.f("fk_loss_cases_identity_id_identities")
        ),
        sa.ForeignKeyConstraint(
            ["replacement_token_id"],
            ["otp_tokens.id"],
            name=op.f("fk_loss_cases_replacement_token_id_otp_tokens"),
        ),
        sa.ForeignKeyConstraint(
            ["reported_by"], ["identities.id"], name=op.f("fk_loss_cases_reported_by_identities")
        ),
        sa.ForeignKeyConstraint(
            ["token_id"], ["otp_tokens.id"], name=op.f("fk_loss_cases_token_id_otp_tokens")
        ),
        sa.ForeignKeyConstraint(
            ["verified_by"], ["identities.id"], name=op.f("fk_loss_cases_verified_by_identities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loss_cases")),
    )
    with op.batch_alter_table("loss_cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_loss_cases_identity_id"), ["identity_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_loss_cases_reported_at"), ["reported_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_loss_cases_status"), ["status"], unique=False)

    op.create_table(
        "token_tests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.String(length=36), nullable=False),
        sa.Column("tested_at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("result", sa.String(length=8), nullable=False),
        sa.Column("drift_steps", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["token_id"], ["otp_tokens.id"], name=op.f("fk_token_tests_token_id_otp_tokens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_tests")),
    )
    with op.batch_alter_table("token_tests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_token_tests_token_id"), ["token_id"], unique=False)
    # TOK-1: test results are evidence, never edited or removed.
    refuse_changes("token_tests", update=True)


def downgrade() -> None:
    raise RuntimeError("the tokens migration cannot be downgraded: token evidence is kept (REC-1)")
