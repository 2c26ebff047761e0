"""Worker job token-test-reminders: tell owners before a token's periodic test is due (TOK-1)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.alerts.outbox import AlertOutbox
from idgov.clock import Clock, iso_utc
from idgov.identity.models import Identity
from idgov.policies.documents import TokenPolicy
from idgov.policies.store import PolicyStore
from idgov.tokens.models import OtpToken

BATCH = 500  # per tick; the rest on the next one


class TokenTestReminders:
    """Once per due date: a passed test clears `reminded_at`, so the next due date is told."""

    def __init__(self, clock: Clock, policies: PolicyStore, alerts: AlertOutbox) -> None:
        self._clock = clock
        self._policies = policies
        self._alerts = alerts

    def run(self, session: Session) -> int:
        """Remind the owner of each active token due within `remind_days_before` days (or
        already overdue) and not yet reminded; returns how many were reminded."""
        policy, now = self._policies.current(session, TokenPolicy), self._clock.now()
        horizon = now + timedelta(days=policy.remind_days_before)
        due = session.scalars(
            select(OtpToken)
            .where(
                OtpToken.status == "active",
                OtpToken.reminded_at.is_(None),
                OtpToken.test_due_at <= horizon,
            )
            .order_by(OtpToken.test_due_at)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        for token in due:
            owner = session.get(Identity, token.identity_id)
            assert owner is not None
            assert token.test_due_at is not None
            when = iso_utc(token.test_due_at)
            self._alerts.raise_alert(
                session,
                "token-test-due",
                f"Your token {token.label} ({token.serial}) must be tested by {when}",
                {
                    "who": {"username": owner.username, "printed_name": owner.printed_name},
                    "what": "A periodic test proves you still hold your token (TOK-1). Until it "
                    "passes after the due date, you cannot sign.",
                    "token": {"serial": token.serial, "label": token.label},
                    "due": when,
                    "next_step": "Sign in, open Tokens and enter the current code of this token.",
                },
                severity="info",
                identity=owner,
                recipients=[("email", owner.email)] if owner.email else [],
            )
            token.reminded_at = now
        return len(due)
