"""OpenID sign-ins in flight: what our callback must find to accept the provider's answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from idgov.db import Base, UTCDateTime


class OidcFlow(Base):
    """One authorization request (OIDC Core 1.0 3.1.2.1). Looked up by `state`, used once
    (`used_at`), only from the browser that started it (`browser_hash`, the SHA-256 of a
    cookie's random value), and only before `expires_at`. The nonce and PKCE verifier are
    single-use random values that protect nothing once the flow is used or expired."""

    __tablename__ = "oidc_flows"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(16))  # "login" or "sign"
    nonce: Mapped[str] = mapped_column(String(64))
    verifier: Mapped[str] = mapped_column(String(128))  # PKCE code_verifier (RFC 7636)
    browser_hash: Mapped[str] = mapped_column(String(64))
    next_url: Mapped[str | None] = mapped_column(String(2000))  # where a login goes after
    signing_request_id: Mapped[str | None] = mapped_column(ForeignKey("signing_requests.id"))
    identity_id: Mapped[str | None] = mapped_column(ForeignKey("identities.id"))  # who signs
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
