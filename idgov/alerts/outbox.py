"""Raising an alert: written to the outbox in the caller's transaction (ALERT-1).

Delivery rows are created at once for every recipient the alerting policy names (security
unit addresses, the identity's manager, webhooks), so an alert committed with its lock can
never be lost: the worker delivers each row until it succeeds.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from idgov.alerts.models import Alert, AlertDelivery
from idgov.audit.canonical import canonical_json
from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock
from idgov.identity.models import Identity
from idgov.policies.documents import AlertingPolicy
from idgov.policies.store import PolicyStore


class AlertOutbox:
    def __init__(self, clock: Clock, trail: AuditTrail, policies: PolicyStore) -> None:
        self._clock = clock
        self._trail = trail
        self._policies = policies

    def raise_alert(
        self,
        session: Session,
        kind: str,
        summary: str,
        details: dict[str, Any],
        *,
        severity: str = "high",
        identity: Identity | None = None,
        source_address: str | None = None,
        recipients: list[tuple[str, str]] | None = None,
    ) -> Alert:
        """Record the alert and one pending delivery per recipient; the worker sends them.
        `recipients` ((channel, address) pairs) replaces the policy's recipients: notices
        meant for the person themself (password expiry, PWD-3), not the security unit."""
        now = self._clock.now()
        alert = Alert(
            id=str(uuid.uuid4()),
            kind=kind,
            severity=severity,
            identity_id=identity.id if identity else None,
            source_address=source_address,
            summary=summary,
            details=canonical_json(details),
            raised_at=now,
            notify_round=1,
            last_notified_at=now,
        )
        session.add(alert)
        session.flush()
        self.schedule_round(session, alert, recipients=recipients)
        self._trail.record(
            session,
            f"alert:{kind}:raised",
            Target("alert", alert.id),
            new={"summary": summary, "severity": severity, **json.loads(alert.details)},
        )
        return alert

    def schedule_round(
        self, session: Session, alert: Alert, *, recipients: list[tuple[str, str]] | None = None
    ) -> list[AlertDelivery]:
        """Pending deliveries for this alert's current round to every configured recipient,
        or to `recipients` when given."""
        if recipients is None:
            recipients = self._policy_recipients(session, alert)
        recipients = list(dict.fromkeys(recipients))  # one delivery per recipient per round
        deliveries = [
            AlertDelivery(
                alert_id=alert.id,
                round=alert.notify_round,
                channel=channel,
                recipient=recipient,
                status="pending",
                attempts=0,
                next_attempt_at=self._clock.now(),
            )
            for channel, recipient in recipients
        ]
        session.add_all(deliveries)
        return deliveries

    def next_round(self, session: Session, alert: Alert) -> int:
        """Start the alert's next notification round now; the number of deliveries it
        supersedes. Older rounds still pending for the same recipient are superseded: a
        channel that was down delivers the newest round once, not a pile of reminders."""
        alert.notify_round += 1
        alert.last_notified_at = self._clock.now()
        superseded = 0
        for fresh in self.schedule_round(session, alert):
            result = session.execute(
                update(AlertDelivery)
                .where(
                    AlertDelivery.alert_id == alert.id,
                    AlertDelivery.channel == fresh.channel,
                    AlertDelivery.recipient == fresh.recipient,
                    AlertDelivery.status == "pending",
                    AlertDelivery.round < alert.notify_round,
                )
                .values(
                    status="superseded",
                    last_error=f"replaced by notification {alert.notify_round}",
                )
            )
            superseded += result.rowcount  # type: ignore[attr-defined]
        return superseded

    def _policy_recipients(self, session: Session, alert: Alert) -> list[tuple[str, str]]:
        policy = self._policies.current(session, AlertingPolicy)
        recipients: list[tuple[str, str]] = [("email", a) for a in policy.security_emails]
        if policy.notify_manager and alert.identity_id:
            manager = _manager_email(session, alert.identity_id)
            if manager and ("email", manager) not in recipients:
                recipients.append(("email", manager))
        recipients += [("webhook", hook.url) for hook in policy.webhooks]
        return recipients


def _manager_email(session: Session, identity_id: str) -> str | None:
    person = session.get(Identity, identity_id)
    if person is None or person.manager_id is None:
        return None
    manager = session.get(Identity, person.manager_id)
    return manager.email if manager else None
