"""Signing requests: what a host asked to have signed, and how the ceremony ended."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idgov.db import Base, UTCDateTime


class RequestStatus(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    DECLINED = "declined"
    EXPIRED = "expired"
    FAILED = "failed"


class SigningRequest(Base):
    """One ceremony (DESIGN.md, "The signing ceremony"). Used once: it leaves `pending` exactly
    once, in the transaction that issues its signatures or records why it ended (REC-1: rows
    are kept)."""

    __tablename__ = "signing_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("host_clients.client_id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=RequestStatus.PENDING)
    failure: Mapped[str | None] = mapped_column(String(200))  # why it failed, for the host
    meaning: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    records: Mapped[str] = mapped_column(Text)  # JSON list of records, as the host sent them
    batched: Mapped[bool] = mapped_column(Boolean)  # sent as `records` (a batch)
    signer: Mapped[str | None] = mapped_column(String(256))  # the username the host expects
    return_url: Mapped[str] = mapped_column(Text)
    state: Mapped[str | None] = mapped_column(Text)  # opaque to idgov, echoed to the host
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    identity_id: Mapped[str | None] = mapped_column(ForeignKey("identities.id"))  # who signed
    answer: Mapped[str | None] = mapped_column(Text)  # JSON: the 201 body of the signing
