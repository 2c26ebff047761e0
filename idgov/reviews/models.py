"""Review tables: campaign definitions and campaigns, frozen items, sign-offs, remediation."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ColumnElement, ForeignKey, Index, Integer, String, Text, and_
from sqlalchemy.orm import Mapped, mapped_column

from idgov.db import Base, UTCDateTime


class CampaignState(StrEnum):
    """Fixed states, moving forward only (SEQ-1)."""

    DRAFT = "draft"
    ACTIVE = "active"
    CLOSING = "closing"  # decisions signed; remediation being carried out and verified
    CLOSED = "closed"


class ReviewerRule(StrEnum):
    MANAGER = "manager"  # the holder's manager
    OWNER = "owner"  # the entitlement's owner
    MANAGER_THEN_OWNER = "manager-then-owner"  # both, in two stages


class CampaignDefinition(Base):
    """What to review, who reviews, and when (REV-1): started on its schedule or on demand."""

    __tablename__ = "review_definitions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    scope: Mapped[str] = mapped_column(Text)  # JSON, see reviews/campaigns/scope.py
    reviewer_rule: Mapped[str] = mapped_column(String(32))
    fallback_reviewer_id: Mapped[str] = mapped_column(ForeignKey("identities.id"))
    duration_days: Mapped[int] = mapped_column(Integer)
    reminder_days: Mapped[int] = mapped_column(Integer)  # before the due date
    escalation_days: Mapped[int] = mapped_column(Integer)  # each escalation step's grace
    dormant_days: Mapped[int] = mapped_column(Integer)  # no login for this long: flagged
    schedule: Mapped[str | None] = mapped_column(String(100))  # cron; None: on demand only
    certify_justification: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # no scheduled starts


class Campaign(Base):
    """One run of a definition over a population frozen at its start (REV-1)."""

    __tablename__ = "review_campaigns"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    definition_id: Mapped[str] = mapped_column(ForeignKey("review_definitions.id"), index=True)
    name: Mapped[str] = mapped_column(String(250))
    state: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(Text)  # the definition's scope as it was at the start
    reviewer_rule: Mapped[str] = mapped_column(String(32))
    fallback_reviewer_id: Mapped[str] = mapped_column(ForeignKey("identities.id"))
    certify_justification: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_days: Mapped[int] = mapped_column(Integer)
    reminder_days: Mapped[int] = mapped_column(Integer)
    started_by: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Completeness (REV-1): counts per source, snapshot times, and a hash over the item list.
    completeness: Mapped[str] = mapped_column(Text)  # JSON
    population_hash: Mapped[str] = mapped_column(String(80))
    item_count: Mapped[int] = mapped_column(Integer)


class ReviewItem(Base):
    """One grant under review, frozen at the start: who holds what, from where, and who
    decides. The current reviewer changes on reassignment and escalation, never to the
    holder (REV-2)."""

    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("review_campaigns.id"))
    grant_id: Mapped[int] = mapped_column(ForeignKey("entitlement_grants.id"))
    entitlement_id: Mapped[str] = mapped_column(ForeignKey("entitlements.id"))
    identity_id: Mapped[str | None] = mapped_column(ForeignKey("identities.id"))
    account: Mapped[str] = mapped_column(String(1024))
    holder_name: Mapped[str] = mapped_column(String(300))
    source_type: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(64))
    entitlement_name: Mapped[str] = mapped_column(String(300))
    entitlement_description: Mapped[str | None] = mapped_column(Text)
    via: Mapped[str | None] = mapped_column(String(1024))
    stage: Mapped[int] = mapped_column(Integer, default=1)
    reviewer_id: Mapped[str | None] = mapped_column(ForeignKey("identities.id"))
    escalation: Mapped[int] = mapped_column(Integer, default=0)  # 0, 1 manager, 2 fallback
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    flags: Mapped[str] = mapped_column(String(64), default="")  # "dormant", "orphan"
    suggestion: Mapped[str | None] = mapped_column(String(16))  # never applied by itself
    decision: Mapped[str | None] = mapped_column(String(16))  # certify or revoke
    justification: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("identities.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signoff_id: Mapped[int | None] = mapped_column(ForeignKey("review_signoffs.id"))

    __table_args__ = (
        Index("ix_review_items_campaign_reviewer", "campaign_id", "reviewer_id"),
        Index("ix_review_items_campaign_id", "campaign_id", "id"),
    )


def overdue(cutoff: datetime) -> ColumnElement[bool]:
    """REV-5: an item is overdue when undecided and due before the cut-off; one due exactly
    at the cut-off is still on time. The one definition (in SQL here, in Python below), so
    the pages, the API, escalation and the evidence pack agree about every item."""
    return and_(ReviewItem.decision.is_(None), ReviewItem.due_at < cutoff)


def is_overdue(decision: str | None, due_at: datetime, cutoff: datetime) -> bool:
    """`overdue` for an item or row already read."""
    return decision is None and due_at < cutoff


class ReviewSignoff(Base):
    """A reviewer's electronic signature over exactly the decisions they made (REV-3)."""

    __tablename__ = "review_signoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("review_campaigns.id"), index=True)
    reviewer_id: Mapped[str] = mapped_column(ForeignKey("identities.id"))
    stage: Mapped[int] = mapped_column(Integer)
    signature_id: Mapped[str] = mapped_column(ForeignKey("signatures.id"))
    digest: Mapped[str] = mapped_column(String(80))
    item_count: Mapped[int] = mapped_column(Integer)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Remediation(Base):
    """A signed revocation being carried out and verified (REV-4): open until verified."""

    __tablename__ = "review_remediations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id"), unique=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("review_campaigns.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # directory-group or system-role
    source: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open, done, verified, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # carried out (or host said so)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_by: Mapped[str | None] = mapped_column(String(64))  # read-back or snapshot id


class SystemSnapshot(Base):
    """A host system's full snapshot of who holds which role, as received (REV-1)."""

    __tablename__ = "system_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    system: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("host_clients.client_id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    digest: Mapped[str] = mapped_column(String(80))
    roles: Mapped[int] = mapped_column(Integer)
    assignments: Mapped[int] = mapped_column(Integer)
    unknown_usernames: Mapped[str] = mapped_column(Text)  # JSON list: orphan findings
