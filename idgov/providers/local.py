"""LocalPasswords: argon2id hashes, history, aging and one-time admin resets (PWD-1..4, CMP-2)."""

from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock, iso_utc
from idgov.counted import counted
from idgov.errors import (
    Conflict,
    InvalidCredentials,
    NotFound,
    UnprocessableRequest,
)
from idgov.identity.models import Identity, IdentityRole, IdentityStatus, Role
from idgov.identity.notices import CredentialNotices
from idgov.policies.documents import PasswordPolicy
from idgov.policies.password import aging_status, check_quality, min_age_blocks, normalize
from idgov.policies.store import PolicyStore
from idgov.providers import credentials, hashing
from idgov.providers.credentials import CredentialStatus, PreparedPassword
from idgov.providers.hashing import DUMMY_HASH, MAX_HASHED_BYTES
from idgov.providers.interfaces import CredentialState
from idgov.providers.models import LocalCredential
from idgov.sessions.interfaces import SessionRevoker

__all__ = ["DUMMY_HASH", "MAX_HASHED_BYTES", "CredentialStatus", "LocalPasswords"]


class LocalPasswords:
    """Passwords of identities whose provider is "local"; every change is audited in the
    caller's transaction. Failure counting and lockout (LOCK-1) are the caller's business."""

    def __init__(
        self,
        clock: Clock,
        trail: AuditTrail,
        policies: PolicyStore,
        revoker: SessionRevoker | None = None,
        notices: CredentialNotices | None = None,
    ) -> None:
        self._clock = clock
        self._trail = trail
        self._policies = policies
        self._revoker = revoker
        self._notices = notices  # the owner is told of every change (CMP-2)

    @staticmethod
    def hasher(policy: PasswordPolicy) -> PasswordHasher:
        """argon2id with the policy's cost parameters (PWD-1, RFC 9106)."""
        return hashing.hasher(policy)

    def set_initial(self, session: Session, identity: Identity, password: object) -> None:
        """The first password of a local identity; quality-checked (PWD-4), kept in history.
        For the person's own choice (enrolment) only: an administrator who sets someone's
        password resets it instead (identity/setup.py): the owner sets the new one (CMP-2)."""
        _require_local(identity)
        if session.get(LocalCredential, identity.id) is not None:
            raise Conflict("this identity already has a password", field="password")
        policy = self._policy(session)
        secret = self._acceptable(policy, identity, password, "password")
        now = self._clock.now()
        credential = LocalCredential(identity_id=identity.id, temporary=False, warned_days=None)
        session.add(credential)
        credentials.store(session, credential, hashing.hash_secret(policy, secret), now)
        self._audit(session, "set", identity, {"changed_at": iso_utc(now)})

    def verify(self, session: Session, identity: Identity, password: object) -> bool:
        """True when `password` is the identity's password. Re-hashes in place when the policy
        raised the argon2 parameters (PWD-1). An expired temporary password, a non-str, an
        over-long or a non-UTF-8-encodable password is simply False, and nothing big is hashed.
        An expired regular password still verifies: the person must change it, and cannot sign
        meanwhile (see `status`)."""
        prepared = self.prepare(session, identity)
        if not self.check(prepared, password):
            return False
        assert isinstance(password, str)
        self.after_success(session, identity, password, prepared)
        return True

    def verify_dummy(self, password: object, session: Session | None = None) -> bool:
        """Spend the time a real verification would, for an unknown username (LOCK-3); always
        False. With a session the current policy's parameters are used, else the defaults."""
        policy = self._policy(session) if session is not None else PasswordPolicy()
        return self.check(PreparedPassword.unknown(policy), password)

    def prepare(
        self, session: Session, identity: Identity | None, username: str | None = None
    ) -> object:
        """PasswordSource: the stored hash and policy, read before the slow check; an unknown
        identity (or one without a local password) gets the dummy hash (LOCK-3)."""
        policy = self._policy(session)
        credential = session.get(LocalCredential, identity.id) if identity is not None else None
        if credential is None:
            return PreparedPassword.unknown(policy)
        return PreparedPassword(
            policy, credential.password_hash, True, credential.temporary, credential.expires_at
        )

    def check(self, prepared: object, password: object) -> bool:
        """PasswordSource: the argon2 verification, no database; never raises."""
        if not isinstance(prepared, PreparedPassword):
            return False
        secret = hashing.hashable(password, prepared.policy)
        if secret is None or not hashing.matches(prepared.password_hash, secret):
            return False
        if prepared.temporary and credentials.lapsed(prepared.expires_at, self._clock.now()):
            return False  # CMP-2: a one-time password is only good for its window
        return prepared.known

    def after_success(
        self, session: Session, identity: Identity, password: str, prepared: object
    ) -> CredentialState:
        """PasswordSource: re-hash when the policy raised the parameters (PWD-1), and report
        whether the password is temporary or expired."""
        credential = session.get(LocalCredential, identity.id)
        policy = self._policy(session)
        secret = hashing.hashable(password, policy)
        if (
            credential is not None
            and secret is not None
            and hashing.needs_raise(credential.password_hash, policy)
            and hashing.matches(credential.password_hash, secret)  # not changed meanwhile
        ):
            old = credentials.replace_hash(session, credential, hashing.hash_secret(policy, secret))
            self._trail.record(
                session,
                "credential:password:rehashed",
                Target("identity", identity.id),
                old=hashing.parameters(old),
                new=hashing.parameters(credential.password_hash),
            )
        state = self.status(session, identity)
        return CredentialState(state.temporary, state.expired, state.days_left)

    def change(
        self, session: Session, identity: Identity, current_password: object, new_password: object
    ) -> None:
        """The person changes their own password: the current one must verify; the minimum age
        applies unless it is temporary or expired (PWD-4); the new one must pass the quality
        rules and differ from the current and the last `history_count` passwords (PWD-2)."""
        credential = session.get(LocalCredential, identity.id, with_for_update=True)
        if credential is None:
            raise NotFound("this identity has no local password")
        if not self.verify(session, identity, current_password):
            raise InvalidCredentials("the current password is not correct")
        policy, now = self._policy(session), self._clock.now()
        expired = aging_status(credential.changed_at, now, policy).expired
        if not (credential.temporary or expired) and min_age_blocks(
            credential.changed_at, now, policy
        ):
            raise Conflict(
                f"the password was changed less than {policy.min_age_days} day(s) ago; "
                "it cannot be changed again yet",
                field="new_password",
            )
        secret = self._acceptable(policy, identity, new_password, "new_password")
        self._refuse_reuse(session, credential, secret, policy)
        was_temporary = credential.temporary
        credentials.store(session, credential, hashing.hash_secret(policy, secret), now)
        self._audit(
            session,
            "changed",
            identity,
            {"changed_at": iso_utc(now), "was_temporary": was_temporary},
        )
        self._revoke(session, identity, "password-change")
        if self._notices is not None:
            self._notices.tell(
                session,
                identity,
                "Your idgov password was changed",
                {"what": "Your password was changed; your other sessions were signed out."},
            )

    def lapse(self, session: Session, identity: Identity) -> None:
        """A reset (CMP-2): the current password stops working at once and every session
        ends; the owner chooses a new one through their set-password link (identity/setup)."""
        _require_local(identity)
        credential = session.get(LocalCredential, identity.id, with_for_update=True)
        if credential is not None:
            credential.temporary, credential.expires_at = True, self._clock.now()
        self._revoke(session, identity, "password-reset")

    def set_by_owner(self, session: Session, identity: Identity, password: object) -> None:
        """The owner's own choice through a set-password link: a regular password at once
        (no second change needed), quality (PWD-4) and history (PWD-2) checked, no minimum
        age (the old one was reset); audited, and every session ends."""
        _require_local(identity)
        credential = session.get(LocalCredential, identity.id, with_for_update=True)
        policy, now = self._policy(session), self._clock.now()
        secret = self._acceptable(policy, identity, password, "new_password")
        if credential is None:
            credential = LocalCredential(identity_id=identity.id, temporary=False, warned_days=None)
            session.add(credential)
        else:
            self._refuse_reuse(session, credential, secret, policy)
        credentials.store(session, credential, self.hasher(policy).hash(secret), now)
        self._audit(session, "set", identity, {"changed_at": iso_utc(now), "through": "link"})
        self._revoke(session, identity, "password-set")

    def bootstrap_temporary(self, session: Session, identity: Identity) -> str:
        """A first administrator's temporary password, issued by `idgov init` while no
        administrator is active who could send them a set-password link; it must be changed
        at first login."""
        others = session.scalars(
            select(IdentityRole.identity_id)
            .join(Identity, Identity.id == IdentityRole.identity_id)
            .where(
                IdentityRole.role == Role.ADMIN,
                Identity.status == IdentityStatus.ACTIVE,
                IdentityRole.identity_id != identity.id,
            )
        ).first()
        if others is not None:
            raise Conflict("an administrator exists: ask them for a password reset")
        return self._issue_temporary(session, identity, "first administrator", issued_by="init")

    def _issue_temporary(
        self, session: Session, identity: Identity, reason: str, issued_by: str
    ) -> str:
        _require_local(identity)
        policy, now = self._policy(session), self._clock.now()
        temporary = hashing.temporary_password(policy.max_length)
        credential = session.get(LocalCredential, identity.id, with_for_update=True)
        if credential is None:
            credential = LocalCredential(identity_id=identity.id, changed_at=now)
            session.add(credential)
        expires_at = now + timedelta(hours=policy.temporary_valid_hours)
        credential.password_hash = hashing.hash_secret(policy, temporary)
        credential.changed_at = now
        credential.temporary = True
        credential.expires_at = expires_at
        credential.warned_days = None
        self._audit(
            session,
            "reset",
            identity,
            {"temporary": True, "expires_at": iso_utc(expires_at), "reset_by": issued_by},
            reason=reason,
        )
        self._revoke(session, identity, "password-reset")
        return temporary

    def force_change(self, session: Session, identity: Identity, reason: str) -> str:
        """LOSS-1, 11.300(c): a compromised password stops working at once and must be
        changed: marked temporary and lapsed, it needs a reset (a one-time password)."""
        if identity.provider != "local":
            return "kept-by-provider"  # the directory resets it; idgov revokes the sessions
        credential = session.get(LocalCredential, identity.id, with_for_update=True)
        if credential is None:
            return "none"
        credential.temporary, credential.expires_at = True, self._clock.now()
        self._audit(session, "compromised", identity, {"must_change": True}, reason=reason)
        return "must-change"

    def status(self, session: Session, identity: Identity) -> CredentialStatus:
        """Temporary passwords must be changed; regular ones expire by the policy (PWD-3)."""
        credential = session.get(LocalCredential, identity.id)
        if credential is None:
            raise NotFound("this identity has no local password")
        return credentials.credential_status(credential, self._clock.now(), self._policy(session))

    def _revoke(self, session: Session, identity: Identity, reason: str) -> None:
        # ACC-3: a changed or reset password signs the person out everywhere.
        if self._revoker is not None:
            self._revoker.revoke_all(session, identity.id, reason)

    def _policy(self, session: Session) -> PasswordPolicy:
        return self._policies.current(session, PasswordPolicy)

    @staticmethod
    def _refuse_reuse(
        session: Session, credential: LocalCredential, secret: str, policy: PasswordPolicy
    ) -> None:
        if credentials.reused(session, credential, secret, policy.history_count):
            raise UnprocessableRequest(
                "the new password must differ from the current password and the last "
                + counted(policy.history_count, "password"),
                field="new_password",
            )

    @staticmethod
    def _acceptable(
        policy: PasswordPolicy, identity: Identity, password: object, field: str
    ) -> str:
        problems = check_quality(password, policy, identity.username, identity.printed_name)
        if problems:
            raise UnprocessableRequest("; ".join(problems), field=field, problems=problems)
        assert isinstance(password, str)
        return normalize(password)  # hashed after NFKC (NIST SP 800-63B 5.1.1.2)

    def _audit(
        self,
        session: Session,
        what: str,
        identity: Identity,
        new: dict[str, object],
        reason: str | None = None,
    ) -> None:
        self._trail.record(
            session,
            f"credential:password:{what}",
            Target("identity", identity.id),
            new=new,
            reason=reason,
        )


def _require_local(identity: Identity) -> None:
    if identity.provider != "local":
        raise Conflict(
            f"passwords of {identity.provider} identities are kept by that provider",
            field="provider",
        )
