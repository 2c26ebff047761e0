"""EscalationService: reminders, escalation and scheduled starts, run by the worker (REV-5)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from idgov.alerts.outbox import AlertOutbox
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock
from idgov.reviews.campaigns import CampaignService


class EscalationService:
    """To be completed: see the access-review issue, item 3."""

    def __init__(
        self, clock: Clock, trail: AuditTrail, alerts: AlertOutbox, campaigns: CampaignService
    ) -> None:
        self._clock = clock
        self._trail = trail
        self._alerts = alerts
        self._campaigns = campaigns

    def run(self, session: Session) -> int:
        """Worker job: remind, escalate, start scheduled campaigns; the number of actions."""
        return 0
