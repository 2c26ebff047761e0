"""SessionRevocation: an administrator or security officer signs a person out everywhere,
with a reason (ACC-3, 11.10(d)): their web sessions and their continuous signing sessions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock
from idgov.errors import Conflict, Forbidden, InvalidRequest
from idgov.identity.models import Identity, Role
from idgov.identity.services import IdentityService
from idgov.sessions.services import SessionService
from idgov.signatures.sessions import end_signing_sessions

REVOKERS = {Role.ADMIN, Role.SECURITY_OFFICER}
CODE = "revoked"  # the short reason kept on each session row; the person's words go to the trail


@dataclass(frozen=True)
class RevokedSessions:
    web: int
    signing: int


class SessionRevocation:
    def __init__(
        self, clock: Clock, trail: AuditTrail, identities: IdentityService, web: SessionService
    ) -> None:
        self._clock = clock
        self._trail = trail
        self._identities = identities
        self._web = web

    def revoke(
        self, session: Session, identity: Identity, actor: Identity, reason: str
    ) -> RevokedSessions:
        """Ends every web session (session:web:revoked) and every continuous signing session
        (session:signing:revoked, so the next signing takes every component: CMP-1) of
        `identity`, each audited with `reason`. Refused: without a reason (400), by someone
        who is neither admin nor security officer (403), and when nothing is live (409)."""
        if not reason or not reason.strip():
            raise InvalidRequest("a reason is required to revoke sessions", field="reason")
        if not self._identities.roles(session, actor.id) & REVOKERS:
            raise Forbidden("revoking sessions needs an admin or a security officer")
        why = reason.strip()
        web = self._web.revoke_all(session, identity.id, CODE, why=why)
        signing = end_signing_sessions(session, identity.id, self._clock.now(), CODE)
        if signing:
            self._trail.record(
                session,
                "session:signing:revoked",
                Target("identity", identity.id),
                new={"count": signing},
                reason=why,
            )
        if not web and not signing:
            raise Conflict(f"{identity.username} has no session to revoke", field="sessions")
        return RevokedSessions(web, signing)
