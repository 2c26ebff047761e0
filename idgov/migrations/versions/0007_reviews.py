"""reviews

Revision ID: 0007_reviews
Revises: 0006_directories
Create Date: 2026-11-22 04:15:59.832861
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from idgov.db import UTCDateTime

revision = "0007_reviews"
down_revision = "0006_directories"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_definitions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("reviewer_rule", sa.String(length=32), nullable=False),
        sa.Column("fallback_reviewer_id", sa.String(length=36), nullable=False),
        sa.Column("duration_days", sa.Integer(), nullable=False),
        sa.Column("reminder_days", sa.Integer(), nullable=False),
        sa.Column("escalation_days", sa.Integer(), nullable=False),
        sa.Column("dormant_days", sa.Integer(), nullable=False),
        sa.Column("schedule", sa.String(length=100), nullable=True),
        sa.Column("certify_justification", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_started_at", UTCDateTime(), nullable=True),
        sa.Column("paused_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["fallback_reviewer_id"],
            ["identities.id"],
            name=op.f("fk_review_definitions_fallback_reviewer_id_identities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_definitions")),
        sa.UniqueConstraint("name", name=op.f("uq_review_definitions_name")),
    )
    op.create_table(
        "system_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("digest", sa.String(length=80), nullable=False),
        sa.Column("roles", sa.Integer(), nullable=False),
        sa.Column("assignments", sa.Integer(), nullable=False),
        sa.Column("unknown_usernames", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["host_clients.client_id"],
            name=op.f("fk_system_snapshots_client_id_host_clients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_snapshots")),
    )
    with op.batch_alter_table("system_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_system_snapshots_system"), ["system"], unique=False)

    op.create_table(
        "review_campaigns",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("definition_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("reviewer_rule", sa.String(length=32), nullable=False),
        sa.Column("fallback_reviewer_id", sa.String(length=36), nullable=False),
        sa.Column("certify_justification", sa.Boolean(), nullable=False),
        sa.Column("escalation_days", sa.Integer(), nullable=False),
        sa.Column("reminder_days", sa.Integer(), nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("closing_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("completeness", sa.Text(), nullable=False),
        sa.Column("population_hash", sa.String(length=80), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["review_definitions.id"],
            name=op.f("fk_review_campaigns_definition_id_review_definitions"),
        ),
        sa.ForeignKeyConstraint(
            ["fallback_reviewer_id"],
            ["identities.id"],
            name=op.f("fk_review_campaigns_fallback_reviewer_id_identities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_campaigns")),
    )
    with op.batch_alter_table("review_campaigns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_campaigns_definition_id"), ["definition_id"], unique=False
        )

    op.create_table(
        "review_signoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=False),
        sa.Column("reviewer_id", sa.String(length=36), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("signature_id", sa.String(length=36), nullable=False),
        sa.Column("digest", sa.String(length=80), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("signed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["review_campaigns.id"],
            name=op.f("fk_review_signoffs_campaign_id_review_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["identities.id"],
            name=op.f("fk_review_signoffs_reviewer_id_identities"),
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["signatures.id"],
            name=op.f("fk_review_signoffs_signature_id_signatures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_signoffs")),
    )
    with op.batch_alter_table("review_signoffs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_signoffs_campaign_id"), ["campaign_id"], unique=False
        )

    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("entitlement_id", sa.String(length=36), nullable=False),
        sa.Column("identity_id", sa.String(length=36), nullable=True),
        sa.Column("account", sa.String(length=1024), nullable=False),
        sa.Column("holder_name", sa.String(length=300), nullable=False),
        sa.Column("source_type", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("entitlement_name", sa.String(length=300), nullable=False),
        sa.Column("entitlement_description", sa.Text(), nullable=True),
        sa.Column("via", sa.String(length=1024), nullable=True),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.String(length=36), nullable=True),
        sa.Column("escalation", sa.Integer(), nullable=False),
        sa.Column("reminded_at", UTCDateTime(), nullable=True),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("flags", sa.String(length=64), nullable=False),
        sa.Column("suggestion", sa.String(length=16), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("justification", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=36), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("signoff_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["review_campaigns.id"],
            name=op.f("fk_review_items_campaign_id_review_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["identities.id"], name=op.f("fk_review_items_decided_by_identities")
        ),
        sa.ForeignKeyConstraint(
            ["entitlement_id"],
            ["entitlements.id"],
            name=op.f("fk_review_items_entitlement_id_entitlements"),
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["entitlement_grants.id"],
            name=op.f("fk_review_items_grant_id_entitlement_grants"),
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"], ["identities.id"], name=op.f("fk_review_items_identity_id_identities")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["identities.id"], name=op.f("fk_review_items_reviewer_id_identities")
        ),
        sa.ForeignKeyConstraint(
            ["signoff_id"],
            ["review_signoffs.id"],
            name=op.f("fk_review_items_signoff_id_review_signoffs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_items")),
    )
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.create_index("ix_review_items_campaign_id", ["campaign_id", "id"], unique=False)
        batch_op.create_index(
            "ix_review_items_campaign_reviewer", ["campaign_id", "reviewer_id"], unique=False
        )

    op.create_table(
        "review_remediations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("verified_at", UTCDateTime(), nullable=True),
        sa.Column("verified_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["review_campaigns.id"],
            name=op.f("fk_review_remediations_campaign_id_review_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["review_items.id"],
            name=op.f("fk_review_remediations_item_id_review_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_remediations")),
        sa.UniqueConstraint("item_id", name=op.f("uq_review_remediations_item_id")),
    )
    with op.batch_alter_table("review_remediations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_remediations_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_review_remediations_source"), ["source"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_remediations_status"), ["status"], unique=False)
    # The host that review sign-offs are signed for: it has no usable secret (the stored
    # digest matches none) and is disabled, so nobody can obtain a token as it.
    created = datetime.now(UTC)
    op.bulk_insert(
        sa.table(
            "host_clients",
            sa.column("client_id", sa.String),
            sa.column("name", sa.String),
            sa.column("secret_hash", sa.String),
            sa.column("scopes", sa.String),
            sa.column("allowed_cidrs", sa.String),
            sa.column("created_at", UTCDateTime()),
            sa.column("secret_rotated_at", UTCDateTime()),
            sa.column("disabled_at", UTCDateTime()),
        ),
        [
            {
                "client_id": "idgov-reviews",
                "name": "idgov access reviews",
                "secret_hash": "!",
                "scopes": "",
                "allowed_cidrs": "",
                "created_at": created,
                "secret_rotated_at": created,
                "disabled_at": created,
            }
        ],
    )


def downgrade() -> None:
    raise RuntimeError(
        "the reviews migration cannot be downgraded: review evidence is kept (REC-1)"
    )
