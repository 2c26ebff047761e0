"""Who the person is on record: status history, identifiers, verification, certification,
and the identity source they come from (IDV-1, TRN-1, UNQ-1, AUD-1)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from idgov.audit.models import AuditEvent
from idgov.identity.models import (
    IdentifierBinding,
    Identity,
    IdentityVerification,
    SignatureCertification,
)
from idgov.providers.directory.models import DirectoryAccount

CREATED = "identity:identity:created"
STATUS_ACTIONS = "identity:status:%"
HISTORY_SHOWN = 50
Row = TypeVar("Row")


@dataclass(frozen=True)
class StatusChange:
    """One move of the person's status, as the audit trail recorded it."""

    seq: int
    at: datetime
    old: str | None  # None: the identity was created in `new`
    new: str
    actor: str
    reason: str | None


@dataclass(frozen=True)
class Verification:
    """IDV-1: who vouched for the person, when, on what evidence."""

    at: datetime
    verifier_id: str
    verifier: str
    evidence_type: str
    evidence_reference: str | None
    note: str | None


def status_history(session: Session, identity_id: str) -> list[StatusChange]:
    """The newest HISTORY_SHOWN status changes, creation included, newest first."""
    about = (AuditEvent.target_type == "identity", AuditEvent.target_id == identity_id)
    moves = AuditEvent.action.like(STATUS_ACTIONS) | (AuditEvent.action == CREATED)
    rows = session.scalars(
        select(AuditEvent).where(*about, moves).order_by(AuditEvent.seq.desc()).limit(HISTORY_SHOWN)
    )
    return [status_change(row) for row in rows]


def rows_of(session: Session, model: type[Row], identity_id: str, *order: Any) -> list[Row]:
    """Every row of `model` whose identity_id is the person's, in `order`."""
    owner = model.identity_id  # type: ignore[attr-defined]
    return list(session.scalars(select(model).where(owner == identity_id).order_by(*order)))


def identifiers(session: Session, identity_id: str) -> list[IdentifierBinding]:
    """UNQ-1: every username and provider subject bound to the person, oldest first."""
    order = (IdentifierBinding.bound_at, IdentifierBinding.id)
    return rows_of(session, IdentifierBinding, identity_id, *order)


def verifications(session: Session, identity_id: str) -> list[Verification]:
    """Every recorded identity verification, newest first, with the verifier's name."""
    verifier = aliased(Identity)
    rows = session.execute(
        select(IdentityVerification, verifier)
        .join(verifier, verifier.id == IdentityVerification.verified_by)
        .where(IdentityVerification.identity_id == identity_id)
        .order_by(IdentityVerification.verified_at.desc(), IdentityVerification.id.desc())
    ).all()
    return [
        Verification(
            row.verified_at,
            who.id,
            f"{who.printed_name} ({who.username})",
            row.evidence_type,
            row.evidence_reference,
            row.note,
        )
        for row, who in rows
    ]


def certifications(session: Session, identity_id: str) -> list[SignatureCertification]:
    """TRN-1: the person's signature certifications, newest first."""
    newest = (SignatureCertification.certified_at.desc(), SignatureCertification.id.desc())
    return rows_of(session, SignatureCertification, identity_id, *newest)


def directory_accounts(session: Session, identity_id: str) -> list[DirectoryAccount]:
    """The directory entries a sync linked to the person (their DN, state, last seen)."""
    order = (DirectoryAccount.provider, DirectoryAccount.id)
    return rows_of(session, DirectoryAccount, identity_id, *order)


def reports_of(session: Session, identity_id: str) -> list[Identity]:
    """The people this person manages, by username."""
    return list(
        session.scalars(
            select(Identity).where(Identity.manager_id == identity_id).order_by(Identity.username)
        )
    )


def status_change(row: AuditEvent) -> StatusChange:
    """The move an event records: the creation's first status, or a status event's old and
    new status."""
    old, new = json.loads(row.old_values or "{}"), json.loads(row.new_values or "{}")
    return StatusChange(
        seq=row.seq,
        at=row.occurred_at,
        old=None if row.action == CREATED else old.get("status"),
        new=str(new.get("status", "")),
        actor=row.actor_name,
        reason=row.reason,
    )
