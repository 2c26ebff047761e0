"""Attack patterns (LOCK-3, ALERT-1): failures against unknown usernames, one source address
failing across many usernames, and client-secret guessing at the token endpoint are counted
and alerted, once per pattern (and source or client) per window."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idgov.alerts.models import Alert, AuthFailure
from idgov.alerts.outbox import AlertOutbox
from idgov.clock import Clock, iso_utc
from idgov.policies.documents import LockoutPolicy

MAX_RECORDED_USERNAME = 300
# Failed client authentications at /oauth/token (RFC 6749 s. 2.3): a channel, not a secret.
TOKEN_CHANNEL = "token"  # noqa: S105


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
    ) -> None:
        """Keep the failure of a person's sign-in or signing and raise any attack alert it
        completes. `username` is the identity's for a known one, else a pseudonym (finding 7:
        a typed unknown name is never kept readable)."""
        since = self._keep(session, username, identity_id, source, channel, reason, policy)
        recent = (
            select(func.count())
            .select_from(AuthFailure)
            .where(AuthFailure.occurred_at >= since, AuthFailure.channel != TOKEN_CHANNEL)
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
                        AuthFailure.occurred_at >= since,
                        AuthFailure.source_address == source,
                        AuthFailure.channel != TOKEN_CHANNEL,
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

    def record_client_failure(
        self,
        session: Session,
        *,
        client_id: str,
        source: str | None,
        reason: str,
        policy: LockoutPolicy,
    ) -> None:
        """Keep a failed client authentication at the token endpoint and raise the
        token-guessing alert (ALERT-1) when one client id, or one source address, reaches
        the policy's threshold in the window: once per client or source per window.
        `client_id` is a registered client's id, else a pseudonym."""
        since = self._keep(session, client_id, None, source, TOKEN_CHANNEL, reason, policy)
        recent = select(func.count()).select_from(AuthFailure)
        recent = recent.where(
            AuthFailure.occurred_at >= since, AuthFailure.channel == TOKEN_CHANNEL
        )
        threshold = policy.client_secret_failures_threshold
        per_client = session.scalar(recent.where(AuthFailure.username == client_id)) or 0
        per_source = (
            session.scalar(recent.where(AuthFailure.source_address == source)) or 0 if source else 0
        )
        if per_client < threshold and per_source < threshold:
            return
        key = f"client {client_id}" if per_client >= threshold else f"source {source}"
        self._once(
            session,
            "attack-client-secret",
            since,
            source,
            {
                "what": "Repeated failed client authentications at the token endpoint",
                "client_id": client_id,
                "source_address": source,
                "failures_for_client": per_client,
                "failures_from_source": per_source,
                "window_minutes": policy.attack_window_minutes,
                "next_step": "If the client is yours, check whether its secret leaked or a host "
                "runs with an old one (rotate it: idgov clients rotate NAME); block the source "
                "at the network edge if it is not a known host.",
            },
            subject=key,
        )

    def _keep(
        self,
        session: Session,
        username: str,
        identity_id: str | None,
        source: str | None,
        channel: str,
        reason: str,
        policy: LockoutPolicy,
    ) -> datetime:
        """Store the failure; the start of the attack window it is counted in."""
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
        return now - timedelta(minutes=policy.attack_window_minutes)

    def _once(
        self,
        session: Session,
        kind: str,
        since: object,
        source: str | None,
        details: dict[str, object],
        *,
        subject: str | None = None,
    ) -> None:
        """One alert per pattern and source (or `subject`, when given) per window, not one
        per failure."""
        what = str(details["what"])
        summary = f"{what} ({subject or source})" if subject or source else what
        query = select(Alert.id).where(Alert.kind == kind, Alert.raised_at >= since)
        if subject is not None:
            query = query.where(Alert.summary == summary[:300])
        elif source is not None:
            query = query.where(Alert.source_address == source)
        if session.scalars(query.limit(1)).first() is not None:
            return
        details = {**details, "when": iso_utc(self._clock.now())}
        self._alerts.raise_alert(session, kind, summary[:300], details, source_address=source)
