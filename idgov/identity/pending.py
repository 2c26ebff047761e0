"""People waiting for identity verification that a given verifier may record (IDV-1)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from idgov.audit.models import AuditEvent
from idgov.identity.models import Identity, IdentityStatus

# The events that make someone the enroller of an identity (IdentityService._enrolled_by).
ENROLLING_ACTIONS = ("identity:identity:created", "identity:status:pending-verification")


def verifiable_by(session: Session, verifier_id: str, limit: int) -> tuple[int, Sequence[Identity]]:
    """How many pending identities the verifier may verify, and the `limit` longest waiting.

    IDV-1 and 11.200(a)(3): never themselves, never someone they created or sent back to
    pending verification (IdentityService.record_verification refuses both)."""
    enrolled_by_verifier = exists().where(
        AuditEvent.target_type == "identity",
        AuditEvent.target_id == Identity.id,
        AuditEvent.actor_type == "identity",
        AuditEvent.actor_id == verifier_id,
        AuditEvent.action.in_(ENROLLING_ACTIONS),
    )
    waiting = (
        Identity.status == IdentityStatus.PENDING_VERIFICATION,
        Identity.id != verifier_id,
        ~enrolled_by_verifier,
    )
    total = session.scalar(select(func.count()).select_from(Identity).where(*waiting))
    oldest = session.scalars(
        select(Identity)
        .where(*waiting)
        .order_by(Identity.status_changed_at, Identity.username)
        .limit(limit)
    ).all()
    return int(total or 0), oldest
