"""POST /oauth/token: client credentials (RFC 6749 section 4.4), its errors, DEV-1 binding."""

from __future__ import annotations

import hashlib

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from idgov.alerts.refusals import GRACE, WINDOW
from idgov.audit.models import AuditEvent
from idgov.clients.models import HostAccessToken
from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.wiring import Services
from tests.functional.hosts import (
    FORM,
    HOST_ADDRESS,
    OUTSIDE_ADDRESS,
    all_audit_text,
    audit_events,
    basic,
    register,
    request_token,
    token_error,
    values,
)


@pytest.mark.req("DEV-1")
def test_token_by_client_secret_basic(client: FlaskClient, services: Services) -> None:
    client_id, secret = register(services, "lims", ("signatures", "entitlements"))
    response = request_token(client, client_id, secret)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 300)
    assert body["scope"] == "entitlements signatures"  # no scope asked: all it holds
    with services.sessions() as session:
        stored = session.scalars(select(HostAccessToken)).one()
    assert stored.token_hash == hashlib.sha256(body["access_token"].encode()).hexdigest()
    [issued] = audit_events(services, "client:token:issued")
    assert (issued.actor_type, issued.actor_id, issued.actor_name) == ("client", client_id, "lims")
    assert issued.source_address == HOST_ADDRESS
    assert body["access_token"] not in all_audit_text(services)
    narrowed = request_token(client, client_id, secret, scope="signatures")
    assert narrowed.get_json()["scope"] == "signatures"


def test_token_by_client_secret_post(client: FlaskClient, services: Services) -> None:
    client_id, secret = register(services)
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    response = client.post("/oauth/token", data=form)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["scope"] == "signatures"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("cl_unknown", "whatever"),
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Basic //46/w=="},  # b"\xff\xfe:\xff": not UTF-8
        {"Authorization": "Basic bm8tY29sb24="},  # "no-colon"
    ],
    ids=["none", "unknown-client", "bad-base64", "not-utf8", "no-colon"],
)
def test_failed_client_authentication_is_401(
    client: FlaskClient, services: Services, clock: FrozenClock, headers: dict[str, str]
) -> None:
    register(services)
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=headers
    )
    token_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="idgov"')
    # Anonymous: audited with the source's other refusals when its window is over (AUD-1).
    assert audit_events(services, "client:token:refused") == []
    [aggregate] = flushed_refusals(services, clock)
    assert values(aggregate)["refusals"] == 1
    [counted] = values(aggregate)["by_reason"]
    assert (counted["channel"], counted["refusals"]) == ("token", 1)
    assert counted["reason"] in ("no-credentials", "unknown-client")
    assert "cl_unknown" not in all_audit_text(services)  # only its pseudonym (finding 7)


@pytest.mark.req("AUD-1")
def test_wrong_secret_is_401_and_audited_in_aggregate(
    client: FlaskClient, services: Services, clock: FrozenClock
) -> None:
    client_id, secret = register(services)
    token_error(request_token(client, client_id, secret + "x"), 401, "invalid_client")
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": "x"}
    from_host = {"REMOTE_ADDR": HOST_ADDRESS}
    token_error(
        client.post("/oauth/token", data=form, environ_base=from_host), 401, "invalid_client"
    )
    assert audit_events(services, "client:token:refused") == []
    [aggregate] = flushed_refusals(services, clock)
    assert values(aggregate)["refusals"] == 2
    assert values(aggregate)["by_reason"] == [
        {"channel": "token", "reason": "bad-client-secret", "refusals": 2}
    ]
    assert values(aggregate)["names"] == [client_id]  # a registered client stays readable
    assert values(aggregate)["source_address"] == HOST_ADDRESS


def flushed_refusals(services: Services, clock: FrozenClock) -> list[AuditEvent]:
    """The aggregated events once the window is over (what the worker's job records)."""
    clock.advance(WINDOW + GRACE)
    with transaction(services.sessions) as session:
        services.refusals.flush_due(session)
    return audit_events(services, "auth:refusals:aggregated")


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
        ({}, "invalid_request"),
        ({"grant_type": "client_credentials", "scope": "entitlements"}, "invalid_scope"),
        ({"grant_type": "client_credentials", "scope": "signatures admin"}, "invalid_scope"),
        ({"grant_type": "client_credentials", "client_secret": "x"}, "invalid_request"),
    ],
)
def test_refused_token_requests(
    client: FlaskClient, services: Services, form: dict[str, str], error: str
) -> None:
    client_id, secret = register(services)
    response = client.post("/oauth/token", data=form, headers=basic(client_id, secret))
    token_error(response, 400, error)
    [refused] = audit_events(services, "client:token:refused")
    assert values(refused)["error"] == error
    if error == "invalid_scope":
        assert values(refused)["requested_scopes"] == sorted(form["scope"].split())
    with services.sessions() as session:
        assert session.scalars(select(HostAccessToken)).first() is None


@pytest.mark.req("DEV-1")
def test_token_from_a_disallowed_address_is_refused_and_audited(
    client: FlaskClient, services: Services
) -> None:
    client_id, secret = register(services, networks=("192.0.2.0/24", "2001:db8::/32"))
    refused = request_token(client, client_id, secret, address=OUTSIDE_ADDRESS)
    token_error(refused, 400, "unauthorized_client")
    [event] = audit_events(services, "client:token:refused")
    assert (event.actor_type, event.actor_id, event.target_id) == ("client", client_id, client_id)
    assert event.source_address == OUTSIDE_ADDRESS
    assert event.reason == "source address not allowed for this client (DEV-1)"
    for inside in (HOST_ADDRESS, "::ffff:192.0.2.77", "2001:db8::5"):
        assert request_token(client, client_id, secret, address=inside).status_code == 200
    token_error(
        request_token(client, client_id, secret, address="2001:db9::5"), 400, "unauthorized_client"
    )


def test_token_endpoint_takes_post_only(client: FlaskClient) -> None:
    assert client.get("/oauth/token").status_code == 405


GRANT = {"grant_type": "client_credentials"}
P = pytest.param
ANY_INPUT = [
    P({}, 400, id="nothing"),
    P({"data": b"", "content_type": FORM}, 400, id="empty-form"),
    P({"json": GRANT}, 400, id="json"),
    P({"data": b"\x00\xff\xfe garbage", "content_type": "text/plain"}, 400, id="binary"),
    P(
        {"data": b"grant_type=client_credentials&%ff%fe=%ff", "content_type": FORM},
        401,
        id="bad-percent",
    ),
    P({"data": {**GRANT, "scope": "s" * 600}}, 400, id="huge-scope"),
    P({"data": {**GRANT, "client_id": "c" * 100_000, "client_secret": "s"}}, 400, id="huge-id"),
    P(
        {"data": {**GRANT, "client_id": "c" * 300, "client_secret": "s" * 300}},
        401,
        id="long-credentials",
    ),
    P(
        {
            "data": "grant_type=client_credentials&grant_type=client_credentials",
            "content_type": FORM,
        },
        400,
        id="repeated",
    ),
    P({"data": GRANT, "headers": {"Authorization": "Basic " + "A" * 60_000}}, 401, id="huge-basic"),
    P(
        {"data": {**GRANT, "file": (b"x", "x.txt")}, "content_type": "multipart/form-data"},
        400,
        id="multipart",
    ),
    P({"data": {**GRANT, "client_id": "cl_\x00", "client_secret": "s"}}, 400, id="nul-id"),
    P(
        {
            "data": "grant_type=client_credentials%00&client_id=a&client_secret=b",
            "content_type": FORM,
        },
        400,
        id="nul-grant",
    ),
    P(
        {"data": {**GRANT, "client_id": "cl_\u0430", "client_secret": "s"}},
        400,
        id="non-ascii-id",
    ),
    P({"data": GRANT, "headers": {"Authorization": "Basic Y2xfAGE6Yg=="}}, 401, id="nul-in-basic"),
    P(
        {"data": GRANT, "headers": {"Authorization": "Basic Y2xfJTAwYTpi"}},
        401,
        id="encoded-nul-in-basic",
    ),
]


@pytest.mark.parametrize(("kwargs", "status"), ANY_INPUT)
def test_token_endpoint_answers_any_input_without_a_500(
    client: FlaskClient, services: Services, kwargs: dict[str, object], status: int
) -> None:
    register(services)
    response = client.post("/oauth/token", **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"] in ("invalid_request", "invalid_client")


def test_control_characters_in_scope_are_refused(client: FlaskClient, services: Services) -> None:
    client_id, secret = register(services)
    for scope in ("signatures\x00", "signatures\nentitlements", "sign\u00e4tures"):
        response = request_token(client, client_id, secret, scope=scope)
        token_error(response, 400, "invalid_request")
