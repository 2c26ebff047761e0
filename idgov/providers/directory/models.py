"""Directory mirror tables: accounts keyed on their immutable key, groups, and sync runs (UNQ-1)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idgov.db import Base, UTCDateTime

LINKED = "linked"  # mirrored into an identity
REFUSED = "refused"  # its username belongs to another identity: never bound (UNQ-1)
GONE = "gone"  # no longer in the directory; the identity is deactivated, never deleted


class DirectoryAccount(Base):
    """One directory entry as last read, keyed on (provider, immutable key): entryUUID on
    OpenLDAP, objectGUID on Active Directory. A username can be recycled by the directory;
    the key cannot, so the key decides who an entry is."""

    __tablename__ = "directory_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    identity_id: Mapped[str | None] = mapped_column(ForeignKey("identities.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    dn: Mapped[str] = mapped_column(String(1024))
    dn_norm: Mapped[str] = mapped_column(String(1024), index=True)
    username: Mapped[str] = mapped_column(String(256))
    manager_dn: Mapped[str | None] = mapped_column(String(1024))
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    must_change: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    modify_stamp: Mapped[str | None] = mapped_column(String(64))
    warned_days: Mapped[int | None] = mapped_column(Integer)  # last aging warning sent (PWD-3)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("provider", "key", name="uq_directory_account_key"),)


class DirectoryGroupEntry(Base):
    """A directory group as last read: its direct members (normalized DNs, JSON list) are
    kept so an incremental sync can recompute nested memberships without re-reading all."""

    __tablename__ = "directory_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    entitlement_id: Mapped[str] = mapped_column(ForeignKey("entitlements.id"))
    dn: Mapped[str] = mapped_column(String(1024))
    dn_norm: Mapped[str] = mapped_column(String(1024))
    members: Mapped[str] = mapped_column(Text)
    modify_stamp: Mapped[str | None] = mapped_column(String(64))
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("provider", "key", name="uq_directory_group_key"),)


class DirectorySyncRun(Base):
    """One sync, successful or not: what it read, what it changed, what it refused."""

    __tablename__ = "directory_sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # full or incremental
    status: Mapped[str] = mapped_column(String(16))  # succeeded or failed
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    server: Mapped[str | None] = mapped_column(String(300))
    high_water: Mapped[str | None] = mapped_column(String(64))  # next incremental starts here
    counts: Mapped[str] = mapped_column(Text)  # JSON object
    problems: Mapped[str] = mapped_column(Text)  # JSON list, capped
    error: Mapped[str | None] = mapped_column(Text)
