"""Token tables: TOTP tokens, their test results (append-only), and loss cases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idgov.db import Base, UTCDateTime


class OtpToken(Base):
    """A TOTP token (RFC 6238). The shared secret is encrypted at rest."""

    __tablename__ = "otp_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    identity_id: Mapped[str] = mapped_column(ForeignKey("identities.id"), index=True)
    label: Mapped[str] = mapped_column(String(64))
    serial: Mapped[str] = mapped_column(String(64))
    secret: Mapped[bytes] = mapped_column(LargeBinary)  # AES-GCM nonce + ciphertext
    # enrolling -> active -> suspended (failed tests) / disabled (loss) / replaced
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_step: Mapped[int | None] = mapped_column(Integer)  # last accepted time step: no replay
    test_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_tested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_tests: Mapped[int] = mapped_column(Integer, default=0)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_reason: Mapped[str | None] = mapped_column(String(200))


class TokenTest(Base):
    """TOK-1: every test of a token, at issue and periodically, with its result."""

    __tablename__ = "token_tests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_id: Mapped[str] = mapped_column(ForeignKey("otp_tokens.id"), index=True)
    tested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16))  # initial, periodic
    result: Mapped[str] = mapped_column(String(8))  # pass, fail
    drift_steps: Mapped[int | None] = mapped_column(Integer)


class LossCase(Base):
    """LOSS-1, LOSS-2: report -> deauthorization -> re-verification -> temporary ->
    permanent replacement, each step with its time and actor; never undone, only followed."""

    __tablename__ = "loss_cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    identity_id: Mapped[str] = mapped_column(ForeignKey("identities.id"), index=True)
    credential: Mapped[str] = mapped_column(String(16))  # token, card, password
    token_id: Mapped[str | None] = mapped_column(ForeignKey("otp_tokens.id"))
    kind: Mapped[str] = mapped_column(String(16))  # lost, stolen, missing, compromised
    description: Mapped[str | None] = mapped_column(Text)
    reported_by: Mapped[str] = mapped_column(ForeignKey("identities.id"))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    deauthorized_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verified_by: Mapped[str | None] = mapped_column(ForeignKey("identities.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verification_evidence: Mapped[str | None] = mapped_column(String(200))
    temporary_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    temporary_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    temporary_uses_left: Mapped[int | None] = mapped_column(Integer)
    temporary_secret_hash: Mapped[str | None] = mapped_column(String(64))
    replacement_token_id: Mapped[str | None] = mapped_column(ForeignKey("otp_tokens.id"))
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(24), index=True)
