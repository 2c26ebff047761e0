"""SessionService: start, resolve, end and revoke web sessions for people (ACC-3)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock, iso_utc
from idgov.identity.models import Identity
from idgov.policies.documents import SessionPolicy
from idgov.policies.store import PolicyStore
from idgov.sessions.models import WebSession

MAX_TOKEN_LENGTH = 128  # token_urlsafe(32) is 43 characters; anything longer is not ours
TOUCH_INTERVAL = timedelta(minutes=1)  # last_seen_at is written at most once a minute
MAX_REASON = 64


class StartedSession(NamedTuple):
    token: str  # goes to the browser only; the database keeps its SHA-256
    csrf_token: str


class SessionCheck(NamedTuple):
    """What a read-only look at a token found: `verdict` is live, touch (live, but
    last_seen_at is due a write), idle, expired or unknown."""

    row: WebSession | None
    verdict: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def session_reference(hashed: str) -> str:
    """A short public name for a session in audit events and logs (not usable as a cookie)."""
    return hashed[:16]


class SessionService:
    """Server-side sessions. Every method works inside the caller's transaction."""

    def __init__(self, clock: Clock, trail: AuditTrail, policies: PolicyStore) -> None:
        self._clock = clock
        self._trail = trail
        self._policies = policies

    def start(
        self,
        session: Session,
        identity_id: str,
        source: str | None,
        *,
        must_change_password: bool = False,
    ) -> StartedSession:
        """A new session after a successful login. With a cap on concurrent sessions, the
        oldest live ones are revoked (reason "cap") to make room (ACC-3)."""
        policy = self._policies.current(session, SessionPolicy)
        now = self._clock.now()
        # Serializes concurrent logins of one person (PostgreSQL row lock; SQLite already
        # serializes writers), so two logins cannot both slip under the cap.
        session.execute(select(Identity.id).where(Identity.id == identity_id).with_for_update())
        if policy.max_concurrent is not None:
            live = self._live(session, identity_id, policy, now)
            excess = len(live) - policy.max_concurrent + 1
            if excess > 0:
                self._revoke(session, identity_id, live[:excess], "cap", now)
        token, csrf_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        hashed = token_hash(token)
        expires_at = now + timedelta(hours=policy.absolute_hours)
        session.add(
            WebSession(
                token_hash=hashed,
                identity_id=identity_id,
                created_at=now,
                last_seen_at=now,
                expires_at=expires_at,
                source_address=source[:64] if source else None,
                csrf_token=csrf_token,
                must_change_password=must_change_password,
            )
        )
        self._trail.record(
            session,
            "session:web:started",
            Target("identity", identity_id),
            new={
                "session": session_reference(hashed),
                "expires_at": iso_utc(expires_at),
                "idle_minutes": policy.idle_minutes,
                "must_change": must_change_password,
                "source_address": source,
            },
        )
        return StartedSession(token, csrf_token)

    def check(self, session: Session, token: object) -> SessionCheck:
        """Read-only: what `resolve` would do with this token, without writing anything."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            return SessionCheck(None, "unknown")
        row = session.get(WebSession, token_hash(token))
        if row is None or row.revoked_at is not None:
            return SessionCheck(None, "unknown")
        policy = self._policies.current(session, SessionPolicy)
        now = self._clock.now()
        # A shortened absolute lifetime applies to sessions already running, too.
        ends = min(row.expires_at, row.created_at + timedelta(hours=policy.absolute_hours))
        if now >= ends:
            return SessionCheck(row, "expired")
        if now >= row.last_seen_at + timedelta(minutes=policy.idle_minutes):
            return SessionCheck(row, "idle")
        if now - row.last_seen_at >= TOUCH_INTERVAL:
            return SessionCheck(row, "touch")
        return SessionCheck(row, "live")

    def resolve(self, session: Session, token: object) -> WebSession | None:
        """The live session for `token`, or None (unknown, revoked, idle or past its absolute
        lifetime). An idle or expired session is marked revoked; a live one has last_seen_at
        touched, at most once a minute so that not every request writes."""
        found = self.check(session, token)
        if found.row is None:
            return None
        now = self._clock.now()
        if found.verdict in ("idle", "expired"):
            self._expire(session, found.row, found.verdict, now)
            return None
        if found.verdict == "touch":
            found.row.last_seen_at = now
        return found.row

    def end(self, session: Session, token: object) -> bool:
        """Logout: the session is revoked (reason "logout"). False if it was not live."""
        row = self.resolve(session, token)
        if row is None:
            return False
        row.revoked_at = self._clock.now()
        row.revoke_reason = "logout"
        self._trail.record(
            session,
            "session:web:ended",
            Target("identity", row.identity_id),
            new={"session": session_reference(row.token_hash)},
        )
        return True

    def revoke_all(
        self, session: Session, identity_id: str, reason: str, *, why: str | None = None
    ) -> int:
        """Revoke every unrevoked session of the identity (lock, suspension, deactivation,
        password change, an administrator's request); audited once with the count when any
        was revoked. `reason` is the short code kept on each row; `why`, when given, is the
        person's own words kept as the audit event's reason."""
        rows = list(
            session.scalars(
                select(WebSession)
                .where(WebSession.identity_id == identity_id, WebSession.revoked_at.is_(None))
                .order_by(WebSession.created_at, WebSession.token_hash)
            )
        )
        return self._revoke(session, identity_id, rows, reason, self._clock.now(), why)

    def live(self, session: Session, identity_id: str) -> list[WebSession]:
        """The identity's live sessions, oldest first (ACC-3: idle and lifetime applied)."""
        policy = self._policies.current(session, SessionPolicy)
        return self._live(session, identity_id, policy, self._clock.now())

    def live_count(self, session: Session, identity_id: str) -> int:
        return len(self.live(session, identity_id))

    def _live(
        self, session: Session, identity_id: str, policy: SessionPolicy, now: datetime
    ) -> list[WebSession]:
        idle_since = now - timedelta(minutes=policy.idle_minutes)
        started_since = now - timedelta(hours=policy.absolute_hours)
        return list(
            session.scalars(
                select(WebSession)
                .where(
                    WebSession.identity_id == identity_id,
                    WebSession.revoked_at.is_(None),
                    WebSession.expires_at > now,
                    WebSession.created_at > started_since,
                    WebSession.last_seen_at > idle_since,
                )
                .order_by(WebSession.created_at, WebSession.token_hash)
            )
        )

    def _revoke(
        self,
        session: Session,
        identity_id: str,
        rows: list[WebSession],
        reason: str,
        now: datetime,
        why: str | None = None,
    ) -> int:
        for row in rows:
            row.revoked_at = now
            row.revoke_reason = reason[:MAX_REASON]
        if rows:
            self._trail.record(
                session,
                "session:web:revoked",
                Target("identity", identity_id),
                new={
                    "count": len(rows),
                    "sessions": [session_reference(row.token_hash) for row in rows],
                },
                reason=why or reason,
            )
        return len(rows)

    def _expire(self, session: Session, row: WebSession, why: str, now: datetime) -> None:
        row.revoked_at = now
        row.revoke_reason = why
        self._trail.record(
            session,
            "session:web:expired",
            Target("identity", row.identity_id),
            new={"session": session_reference(row.token_hash)},
            reason="idle timeout" if why == "idle" else "absolute lifetime reached",
        )
