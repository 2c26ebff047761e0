"""Continuous signing sessions (11.200(a)(1), CMP-1): all components first, then the password."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.errors import OutOfSequence
from idgov.signatures.models import SigningSession

MISMATCH = "this signing session cannot be continued here: sign with every component instead"
ENDED = "this signing session has ended: sign with every component to start a new one"


class SigningSessions:
    """A signing session belongs to one identity at one host client. Its seq counts the
    signing requests made within it; it ends after `session_idle_minutes` without a signing,
    and `session_absolute_hours` after its first signing whatever happens (11.200(a)(1)).

    Rows are read with a row lock (SELECT ... FOR UPDATE on PostgreSQL; SQLite's write lock is
    taken at BEGIN), so concurrent requests continuing one session get distinct seq numbers.
    """

    def resume(
        self,
        session: Session,
        session_id: str,
        *,
        identity_id: str,
        client_id: str,
        now: datetime,
        idle: timedelta,
        lifetime: timedelta,
    ) -> SigningSession:
        """The caller's own, unrevoked, unexpired session; otherwise out-of-sequence 409.
        It expires after `idle` without a signing, and `lifetime` after it started at most.

        An unknown id, another identity's session and another host's session all answer the
        same, so that a replayed id reveals nothing about whose it is.
        """
        found = session.get(SigningSession, session_id, with_for_update=True)
        if found is None or found.identity_id != identity_id or found.client_id != client_id:
            raise OutOfSequence(MISMATCH, reason="signing-session-mismatch")
        # A shortened idle window in the policy applies to open sessions at once.
        ends = min(found.expires_at, found.last_signed_at + idle, found.started_at + lifetime)
        if found.revoked_at is not None or now >= ends:
            raise OutOfSequence(ENDED, reason="signing-session-expired")
        return found

    def start(
        self, session: Session, *, identity_id: str, client_id: str, now: datetime
    ) -> SigningSession:
        """A new session; its first signing took every component (CMP-1)."""
        started = SigningSession(
            id=str(uuid.uuid4()),
            identity_id=identity_id,
            client_id=client_id,
            started_at=now,
            last_signed_at=now,
            expires_at=now,
            seq=0,
        )
        session.add(started)
        return started

    def advance(
        self,
        session: Session,
        row: SigningSession,
        now: datetime,
        idle: timedelta,
        lifetime: timedelta,
    ) -> int:
        """One more signing request within the session: seq + 1, idle window restarted, never
        past the absolute lifetime from its start."""
        row.seq += 1
        row.last_signed_at = now
        row.expires_at = min(now + idle, row.started_at + lifetime)
        session.flush()
        return row.seq


def open_signing_sessions(
    session: Session, identity_id: str, now: datetime
) -> list[SigningSession]:
    """The identity's signing sessions that could still be continued, newest first."""
    return list(
        session.scalars(
            select(SigningSession)
            .where(
                SigningSession.identity_id == identity_id,
                SigningSession.revoked_at.is_(None),
                SigningSession.expires_at > now,
            )
            .order_by(SigningSession.last_signed_at.desc(), SigningSession.id)
        )
    )


def end_signing_sessions(session: Session, identity_id: str, now: datetime, reason: str) -> int:
    """Every unrevoked signing session of the identity ends with `reason` (a short code): the
    next signing takes every component again (CMP-1). Returns how many ended."""
    rows = list(
        session.scalars(
            select(SigningSession).where(
                SigningSession.identity_id == identity_id, SigningSession.revoked_at.is_(None)
            )
        )
    )
    for row in rows:
        row.revoked_at, row.revoke_reason = now, reason
    return len(rows)
