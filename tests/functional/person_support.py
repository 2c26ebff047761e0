"""Test helpers for the person's page: staff, a person an administrator created, forms."""

from __future__ import annotations

import html

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from idgov.audit.context import Actor, acting, current_audit_context
from idgov.db import transaction
from idgov.identity.models import Identity, Role
from idgov.wiring import Services
from tests.functional.people import csrf_of, fast_hashing, login, person


def staff(services: Services, *, with_jdoe: bool = True) -> dict[str, str]:
    """Two administrators (ada, bob), a security officer (sam), an auditor (eve), all verified
    by one another, and (unless told otherwise) jdoe, whom ada registered (pending
    verification)."""
    fast_hashing(services)
    people = {
        "ada": person(services, "ada", roles=(Role.ADMIN,), name="Ada Admin"),
        "bob": person(services, "bob", roles=(Role.ADMIN,), name="Bob Second"),
        "sam": person(services, "sam", roles=(Role.SECURITY_OFFICER,), name="Sam Secure"),
        "eve": person(services, "eve", roles=(Role.AUDITOR,), name="Eve Analyst"),
    }
    with transaction(services.sessions) as session:
        ada, bob = (
            session.get_one(Identity, people["ada"]),
            session.get_one(Identity, people["bob"]),
        )
        services.identities.record_verification(session, ada, bob, "employee-badge")
        for name in ("bob", "sam", "eve"):
            found = session.get_one(Identity, people[name])
            services.identities.record_verification(session, found, ada, "employee-badge")
    if with_jdoe:
        people["jdoe"] = created_by(services, people["ada"], "jdoe", "John Doe")
    return people


def created_by(services: Services, admin_id: str, username: str, name: str) -> str:
    """A person registered with `admin_id` as the acting administrator (so, their creator)."""
    with services.sessions() as session:
        admin_name = session.get_one(Identity, admin_id).printed_name
    token = current_audit_context.set(acting(Actor("identity", admin_id, admin_name)))
    try:
        return person(services, username, name=name)
    finally:
        current_audit_context.reset(token)


def signed(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, username).status_code in (302, 303)
    return client


def act(client: FlaskClient, person_id: str, action: str, **form: str | list[str]) -> TestResponse:
    """POST `form` to /people/<id>/<action> with the CSRF token of the person's page."""
    token = csrf_of(client.get(f"/people/{person_id}").get_data(as_text=True))
    return client.post(f"/people/{person_id}/{action}", data={"csrf_token": token, **form})


def text_of(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def status_of(services: Services, identity_id: str) -> str:
    with services.sessions() as session:
        return session.get_one(Identity, identity_id).status


def handover_mode(services: Services) -> None:
    """Resets hand the set-password link to a second person instead of e-mailing it."""
    with transaction(services.sessions) as session:
        services.policies.change(
            session, "password", {"reset_delivery": "handover"}, reason="t", changed_by="test"
        )
