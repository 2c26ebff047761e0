"""AlertDispatcher: delivers due outbox rows, retries with backoff, re-notifies (ALERT-1)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from idgov.alerts.interfaces import (
    DeliveryFailed,
    EmailSender,
    SecretLinks,
    SecretResolver,
    WebhookSender,
)
from idgov.alerts.messages import (
    NOTICE,
    AlertFacts,
    subject,
    text_body,
    webhook_body,
    webhook_document,
)
from idgov.alerts.models import Alert, AlertDelivery
from idgov.alerts.outbox import AlertOutbox
from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock, iso_utc
from idgov.db import transaction
from idgov.errors import ConfigurationError
from idgov.identity.models import Identity
from idgov.policies.documents import AlertingPolicy
from idgov.policies.store import PolicyStore

log = logging.getLogger("idgov.alerts")
BASE_BACKOFF_SECONDS = 5


def backoff_seconds(attempts: int, cap_seconds: int) -> int:
    """Wait after `attempts` failed tries: 5 s, 10 s, 20 s, ... doubling, never above the cap.
    There is no last try: a channel that is down is retried until it comes back (ALERT-1)."""
    exponent = min(max(attempts, 1) - 1, 20)
    return min(cap_seconds, BASE_BACKOFF_SECONDS << exponent)


def delivery_key(delivery: AlertDelivery) -> str:
    """Stable across retries of one delivery: the webhook's X-Idgov-Delivery and the e-mail's
    Message-ID, so a receiver can drop the rare duplicate a crash can cause."""
    return f"idgov-alert.{delivery.alert_id}.{delivery.round}.{delivery.id}"


def shown_recipient(channel: str, recipient: str) -> str:
    """A recipient as logs and the audit trail show it: a webhook URL's path and query may
    carry a token, so only its scheme and host are shown."""
    if channel != "webhook":
        return recipient
    parts = urlsplit(recipient)
    return f"{parts.scheme}://{parts.netloc}/..."


@dataclass(frozen=True, slots=True)
class _Claimed:
    """One delivery taken for sending, with everything needed outside the transaction."""

    id: int
    key: str
    alert_id: str
    kind: str
    channel: str
    recipient: str
    attempt: int
    subject: str = ""
    text: str = ""
    secret: str = ""
    body: bytes = b""
    problem: str | None = None  # cannot be sent as configured: retried later
    cancel: str | None = None  # can never be sent (its webhook left the policy)


class AlertDispatcher:
    """Sends each pending delivery at least once and records it delivered exactly once.

    A row is claimed in one short transaction (attempts + 1, next_attempt_at pushed past the
    claim), sent with no transaction open, then marked in a second one. A crash between the
    send and the mark re-sends after the claim expires, with the same delivery key; a row
    marked delivered is never selected again. `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite's
    write lock on SQLite) keeps several workers from claiming the same row.
    """

    def __init__(
        self,
        clock: Clock,
        session_factory: sessionmaker[Session],
        trail: AuditTrail,
        policies: PolicyStore,
        outbox: AlertOutbox,
        email: EmailSender,
        webhook: WebhookSender,
        secrets: SecretResolver,
        claim: timedelta = timedelta(minutes=2),
        links: SecretLinks | None = None,
    ) -> None:
        self._clock = clock
        self._session_factory = session_factory
        self._trail = trail
        self._policies = policies
        self._outbox = outbox
        self._email = email
        self._webhook = webhook
        self._secrets = secrets
        self._claim = claim
        self._links = links

    def deliver_due(self, limit: int = 50) -> int:
        """Try up to `limit` due deliveries; the number delivered. Once a channel (the SMTP
        server, one webhook) fails, its other rows wait for the next run instead of each
        waiting for the same timeout."""
        delivered = 0
        down: set[tuple[str, str]] = set()
        for _ in range(limit):
            claimed = self._claim_next(down)
            if claimed is None:
                break
            error = claimed.cancel or claimed.problem or self._send(claimed)
            self._finish(claimed, error)
            if error is None:
                delivered += 1
            elif claimed.cancel is None:
                down.add(
                    ("email", "") if claimed.channel == "email" else ("webhook", claimed.recipient)
                )
        return delivered

    def _claim_next(self, down: set[tuple[str, str]]) -> _Claimed | None:
        with transaction(self._session_factory) as session:
            now = self._clock.now()
            query = select(AlertDelivery).where(
                AlertDelivery.status == "pending", AlertDelivery.next_attempt_at <= now
            )
            if ("email", "") in down:
                query = query.where(AlertDelivery.channel != "email")
            urls = [recipient for channel, recipient in down if channel == "webhook"]
            if urls:
                query = query.where(AlertDelivery.recipient.not_in(urls))
            delivery = session.scalars(
                query.order_by(AlertDelivery.next_attempt_at, AlertDelivery.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if delivery is None:
                return None
            delivery.attempts += 1  # the row is locked: no other worker is counting it
            delivery.next_attempt_at = now + self._claim
            alert = session.get_one(Alert, delivery.alert_id)
            claimed = _Claimed(
                id=delivery.id,
                key=delivery_key(delivery),
                alert_id=alert.id,
                kind=alert.kind,
                channel=delivery.channel,
                recipient=delivery.recipient,
                attempt=delivery.attempts,
            )
            try:
                return self._prepare(session, delivery, alert, claimed)
            except Exception as exc:  # one bad row must not block the others behind it
                return replace(claimed, problem=f"cannot prepare the message: {type(exc).__name__}")

    def _prepare(
        self, session: Session, delivery: AlertDelivery, alert: Alert, claimed: _Claimed
    ) -> _Claimed:
        identity = session.get(Identity, alert.identity_id) if alert.identity_id else None
        policy = self._policies.current(session, AlertingPolicy)
        facts = AlertFacts.of(
            alert, identity, round=delivery.round, renotify_minutes=policy.renotify_minutes
        )
        if delivery.channel == "email":
            if self._links is not None:
                facts = replace(facts, link=self._links.link_for(alert.kind, facts.details))
            return replace(claimed, subject=subject(facts), text=text_body(facts))
        hook = next((h for h in policy.webhooks if h.url == delivery.recipient), None)
        if hook is None:
            return replace(claimed, cancel="webhook is no longer in the alerting policy")
        try:
            secret = self._secrets(hook.secret)
        except ConfigurationError as exc:
            return replace(claimed, problem=f"webhook secret: {exc.detail}")
        document = webhook_document(facts, claimed.key, self._clock.now(), delivery.attempts)
        return replace(claimed, secret=secret, body=webhook_body(document))

    def _send(self, claimed: _Claimed) -> str | None:
        try:
            if claimed.channel == "email":
                self._email.send(claimed.recipient, claimed.subject, claimed.text, claimed.key)
            else:
                timestamp = iso_utc(self._clock.now())
                self._webhook.send(
                    claimed.recipient, claimed.secret, claimed.body, claimed.key, timestamp
                )
        except DeliveryFailed as exc:
            return exc.reason
        except Exception as exc:
            # A channel bug is retried, never kills the worker. Only the type is kept: an
            # unexpected message could carry anything, secrets included.
            return f"unexpected {type(exc).__name__} while sending"
        return None

    def _finish(self, claimed: _Claimed, error: str | None) -> None:
        shown = shown_recipient(claimed.channel, claimed.recipient)
        with transaction(self._session_factory) as session:
            delivery = session.get_one(AlertDelivery, claimed.id, with_for_update=True)
            now = self._clock.now()
            if error is None:
                if delivery.status == "delivered":
                    return  # marked by another worker after our claim expired
                delivery.status, delivery.delivered_at, delivery.last_error = "delivered", now, None
                self._trail.record(
                    session,
                    f"alert:{claimed.kind}:delivered",
                    Target("alert", claimed.alert_id),
                    new={
                        "channel": claimed.channel,
                        "recipient": shown,
                        "notification": delivery.round,
                        "attempts": delivery.attempts,
                    },
                )
                log.info("alert delivered", extra=_log_fields(claimed, shown))
                return
            if delivery.status != "pending":
                return
            delivery.last_error = error
            if claimed.cancel is not None:
                delivery.status = "cancelled"
                log.warning("alert delivery cancelled", extra=_log_fields(claimed, shown, error))
                return
            cap = self._policies.current(session, AlertingPolicy).max_backoff_seconds
            wait = timedelta(seconds=backoff_seconds(delivery.attempts, cap))
            delivery.next_attempt_at = now + wait
            fields = _log_fields(claimed, shown, error) | {"retry_at": iso_utc(now + wait)}
            log.warning("alert delivery failed; will retry", extra=fields)

    def renotify_due(self, session: Session, limit: int = 100) -> int:
        """Start a new notification round for each unacknowledged alert (not notice) whose last
        round is `renotify_minutes` old; the number of alerts re-notified. Older rounds still
        pending for the same recipient are superseded: a channel that was down delivers the
        newest round once, not a pile of reminders."""
        now = self._clock.now()
        policy = self._policies.current(session, AlertingPolicy)
        cutoff = now - timedelta(minutes=policy.renotify_minutes)
        alerts = session.scalars(
            select(Alert)
            .where(
                Alert.acknowledged_at.is_(None),
                Alert.severity != NOTICE,
                Alert.last_notified_at <= cutoff,
            )
            .order_by(Alert.raised_at, Alert.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for alert in alerts:
            superseded = self._outbox.next_round(session, alert)
            self._trail.record(
                session,
                f"alert:{alert.kind}:renotified",
                Target("alert", alert.id),
                new={"notification": alert.notify_round, "superseded_deliveries": superseded},
            )
        return len(alerts)


def _log_fields(claimed: _Claimed, shown: str, error: str | None = None) -> dict[str, object]:
    fields: dict[str, object] = {
        "alert_id": claimed.alert_id,
        "channel": claimed.channel,
        "recipient": shown,
        "attempt": claimed.attempt,
    }
    if error is not None:
        fields["error"] = error
    return fields
