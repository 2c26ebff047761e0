"""Alert outbox: one alert, one delivery row per recipient and channel, retried until done."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idgov.db import Base, UTCDateTime


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(48), index=True)  # lockout, attack, identifier-reuse
    severity: Mapped[str] = mapped_column(String(16))
    identity_id: Mapped[str | None] = mapped_column(ForeignKey("identities.id"))
    source_address: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(String(300))
    details: Mapped[str] = mapped_column(Text)  # canonical JSON: who, what, counts, next steps
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(ForeignKey("identities.id"))
    notify_round: Mapped[int] = mapped_column(Integer, default=1)
    last_notified_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertDelivery(Base):
    """Delivered once per recipient per round: the unique key makes a duplicate impossible."""

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))  # email, webhook
    recipient: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("alert_id", "round", "channel", "recipient", name="uq_alert_delivery"),
    )


class AuthFailure(Base):
    """Every failed authentication, known username or not (LOCK-3): attack patterns are
    counted from here (unknown usernames; one source across many usernames; client-secret
    guessing), and anonymous refusals are aggregated from here (alerts/refusals.py)."""

    __tablename__ = "auth_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # A known identity's username or a registered client id; anything else only as its
    # pseudonym, `hmac-sha256:...` (audit/pseudonyms.py): it may be a typed password.
    username: Mapped[str] = mapped_column(String(300))
    identity_id: Mapped[str | None] = mapped_column(ForeignKey("identities.id"))
    source_address: Mapped[str | None] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # login, signing, password-change, token
    reason: Mapped[str] = mapped_column(String(32))  # bad-password, unknown-user, locked


class RefusalWindow(Base):
    """Anonymous refusals from one source address in one fixed time window: audited once, in
    aggregate, when the window is over (`auth:refusals:aggregated`, AUD-1) instead of one
    permanent event per refusal. `flushed_at` is set by whoever records the event, once."""

    __tablename__ = "refusal_windows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_address: Mapped[str] = mapped_column(String(64))  # "" when unknown
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    refusals: Mapped[int] = mapped_column(Integer, default=0)
    flushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("source_address", "window_start", name="uq_refusal_window"),)
