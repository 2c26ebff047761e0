"""TokenOtpVerifier: the TOTP component of a signature (CMP-1), refused while overdue (TOK-1)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idgov.audit.context import Target
from idgov.audit.models import AuditEvent
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock
from idgov.errors import InvalidCredentials, Locked
from idgov.identity.authentication import LOCKED_MESSAGE
from idgov.identity.eligibility import Blocker
from idgov.identity.lockout import LockoutService
from idgov.policies.documents import LockoutPolicy
from idgov.policies.store import PolicyStore
from idgov.tokens.models import OtpToken
from idgov.tokens.services import TokenService, overdue

HELD = ("active", "suspended")  # a suspended token still binds its owner to a token
ACCEPTED = "auth:signing:otp-accepted"
REFUSED = "auth:signing:otp-refused"
STREAK_RESET = (ACCEPTED, "identity:lockout:cleared")
OVERDUE = (
    "Your token is overdue for its periodic test: pass the test on the Tokens page before you "
    "sign again (TOK-1)."
)
SUSPENDED = "Your token is suspended after failed tests: security must restore or replace it."
WRONG = "the one-time code is not right"


class TokenOtpVerifier:
    """Implements idgov.signatures.interfaces.OtpVerifier with the enrolled TOTP tokens."""

    def __init__(
        self,
        tokens: TokenService,
        lockout: LockoutService,
        policies: PolicyStore,
        trail: AuditTrail,
        clock: Clock,
    ) -> None:
        self._tokens = tokens
        self._lockout = lockout
        self._policies = policies
        self._trail = trail
        self._clock = clock

    def holds_token(self, session: Session, identity_id: str) -> bool:
        """Active or suspended: failing tests on purpose must not drop the token component."""
        return bool(self._held(session, identity_id, lock=False))

    def signing_blockers(self, session: Session, identity_id: str) -> list[Blocker]:
        """TOK-1: held tokens but none usable: token-test-overdue, else token-suspended."""
        held, now = self._held(session, identity_id, lock=False), self._clock.now()
        if not held or any(t.status == "active" and not overdue(t, now) for t in held):
            return []
        if any(t.status == "active" for t in held):
            return [Blocker("token-test-overdue", OVERDUE)]
        return [Blocker("token-suspended", SUSPENDED)]

    def verify(self, session: Session, identity_id: str, code: str) -> bool:
        """True if `code` is valid, unused and in the drift window for one of the identity's
        usable tokens (RFC 6238). Otherwise the refusal is audited and counted toward the
        lockout (LOCK-1), committed with the refusal (InvalidCredentials / Locked)."""
        now = self._clock.now()
        for token in self._held(session, identity_id, lock=True):
            if token.status == "active" and not overdue(token, now):
                ok, drift = self._tokens.verify_code(session, token, code)
                if ok:
                    self._trail.record(
                        session,
                        ACCEPTED,
                        Target("identity", identity_id),
                        new={"serial": token.serial, "drift_steps": drift},
                    )
                    return True
        self._refuse(session, identity_id)
        return False

    def _held(self, session: Session, identity_id: str, *, lock: bool) -> list[OtpToken]:
        query = (
            select(OtpToken)
            .where(OtpToken.identity_id == identity_id, OtpToken.status.in_(HELD))
            .order_by(OtpToken.created_at)
        )
        return list(session.scalars(query.with_for_update() if lock else query))

    def _refuse(self, session: Session, identity_id: str) -> None:
        identity = self._lockout.hold(session, identity_id)  # the row before the chain head
        assert identity is not None
        self._trail.record(
            session, REFUSED, Target("identity", identity_id), new={"result": "wrong-or-reused"}
        )
        # The password check just before restarted the consecutive count, so the run of
        # refused codes is read from the trail: those since the last accepted code or unlock.
        streak = self._streak(session, identity_id)
        policy = self._policies.current(session, LockoutPolicy)
        while True:
            count = self._lockout.count_failure(session, identity, policy, None)
            if count.consecutive >= min(streak, policy.max_failures):
                break
        if count.consecutive >= policy.max_failures:
            raise Locked(LOCKED_MESSAGE, recorded=True)
        raise InvalidCredentials(WRONG, reason="otp-invalid", recorded=True)

    def _streak(self, session: Session, identity_id: str) -> int:
        mine = (AuditEvent.target_type == "identity", AuditEvent.target_id == identity_id)
        since = session.scalar(
            select(func.max(AuditEvent.seq)).where(*mine, AuditEvent.action.in_(STREAK_RESET))
        )
        refused = select(func.count()).where(*mine, AuditEvent.action == REFUSED)
        if since is not None:
            refused = refused.where(AuditEvent.seq > since)
        return int(session.scalar(refused) or 0)
