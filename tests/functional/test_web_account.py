"""The person's own pages: forced password change, policy problems, certification (TRN-1)."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from idgov.clock import FrozenClock
from idgov.identity.certification import statement_for
from idgov.identity.models import Identity
from idgov.wiring import Services
from tests.functional.people import (
    NEW_PASSWORD,
    PASSWORD,
    csrf_of,
    events,
    fast_hashing,
    login,
    page_csrf,
    person,
    temporary_password,
)


@pytest.fixture(autouse=True)
def _cheap_hashes(services: Services) -> None:
    fast_hashing(services)


def test_temporary_password_forces_the_password_change(
    client: FlaskClient, services: Services
) -> None:
    jdoe = person(services, "jdoe")
    temporary = temporary_password(services, jdoe)
    response = login(client, "jdoe", temporary)
    assert response.headers["Location"] == "/account/password"
    for path in ("/", "/account/certification", "/?next=1"):
        assert client.get(path).headers["Location"] == "/account/password"
    assert client.get("/api/v1/me").get_json()["must_change_password"] is True
    form = client.get("/account/password").get_data(as_text=True)
    assert "temporary or has expired" in form
    old_cookie = client.get_cookie("idgov_session")
    assert old_cookie is not None
    changed = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_of(form),
            "current_password": temporary,
            "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    assert changed.headers["Location"] == "/"
    new_cookie = client.get_cookie("idgov_session")
    assert new_cookie is not None
    assert new_cookie.value != old_cookie.value  # a fresh session after the change
    assert client.get("/").status_code == 200
    with services.sessions() as session:
        assert services.web_sessions.live_count(session, jdoe) == 1


def test_password_page_shows_the_policy_problems(client: FlaskClient, services: Services) -> None:
    person(services, "jdoe")
    login(client, "jdoe")
    token = page_csrf(client)
    mismatch = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD + "x",
        },
    )
    assert mismatch.status_code == 422
    assert "repetition" in mismatch.get_data(as_text=True)
    weak = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "short",
            "repeat_password": "short",
        },
    )
    assert weak.status_code in (409, 422)
    assert 'class="error"' in weak.get_data(as_text=True)
    wrong = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": "Not-The-Password-99",
            "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 401
    assert "current password is not correct" in wrong.get_data(as_text=True)
    assert client.get("/").status_code == 200


@pytest.mark.req("TRN-1")
def test_certification_page_records_the_certification(
    client: FlaskClient, services: Services, clock: FrozenClock
) -> None:
    jdoe = person(services, "jdoe", name="John Doe")
    login(client, "jdoe")
    page = client.get("/account/certification").get_data(as_text=True)
    statement = statement_for("John Doe")
    assert "I, John Doe, certify" in page
    assert 'name="acknowledge"' in page
    token = csrf_of(page)
    unticked = client.post(
        "/account/certification", data={"csrf_token": token, "statement": statement}
    )
    assert unticked.status_code == 422
    response = client.post(
        "/account/certification",
        data={"csrf_token": token, "statement": statement, "acknowledge": "yes"},
    )
    assert response.status_code == 302
    with services.sessions() as session:
        identity = session.get(Identity, jdoe)
        assert services.identities.is_certified(session, identity)
    (event,) = events(services, "identity:certification:recorded")
    assert (event.actor_type, event.actor_id) == ("identity", jdoe)
    assert json.loads(event.new_values) == {"statement": statement, "method": "web"}
    assert event.occurred_at == clock.now()
    home = client.get("/").get_data(as_text=True)
    assert "signature certification is recorded" in home
    assert "signature certification yet" not in home


@pytest.mark.req("LOCK-1")
def test_wrong_current_passwords_on_the_change_form_count_toward_the_lock(
    client: FlaskClient, services: Services
) -> None:
    jdoe = person(services, "jdoe")
    login(client, "jdoe")
    token = page_csrf(client)
    statuses = [
        client.post(
            "/account/password",
            data={
                "csrf_token": token,
                "current_password": f"Guess-Number-{n}-xyz",
                "new_password": NEW_PASSWORD,
                "repeat_password": NEW_PASSWORD,
            },
        ).status_code
        for n in range(5)
    ]
    assert statuses[:4] == [401] * 4
    with services.sessions() as session:
        locked = session.get(Identity, jdoe)
        assert locked is not None
        assert locked.status == "locked"
    assert client.get("/").status_code == 302  # the lock ended the session (ACC-3)
