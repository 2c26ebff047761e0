"""Port for revoking an identity's web sessions, so identity services need not import web code."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session


class SessionRevoker(Protocol):
    """Ends every live web session of one identity (lock, suspension, deactivation, password
    change: ACC-3).

    Contract: works inside the caller's transaction (`session`), so the revocation commits or
    rolls back with the change that caused it; writes one audit event when anything was revoked;
    returns how many sessions it ended. Revoking when there is nothing to revoke is not an error.
    """

    def revoke_all(self, session: Session, identity_id: str, reason: str) -> int: ...
