"""Local credential rows: their status, storing with history, reuse and re-hash (PWD-1..3)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from idgov.policies.documents import PasswordPolicy
from idgov.policies.password import DAY, aging_status
from idgov.providers import hashing
from idgov.providers.models import LocalCredential, PasswordHistoryEntry


@dataclass(frozen=True)
class CredentialStatus:
    """Where a local password stands; `can_sign` is False for temporary or expired ones."""

    temporary: bool
    expired: bool
    must_change: bool
    expires_at: datetime | None
    days_left: int | None

    @property
    def can_sign(self) -> bool:
        # CMP-2: a password an administrator issued never signs; PWD-3: nor does an expired one.
        return not self.temporary and not self.expired


@dataclass(frozen=True)
class PreparedPassword:
    """What the slow check needs, read beforehand; `known` is False for the dummy (LOCK-3)."""

    policy: PasswordPolicy
    password_hash: str
    known: bool
    temporary: bool = False
    expires_at: datetime | None = None

    @classmethod
    def unknown(cls, policy: PasswordPolicy) -> PreparedPassword:
        dummy = hashing.dummy_hash(
            policy.argon2_time_cost, policy.argon2_memory_kib, policy.argon2_parallelism
        )
        return cls(policy, dummy, known=False)


def lapsed(expires_at: datetime | None, now: datetime) -> bool:
    """A temporary password past its window (or without one) is no longer good (CMP-2)."""
    return expires_at is None or now >= expires_at


def credential_status(
    credential: LocalCredential, now: datetime, policy: PasswordPolicy
) -> CredentialStatus:
    """Temporary passwords must be changed; regular ones age by the policy in force (PWD-3)."""
    if credential.temporary:
        expires_at = credential.expires_at
        days_left = None if expires_at is None else max(0, math.ceil((expires_at - now) / DAY))
        return CredentialStatus(True, lapsed(expires_at, now), True, expires_at, days_left)
    aging = aging_status(credential.changed_at, now, policy)
    return CredentialStatus(False, aging.expired, aging.expired, aging.expires_at, aging.days_left)


def store(session: Session, credential: LocalCredential, hashed: str, now: datetime) -> None:
    """A password the person chose: current, and kept in the history (PWD-2)."""
    credential.password_hash = hashed
    credential.changed_at = now
    credential.temporary = False
    credential.expires_at = None  # regular passwords age by the policy in force (PWD-3)
    credential.warned_days = None
    session.add(
        PasswordHistoryEntry(identity_id=credential.identity_id, password_hash=hashed, set_at=now)
    )


def reused(session: Session, credential: LocalCredential, secret: str, count: int) -> bool:
    """True when `secret` is the current password or one of the last `count` kept (PWD-2).
    Each kept hash is verified in turn: salts make a plain comparison impossible."""
    history = session.scalars(
        select(PasswordHistoryEntry.password_hash)
        .where(PasswordHistoryEntry.identity_id == credential.identity_id)
        .order_by(PasswordHistoryEntry.set_at.desc(), PasswordHistoryEntry.id.desc())
        .limit(count)
    )
    kept = dict.fromkeys([credential.password_hash, *history])
    return any(hashing.matches(hashed, secret) for hashed in kept)


def replace_hash(session: Session, credential: LocalCredential, hashed: str) -> str:
    """Swap in a stronger hash of the same password; returns the old one (PWD-1). The kept
    history copy of the current password is upgraded too, so no weaker copy lingers."""
    old = credential.password_hash
    credential.password_hash = hashed
    session.execute(
        update(PasswordHistoryEntry)
        .where(
            PasswordHistoryEntry.identity_id == credential.identity_id,
            PasswordHistoryEntry.password_hash == old,
        )
        .values(password_hash=hashed)
    )
    return old
