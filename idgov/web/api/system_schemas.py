"""Schemas of the host systems API: entitlement snapshots and revocations (REV-1, REV-4)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from idgov.clock import iso_utc
from idgov.reviews.intake.snapshot_input import (
    MAX_ASSIGNMENTS,
    MAX_DESCRIPTION,
    MAX_ROLE_NAME,
    MAX_ROLES,
)
from idgov.reviews.intake.snapshots import SnapshotResult
from idgov.reviews.remediation.host_revocations import Revocation
from idgov.signatures.requests import Text
from idgov.web.api.schemas import Schema, iso_or_none


class RoleIn(Schema):
    name: str = Field(min_length=1, max_length=MAX_ROLE_NAME, description="Stable in the system")
    description: str | None = Field(
        default=None, max_length=MAX_DESCRIPTION, description="What reviewers see"
    )
    owner: str | None = Field(
        default=None, max_length=64, description="Username of the identity owning the role"
    )


class AssignmentIn(Schema):
    username: str = Field(min_length=1, max_length=64, description="As the system names it")
    role: str = Field(min_length=1, max_length=MAX_ROLE_NAME, description="One of roles[].name")


class SnapshotIn(Schema):
    """Every role of the system and every account holding one: a full snapshot."""

    roles: list[RoleIn] = Field(max_length=MAX_ROLES)
    assignments: list[AssignmentIn] = Field(max_length=MAX_ASSIGNMENTS)


class SnapshotOut(Schema):
    snapshot_id: int
    system: str
    received_at: str
    digest: str = Field(description="sha256 of the canonical JSON of the normalized snapshot")
    roles: int
    assignments: int
    roles_created: int
    roles_updated: int
    roles_removed: int = Field(description="Roles gone from this snapshot: their grants end")
    grants_added: int
    grants_removed: int
    grants_changed: int
    unknown_usernames: list[str] = Field(
        description="Usernames no identity has: kept as orphan accounts for review (REV-6)"
    )
    revocations_verified: list[int] = Field(description="Revocations this snapshot verified")
    revocations_reopened: list[int] = Field(
        description="Revocations reported done that this snapshot still lists: open again"
    )

    @classmethod
    def of(cls, result: SnapshotResult) -> SnapshotOut:
        return cls(
            snapshot_id=result.snapshot_id,
            system=result.system,
            received_at=iso_utc(result.received_at),
            digest=result.digest,
            roles=result.roles,
            assignments=result.assignments,
            roles_created=result.roles_created,
            roles_updated=result.roles_updated,
            roles_removed=result.roles_removed,
            grants_added=result.grants.granted,
            grants_removed=result.grants.removed,
            grants_changed=result.grants.changed,
            unknown_usernames=result.unknown_usernames,
            revocations_verified=result.verification.verified,
            revocations_reopened=result.verification.reopened,
        )


class RevocationQuery(Schema):
    status: Literal["open", "done", "verified", "failed", "all"] = Field(
        default="open", description="open: still to be removed (the default)"
    )
    after: int = Field(
        default=0, ge=0, le=2**31 - 1, description="Only ids above this (paging)"
    )  # the id column's range: a bigger number overflows SQLite and PostgreSQL INTEGER
    limit: int = Field(default=500, ge=1, le=1000)


class RevocationOut(Schema):
    id: int
    campaign_id: str
    role: str
    username: str
    status: str = Field(description="open, done (reported by the host), verified or failed")
    requested_at: str
    done_at: str | None
    verified_at: str | None
    verified_by: str | None = Field(description="snapshot:<id> that no longer listed it")
    last_error: str | None

    @classmethod
    def of(cls, found: Revocation) -> RevocationOut:
        return cls(
            id=found.id,
            campaign_id=found.campaign_id,
            role=found.role,
            username=found.username,
            status=found.status,
            requested_at=iso_utc(found.requested_at),
            done_at=iso_or_none(found.done_at),
            verified_at=iso_or_none(found.verified_at),
            verified_by=found.verified_by,
            last_error=found.last_error,
        )


class RevocationList(Schema):
    revocations: list[RevocationOut]
    next_after: int | None = Field(description="Pass as `after` for the next page; null: none")


class DoneIn(Schema):
    note: Text | None = Field(  # plain text, as every audited reason: no NUL or controls
        default=None, max_length=1000, description="The host's reference (a ticket, a change)"
    )
