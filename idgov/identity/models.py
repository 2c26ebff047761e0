"""Identity tables: people, the identifier ledger, verifications, certifications, roles."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idgov.db import Base, UTCDateTime


class IdentityStatus(StrEnum):
    PENDING_VERIFICATION = "pending_verification"
    ACTIVE = "active"
    LOCKED = "locked"
    SUSPENDED = "suspended"
    DEACTIVATED = "deactivated"


class Role(StrEnum):
    ADMIN = "admin"
    SECURITY_OFFICER = "security_officer"
    REVIEWER = "reviewer"
    AUDITOR = "auditor"


class Identity(Base):
    """A person. The id is stable forever; deactivation keeps the row (REC-1)."""

    __tablename__ = "identities"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Normalized (see the ledger); in byte order on every database ("C" on PostgreSQL, SQLite's
    # default BINARY), so lists by username, their keyset cursors and prefix ranges agree.
    username: Mapped[str] = mapped_column(
        String(64).with_variant(String(64, collation="C"), "postgresql"), unique=True
    )
    printed_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    manager_id: Mapped[str | None] = mapped_column(ForeignKey("identities.id"))
    status: Mapped[str] = mapped_column(String(24), default=IdentityStatus.PENDING_VERIFICATION)
    provider: Mapped[str] = mapped_column(String(64), default="local")
    # Consecutive failed authentications (login and signing together, LOCK-1). Updated only by
    # single atomic UPDATE statements, never read-modify-write (DESIGN: rules of the house).
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    attempts_while_locked: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # The console's people list (identity/people_query.py): each filter walks an index in
    # username order. Migration 0013_people_list also adds, per database, the index that makes
    # a prefix of a printed name a range read (NAME_PREFIX_INDEXES there); it lives outside
    # this metadata because Alembic cannot compare collated expression indexes.
    __table_args__ = (
        Index("ix_identities_status_username", "status", "username"),
        Index("ix_identities_provider_username", "provider", "username"),
    )


class IdentityRole(Base):
    __tablename__ = "identity_roles"

    identity_id: Mapped[str] = mapped_column(ForeignKey("identities.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)

    # Who holds a role (the people list's role filter), without a walk of every holding.
    __table_args__ = (Index("ix_identity_roles_role", "role", "identity_id"),)


class IdentifierBinding(Base):
    """The ledger: a username or provider subject belongs to one identity forever (UNQ-1).

    Append-only in the database (UPDATE and DELETE refused by triggers), so no code path,
    however wrong, can hand an identifier to somebody else.
    """

    __tablename__ = "identifier_bindings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "username" or "subject"
    namespace: Mapped[str] = mapped_column(String(300))  # "" for usernames; provider for subjects
    value: Mapped[str] = mapped_column(String(300))
    identity_id: Mapped[str] = mapped_column(ForeignKey("identities.id"))
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("kind", "namespace", "value", name="uq_identifier"),)


class IdentityVerification(Base):
    """Someone other than the person recorded verifying who they are (IDV-1, 11.100(b))."""

    __tablename__ = "identity_verifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity_id: Mapped[str] = mapped_column(ForeignKey("identities.id"), index=True)
    verified_by: Mapped[str] = mapped_column(ForeignKey("identities.id"))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    evidence_type: Mapped[str] = mapped_column(String(64))
    evidence_reference: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)


class SignatureCertification(Base):
    """The person's acknowledgement that their e-signature binds like a handwritten one
    (TRN-1, 11.100(c)); the statement text is kept as acknowledged."""

    __tablename__ = "signature_certifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity_id: Mapped[str] = mapped_column(ForeignKey("identities.id"), index=True)
    certified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    statement: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(32))  # "web" or "api"
    source_address: Mapped[str | None] = mapped_column(String(64))


class PasswordSetup(Base):
    """A single-use set-password link issued by a reset (CMP-2, 11.200(a)(3)): only the
    SHA-256 of its token is kept; the link itself reaches only the owner (by e-mail) or, in
    handover mode, a second person who retrieves it once."""

    __tablename__ = "password_setups"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    identity_id: Mapped[str] = mapped_column(ForeignKey("identities.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    delivery: Mapped[str] = mapped_column(String(16))  # "email" or "handover"
    issued_by: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handed_over_by: Mapped[str | None] = mapped_column(String(100))
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "used", "replaced" (a newer reset) or None while it can still be used.
    ended: Mapped[str | None] = mapped_column(String(16))


class ShadowLock(Base):
    """The lockout counter of a name that cannot sign in: a username nobody holds, or that of
    a suspended or deactivated identity (LOCK-3). It follows the rules of a real identity's
    counter (LOCK-1, LOCK-2) so that the answers never tell the two apart; keyed by the
    name's pseudonym (audit/pseudonyms.py), never the name itself."""

    __tablename__ = "shadow_locks"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
