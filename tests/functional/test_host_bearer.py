"""Host API calls with bearer tokens (RFC 6750): scopes, expiry, source binding, audit actor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask.wrappers import Response

from idgov.clients.grants import SourceNotAllowed
from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.identity.models import Role
from idgov.web.hosts import scope_required
from idgov.wiring import Services
from tests.functional.hosts import (
    HOST_ADDRESS,
    OUTSIDE_ADDRESS,
    add_host_routes,
    audit_events,
    bearer,
    register,
    token_for,
    values,
)
from tests.functional.people import PASSWORD, fast_hashing, person

SIGN = "/api/v1/test-only/host/signatures"
ENTITLEMENTS = "/api/v1/test-only/host/entitlements"
INVALID = 'Bearer realm="idgov", error="invalid_token"'


@pytest.fixture
def host(app: Flask) -> FlaskClient:
    return add_host_routes(app).test_client()


def call(
    host: FlaskClient,
    token: str | None,
    *,
    path: str = SIGN,
    address: str = HOST_ADDRESS,
    **headers: str,
) -> Response:
    if token is not None:
        headers.update(bearer(token))
    method = "POST" if path == SIGN else "GET"
    return host.open(path, method=method, headers=headers, environ_base={"REMOTE_ADDR": address})


def problem(response: Response, status: int, slug: str) -> dict[str, object]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, object] = response.get_json()
    assert body["type"] == f"urn:idgov:problem:{slug}"
    return body


@pytest.mark.req("AUD-1")
def test_a_host_call_acts_as_the_client(host: FlaskClient, services: Services) -> None:
    client_id, secret = register(services, "lims", ("signatures", "entitlements"))
    token = token_for(host, client_id, secret, scope="signatures")
    response = call(host, token)  # a POST with no cookie and no CSRF token: bearer only
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {
        "client_id": client_id,
        "scope": "signatures",
        "scopes": ["signatures"],
    }
    [event] = audit_events(services, "test:host:called")
    assert (event.actor_type, event.actor_id, event.actor_name) == ("client", client_id, "lims")
    assert event.source_address == HOST_ADDRESS
    # The next request of the same worker does not inherit the client as its actor.
    host.post("/oauth/token", data={"grant_type": "password"})
    assert audit_events(services, "client:token:refused")[-1].actor_type == "system"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic YTpi"}, {"Authorization": "Bearer"}, {"Authorization": "x"}],
    ids=["none", "basic", "empty-bearer", "garbage"],
)
def test_no_bearer_token_is_a_401_challenge(
    host: FlaskClient, services: Services, headers: dict[str, str]
) -> None:
    response = call(host, None, **headers)
    problem(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="idgov"'
    assert audit_events(services, "access:") == []


@pytest.mark.req("ACC-2")
def test_expired_token_is_refused_and_audited(
    host: FlaskClient, services: Services, clock: FrozenClock
) -> None:
    client_id, secret = register(services)
    token = token_for(host, client_id, secret)
    clock.advance(timedelta(seconds=299))
    assert call(host, token).status_code == 200
    clock.advance(timedelta(seconds=2))
    response = call(host, token)
    problem(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"] == INVALID
    [event] = audit_events(services, "access:")
    assert event.action == "access:signatures_route:refused"
    assert (event.actor_type, event.target_id, event.reason) == (
        "client",
        client_id,
        "expired token",
    )
    assert values(event)["path"] == SIGN


@pytest.mark.parametrize(
    "token",
    ["forged-token-value", "A" * 43, "x" * 129, "a.b.c~+/==", "ünïcode"],
    ids=["forged", "token-shaped", "too-long", "jwt-like", "non-ascii"],
)
def test_forged_token_is_refused(host: FlaskClient, services: Services, token: str) -> None:
    register(services)
    headers = {"Authorization": f"Bearer {token}".encode().decode("latin-1")}
    response = call(host, None, **headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="idgov"')
    if response.headers["WWW-Authenticate"] == INVALID:
        [event] = audit_events(services, "access:")
        assert (event.actor_type, event.target_id, event.reason) == (
            "system",
            "unknown",
            "unknown token",
        )


def test_revoked_token_is_refused(host: FlaskClient, services: Services) -> None:
    client_id, secret = register(services)
    token = token_for(host, client_id, secret)
    with transaction(services.sessions) as session:
        services.clients.disable(session, "lims", reason="retired")
    response = call(host, token)
    problem(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"] == INVALID
    assert audit_events(services, "access:")[0].reason == "revoked token"


@pytest.mark.req("ACC-2")
def test_missing_scope_is_403_and_audited(host: FlaskClient, services: Services) -> None:
    client_id, secret = register(services, "lims", ("signatures", "entitlements"))
    token = token_for(host, client_id, secret, scope="signatures")
    response = call(host, token, path=ENTITLEMENTS)
    body = problem(response, 403, "forbidden")
    assert body["required_scope"] == "entitlements"
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="idgov", error="insufficient_scope", scope="entitlements"'
    )
    [event] = audit_events(services, "access:")
    assert event.action == "access:entitlements_route:refused"
    assert (event.actor_type, event.actor_id) == ("client", client_id)
    assert values(event)["refusal"] == "insufficient_scope"
    assert values(event)["client_id"] == client_id


@pytest.mark.req("DEV-1")
def test_token_used_from_a_disallowed_address_is_403_and_audited(
    host: FlaskClient, services: Services
) -> None:
    client_id, secret = register(services, networks=("192.0.2.0/24",))
    token = token_for(host, client_id, secret)
    problem(call(host, token, address=OUTSIDE_ADDRESS), 403, "forbidden")
    [event] = audit_events(services, "access:")
    assert event.source_address == OUTSIDE_ADDRESS
    assert event.reason == "source address not allowed for this client (DEV-1)"
    assert call(host, token).status_code == 200


def test_a_person_session_cookie_still_needs_its_csrf_token(
    host: FlaskClient, services: Services
) -> None:
    fast_hashing(services)
    person(services, "ada", roles=(Role.ADMIN,))
    login = host.post("/api/v1/session", json={"username": "ada", "password": PASSWORD})
    assert login.status_code == 201
    client_id, secret = register(services)
    token = token_for(host, client_id, secret)
    problem(call(host, token), 403, "forbidden")  # the cookie came along: CSRF applies
    csrf = str(login.get_json()["csrf_token"])
    assert call(host, token, **{"X-CSRF-Token": csrf}).status_code == 200


def test_resolve_token(services: Services, clock: FrozenClock) -> None:
    client_id, _secret = register(services, networks=("192.0.2.0/24",))
    with transaction(services.sessions) as session:
        client = services.clients.find(session, client_id)
        token, expires_in = services.clients.issue_token(
            session, client, ["signatures"], HOST_ADDRESS
        )
    assert expires_in == 300
    with transaction(services.sessions) as session:
        grant = services.clients.resolve_token(session, token, HOST_ADDRESS)
        assert grant is not None
        assert (grant.client.client_id, grant.scopes) == (client_id, frozenset({"signatures"}))
        assert services.clients.resolve_token(session, "nope", HOST_ADDRESS) is None
    with pytest.raises(SourceNotAllowed), transaction(services.sessions) as session:
        services.clients.resolve_token(session, token, OUTSIDE_ADDRESS)
    assert len(audit_events(services, "access:api:refused")) == 1
    clock.advance(timedelta(seconds=300))
    with services.sessions() as session:
        assert services.clients.resolve_token(session, token, HOST_ADDRESS) is None


@pytest.mark.parametrize("record", ["%00", "%0d%0a", "%C3%A9t%C3%A9", "%ED%A0%80", "x" * 600])
def test_refusals_audit_any_path_exactly(
    host: FlaskClient, services: Services, record: str
) -> None:
    path = f"/api/v1/test-only/host/records/{record}"
    response = host.get(path, headers=bearer("forged"), environ_base={"REMOTE_ADDR": HOST_ADDRESS})
    problem(response, 401, "unauthenticated")
    [event] = audit_events(services, "access:")
    audited = values(event)["path"]
    assert audited.isascii()
    assert audited.isprintable()
    assert audited.startswith("/api/v1/test-only/host/records/")


def test_unknown_scope_fails_at_import() -> None:
    with pytest.raises(ValueError, match="unknown scope"):
        scope_required("admin")
