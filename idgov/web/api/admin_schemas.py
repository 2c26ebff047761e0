"""Schemas of the administration API: identities, policies, alerts (validate and document)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from idgov.clock import iso_utc
from idgov.identity.models import Identity
from idgov.text import PrintableText
from idgov.web.api.schemas import Schema

Reason = Field(min_length=1, max_length=2000, description="Why (audited)")


class IdentityOut(Schema):
    id: str
    username: str
    printed_name: str
    email: str
    status: str
    manager_id: str | None
    roles: list[str]
    provider: str
    failed_attempts: int
    attempts_while_locked: int
    locked_at: str | None
    created_at: str

    @classmethod
    def of(cls, identity: Identity, roles: set[str]) -> IdentityOut:
        return cls(
            id=identity.id,
            username=identity.username,
            printed_name=identity.printed_name,
            email=identity.email,
            status=identity.status,
            manager_id=identity.manager_id,
            roles=sorted(roles),
            provider=identity.provider,
            failed_attempts=identity.failed_attempts,
            attempts_while_locked=identity.attempts_while_locked,
            locked_at=iso_utc(identity.locked_at) if identity.locked_at else None,
            created_at=iso_utc(identity.created_at),
        )


class IdentityList(Schema):
    identities: list[IdentityOut]


class IdentityIn(Schema):
    username: str = Field(min_length=1, max_length=64)
    # Printed with every signature (MAN-1): idgov/text.py's rule, as for a directory sync.
    printed_name: PrintableText = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=254)
    manager_id: str | None = Field(default=None, max_length=36)
    roles: list[str] = Field(default_factory=list, max_length=4)
    reason: str | None = Field(default=None, max_length=2000)


class VerificationIn(Schema):
    evidence_type: str = Field(min_length=1, max_length=64)
    evidence_reference: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=2000)


class StatusIn(Schema):
    status: Literal["active", "suspended", "deactivated"]
    reason: str = Reason


class ReasonIn(Schema):
    reason: str = Reason


class PasswordResetOut(Schema):
    """CMP-2: what the resetting administrator learns; never a password or the link."""

    delivery: Literal["email", "handover"] = Field(
        description="email: the set-password link went to the owner's address; handover: a "
        "second administrator or security officer retrieves it once and hands it over"
    )
    expires_at: str = Field(description="When the single-use link stops working")
    sent_to: str | None = Field(description="The owner's address the link was mailed to")


class HandoverOut(Schema):
    set_password_url: str = Field(
        description="Single use, for the owner alone: give it to them in person"
    )


class PolicyOut(Schema):
    kind: str
    version: int
    policy: dict[str, Any]


class PolicyChangeIn(Schema):
    changes: dict[str, Any] = Field(min_length=1)
    reason: str = Reason


class AlertOut(Schema):
    id: str
    kind: str
    severity: str
    summary: str
    identity_id: str | None
    username: str | None
    source_address: str | None
    raised_at: str
    acknowledged_at: str | None
    acknowledged_by: str | None = Field(description="Username of the acknowledging officer")
    deliveries_done: int
    deliveries_pending: int
    details: dict[str, Any]


class AlertList(Schema):
    alerts: list[AlertOut]


class AlertQuery(Schema):
    status: Literal["open", "acknowledged", "all"] = Field(
        default="open", description="open (the default), acknowledged, or all"
    )


class PolicyQuery(Schema):
    at: str | None = Field(
        default=None,
        description="ISO 8601 time (UTC when it has no offset): the policy in force then; "
        "anything else is a 400",
    )


class AcknowledgeIn(Schema):
    note: str = Field(min_length=1, max_length=2000)
