"""Changing a host's scopes and allowed addresses in the console (/admin/hosts/<id>): with a
reason, audited, effective at once for live tokens; refusals named on the form (DEV-1, ACC-2,
AUD-1)."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idgov.audit.models import AuditEvent
from idgov.wiring import Services
from tests.functional.console_support import browser
from tests.functional.hosts import HOST_ADDRESS, OUTSIDE_ADDRESS, register, request_token
from tests.functional.people import fast_hashing, page_csrf


@pytest.fixture
def admin(app: Flask, services: Services) -> FlaskClient:
    fast_hashing(services)
    return browser(app, services, "ada", "admin")


def change(admin: FlaskClient, path: str, **form: str | list[str]) -> tuple[int, str]:
    data = {"csrf_token": page_csrf(admin, "/admin/hosts"), **form}
    answer = admin.post(path, data=data, follow_redirects=True)
    return answer.status_code, answer.get_data(as_text=True)


def token(client: FlaskClient, client_id: str, secret: str, address: str = HOST_ADDRESS) -> str:
    answer = request_token(client, client_id, secret, address=address)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return str(answer.get_json()["access_token"])


def refusal(services: Services, bearer: str, scope: str, source: str = HOST_ADDRESS) -> str | None:
    with services.sessions() as session:
        return services.clients.check_bearer(session, bearer, scope, source).refusal


def events(services: Services, action: str) -> list[AuditEvent]:
    with services.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.mark.req("ACC-2")
def test_a_scope_taken_away_ends_the_live_tokens_at_once(
    admin: FlaskClient, client: FlaskClient, services: Services
) -> None:
    client_id, secret = register(services, scopes=("signatures", "entitlements"))
    live = token(client, client_id, secret)
    assert refusal(services, live, "entitlements") is None

    status, page = change(
        admin, f"/admin/hosts/{client_id}/scopes", scopes=["signatures"], reason="CR-7: no reviews"
    )
    assert status == 200, page
    assert "now has the scopes signatures; 1 live token(s) revoked" in page
    assert refusal(services, live, "signatures") == "invalid_token"  # revoked, not just narrowed
    fresh = token(client, client_id, secret)
    assert refusal(services, fresh, "signatures") is None
    assert refusal(services, fresh, "entitlements") == "insufficient_scope"
    [event] = events(services, "client:scopes:changed")
    assert event.reason == "CR-7: no reviews"
    assert json.loads(event.old_values) == {"scopes": ["entitlements", "signatures"]}
    assert json.loads(event.new_values) == {"scopes": ["signatures"], "revoked_tokens": 1}


@pytest.mark.req("DEV-1")
def test_a_scope_added_keeps_the_live_tokens(
    admin: FlaskClient, client: FlaskClient, services: Services
) -> None:
    client_id, secret = register(services)
    live = token(client, client_id, secret)
    status, page = change(
        admin,
        f"/admin/hosts/{client_id}/scopes",
        scopes=["signatures", "entitlements"],
        reason="reviews go live",
    )
    assert status == 200, page
    assert refusal(services, live, "signatures") is None
    assert refusal(services, live, "entitlements") == "insufficient_scope"  # issued before
    assert refusal(services, token(client, client_id, secret), "entitlements") is None


@pytest.mark.req("DEV-1")
def test_allowed_addresses_apply_to_live_tokens_at_once(
    admin: FlaskClient, client: FlaskClient, services: Services
) -> None:
    client_id, secret = register(services)
    live = token(client, client_id, secret)
    status, page = change(
        admin, f"/admin/hosts/{client_id}/networks", allowed_cidrs="192.0.2.0/24\n", reason="LIMS"
    )
    assert status == 200, page
    assert "may now call from 192.0.2.0/24" in page
    assert refusal(services, live, "signatures") is None
    assert refusal(services, live, "signatures", OUTSIDE_ADDRESS) == "source_not_allowed"
    assert request_token(client, client_id, secret, address=OUTSIDE_ADDRESS).status_code != 200
    [event] = events(services, "client:networks:changed")
    assert (json.loads(event.old_values), json.loads(event.new_values)) == (
        {"allowed_cidrs": []},
        {"allowed_cidrs": ["192.0.2.0/24"]},
    )
    status, page = change(
        admin, f"/admin/hosts/{client_id}/networks", allowed_cidrs="", reason="any again"
    )
    assert "may now call from any address" in page
    assert refusal(services, live, "signatures", OUTSIDE_ADDRESS) is None


@pytest.mark.req("AUD-1")
@pytest.mark.parametrize(
    ("path", "form", "error_id"),
    [
        ("scopes", {"scopes": ["entitlements"]}, "scopes-reason-error"),
        ("scopes", {"reason": "r"}, "scopes-error"),
        ("scopes", {"scopes": ["signatures"], "reason": "r"}, "scopes-error"),  # unchanged
        ("scopes", {"scopes": ["root"], "reason": "r"}, "scopes-error"),
        (
            "networks",
            {"allowed_cidrs": "10.0.0.1/8", "reason": "r"},
            "networks-allowed_cidrs-error",
        ),
        ("networks", {"allowed_cidrs": "", "reason": "r"}, "networks-allowed_cidrs-error"),
        ("networks", {"allowed_cidrs": "192.0.2.0/24"}, "networks-reason-error"),
    ],
)
def test_a_refused_change_is_named_on_its_form_and_changes_nothing(
    admin: FlaskClient,
    client: FlaskClient,
    services: Services,
    path: str,
    form: dict[str, str | list[str]],
    error_id: str,
) -> None:
    client_id, secret = register(services)
    live = token(client, client_id, secret)
    status, page = change(admin, f"/admin/hosts/{client_id}/{path}", **form)
    assert status == 400, page
    assert f'id="{error_id}"' in page
    with services.sessions() as session:
        host = services.clients.find(session, client_id)
        assert (host.scopes, host.allowed_cidrs) == ("signatures", "")
    assert refusal(services, live, "signatures") is None
    assert events(services, "client:scopes:changed") == []
    assert events(services, "client:networks:changed") == []


@pytest.mark.req("ACC-2")
@pytest.mark.parametrize("role", ["auditor", "security_officer"])
def test_only_admins_change_a_hosts_access(app: Flask, services: Services, role: str) -> None:
    fast_hashing(services)
    client_id, _ = register(services)
    other = browser(app, services, f"not-admin-{role}", role)
    csrf = page_csrf(other)
    for path, form in [
        ("scopes", {"scopes": "entitlements", "reason": "r"}),
        ("networks", {"allowed_cidrs": "192.0.2.0/24", "reason": "r"}),
    ]:
        answer = other.post(f"/admin/hosts/{client_id}/{path}", data={"csrf_token": csrf, **form})
        assert answer.status_code == 403, path
    with services.sessions() as session:
        assert services.clients.find(session, client_id).scopes == "signatures"


def test_a_disabled_host_keeps_its_access_as_it_was(admin: FlaskClient, services: Services) -> None:
    client_id, _ = register(services)
    change(admin, f"/admin/hosts/{client_id}/disable", reason="retired")
    status, page = change(
        admin, f"/admin/hosts/{client_id}/scopes", scopes=["entitlements"], reason="r"
    )
    assert status == 409
    assert "is disabled" in page
