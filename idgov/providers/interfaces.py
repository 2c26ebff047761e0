"""Ports for identity sources: how a password is checked without holding database locks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

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


class PasswordSource(Protocol):
    """Checks passwords for one identity source in three steps, so that the slow part (a
    memory-hard hash, a directory bind) runs outside any database transaction.

    Contract: `check` must take comparable time for an unknown identity (prepared None) as for
    a known one, so that timing never reveals whether a username exists (LOCK-3).
    """

    def prepare(self, session: Session, identity: Identity | None) -> object:
        """Read what `check` needs (a stored hash, a directory DN) inside a read transaction."""
        ...

    def check(self, prepared: object, password: object) -> bool:
        """The slow check, with no database access. Never raises for any password value."""
        ...

    def after_success(
        self, session: Session, identity: Identity, password: str, prepared: object
    ) -> CredentialState:
        """In the write transaction after a good password: upgrade the stored hash if the
        policy was raised (PWD-1) and report the credential's state."""
        ...
