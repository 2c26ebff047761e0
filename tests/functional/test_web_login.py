"""Login, logout, CSRF and access refusals for people through the Flask app (ACC-1, ACC-2)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.identity.models import Identity, IdentityStatus, Role
from idgov.web.auth import roles_required
from idgov.wiring import Services
from tests.functional.people import (
    PASSWORD,
    csrf_of,
    events,
    fast_hashing,
    login,
    page_csrf,
    person,
    problem,
)


@pytest.fixture(autouse=True)
def _cheap_hashes(services: Services) -> None:
    fast_hashing(services)


GENERIC = "the username or password is not right"


def test_login_page_has_the_form_fields_and_csrf_input(client: FlaskClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for field in ('name="username"', 'name="password"', 'type="password"', 'name="next"'):
        assert field in page
    assert len(csrf_of(page)) >= 32
    assert "<script" not in page
    assert 'href="/static/idgov.css"' in page
    with client.get("/static/idgov.css") as stylesheet:
        assert stylesheet.status_code == 200


@pytest.mark.req("ACC-1")
def test_good_password_sets_the_cookie_and_reaches_home(
    client: FlaskClient, services: Services
) -> None:
    person(services, "jdoe", name="John Doe")
    response = login(client, "jdoe")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "idgov_session=" in c)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # the test base_url is http
    home = client.get("/")
    assert home.status_code == 200
    assert home.headers["Cache-Control"] == "no-store"
    page = home.get_data(as_text=True)
    assert "John Doe" in page
    assert "pending verification" in page
    assert "has not been verified yet" in page
    assert "signature certification yet" in page
    started = events(services, "session:web:started")[0]
    assert (started.actor_type, started.actor_name) == ("identity", "John Doe")


@pytest.mark.req("ACC-1")
def test_wrong_password_and_unknown_username_look_the_same(
    client: FlaskClient, services: Services
) -> None:
    person(services, "jdoe")
    wrong = login(client, "jdoe", "Not-The-Password-99")
    unknown = login(client, "nobody", "Not-The-Password-99")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert GENERIC in response.get_data(as_text=True)
        assert not any("idgov_session=" in c for c in response.headers.getlist("Set-Cookie"))
    assert client.get("/").status_code == 302


@pytest.mark.req("ACC-3")
def test_locked_identity_sees_the_locked_message(client: FlaskClient, services: Services) -> None:
    person(services, "jdoe")
    elsewhere = client.application.test_client()
    login(elsewhere, "jdoe")
    assert elsewhere.get("/").status_code == 200
    statuses = [login(client, "jdoe", "Not-The-Password-99").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 423]
    assert elsewhere.get("/").status_code == 302  # ACC-3: the lock ended the open session
    response = login(client, "jdoe")  # the right password no longer helps
    assert response.status_code == 423
    assert "locked" in response.get_data(as_text=True)


def test_next_is_followed_only_within_the_site(client: FlaskClient, services: Services) -> None:
    person(services, "jdoe")
    assert login(client, "jdoe", next="/account/certification").headers["Location"] == (
        "/account/certification"
    )
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "/logout"):
        client.post("/logout", data={"csrf_token": page_csrf(client, "/")})
        assert login(client, "jdoe", next=target).headers["Location"] == "/"


@pytest.mark.parametrize("token", [None, "", "forged-token", "é" * 43])
def test_login_form_without_its_csrf_token_is_refused(
    client: FlaskClient, services: Services, token: str | None
) -> None:
    person(services, "jdoe")
    client.get("/login")
    form = {"username": "jdoe", "password": PASSWORD}
    if token is not None:
        form["csrf_token"] = token
    response = client.post("/login", data=form)
    assert response.status_code == 403
    assert "expired" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert events(services, "auth:login:succeeded") == []


def test_forms_of_a_session_need_its_csrf_token(client: FlaskClient, services: Services) -> None:
    person(services, "jdoe")
    login(client, "jdoe")
    for form in ({}, {"csrf_token": "forged"}):
        response = client.post("/logout", data=form)
        assert response.status_code == 403
        assert response.mimetype == "text/html"
    assert client.get("/").status_code == 200  # still signed in
    other = client.application.test_client()
    login(other, "jdoe")
    response = client.post("/logout", data={"csrf_token": page_csrf(other, "/")})
    assert response.status_code == 403  # another session's token does not fit this one


@pytest.mark.req("ACC-3")
def test_idle_browser_session_sends_the_person_back_to_login(
    client: FlaskClient, services: Services, clock: FrozenClock
) -> None:
    person(services, "jdoe")
    login(client, "jdoe")
    clock.advance(timedelta(minutes=14))
    assert client.get("/").status_code == 200
    clock.advance(timedelta(minutes=15))
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/"


@pytest.mark.req("ACC-3")
def test_deactivation_signs_the_person_out(client: FlaskClient, services: Services) -> None:
    jdoe = person(services, "jdoe")
    login(client, "jdoe")
    with transaction(services.sessions) as session:
        identity = session.get(Identity, jdoe)
        services.identities.transition(session, identity, IdentityStatus.DEACTIVATED, "left")
    assert client.get("/").status_code == 302
    problem(client.get("/api/v1/me"), 401, "unauthenticated")


def test_logout_ends_the_session(client: FlaskClient, services: Services) -> None:
    person(services, "jdoe")
    login(client, "jdoe")
    token = client.get_cookie("idgov_session")
    assert token is not None
    response = client.post("/logout", data={"csrf_token": page_csrf(client, "/")})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert client.get_cookie("idgov_session") is None
    assert "You are signed out." in client.get("/login").get_data(as_text=True)
    client.set_cookie("idgov_session", token.value)  # a replayed cookie is dead
    assert client.get("/").status_code == 302
    assert len(events(services, "session:web:ended")) == 1


@pytest.mark.req("ACC-1")
@pytest.mark.parametrize("path", ["/", "/account/password", "/account/certification"])
def test_anonymous_pages_redirect_to_login(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert client.post(path).status_code in (302, 405)


@pytest.mark.req("ACC-1")
def test_anonymous_api_calls_get_a_401_problem(client: FlaskClient) -> None:
    problem(client.get("/api/v1/me"), 401, "unauthenticated")
    problem(client.delete("/api/v1/session"), 401, "unauthenticated")
    client.set_cookie("idgov_session", "not-a-session")
    problem(client.get("/api/v1/me"), 401, "unauthenticated")


@pytest.mark.req("ACC-2")
def test_missing_role_is_refused_and_audited(app: Flask, services: Services) -> None:
    def admin_only() -> str:
        return "admin area"

    app.add_url_rule("/admin-area", "admin_area", roles_required(Role.ADMIN)(admin_only))
    app.add_url_rule("/api/v1/admin-area", "api_admin_area", roles_required("admin")(admin_only))
    jdoe = person(services, "jdoe", roles=(Role.REVIEWER,))
    person(services, "boss", roles=(Role.ADMIN,))
    client = app.test_client()
    assert client.get("/admin-area").status_code == 302  # anonymous: sign in first
    login(client, "jdoe")
    page = client.get("/admin-area")
    assert page.status_code == 403
    assert "admin" in page.get_data(as_text=True)
    body = problem(client.get("/api/v1/admin-area?x=1"), 403, "forbidden")
    assert body["required_roles"] == ["admin"]
    refused = events(services, "access:admin_area:refused")
    assert len(refused) == 1
    assert (refused[0].actor_type, refused[0].actor_id) == ("identity", jdoe)
    assert json.loads(refused[0].new_values) == {
        "operation": "admin_area",
        "method": "GET",
        "path": "/admin-area",
        "required_roles": ["admin"],
        "held_roles": ["reviewer"],
    }
    assert len(events(services, "access:api_admin_area:refused")) == 1
    boss = app.test_client()
    login(boss, "boss")
    assert boss.get("/admin-area").get_data(as_text=True) == "admin area"


def test_unknown_role_names_fail_early() -> None:
    with pytest.raises(ValueError, match="wizard"):
        roles_required("wizard")


def test_cookie_is_secure_when_served_over_https(services: Services) -> None:
    from idgov.app import create_app
    from idgov.config import ServerSettings
    from idgov.wiring import build_services

    secure = services.settings.model_copy(
        update={
            "server": ServerSettings(
                base_url="https://idgov.example", secret_key=services.settings.server.secret_key
            )
        }
    )
    built = build_services(secure, services.clock)
    try:
        client = create_app(services=built).test_client()
        person(built, "jdoe")
        https = "https://localhost"
        token = csrf_of(client.get("/login", base_url=https).get_data(as_text=True))
        form = {"csrf_token": token, "username": "jdoe", "password": PASSWORD}
        response = client.post("/login", data=form, base_url=https)
        assert response.status_code == 302
        cookie = next(c for c in response.headers.getlist("Set-Cookie") if "idgov_session=" in c)
        assert "Secure" in cookie
        assert "HttpOnly" in cookie
    finally:
        built.engine.dispose()


def test_unreachable_database_refuses_the_session_cookie() -> None:
    from idgov.app import create_app
    from idgov.config import DatabaseSettings, LoggingSettings, ServerSettings, Settings

    settings = Settings(
        server=ServerSettings(secret_key="test-secret-key-" + "x" * 32),
        database=DatabaseSettings(
            url="postgresql://postgres@127.0.0.1:1/idgov", connect_timeout_seconds=1
        ),
        logging=LoggingSettings(level="WARNING"),
    )
    app = create_app(settings=settings)
    try:
        client = app.test_client()
        client.set_cookie("idgov_session", "t" * 43)
        problem(client.get("/api/v1/me"), 503, "service-unavailable")
        page = client.get("/")
        assert page.status_code == 503
        assert "database unreachable" in page.get_data(as_text=True)
    finally:
        app.extensions["idgov"].engine.dispose()
