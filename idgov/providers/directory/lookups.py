"""Bulk lookups for a directory sync: existing accounts, identities and identifier owners."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.db import chunked
from idgov.errors import InvalidRequest
from idgov.identity.ledger import SUBJECT, USERNAME
from idgov.identity.models import IdentifierBinding, Identity
from idgov.identity.usernames import normalize_username
from idgov.providers.directory.models import DirectoryAccount

# Account columns mirrored from the directory and compared on every sync.
MIRRORED = (
    "dn",
    "username",
    "manager_dn",
    "password_changed_at",
    "password_expires_at",
    "must_change",
    "locked",
    "disabled",
)


def chunks(values: Iterable[Any]) -> Iterable[Sequence[Any]]:
    """The distinct values, None left out, in IN-list batches."""
    yield from chunked(list(dict.fromkeys(v for v in values if v is not None)))


def accounts(session: Session, provider: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    columns = [DirectoryAccount.id, DirectoryAccount.key, DirectoryAccount.identity_id]
    columns += [DirectoryAccount.state] + [getattr(DirectoryAccount, n) for n in MIRRORED]
    found: dict[str, dict[str, Any]] = {}
    for chunk in chunks(keys):
        rows = session.execute(
            select(*columns).where(
                DirectoryAccount.provider == provider, DirectoryAccount.key.in_(chunk)
            )
        )
        found.update({row.key: dict(row._mapping) for row in rows})
    return found


def subject_owners(session: Session, provider: str, keys: Iterable[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in chunks(keys):
        rows = session.execute(
            select(IdentifierBinding.value, IdentifierBinding.identity_id).where(
                IdentifierBinding.kind == SUBJECT,
                IdentifierBinding.namespace == provider,
                IdentifierBinding.value.in_(chunk),
            )
        )
        found.update({row.value: row.identity_id for row in rows})
    return found


def identities(session: Session, ids: Iterable[str | None]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for chunk in chunks(ids):
        rows = session.execute(
            select(Identity.id, Identity.username, Identity.printed_name, Identity.email).where(
                Identity.id.in_(chunk)
            )
        )
        found.update({row.id: dict(row._mapping) for row in rows})
    return found


def username_owners(session: Session, usernames: Iterable[str]) -> dict[str, str]:
    names = []
    for raw in usernames:
        try:
            names.append(normalize_username(raw))
        except InvalidRequest:
            continue
    found: dict[str, str] = {}
    for chunk in chunks(names):
        rows = session.execute(
            select(IdentifierBinding.value, IdentifierBinding.identity_id).where(
                IdentifierBinding.kind == USERNAME,
                IdentifierBinding.namespace == "",
                IdentifierBinding.value.in_(chunk),
            )
        )
        found.update({row.value: row.identity_id for row in rows})
    return found
