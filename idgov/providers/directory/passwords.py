"""DirectoryPasswords: passwords of directory identities, checked by binding as the person.

The directory decides whether the password is right and whether its own policy allows the
bind (ppolicy, AD sub-codes); idgov then applies its own rules on top: its aging policy even
where the directory has none (PWD-3), its lockout counting (LOCK-1), and the immutable key
check that stops a recycled username from reaching someone else's identity (UNQ-1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.clock import Clock
from idgov.errors import ProviderUnavailable
from idgov.identity.models import Identity
from idgov.policies.documents import PasswordPolicy
from idgov.policies.password import DAY, aging_status
from idgov.policies.store import PolicyStore
from idgov.providers.directory.attributes import DirectoryUser
from idgov.providers.directory.interfaces import Directory
from idgov.providers.directory.models import LINKED, REFUSED, DirectoryAccount
from idgov.providers.directory.outcomes import BindOutcome, BindStatus
from idgov.providers.interfaces import CredentialState, SourceRefusal

UNREACHABLE = (
    "Your organisation's directory cannot be reached right now, so idgov cannot check your "
    "password. Nothing was changed; try again in a few minutes."
)
MAX_PASSWORD_CHARS = 1024  # longer input is refused without asking the directory
CHANGE_IT = "change it in the directory (your workstation or its self-service page)"
REFUSALS: dict[BindStatus, tuple[str, str, bool]] = {
    # status: (reason, message, counts toward idgov's lockout)
    BindStatus.LOCKED: (
        "directory-locked",
        "Your account is locked in the directory after failed attempts: ask the directory's "
        "administrators or the security unit to unlock it.",
        True,
    ),
    BindStatus.PASSWORD_EXPIRED: (
        "password-expired",
        f"Your directory password has expired: {CHANGE_IT}, then sign in again.",
        False,
    ),
    BindStatus.MUST_CHANGE: (
        "password-must-change",
        f"Your directory password was reset and must be changed first: {CHANGE_IT}.",
        False,
    ),
    BindStatus.ACCOUNT_DISABLED: (
        "account-disabled",
        "Your directory account is disabled: ask the directory's administrators.",
        False,
    ),
    BindStatus.ACCOUNT_EXPIRED: (
        "account-expired",
        "Your directory account has expired: ask the directory's administrators.",
        False,
    ),
    BindStatus.RESTRICTED: (
        "logon-restricted",
        "The directory does not allow you to sign in at this time or from this place.",
        False,
    ),
}


@dataclass
class DirectoryAttempt:
    """One authentication against a directory: what was read before (`prepare`) and what the
    directory answered (`check` fills `entry` and `outcome`; one attempt per request)."""

    provider: str
    username: str
    key: str | None  # the identity's immutable key in this directory; None: unknown
    first_seen_at: datetime | None
    policy: PasswordPolicy
    entry: DirectoryUser | None = None
    outcome: BindOutcome | None = None


class DirectoryPasswords:
    """PasswordSource for identities whose provider is a configured directory."""

    def __init__(
        self, clock: Clock, policies: PolicyStore, directories: Mapping[str, Directory]
    ) -> None:
        self._clock = clock
        self._policies = policies
        self._directories = directories

    def handles(self, provider: str) -> bool:
        return provider in self._directories

    @property
    def default(self) -> str | None:
        """The directory that answers for unknown usernames (the first configured)."""
        return next(iter(self._directories), None)

    def prepare(
        self, session: Session, identity: Identity | None, username: str | None = None
    ) -> DirectoryAttempt:
        policy = self._policies.current(session, PasswordPolicy)
        if identity is None:
            return DirectoryAttempt(self.default or "", username or "", None, None, policy)
        account = session.scalars(
            select(DirectoryAccount)
            .where(
                DirectoryAccount.identity_id == identity.id,
                DirectoryAccount.provider == identity.provider,
                DirectoryAccount.state != REFUSED,  # linked, or gone (UNQ-1 still holds)
            )
            # The entry it is linked to now before any it had (a rehire onto a new account).
            .order_by(DirectoryAccount.state != LINKED, DirectoryAccount.last_seen_at.desc())
        ).first()
        return DirectoryAttempt(
            identity.provider,
            identity.username,
            account.key if account else None,
            account.first_seen_at if account else None,
            policy,
        )

    def check(self, prepared: object, password: object) -> bool | SourceRefusal:
        """Search the username, compare the immutable key, bind as the entry. An unknown
        username still costs a search and a bind (LOCK-3); a different key is a recycled
        account and never reaches the bind (UNQ-1)."""
        if not isinstance(prepared, DirectoryAttempt):
            return False
        directory = self._directories.get(prepared.provider)
        if directory is None:
            return _unavailable("the directory is not configured", prepared.provider)
        if not isinstance(password, str) or not password or len(password) > MAX_PASSWORD_CHARS:
            return False
        try:
            entry = directory.find_user(prepared.username) if prepared.username else None
            if prepared.key is None or not isinstance(entry, DirectoryUser):
                directory.bind(None, password)
                return False
            if entry.key != prepared.key:
                return SourceRefusal(
                    "identifier-reused",
                    "This username now belongs to a different directory account; it stays "
                    "with the person it was first given to.",
                    detail={
                        "provider": prepared.provider,
                        "username": prepared.username,
                        "directory_key": entry.key,
                        "bound_key": prepared.key,
                    },
                )
            outcome = directory.bind(entry.dn, password)
        except ProviderUnavailable as exc:
            return _unavailable(exc.detail, prepared.provider)
        prepared.entry, prepared.outcome = entry, outcome
        return verdict(outcome, prepared.provider)

    def after_success(
        self, session: Session, identity: Identity, password: str, prepared: object
    ) -> CredentialState:
        """idgov's aging on top of the directory's (PWD-3): the password's age comes from
        pwdChangedTime / pwdLastSet (else the entry's creation, else when idgov first saw
        it); a grace login, a ppolicy changeAfterReset, an AD computed expiry or idgov's own
        maximum age each make it a password that must change and cannot sign."""
        assert isinstance(prepared, DirectoryAttempt)
        entry, outcome = prepared.entry, prepared.outcome
        assert entry is not None
        assert outcome is not None
        return directory_credential(
            entry, outcome, prepared.first_seen_at, self._clock.now(), prepared.policy
        )


def verdict(outcome: BindOutcome, provider: str) -> bool | SourceRefusal:
    """A bind outcome in idgov's terms: True, False (a wrong password), or a refusal."""
    if outcome.ok:
        return True
    if outcome.status == BindStatus.BAD_CREDENTIALS:
        return False
    if outcome.status == BindStatus.UNAVAILABLE:
        return _unavailable(f"the directory could not answer: {outcome.diagnostic}", provider)
    reason, message, counts = REFUSALS[outcome.status]
    return SourceRefusal(
        reason,
        message,
        counts=counts,
        detail={"provider": provider, "directory_status": outcome.status.value},
    )


def directory_credential(
    entry: DirectoryUser,
    outcome: BindOutcome,
    first_seen_at: datetime | None,
    now: datetime,
    policy: PasswordPolicy,
) -> CredentialState:
    changed = entry.password_changed_at or entry.created_at or first_seen_at
    aging = aging_status(changed, now, policy) if changed is not None else None
    deadlines = [d for d in (aging.expires_at if aging else None, entry.password_expires_at) if d]
    expired = outcome.grace_remaining is not None or any(now >= d for d in deadlines)
    days = [math.ceil((d - now) / DAY) for d in deadlines if d > now]
    if outcome.expires_in_seconds is not None:
        days.append(math.ceil(outcome.expires_in_seconds / 86400))
    return CredentialState(
        temporary=outcome.change_after_reset or entry.must_change,
        expired=expired,
        days_left=0 if expired else (min(days) if days else None),
    )


def _unavailable(error: str, provider: str) -> SourceRefusal:
    """The person is told to try later; what failed (server addresses, socket errors) goes
    to the audit trail and the operators, never to an anonymous caller."""
    return SourceRefusal(
        "provider-unavailable",
        UNREACHABLE,
        detail={"provider": provider, "error": error},
    )
