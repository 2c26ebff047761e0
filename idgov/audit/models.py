"""Audit tables: the append-only event chain, its time spans, its head, signed checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idgov.db import Base, UTCDateTime

GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    """One audit event; UPDATE and DELETE are refused by database triggers (AUD-2)."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(100))
    actor_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(200))
    old_values: Mapped[str] = mapped_column(Text)  # canonical JSON text, exactly as hashed
    new_values: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    source_address: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    # Each filter's index ends in seq, so that a filtered page, newest first, is one backward
    # index range read from its cursor (audit/browse.py): fast at any depth of the trail.
    __table_args__ = (
        Index("ix_audit_events_occurred_at_seq", "occurred_at", "seq"),
        Index("ix_audit_events_action_seq", "action", "seq"),
        Index("ix_audit_events_target_seq", "target_type", "target_id", "seq"),
        Index("ix_audit_events_actor_seq", "actor_id", "seq"),
    )


class AuditTimeSpan(Base):
    """The seq and time range of one run of 1024 consecutive events, kept by a database
    trigger on every insert into audit_events (migration 0014_audit_time_spans).

    Times rise with seq only almost (an event's time is read before the head lock is
    taken), so a time window's seq range cannot be read off one index probe; the spans
    whose times meet the window bound it exactly (audit/browse.py). Rows only widen: the
    database refuses a DELETE or an UPDATE that narrows one (AUD-2), which could hide events
    from the console's time filter."""

    __tablename__ = "audit_time_spans"

    span: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_seq: Mapped[int] = mapped_column(BigInteger)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    earliest: Mapped[datetime] = mapped_column(UTCDateTime)
    latest: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditHead(Base):
    """The single row naming the chain head; its row lock serializes appends (no forks)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A signed statement of the chain's size and head hash at a moment (AUD-4)."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kid: Mapped[str] = mapped_column(String(64))
    token: Mapped[str] = mapped_column(Text)  # compact JWS over the checkpoint statement
