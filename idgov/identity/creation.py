"""The rules every new identity follows, created by hand or in bulk by a directory sync: its
checked fields, its first state (IDV-1: pending verification) and its audit record."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from idgov.errors import InvalidRequest
from idgov.identity.models import Identity, IdentityStatus
from idgov.identity.usernames import normalize_username
from idgov.text import unprintable

MAX_NAME = 200
MAX_EMAIL = 254


@dataclass(frozen=True)
class NewIdentity:
    username: str
    printed_name: str
    email: str
    manager_id: str | None = None
    roles: tuple[str, ...] = ()
    provider: str = "local"
    subject: str | None = None


def validated_person(username: object, printed_name: object, email: object) -> tuple[str, str, str]:
    """The normalized username, printed name and e-mail of a new identity, or InvalidRequest
    naming the field (one rule for people created by hand and by a directory sync)."""
    return (
        normalize_username(username),
        required_text(printed_name, "printed_name", MAX_NAME),
        _email(email),
    )


def checked_person(field: str, value: object) -> str:
    """A changed printed name or e-mail (a directory sync's update), by the creation rules."""
    return _email(value) if field == "email" else required_text(value, field, MAX_NAME)


def created_values(identity: Identity, roles: list[str]) -> dict[str, object]:
    """The audit record of a new identity (identity:identity:created)."""
    return {
        "username": identity.username,
        "printed_name": identity.printed_name,
        "email": identity.email,
        "manager_id": identity.manager_id,
        "roles": roles,
        "provider": identity.provider,
        "status": identity.status,
    }


def required_text(value: object, field: str, limit: int) -> str:
    """Trimmed printable text (idgov/text.py: a printed name is part of every manifestation,
    11.50(a)), or InvalidRequest naming the field."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"{field} is required", field=field)
    if len(value) > limit:
        raise InvalidRequest(f"{field} is longer than {limit} characters", field=field)
    problem = unprintable(value.strip())
    if problem is not None:
        raise InvalidRequest(f"{field} {problem}", field=field)
    return value.strip()


def _email(value: object) -> str:
    email = required_text(value, "email", MAX_EMAIL)
    local, _, domain = email.rpartition("@")
    if not local or "." not in domain or " " in email:
        raise InvalidRequest("email is not an e-mail address", field="email")
    return email


def identity_values(
    username: str,
    printed_name: str,
    email: str,
    provider: str,
    manager_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    """Every column of a new identity (of validated_person's values): a fresh id, no failed
    attempts, and pending verification: someone else verifies them first (IDV-1)."""
    return {
        "id": str(uuid.uuid4()),
        "username": username,
        "printed_name": printed_name,
        "email": email,
        "manager_id": manager_id,
        "status": IdentityStatus.PENDING_VERIFICATION,
        "provider": provider,
        "failed_attempts": 0,
        "attempts_while_locked": 0,
        "locked_at": None,
        "last_login_at": None,
        "created_at": now,
        "status_changed_at": now,
    }
