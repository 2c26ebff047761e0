"""Host clients and their access tokens; secrets and tokens are stored only as hashes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idgov.db import Base, UTCDateTime

# Rows idgov itself signs for (migration 0007): review sign-offs. No secret, disabled.
REVIEWS_CLIENT_ID = "idgov-reviews"
INTERNAL_CLIENT_IDS = frozenset({REVIEWS_CLIENT_ID})


class HostClient(Base):
    __tablename__ = "host_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(128))  # SHA-256 hex of a 256-bit secret
    scopes: Mapped[str] = mapped_column(String(200))  # space-separated (RFC 6749 section 3.3)
    allowed_cidrs: Mapped[str] = mapped_column(Text, default="")  # comma-separated; "" = any
    # Where a signing ceremony may send the person back: one URL a line (return_urls.py).
    return_urls: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    secret_rotated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HostAccessToken(Base):
    """A bearer token (RFC 6750) issued by client credentials; short-lived."""

    __tablename__ = "host_access_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("host_clients.client_id"), index=True)
    scopes: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
