"""Schemas of the access-review API: they validate requests and document them (REV-1..6)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StrictInt, ValidationInfo, field_validator

from idgov.reviews.decisions.services import MAX_BULK, MAX_JUSTIFICATION
from idgov.reviews.models import (
    Campaign,
    ReviewItem,
    is_overdue,
)
from idgov.reviews.queries.progress import MAX_PAGE
from idgov.signatures.requests import Text
from idgov.text import PrintableText
from idgov.web.api.definition_schemas import IdentityId
from idgov.web.api.schemas import QueryFlag, Schema, columns_of
from idgov.web.api.signature_schemas import StoredManifestationOut

Decision = Literal["certify", "revoke"]
ItemId = Annotated[StrictInt, Field(ge=1, le=2**31 - 1)]  # the column's range on every database
ItemIds = Field(min_length=1, max_length=MAX_BULK, description="Review item ids")


class CampaignQuery(Schema):
    # A Literal, not the enum: query parameters are documented inline, without $defs.
    state: Literal["draft", "active", "closing", "closed"] | None = None


class ReviewerProgressOut(Schema):
    reviewer_id: str | None
    username: str | None
    printed_name: str | None
    items: int
    decided: int
    certified: int
    revoked: int
    signed_off: int
    overdue: int = Field(description="Undecided past their due date")


class CountsOut(Schema):
    items: int
    decided: int
    undecided: int
    certified: int
    revoked: int
    signed_off: int
    overdue: int


class CampaignOut(Schema):
    id: str
    definition_id: str
    name: str
    state: str
    started_by: str
    started_at: str
    due_at: str
    closing_at: str | None
    closed_at: str | None
    item_count: int = Field(description="Items frozen at the start (REV-1)")
    population_hash: str

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignOut:
        return cls(**columns_of(campaign, CampaignOut))


class CampaignDetail(CampaignOut):
    completeness: dict[str, Any] = Field(description="Counts per source and snapshot times")
    counts: CountsOut
    reviewers: list[ReviewerProgressOut]


class CampaignList(Schema):
    campaigns: list[CampaignOut]


class ItemQuery(Schema):
    mine: QueryFlag = Field(default=False, description="Only items assigned to me")
    status: Literal["undecided", "decided", "all"] = "all"
    limit: int = Field(default=100, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0, le=2**31 - 1)


class ItemOut(Schema):
    id: int
    stage: int
    holder_id: str | None = Field(description="The identity whose access it is; null: orphan")
    holder_name: str
    account: str
    source_type: str
    source: str
    entitlement_id: str
    entitlement_name: str
    entitlement_description: str | None
    via: str | None = Field(description="Nested groups the membership comes through")
    reviewer_id: str | None
    escalation: int = Field(description="0 first reviewer, 1 their manager, 2 fallback chain")
    due_at: str
    overdue: bool
    flags: list[str] = Field(description="dormant, orphan (REV-6)")
    suggestion: str | None = Field(description="Suggested decision; never applied by itself")
    decision: str | None
    justification: str | None
    decided_by: str | None
    decided_at: str | None
    signed_off: bool

    @classmethod
    def of(cls, item: ReviewItem, now: datetime) -> ItemOut:
        return cls(
            **columns_of(item, cls, "holder_id", "overdue", "flags", "signed_off"),
            holder_id=item.identity_id,
            overdue=is_overdue(item.decision, item.due_at, now),
            flags=[flag for flag in item.flags.split(",") if flag],
            signed_off=item.signoff_id is not None,
        )


class ItemList(Schema):
    items: list[ItemOut]
    total: int
    limit: int
    offset: int


class DecisionIn(Schema):
    items: list[ItemId] = ItemIds
    decision: Decision
    # Printed in the evidence pack (PDF) beside the decision: one printable line (11.50(a)).
    justification: PrintableText | None = Field(
        default=None,
        max_length=MAX_JUSTIFICATION,
        validate_default=True,
        description="Needed to revoke",
    )

    @field_validator("justification")
    @classmethod
    def _revocation_justified(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("decision") == "revoke" and not (value or "").strip():
            raise ValueError("a revocation needs a justification (REV-3)")
        return value


class DecisionOut(Schema):
    decided: int
    decision: Decision


class SignoffIn(Schema):
    """Signing the decisions re-authenticates, as every signature does (REV-3, CMP-1)."""

    password: str = Field(min_length=1, max_length=4096)
    otp: str | None = Field(default=None, pattern=r"^[0-9]{6,8}$", description="TOTP code")
    temporary_credential: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="After a loss report: the temporary credential security issued (LOSS-2)",
    )


class SignoffOut(Schema):
    id: int = Field(description="The sign-off")
    signature_id: str
    digest: str = Field(description="sha256 over exactly the decisions signed")
    items: int
    stage: int
    manifestation: StoredManifestationOut


class ReassignmentIn(Schema):
    items: list[ItemId] = ItemIds
    reviewer_id: IdentityId
    reason: Text = Field(min_length=1, max_length=2000, description="Why (audited)")


class CloseIn(Schema):
    reason: Text = Field(min_length=1, max_length=2000, description="Why it closes now (audited)")
    with_exceptions: StrictBool = Field(
        default=False,
        description="Close although remediation is unverified; the evidence lists it",
    )


class CloseOut(Schema):
    campaign_id: str
    state: str
    moved: list[str]
    not_signed: int
    unverified: int
    evidence: dict[str, str] = Field(description="Format -> SHA-256 of the sealed pack")


class RetryIn(Schema):
    reason: Text = Field(min_length=1, max_length=2000, description="What was fixed (audited)")


class RemediationRetried(Schema):
    id: int
    status: str


class ReassignmentOut(Schema):
    reassigned: int
    reviewer_id: str
