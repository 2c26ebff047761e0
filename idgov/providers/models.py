"""Local credentials: the current password hash and the history of retired ones (PWD-1, PWD-2)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idgov.db import Base, UTCDateTime


class LocalCredential(Base):
    __tablename__ = "local_credentials"

    identity_id: Mapped[str] = mapped_column(ForeignKey("identities.id"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id PHC string
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # An administrator's reset issues a temporary password: it must be changed at next login
    # and can never be used to sign (CMP-2, 11.200(a)(2)).
    temporary: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warned_days: Mapped[int | None] = mapped_column(Integer)  # last aging warning sent


class PasswordHistoryEntry(Base):
    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity_id: Mapped[str] = mapped_column(ForeignKey("identities.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)
