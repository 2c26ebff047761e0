"""Signatures (append-only), signing sessions, and host-declared signing sequences."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idgov.db import Base, UTCDateTime


class SigningSession(Base):
    """CMP-1: within one continuous session the first signing takes every component, later
    ones at least the password; the session ends after the idle window."""

    __tablename__ = "signing_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    identity_id: Mapped[str] = mapped_column(ForeignKey("identities.id"), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("host_clients.client_id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(String(64))


class Signature(Base):
    """One signature: its manifestation, the record it is bound to, and the JWS (LNK-1).
    Append-only in the database; never deleted (REC-1)."""

    __tablename__ = "signatures"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the JWS jti
    identity_id: Mapped[str] = mapped_column(ForeignKey("identities.id"), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("host_clients.client_id"))
    printed_name: Mapped[str] = mapped_column(String(200))
    username: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    meaning: Mapped[str] = mapped_column(String(64))
    statement: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    record_type: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(200))
    record_version: Mapped[str] = mapped_column(String(64))
    record_digest: Mapped[str] = mapped_column(String(71))  # "sha256:" + 64 hex
    record_title: Mapped[str | None] = mapped_column(String(500))
    signing_session_id: Mapped[str] = mapped_column(ForeignKey("signing_sessions.id"))
    session_seq: Mapped[int] = mapped_column(Integer)
    components: Mapped[str] = mapped_column(String(100))  # e.g. "username password otp"
    batch_id: Mapped[str | None] = mapped_column(String(36), index=True)
    batch_index: Mapped[int | None] = mapped_column(Integer)
    merkle_root: Mapped[str | None] = mapped_column(String(64))
    kid: Mapped[str] = mapped_column(String(64))
    token: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_signatures_record", "record_type", "record_id", "record_version"),)


class SigningSequence(Base):
    """SEQ-1: a host's declared order of meanings for one record type."""

    __tablename__ = "signing_sequences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("host_clients.client_id"))
    record_type: Mapped[str] = mapped_column(String(64))
    meanings: Mapped[str] = mapped_column(Text)  # JSON list of meaning codes, in order
    allow_same_signer: Mapped[bool] = mapped_column(Boolean, default=False)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("client_id", "record_type", name="uq_signing_sequence"),)
