"""POST/GET /api/v1/signing-requests: what a host asks and what it learns (DESIGN.md, "The
signing ceremony"). The host never sends or receives a password."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idgov.clock import FrozenClock
from idgov.wiring import Services
from tests.functional.ceremony_support import (
    RETURN_URL,
    another_host,
    host,
    returned,
    shorter,
    sign_through,
)
from tests.functional.people import events, problem
from tests.functional.signing import record, verified


@pytest.mark.req("CMP-2")
@pytest.mark.req("DEV-1")
def test_a_host_creates_a_request_and_reads_the_signed_outcome(
    services: Services, app: Flask, client: FlaskClient
) -> None:
    lims = host(services, app)
    created = lims.created(signer="JDoe", state="opaque-42", reason="Release of batch 7")

    assert created["status"] == "pending"
    assert created["ceremony_url"] == f"{services.settings.server.base_url}/sign/{created['id']}"
    assert created["expires_at"] == "2026-03-02T09:40:00.000000Z"  # policy default: 10 minutes
    assert "result" not in created
    [event] = events(services, "signature:request:created")
    assert event.target_id == created["id"]
    assert json.loads(event.new_values)["signer"] == "jdoe"  # normalized as usernames are

    target, query = returned(sign_through(client, created["id"]))
    assert target == RETURN_URL
    assert query == {"signing_request": created["id"], "state": "opaque-42"}

    answer = lims.read(created["id"]).get_json()
    assert answer["status"] == "completed"
    result = answer["result"]
    assert set(result) == {"id", "token", "manifestation", "signing_session"}  # the 201 body
    assert result["manifestation"]["printed_name"] == "Jane Doe"
    payload = verified(services, result["token"])
    assert payload["aud"] == lims.client_id
    assert payload["record"]["digest"] == record()["digest"]
    assert payload["manifest"]["reason"] == "Release of batch 7"
    assert payload["authn"]["components"] == ["username", "password"]
    assert [e.target_id for e in events(services, "signature:request:completed")] == [created["id"]]


def test_a_batch_request_answers_with_the_batch(
    services: Services, app: Flask, client: FlaskClient
) -> None:
    lims = host(services, app)
    batch = [record("SOP-1"), record("SOP-2"), record("SOP-3")]
    created = lims.created(records=batch)
    returned(sign_through(client, created["id"]))
    result = lims.read(created["id"]).get_json()["result"]
    assert len(result["signatures"]) == 3
    assert len(result["merkle_root"]) == 64


@pytest.mark.req("DEV-1")
def test_only_the_creating_client_reads_a_request(
    services: Services, app: Flask, client: FlaskClient
) -> None:
    lims = host(services, app)
    created = lims.created()
    other = another_host(services, app, "qms")
    problem(other.read(created["id"]), 404, "not-found")  # not "forbidden": nothing is told
    problem(lims.read("0b5d1c0e-2a4e-4a37-9d68-1f1f3c0e9a11"), 404, "not-found")
    problem(lims.read("not-an-id"), 404, "not-found")
    assert lims.read(created["id"]).get_json()["status"] == "pending"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"return_url": "https://evil.example.com/steal"}, "return_url"),
        ({"return_url": RETURN_URL + "/"}, "return_url"),  # exact match only
        ({"meaning": "endorsement"}, "meaning"),
        ({"state": "line\nbreak"}, "state"),
        ({"reason": "forged\u0007bell"}, "reason"),
        ({"signer": ""}, "signer"),
        ({"records": [record("SOP-1"), record("SOP-1")]}, "records.1"),
    ],
)
def test_bad_requests_are_refused_by_field_and_create_nothing(
    services: Services, app: Flask, fields: dict[str, object], field: str
) -> None:
    lims = host(services, app)
    response = lims.create(**fields)
    assert response.status_code in {400, 422}, response.get_data(as_text=True)
    assert field in response.get_data(as_text=True)
    assert events(services, "signature:request:created") == []


def test_a_batch_over_500_records_is_refused(services: Services, app: Flask) -> None:
    lims = host(services, app)
    response = lims.create(records=[record(f"SOP-{n}") for n in range(501)])
    assert response.status_code == 422, response.get_data(as_text=True)
    assert events(services, "signature:request:created") == []


def test_a_request_without_a_bearer_token_is_refused(client: FlaskClient) -> None:
    problem(client.post("/api/v1/signing-requests", json={}), 401, "unauthenticated")
    problem(client.get("/api/v1/signing-requests/x"), 401, "unauthenticated")


def test_an_unopened_request_expires_and_says_so(
    services: Services, app: Flask, clock: FrozenClock
) -> None:
    lims = host(services, app)
    shorter(services, minutes=2)  # within the bearer token's lifetime
    created = lims.created()
    clock.advance(timedelta(minutes=2))
    assert lims.read(created["id"]).get_json()["status"] == "expired"
    assert lims.read(created["id"]).get_json()["status"] == "expired"
    assert len(events(services, "signature:request:expired")) == 1  # audited once


def test_the_policy_sets_how_long_a_request_waits(services: Services, app: Flask) -> None:
    lims = host(services, app)
    shorter(services, minutes=3)
    assert lims.created()["expires_at"] == "2026-03-02T09:33:00.000000Z"
