"""JSON sign-in: POST/DELETE /api/v1/session and GET /api/v1/me, CSRF header, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from idgov.identity.models import Role
from idgov.wiring import Services
from tests.functional.people import (
    PASSWORD,
    fast_hashing,
    person,
    problem,
)


@pytest.fixture(autouse=True)
def _cheap_hashes(services: Services) -> None:
    fast_hashing(services)


@pytest.mark.req("ACC-1")
def test_json_login_me_and_logout(client: FlaskClient, services: Services) -> None:
    jdoe = person(services, "jdoe", name="John Doe", roles=(Role.AUDITOR,))
    response = client.post("/api/v1/session", json={"username": "JDoe", "password": PASSWORD})
    assert response.status_code == 201
    body = response.get_json()
    assert body["identity"] == {
        "id": jdoe,
        "username": "jdoe",
        "printed_name": "John Doe",
        "roles": ["auditor"],
        "status": "pending_verification",
    }
    assert body["must_change_password"] is False
    assert client.get_cookie("idgov_session") is not None
    me = client.get("/api/v1/me").get_json()
    assert me["identity"]["id"] == jdoe
    assert me["certified"] is False
    assert len(me["signing_blockers"]) == 2
    problem(client.delete("/api/v1/session"), 403, "forbidden")  # no X-CSRF-Token
    problem(client.delete("/api/v1/session", headers={"X-CSRF-Token": "x"}), 403, "forbidden")
    done = client.delete("/api/v1/session", headers={"X-CSRF-Token": body["csrf_token"]})
    assert done.status_code == 204
    problem(client.get("/api/v1/me"), 401, "unauthenticated")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"username": "u" * 257, "password": "x"}, "username"),
        ({"username": "jdoe", "password": "p" * 4097}, "password"),
        ({"username": 42, "password": "x"}, "username"),
        ({"username": "jdoe", "password": ["x"]}, "password"),
        ({"username": "jdoe"}, "password"),
        ({"username": "jdoe", "password": "x", "otp": "1"}, "otp"),
    ],
)
def test_json_login_names_the_bad_field(
    client: FlaskClient, payload: dict[str, Any], field: str
) -> None:
    body = problem(client.post("/api/v1/session", json=payload), 422, "invalid-request")
    assert field in [error["field"] for error in body["errors"]]


def test_json_login_refusals(client: FlaskClient, services: Services) -> None:
    person(services, "jdoe")
    problem(client.post("/api/v1/session", data="not json"), 422, "invalid-request")
    wrong = problem(
        client.post("/api/v1/session", json={"username": "jdoe", "password": "nope"}),
        401,
        "invalid-credentials",
    )
    unknown = problem(
        client.post("/api/v1/session", json={"username": "ghost", "password": "nope"}),
        401,
        "invalid-credentials",
    )
    assert wrong["detail"] == unknown["detail"]
    for _ in range(4):  # the fifth failure locks (default lockout policy)
        client.post("/api/v1/session", json={"username": "jdoe", "password": "nope"})
    problem(
        client.post("/api/v1/session", json={"username": "jdoe", "password": PASSWORD}),
        423,
        "locked",
    )


def test_session_endpoints_are_in_the_openapi_document(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    login_doc = document["paths"]["/api/v1/session"]["post"]
    assert set(login_doc["responses"]) == {"201", "401", "413", "422", "423", "429", "503"}
    assert "requestBody" in login_doc
    assert "delete" in document["paths"]["/api/v1/session"]
    assert "get" in document["paths"]["/api/v1/me"]
    schema = document["components"]["schemas"]["LoginRequest"]
    assert schema["properties"]["username"]["maxLength"] == 256
    assert schema["properties"]["password"]["maxLength"] == 4096
