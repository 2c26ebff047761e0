"""PasswordAgingNotifier: tells people their password expires soon, once per warning day (PWD-3)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.alerts.outbox import AlertOutbox
from idgov.clock import Clock, iso_utc
from idgov.identity.models import Identity, IdentityStatus
from idgov.policies.documents import PasswordPolicy
from idgov.policies.password import aging_status
from idgov.policies.store import PolicyStore
from idgov.providers.models import LocalCredential

KIND = "password-expiry-warning"


class PasswordAgingNotifier:
    """The worker's "password-aging" job. Each active local identity whose password is inside
    a warning window (14, 7 and 1 days by default) and was not yet told at that window gets
    one notice by e-mail to themself; `LocalCredential.warned_days` remembers the window."""

    def __init__(self, clock: Clock, policies: PolicyStore, alerts: AlertOutbox) -> None:
        self._clock = clock
        self._policies = policies
        self._alerts = alerts

    def run(self, session: Session) -> int:
        """Raise the notices that are due; the number raised. Safe to run on every tick."""
        policy = self._policies.current(session, PasswordPolicy)
        if policy.max_age_days is None or not policy.warn_days:
            return 0  # nist-800-63b: no forced rotation, nothing to warn about
        now = self._clock.now()
        # Only passwords old enough to be inside the widest window and not yet expired.
        oldest = now - timedelta(days=policy.max_age_days)
        youngest = oldest + timedelta(days=max(policy.warn_days))
        rows = session.execute(
            select(LocalCredential, Identity)
            .join(Identity, Identity.id == LocalCredential.identity_id)
            .where(
                Identity.status == IdentityStatus.ACTIVE,
                Identity.provider == "local",
                LocalCredential.temporary.is_(False),
                LocalCredential.changed_at > oldest,
                LocalCredential.changed_at <= youngest,
            )
            .order_by(LocalCredential.changed_at, LocalCredential.identity_id)
            .with_for_update(of=LocalCredential)
        ).all()
        raised = 0
        for credential, person in rows:
            aging = aging_status(credential.changed_at, now, policy)
            if aging.warn_day is None or aging.expires_at is None or aging.days_left is None:
                continue
            if credential.warned_days is not None and credential.warned_days <= aging.warn_day:
                continue  # already told at this window (or a later one)
            days = "1 day" if aging.days_left == 1 else f"{aging.days_left} days"
            self._alerts.raise_alert(
                session,
                KIND,
                f"Your idgov password expires in {days}",
                {
                    "username": person.username,
                    "expires_at": iso_utc(aging.expires_at),
                    "days_left": aging.days_left,
                    "warning_day": aging.warn_day,
                    "next_steps": [
                        "Sign in to idgov and change your password before it expires.",
                        "An expired password cannot sign records until it is changed.",
                    ],
                },
                severity="info",
                identity=person,
                recipients=[("email", person.email)],  # the person, not the security unit
            )
            credential.warned_days = aging.warn_day
            raised += 1
        return raised
