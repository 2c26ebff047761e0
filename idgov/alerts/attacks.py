"""Attack patterns (LOCK-3): failures against unknown usernames, and one source address
failing across many usernames, are counted and alerted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idgov.alerts.models import Alert, AuthFailure
from idgov.alerts.outbox import AlertOutbox
from idgov.clock import Clock, iso_utc
from idgov.policies.documents import LockoutPolicy

MAX_RECORDED_USERNAME = 300


class AttackDetector:
    def __init__(self, clock: Clock, alerts: AlertOutbox) -> None:
        self._clock = clock
        self._alerts = alerts

    def record_failure(
        self,
        session: Session,
        *,
        username: str,
        identity_id: str | None,
        source: str | None,
        channel: str,
        reason: str,
        policy: LockoutPolicy,
    ) -> int:
        """Keep the failure, raise any attack alert it completes, and return how many times
        this username failed within the window (used to answer unknown usernames exactly as
        known ones, lockout included: responses never reveal whether a username exists)."""
        now = self._clock.now()
        session.add(
            AuthFailure(
                occurred_at=now,
                username=username[:MAX_RECORDED_USERNAME],
                identity_id=identity_id,
                source_address=source,
                channel=channel,
                reason=reason,
            )
        )
        session.flush()
        since = now - timedelta(minutes=policy.attack_window_minutes)
        recent = (
            select(func.count()).select_from(AuthFailure).where(AuthFailure.occurred_at >= since)
        )
        if identity_id is None:
            unknown = session.scalar(recent.where(AuthFailure.identity_id.is_(None))) or 0
            if unknown >= policy.unknown_username_threshold:
                self._once(
                    session,
                    "attack-unknown-usernames",
                    since,
                    None,
                    {
                        "what": "Failed authentications against usernames that do not exist",
                        "failures_in_window": unknown,
                        "window_minutes": policy.attack_window_minutes,
                        "latest_source_address": source,
                        "next_step": "Look for a username-guessing attack; block the sources at "
                        "the network edge if they are not yours.",
                    },
                )
        if source:
            distinct = (
                session.scalar(
                    select(func.count(func.distinct(AuthFailure.username))).where(
                        AuthFailure.occurred_at >= since, AuthFailure.source_address == source
                    )
                )
                or 0
            )
            if distinct >= policy.source_distinct_usernames_threshold:
                self._once(
                    session,
                    "attack-source",
                    since,
                    source,
                    {
                        "what": "One source address failed authentication for many usernames",
                        "source_address": source,
                        "distinct_usernames": distinct,
                        "window_minutes": policy.attack_window_minutes,
                        "next_step": "Block the source address if it is not a known system, and "
                        "check the identities it tried.",
                    },
                )
        return int(
            session.scalar(recent.where(AuthFailure.username == username[:MAX_RECORDED_USERNAME]))
            or 0
        )

    def _once(
        self,
        session: Session,
        kind: str,
        since: object,
        source: str | None,
        details: dict[str, object],
    ) -> None:
        """One alert per pattern (and source) per window, not one per failure."""
        query = select(Alert.id).where(Alert.kind == kind, Alert.raised_at >= since)
        if source is not None:
            query = query.where(Alert.source_address == source)
        if session.scalars(query.limit(1)).first() is not None:
            return
        details = {**details, "when": iso_utc(self._clock.now())}
        summary = str(details["what"]) + (f" ({source})" if source else "")
        self._alerts.raise_alert(session, kind, summary, details, source_address=source)
