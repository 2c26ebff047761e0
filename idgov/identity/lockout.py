"""Lockout counters, updated atomically in the database (LOCK-1, LOCK-2).

Every change to a counter is one UPDATE ... RETURNING, never read-modify-write, so concurrent
attempts on several workers can neither lose a count nor lock twice: the UPDATE that moves the
status to locked is conditional, and only the transaction whose UPDATE matched it audits the
lock and raises the alert (once per transition; authentik's lockout.py does the same).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from idgov.alerts.outbox import AlertOutbox
from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock, iso_utc
from idgov.errors import Conflict, Forbidden, InvalidRequest
from idgov.identity.lock_alerts import resolve_lock_alerts
from idgov.identity.models import Identity, IdentityStatus, Role
from idgov.identity.services import IdentityService
from idgov.policies.documents import LockoutPolicy
from idgov.sessions.interfaces import SessionRevoker

LOCKABLE = (IdentityStatus.ACTIVE, IdentityStatus.PENDING_VERIFICATION)


@dataclass(frozen=True)
class FailureCount:
    consecutive: int
    locked_now: bool  # this attempt's transaction performed the lock


class LockoutService:
    def __init__(
        self,
        clock: Clock,
        trail: AuditTrail,
        alerts: AlertOutbox,
        identities: IdentityService,
        revoker: SessionRevoker | None = None,
    ) -> None:
        self._clock = clock
        self._trail = trail
        self._alerts = alerts
        self._identities = identities
        self._revoker = revoker

    def hold(self, session: Session, identity_id: str) -> Identity | None:
        """The identity, its row locked for this attempt before anything appends to the trail.

        Lock order (no deadlock between concurrent attempts): the identity's row first, then
        the audit chain's head. An attempt may append (an attack alert before the failure
        count, the count, the lock) and update this row; taken the other way round, one
        attempt holding the head waits for the row while another holding the row waits for
        the head. FOR NO KEY UPDATE, the lock an UPDATE of the counters takes anyway, so
        foreign keys to the identity are not blocked."""
        return session.get(Identity, identity_id, with_for_update={"key_share": True})

    def count_failure(
        self, session: Session, identity: Identity, policy: LockoutPolicy, source: str | None
    ) -> FailureCount:
        """One more consecutive failure; locks at exactly `max_failures`."""
        consecutive = session.execute(
            update(Identity)
            .where(Identity.id == identity.id)
            .values(failed_attempts=Identity.failed_attempts + 1)
            .returning(Identity.failed_attempts)
        ).scalar_one()
        if consecutive < policy.max_failures:
            return FailureCount(consecutive, locked_now=False)
        now, before = self._clock.now(), identity.status
        locked = session.execute(
            update(Identity)
            .where(Identity.id == identity.id, Identity.status.in_(LOCKABLE))
            .values(status=IdentityStatus.LOCKED, locked_at=now, status_changed_at=now)
            .returning(Identity.id)
        ).first()
        if locked is None:
            return FailureCount(consecutive, locked_now=False)
        session.refresh(identity)
        self._record_lock(session, identity, consecutive, source, now, before)
        return FailureCount(consecutive, locked_now=True)

    def count_attempt_while_locked(
        self, session: Session, identity: Identity, source: str | None
    ) -> int:
        """LOCK-1: attempts on a locked identity are still counted and reported."""
        count = session.execute(
            update(Identity)
            .where(Identity.id == identity.id)
            .values(attempts_while_locked=Identity.attempts_while_locked + 1)
            .returning(Identity.attempts_while_locked)
        ).scalar_one()
        self._trail.record(
            session,
            "auth:attempt:while-locked",
            Target("identity", identity.id),
            new={"attempts_while_locked": count, "source_address": source},
        )
        return int(count)

    def reset(self, session: Session, identity: Identity) -> bool:
        """A success: the consecutive count restarts. False if the identity was locked (or
        otherwise left a lockable state) meanwhile: the success must then be refused."""
        done = session.execute(
            update(Identity)
            .where(Identity.id == identity.id, Identity.status.in_(LOCKABLE))
            .values(failed_attempts=0, last_login_at=self._clock.now())
            .returning(Identity.id)
        ).first()
        return done is not None

    def timed_unlock_due(self, identity: Identity, policy: LockoutPolicy) -> bool:
        if policy.timed_unlock_minutes is None or identity.locked_at is None:
            return False
        lifted_at = identity.locked_at + timedelta(minutes=policy.timed_unlock_minutes)
        return self._clock.now() >= lifted_at

    def timed_unlock(self, session: Session, identity: Identity) -> None:
        """The optional policy lifts the lock by itself; the lift is still alerted (LOCK-2)."""
        self._unlock(session, identity, "timed unlock by lockout policy")
        self._alerts.raise_alert(
            session,
            "timed-unlock",
            f"Lock on {identity.username} lifted by the timed-unlock policy",
            {
                "who": {"username": identity.username, "printed_name": identity.printed_name},
                "what": "The lockout policy lifted the lock after its waiting time.",
                "next_step": "Check that the failed attempts were the person's own.",
            },
            severity="medium",
            identity=identity,
        )

    def locked(self, session: Session, limit: int = 100) -> tuple[int, Sequence[Identity]]:
        """How many people are locked, and the `limit` most recently locked (LOCK-2: they
        wait for a security officer's unlock)."""
        is_locked = Identity.status == IdentityStatus.LOCKED
        total = session.scalar(select(func.count()).select_from(Identity).where(is_locked))
        newest = session.scalars(
            select(Identity)
            .where(is_locked)
            .order_by(Identity.locked_at.desc(), Identity.username)
            .limit(limit)
        ).all()
        return int(total or 0), newest

    def unlock(self, session: Session, identity: Identity, officer: Identity, reason: str) -> None:
        """LOCK-2: only a security officer, with a reason, unlocks."""
        if Role.SECURITY_OFFICER not in self._identities.roles(session, officer.id):
            raise Forbidden("only a security officer may unlock an identity")
        if officer.id == identity.id:
            raise Forbidden("nobody may unlock themselves")
        if not reason or not reason.strip():
            raise InvalidRequest("a reason is required to unlock", field="reason")
        if identity.status != IdentityStatus.LOCKED:
            raise Conflict(f"{identity.username} is not locked", field="status")
        self._unlock(session, identity, reason.strip())
        resolve_lock_alerts(session, self._trail, self._clock, identity, officer, reason.strip())

    def _unlock(self, session: Session, identity: Identity, reason: str) -> None:
        counts = {
            "failed_attempts": identity.failed_attempts,
            "attempts_while_locked": identity.attempts_while_locked,
        }
        # Back to active only if verified: a lock never skips identity verification (IDV-1).
        settled = self._identities.settled_status(session, identity)
        self._identities.transition(session, identity, settled, reason)
        identity.failed_attempts = 0
        identity.attempts_while_locked = 0
        self._trail.record(
            session,
            "identity:lockout:cleared",
            Target("identity", identity.id),
            old=counts,
            new={"failed_attempts": 0, "attempts_while_locked": 0},
            reason=reason,
        )

    def _record_lock(
        self,
        session: Session,
        identity: Identity,
        consecutive: int,
        source: str | None,
        now: datetime,
        before: str,
    ) -> None:
        self._trail.record(
            session,
            "identity:status:locked",
            Target("identity", identity.id),
            old={"status": before},
            new={"status": IdentityStatus.LOCKED, "failed_attempts": consecutive},
            reason="consecutive authentication failures reached the lockout threshold",
        )
        if self._revoker is not None:
            # ACC-3: a lock signs the person out of every open session, whoever is guessing.
            self._revoker.revoke_all(session, identity.id, IdentityStatus.LOCKED)
        self._alerts.raise_alert(
            session,
            "lockout",
            f"{identity.printed_name} ({identity.username}) locked after "
            f"{consecutive} failed attempts",
            {
                "who": {"username": identity.username, "printed_name": identity.printed_name},
                "what": "Identity locked after consecutive failed authentications (LOCK-1)",
                "when": iso_utc(now),
                "source_address": source,
                "failed_attempts": consecutive,
                "next_step": "Contact the person through a known channel. If the attempts were "
                "not theirs, treat the password as compromised. A security officer unlocks "
                "with a reason: idgov identities unlock USERNAME --officer YOU --reason TEXT.",
            },
            identity=identity,
            source_address=source,
        )
