"""Shadow lockout: names that cannot sign in lock exactly as real identities do (LOCK-3).

A username nobody holds and the username of a suspended or deactivated identity get a
counter of their own, keyed by the name's pseudonym. It obeys the lockout policy as a real
identity's counter does (identity/lockout.py, LOCK-1, LOCK-2): "locked" at exactly
`max_failures` consecutive failures, and the lock stays until the policy's timed unlock (if
any), never lapsing on a window of its own. So a guesser sees the same answers, in the same
order, whether the name exists, is suspended or is unknown. Each change is one atomic
statement (upsert, conditional UPDATE), as for real counters.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from idgov.clock import Clock
from idgov.db import dialect_insert
from idgov.identity.models import ShadowLock
from idgov.policies.documents import LockoutPolicy


class ShadowLockout:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def count_failure(self, session: Session, name: str, policy: LockoutPolicy) -> bool:
        """One more failure for the pseudonym `name`; True when the answer is "locked" (the
        limit reached now or before, and no timed unlock due)."""
        now = self._clock.now()
        self._timed_unlock_if_due(session, name, policy)
        insert = dialect_insert(session, ShadowLock).values(
            name=name, failed_attempts=1, locked_at=None
        )
        failures = session.execute(
            insert.on_conflict_do_update(
                index_elements=[ShadowLock.name],
                set_={"failed_attempts": ShadowLock.failed_attempts + 1},
            ).returning(ShadowLock.failed_attempts)
        ).scalar_one()
        if failures < policy.max_failures:
            return False
        session.execute(
            update(ShadowLock)
            .where(ShadowLock.name == name, ShadowLock.locked_at.is_(None))
            .values(locked_at=now)
        )
        return True

    def _timed_unlock_if_due(self, session: Session, name: str, policy: LockoutPolicy) -> None:
        """LOCK-2's optional timed unlock, as `LockoutService.timed_unlock_due` applies it."""
        if policy.timed_unlock_minutes is None:
            return
        locked_at = session.scalar(select(ShadowLock.locked_at).where(ShadowLock.name == name))
        if locked_at is None:
            return
        if self._clock.now() < locked_at + timedelta(minutes=policy.timed_unlock_minutes):
            return
        session.execute(
            update(ShadowLock)
            .where(ShadowLock.name == name, ShadowLock.locked_at == locked_at)
            .values(failed_attempts=0, locked_at=None)
        )
