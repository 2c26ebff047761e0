"""What the person did and holds: signatures, entitlements, and their audit events."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idgov.audit.models import AuditEvent
from idgov.signatures.models import Signature
from idgov.signatures.reads import SIGNING_ORDER

SIGNATURES_SHOWN = 10
EVENTS_SHOWN = 15


@dataclass(frozen=True)
class SignatureSummary:
    total: int
    newest: list[Signature]  # at most SIGNATURES_SHOWN, newest first


@dataclass(frozen=True)
class AuditSummary:
    about: list[AuditEvent]  # the person is the target, newest first
    by: list[AuditEvent]  # the person is the actor, newest first


def signatures_of(session: Session, identity_id: str) -> SignatureSummary:
    mine = Signature.identity_id == identity_id
    total = session.scalar(select(func.count()).select_from(Signature).where(mine))
    newest = [column.desc() for column in SIGNING_ORDER]
    rows = session.scalars(select(Signature).where(mine).order_by(*newest).limit(SIGNATURES_SHOWN))
    return SignatureSummary(int(total or 0), list(rows))


def audit_of(session: Session, identity_id: str) -> AuditSummary:
    """The latest EVENTS_SHOWN events about the person, and as many done by them."""
    about = select(AuditEvent).where(
        AuditEvent.target_type == "identity", AuditEvent.target_id == identity_id
    )
    by = select(AuditEvent).where(
        AuditEvent.actor_type == "identity", AuditEvent.actor_id == identity_id
    )
    latest = (AuditEvent.seq.desc(),)
    return AuditSummary(
        list(session.scalars(about.order_by(*latest).limit(EVENTS_SHOWN))),
        list(session.scalars(by.order_by(*latest).limit(EVENTS_SHOWN))),
    )
