"""Entitlement tables: what can be held (a group, a role) and who holds it; never deleted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from idgov.db import Base, UTCDateTime

DIRECTORY_GROUP = "directory-group"
SYSTEM_ROLE = "system-role"
OIDC_GROUP = "oidc-group"  # a group an OpenID provider lists in its ID tokens


class Entitlement(Base):
    """A directory group or a host-system role. `source` is the directory or system name;
    `key` is stable there (a group's immutable key, a role's name)."""

    __tablename__ = "entitlements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source_type: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("identities.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # gone from the source

    __table_args__ = (
        UniqueConstraint("source_type", "source", "key", name="uq_entitlement_source_key"),
    )


class EntitlementGrant(Base):
    """One account holding one entitlement. `account` is how the source names the holder (a
    member DN, a host username); `identity_id` is empty for an orphan (no identity matches).
    `via` names the nested groups a membership comes through (None: held directly). A grant
    that ends gets `removed_at`; the row stays (REC-1)."""

    __tablename__ = "entitlement_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entitlement_id: Mapped[str] = mapped_column(ForeignKey("entitlements.id"), index=True)
    identity_id: Mapped[str | None] = mapped_column(ForeignKey("identities.id"), index=True)
    account: Mapped[str] = mapped_column(String(1024))
    via: Mapped[str | None] = mapped_column(String(1024))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_by: Mapped[str | None] = mapped_column(String(64))  # "source" or a remediation id

    __table_args__ = (
        # One current grant per account and entitlement; ended grants stay as history.
        Index(
            "uq_entitlement_grants_current",
            "entitlement_id",
            "account",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )
