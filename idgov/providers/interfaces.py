"""Ports for identity sources: how a password is checked without holding database locks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from idgov.identity.models import Identity


@dataclass(frozen=True)
class CredentialState:
    """What the source says about the password that just verified."""

    temporary: bool = False  # an administrator's reset: change before anything else (CMP-2)
    expired: bool = False  # past its maximum age (PWD-3): no signing, change it
    days_left: int | None = None

    @property
    def must_change(self) -> bool:
        return self.temporary or self.expired


@dataclass(frozen=True)
class SourceRefusal:
    """The source refused for a reason of its own, beyond a wrong password: a directory lock
    or expiry, a recycled account, an unreachable directory. `counts` says whether it counts
    toward idgov's own lockout (LOCK-1); `message` is for the person."""

    reason: str  # directory-locked, password-expired, account-disabled, identifier-reused, ...
    message: str
    counts: bool = False
    detail: dict[str, Any] = field(default_factory=dict)


class PasswordSource(Protocol):
    """Checks passwords for one identity source in three steps, so that the slow part (a
    memory-hard hash, a directory bind) runs outside any database transaction.

    Contract: `check` must take comparable time for an unknown identity (prepared None) as for
    a known one, so that timing never reveals whether a username exists (LOCK-3).
    """

    def prepare(
        self, session: Session, identity: Identity | None, username: str | None = None
    ) -> object:
        """Read what `check` needs (a stored hash, a directory key) inside a read transaction;
        `username` is the name as typed (normalized), also for an unknown identity."""
        ...

    def check(self, prepared: object, password: object) -> bool | SourceRefusal:
        """The slow check, with no database access. Never raises for any password value; a
        source that cannot answer returns a SourceRefusal (provider-unavailable)."""
        ...

    def after_success(
        self, session: Session, identity: Identity, password: str, prepared: object
    ) -> CredentialState:
        """In the write transaction after a good password: upgrade the stored hash if the
        policy was raised (PWD-1) and report the credential's state."""
        ...
