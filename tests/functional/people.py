"""Test helpers: people with passwords, cheap argon2 parameters, audit events, web forms."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from idgov.audit.models import AuditEvent
from idgov.db import transaction
from idgov.identity.creation import NewIdentity
from idgov.identity.models import Identity
from idgov.policies.documents import PasswordPolicy
from idgov.providers.models import LocalCredential
from idgov.wiring import Services

PASSWORD = "Lantern-Otter-Harbour-47"
NEW_PASSWORD = "Quarry-Violet-Meadow-83"
CSRF_FIELD = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')


def fast_hashing(services: Services) -> None:
    """argon2 at its cheapest, so that tests do not wait on memory-hard hashing."""
    with transaction(services.sessions) as session:
        services.policies.change(
            session,
            "password",
            {"argon2_time_cost": 1, "argon2_memory_kib": 8192, "argon2_parallelism": 1},
            reason="fast tests",
            changed_by="test",
        )


def person(
    services: Services,
    username: str,
    *,
    roles: tuple[str, ...] = (),
    password: str | None = PASSWORD,
    name: str | None = None,
) -> str:
    """A new identity (pending verification) with a password; returns its id."""
    with transaction(services.sessions) as session:
        identity = services.identities.create(
            session,
            NewIdentity(
                username=username,
                printed_name=name or username.title(),
                email=f"{username}@example.com",
                roles=roles,
            ),
        )
        if password is not None:
            services.passwords.set_initial(session, identity, password)
        return identity.id


def load(services: Services, identity_id: str) -> Identity:
    with services.sessions() as session:
        found = session.get(Identity, identity_id)
        assert found is not None
        return found


def actions(services: Services) -> list[str]:
    with services.sessions() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def events(services: Services, action: str) -> list[AuditEvent]:
    with services.sessions() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
            )
        )


def csrf_of(page: str) -> str:
    found = CSRF_FIELD.search(page)
    assert found, "no CSRF hidden input in the page"
    return found.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD, **extra: str) -> Any:
    token = csrf_of(client.get("/login").get_data(as_text=True))
    form = {"csrf_token": token, "username": username, "password": password, **extra}
    return client.post("/login", data=form)


def page_csrf(client: FlaskClient, path: str = "/account/password") -> str:
    return csrf_of(client.get(path).get_data(as_text=True))


def problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = json.loads(response.get_data(as_text=True))
    assert body["type"] == f"urn:idgov:problem:{slug}"
    return body


def temporary_password(services: Services, identity_id: str, hours: int = 72) -> str:
    """Gives the identity a temporary password, as `idgov init` gives the first administrator
    (no API hands one out: resets send a set-password link to the owner); returns it."""
    temporary = "Temporary-Kestrel-" + identity_id[:8]
    with transaction(services.sessions) as session:
        policy = services.policies.current(session, PasswordPolicy)
        credential = session.get(LocalCredential, identity_id)
        assert credential is not None
        credential.password_hash = services.passwords.hasher(policy).hash(temporary)
        credential.temporary = True
        credential.expires_at = services.clock.now() + timedelta(hours=hours)
    return temporary
