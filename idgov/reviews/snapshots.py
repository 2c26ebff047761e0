"""SnapshotService: host systems push who holds which role, as full snapshots (REV-1, REV-4)."""

from __future__ import annotations

from idgov.audit.trail import AuditTrail
from idgov.clock import Clock
from idgov.entitlements.grants import GrantLedger


class SnapshotService:
    """To be completed: see the access-review issue, item 1 and 5."""

    def __init__(self, clock: Clock, trail: AuditTrail, grants: GrantLedger) -> None:
        self._clock = clock
        self._trail = trail
        self._grants = grants
