"""PasswordAgingNotifier: tells people their password expires soon, once per warning day (PWD-3)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idgov.alerts.outbox import AlertOutbox
from idgov.clock import Clock, iso_utc
from idgov.counted import counted
from idgov.identity.models import Identity, IdentityStatus
from idgov.policies.documents import PasswordPolicy
from idgov.policies.password import aging_status
from idgov.policies.store import PolicyStore
from idgov.providers.directory.models import LINKED, DirectoryAccount
from idgov.providers.models import LocalCredential

KIND = "password-expiry-warning"


class PasswordAgingNotifier:
    """The worker's "password-aging" job. Each active identity (local, or mirrored from a
    directory) whose password is inside
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
            warned = self._notify(session, person, credential.changed_at, credential.warned_days)
            if warned is not None:
                credential.warned_days = warned
                raised += 1
        # Directory identities: the same policy on the directory's last change (PWD-3), or on
        # when idgov first saw the account where the directory records none.
        changed = func.coalesce(
            DirectoryAccount.password_changed_at, DirectoryAccount.first_seen_at
        )
        accounts = session.execute(
            select(DirectoryAccount, Identity)
            .join(Identity, Identity.id == DirectoryAccount.identity_id)
            .where(
                Identity.status == IdentityStatus.ACTIVE,
                DirectoryAccount.state == LINKED,
                changed > oldest,
                changed <= youngest,
            )
            .order_by(DirectoryAccount.id)
            .with_for_update(of=DirectoryAccount)
        ).all()
        for account, person in accounts:
            since = account.password_changed_at or account.first_seen_at
            warned = self._notify(session, person, since, account.warned_days, account.provider)
            if warned is not None:
                account.warned_days = warned
                raised += 1
        return raised

    def _notify(
        self,
        session: Session,
        person: Identity,
        changed_at: datetime,
        warned_days: int | None,
        directory: str | None = None,
    ) -> int | None:
        """Raise the notice if a new warning window was reached; the window, else None."""
        policy = self._policies.current(session, PasswordPolicy)
        aging = aging_status(changed_at, self._clock.now(), policy)
        if aging.warn_day is None or aging.expires_at is None or aging.days_left is None:
            return None
        if warned_days is not None and warned_days <= aging.warn_day:
            return None  # already told at this window (or a later one)
        days = counted(aging.days_left, "day")
        where = (
            f"Change it in your organisation's directory ({directory}) before it expires."
            if directory
            else "Sign in to idgov and change your password before it expires."
        )
        self._alerts.raise_alert(
            session,
            KIND,
            f"Your {'directory' if directory else 'idgov'} password expires in {days}",
            {
                "username": person.username,
                "expires_at": iso_utc(aging.expires_at),
                "days_left": aging.days_left,
                "warning_day": aging.warn_day,
                "next_steps": [
                    where,
                    "An expired password cannot sign records until it is changed.",
                ],
            },
            severity="info",
            identity=person,
            recipients=[("email", person.email)],  # the person, not the security unit
        )
        return aging.warn_day
