"""EvidenceService: the evidence pack of a campaign (REV-5, EXP-1)."""

from __future__ import annotations

from idgov.audit.trail import AuditTrail
from idgov.clock import Clock


class EvidenceService:
    """To be completed: see the access-review issue, item 6."""

    def __init__(self, clock: Clock, trail: AuditTrail, base_url: str) -> None:
        self._clock = clock
        self._trail = trail
        self._base_url = base_url
