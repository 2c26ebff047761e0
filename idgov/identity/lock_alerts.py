"""A security officer's unlock resolves the lockout alerts it answers (LOCK-2, ALERT-1): the
officer looked into the lock to release it, so re-notification about it stops, audited."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from idgov.alerts.models import Alert
from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock
from idgov.identity.models import Identity

LOCK_KINDS = ("lockout",)


def resolve_lock_alerts(
    session: Session,
    trail: AuditTrail,
    clock: Clock,
    identity: Identity,
    officer: Identity,
    reason: str,
) -> int:
    """Acknowledge every open lockout alert about `identity` in the unlock's transaction,
    each audited as `alert:lockout:acknowledged` with the unlock's reason; how many."""
    rows = session.execute(
        select(Alert.id, Alert.kind, Alert.notify_round).where(
            Alert.identity_id == identity.id,
            Alert.kind.in_(LOCK_KINDS),
            Alert.acknowledged_at.is_(None),
        )
    ).all()
    for alert_id, kind, round_ in rows:
        session.execute(
            update(Alert)
            .where(Alert.id == alert_id, Alert.acknowledged_at.is_(None))
            .values(acknowledged_at=clock.now(), acknowledged_by=officer.id)
            .execution_options(synchronize_session=False)
        )
        trail.record(
            session,
            f"alert:{kind}:acknowledged",
            Target("alert", alert_id),
            old={"acknowledged_at": None},
            new={
                "acknowledged_by": officer.id,
                "officer_username": officer.username,
                "notification": round_,
                "by_unlock": True,
            },
            reason=f"released by unlock: {reason}",
        )
    return len(rows)
