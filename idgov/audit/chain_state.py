"""The audit chain's state for an auditor: the last verification and the last checkpoint
(AUD-3, AUD-4)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.audit.context import Target
from idgov.audit.models import AuditCheckpoint, AuditEvent
from idgov.audit.trail import AuditTrail
from idgov.audit.verify import ChainReport

CHAIN_VERIFIED = "audit:chain:verified"  # recorded by "verify now" on the audit trail page
CHECKPOINT_EXPORTED = "audit:checkpoint:exported"  # recorded by `idgov audit checkpoint`


@dataclass(frozen=True, slots=True)
class LastVerification:
    """Who walked the chain, when, and what they found."""

    at: datetime
    by: str  # the actor's name as the trail recorded it
    ok: bool
    head_seq: int
    first_bad_seq: int | None
    checkpoint_mismatch: str | None


@dataclass(frozen=True, slots=True)
class LastCheckpoint:
    checkpoint: AuditCheckpoint
    exported: bool  # written to a file to keep outside idgov (`idgov audit checkpoint`)


@dataclass(frozen=True, slots=True)
class ChainState:
    verification: LastVerification | None
    checkpoint: LastCheckpoint | None


def record_verification(
    session: Session, trail: AuditTrail, report: ChainReport, mismatch: str | None
) -> None:
    """AUD-3: who verified the chain and the outcome, appended after the walk (the event
    itself is not part of what was checked)."""
    trail.record(
        session,
        CHAIN_VERIFIED,
        Target("audit-chain", "head"),
        new={
            "ok": report.ok and mismatch is None,
            "events_checked": report.events_checked,
            "head_seq": report.head_seq,
            "first_bad_seq": report.first_bad_seq,
            "problem": report.problem,
            "checkpoint_mismatch": mismatch,
        },
    )


def chain_state(session: Session) -> ChainState:
    """The newest recorded verification and the newest checkpoint, with whether it was
    exported (AUD-4: a checkpoint only guards against a rewrite once it is kept elsewhere)."""
    found = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == CHAIN_VERIFIED)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    verification = None if found is None else _verification(found)
    latest = session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)
    ).first()
    if latest is None:
        return ChainState(verification, None)
    exported = session.scalar(
        select(AuditEvent.seq)
        .where(
            AuditEvent.action == CHECKPOINT_EXPORTED,
            AuditEvent.target_type == "audit-checkpoint",
            AuditEvent.target_id == str(latest.id),
        )
        .limit(1)
    )
    return ChainState(verification, LastCheckpoint(latest, exported is not None))


def _verification(event: AuditEvent) -> LastVerification:
    values = json.loads(event.new_values)
    return LastVerification(
        at=event.occurred_at,
        by=event.actor_name,
        ok=bool(values.get("ok")),
        head_seq=int(values.get("head_seq", 0)),
        first_bad_seq=values.get("first_bad_seq"),
        checkpoint_mismatch=values.get("checkpoint_mismatch"),
    )
