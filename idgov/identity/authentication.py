"""Authentication with lockout: the one path for login and signing re-authentication.

Three steps, so that no database lock is held while the password is hashed: read the identity
(read-only), check the password (no database), then record the outcome in one write
transaction. Failures on login and on signing count together (LOCK-1). Unknown usernames,
suspended and deactivated identities and a directory's own lock are answered exactly like a
wrong password on a real identity at the same count, lockout included (LOCK-3); a typed
unknown name is kept only as a keyed pseudonym, and its refusals are audited in aggregate
per source and window (audit/pseudonyms.py, alerts/refusals.py).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session, sessionmaker

from idgov.alerts.attacks import AttackDetector
from idgov.alerts.refusals import RefusalAggregator
from idgov.audit.context import Target
from idgov.audit.pseudonyms import NamePseudonyms
from idgov.audit.trail import AuditTrail
from idgov.db import reading, transaction
from idgov.errors import (
    IdentifierReused,
    InvalidCredentials,
    InvalidRequest,
    Locked,
    NotEligible,
    ProviderUnavailable,
)
from idgov.identity.ledger import USERNAME, IdentifierLedger
from idgov.identity.lockout import LockoutService
from idgov.identity.models import Identity, IdentityStatus
from idgov.identity.services import IdentityService
from idgov.identity.shadow_lockout import ShadowLockout
from idgov.identity.usernames import normalize_username
from idgov.policies.documents import LockoutPolicy
from idgov.policies.store import PolicyStore
from idgov.providers.interfaces import CredentialState, PasswordSource, SourceRefusal

Channel = Literal["login", "signing", "password-change"]
GENERIC_FAILURE = "the username or password is not right"
LOCKED_MESSAGE = (
    "this account is locked after repeated failed attempts; a security officer must unlock it"
)
MAX_RECORDED_NAME = 200  # fits the audit target id
CAN_AUTHENTICATE = (IdentityStatus.ACTIVE, IdentityStatus.PENDING_VERIFICATION)


@dataclass(frozen=True)
class Anonymity:
    """What keeps refusals of names that cannot sign in from telling anything (LOCK-3)."""

    pseudonyms: NamePseudonyms
    shadow: ShadowLockout
    refusals: RefusalAggregator


@dataclass(frozen=True)
class AuthResult:
    identity_id: str
    username: str
    credential: CredentialState


class AuthenticationService:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        trail: AuditTrail,
        policies: PolicyStore,
        identities: IdentityService,
        lockout: LockoutService,
        attacks: AttackDetector,
        passwords: PasswordSource,
        ledger: IdentifierLedger,
        anonymity: Anonymity,
    ) -> None:
        self._session_factory = session_factory
        self._trail = trail
        self._policies = policies
        self._identities = identities
        self._lockout = lockout
        self._attacks = attacks
        self._passwords = passwords
        self._ledger = ledger
        self._anonymity = anonymity

    def authenticate(
        self, username: object, password: object, *, channel: Channel, source: str | None
    ) -> AuthResult:
        """The identity if the password is right and the identity may authenticate; otherwise
        InvalidCredentials (401) or Locked (423), with the attempt recorded."""
        name = _normalized(username)
        with reading(self._session_factory) as session:
            found = self._identities.by_username(session, name) if name else None
            prepared = self._passwords.prepare(session, found, name)
        verdict = self._passwords.check(prepared, password)
        refusal = verdict if isinstance(verdict, SourceRefusal) else None
        password_ok = verdict is True and found is not None
        with transaction(self._session_factory) as session:
            policy = self._policies.current(session, LockoutPolicy)
            identity = self._lockout.hold(session, found.id) if found else None  # row first
            if identity is None:
                # Finding 7: the typed name may be a password; only its pseudonym is kept.
                pseudonym = self._anonymity.pseudonyms.of(name or _printable(username))
                if refusal is not None and refusal.reason == "provider-unavailable":
                    # As a known username would be answered while the directory is down.
                    self._refuse_by_source(session, None, pseudonym, source, channel, refusal)
                self._refuse_unknown(session, pseudonym, source, channel, policy)
            assert identity is not None
            if identity.status == IdentityStatus.LOCKED:
                if not self._lockout.timed_unlock_due(identity, policy):
                    self._refuse_locked(session, identity, source, channel, policy)
                self._lockout.timed_unlock(session, identity)
            # A recycled directory account is refused as such whatever the state of the
            # identity its username belongs to (UNQ-1); other refusals only for usable ones.
            recycled = refusal is not None and refusal.reason == "identifier-reused"
            if refusal is not None and (identity.status in CAN_AUTHENTICATE or recycled):
                name = identity.username
                self._refuse_by_source(session, identity, name, source, channel, refusal)
                self._count_source_refusal(session, identity, source, channel, policy, refusal)
            if identity.status not in CAN_AUTHENTICATE or not password_ok:
                self._refuse(session, identity, source, channel, policy, password_ok)
            assert isinstance(password, str)
            if not self._lockout.reset(session, identity):  # locked meanwhile (LOCK-1)
                self._refuse_locked(session, identity, source, channel, policy)
            credential = self._passwords.after_success(session, identity, password, prepared)
            self._trail.record(
                session,
                f"auth:{channel}:succeeded",
                Target("identity", identity.id),
                new={"must_change_password": credential.must_change},
            )
            return AuthResult(identity.id, identity.username, credential)

    def _refuse(
        self,
        session: Session,
        identity: Identity,
        source: str | None,
        channel: Channel,
        policy: LockoutPolicy,
        password_ok: bool,
    ) -> None:
        inactive = identity.status not in CAN_AUTHENTICATE
        reason = "inactive" if inactive else "bad-password"
        self._note_attack(session, identity, source, channel, reason, policy)
        if inactive:
            # LOCK-3: suspended and deactivated identities are refused like a wrong password,
            # right password or not, and "lock" at the same count on a shadow counter (their
            # status stays as it is; a real lock would change it).
            shadow = self._anonymity.pseudonyms.of(identity.username)
            locked = self._anonymity.shadow.count_failure(session, shadow, policy)
            self._record_failure(session, identity, channel, reason, source, None)
            if locked:
                raise Locked(LOCKED_MESSAGE, recorded=True)
            raise InvalidCredentials(GENERIC_FAILURE, recorded=True)
        count = self._lockout.count_failure(session, identity, policy, source)
        self._record_failure(session, identity, channel, reason, source, count.consecutive)
        if count.consecutive >= policy.max_failures:
            raise Locked(LOCKED_MESSAGE, recorded=True)
        raise InvalidCredentials(GENERIC_FAILURE, recorded=True)

    def _note_attack(
        self,
        session: Session,
        identity: Identity,
        source: str | None,
        channel: Channel,
        reason: str,
        policy: LockoutPolicy,
    ) -> None:
        """Every failure on a known identity feeds attack detection (LOCK-3)."""
        self._attacks.record_failure(
            session,
            username=identity.username,
            identity_id=identity.id,
            source=source,
            channel=channel,
            reason=reason,
            policy=policy,
        )

    def _refuse_by_source(
        self,
        session: Session,
        identity: Identity | None,
        name: str,
        source: str | None,
        channel: Channel,
        refusal: SourceRefusal,
    ) -> None:
        """The identity source refused for a reason of its own: recorded with that reason.
        Unreachable: 503, never a fallback. Recycled directory account: refused and alerted
        as an identifier reuse (UNQ-1). Those that count go on to `_count_source_refusal`;
        the others end here with the reason (an expired or disabled directory account)."""
        target = Target("identity", identity.id) if identity else Target("username", name)
        self._trail.record(
            session,
            f"auth:{channel}:failed",
            target,
            new={"reason": refusal.reason, "source_address": source, **refusal.detail},
        )
        if refusal.reason == "provider-unavailable":
            raise ProviderUnavailable(refusal.message, reason="provider-unavailable", recorded=True)
        if refusal.reason == "identifier-reused":
            claimant = (
                f"{refusal.detail.get('provider')} account {refusal.detail.get('directory_key')}"
            )
            with suppress(IdentifierReused):  # refused, audited and alerted (UNQ-1, ALERT-1)
                self._ledger.refuse_if_taken(session, USERNAME, "", name, claimant)
            # LOCK-3: answered like a wrong password, so the answer never tells that the
            # username exists; the security unit has the alert and follows it up.
            raise InvalidCredentials(GENERIC_FAILURE, recorded=True)
        if not refusal.counts:
            raise NotEligible(refusal.message, reason=refusal.reason, recorded=True)

    def _count_source_refusal(
        self,
        session: Session,
        identity: Identity,
        source: str | None,
        channel: Channel,
        policy: LockoutPolicy,
        refusal: SourceRefusal,
    ) -> None:
        """A refusal that counts toward idgov's own lockout (a directory lock, LOCK-1):
        counted like a wrong password; at the limit idgov locks and alerts as well.

        LOCK-3: answered exactly as a wrong password at the same count, since a directory
        answers its lock (AD 775, ppolicy accountLocked) whatever the password and whether
        or not the guess was right; a distinct answer would tell a guesser the account
        exists. The audit event keeps the directory's reason for the security unit."""
        self._note_attack(session, identity, source, channel, refusal.reason, policy)
        count = self._lockout.count_failure(session, identity, policy, source)
        if count.consecutive >= policy.max_failures:
            raise Locked(LOCKED_MESSAGE, recorded=True)
        raise InvalidCredentials(GENERIC_FAILURE, recorded=True)

    def _refuse_locked(
        self,
        session: Session,
        identity: Identity,
        source: str | None,
        channel: Channel,
        policy: LockoutPolicy,
    ) -> None:
        self._note_attack(session, identity, source, channel, "locked", policy)
        self._lockout.count_attempt_while_locked(session, identity, source)
        raise Locked(LOCKED_MESSAGE, recorded=True)

    def _refuse_unknown(
        self,
        session: Session,
        pseudonym: str,
        source: str | None,
        channel: Channel,
        policy: LockoutPolicy,
    ) -> None:
        """LOCK-3: counted for attack detection and on a shadow counter that locks as a real
        identity would; audited in aggregate with the source's other anonymous refusals
        (AUD-1), or on its own when its window was recorded already."""
        self._attacks.record_failure(
            session,
            username=pseudonym,
            identity_id=None,
            source=source,
            channel=channel,
            reason="unknown-user",
            policy=policy,
        )
        locked = self._anonymity.shadow.count_failure(session, pseudonym, policy)
        if not self._anonymity.refusals.count(session, source):
            self._trail.record(
                session,
                f"auth:{channel}:failed",
                Target("username", pseudonym),
                new={"reason": "unknown-user", "source_address": source},
            )
        if locked:
            raise Locked(LOCKED_MESSAGE, recorded=True)  # as a known username would be
        raise InvalidCredentials(GENERIC_FAILURE, recorded=True)

    def _record_failure(
        self,
        session: Session,
        identity: Identity,
        channel: Channel,
        reason: str,
        source: str | None,
        consecutive: int | None,
    ) -> None:
        self._trail.record(
            session,
            f"auth:{channel}:failed",
            Target("identity", identity.id),
            new={"reason": reason, "failed_attempts": consecutive, "source_address": source},
        )


def _normalized(username: object) -> str | None:
    try:
        return normalize_username(username)
    except InvalidRequest:
        return None


def _printable(username: object) -> str:
    """A malformed username is still counted, as the pseudonym of its bounded repr."""
    return repr(username)[:MAX_RECORDED_NAME]
