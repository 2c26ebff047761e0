"""POST /api/v1/signatures and /api/v1/sequences over HTTP: the host-facing contract."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from idgov.signatures.models import Signature
from idgov.wiring import Services
from tests.functional.hosts import HOST_ADDRESS, bearer, register, token_for
from tests.functional.people import events, problem
from tests.functional.signing import body, prepare, record, signer, verified

SIGN = "/api/v1/signatures"
HOST = {"REMOTE_ADDR": HOST_ADDRESS}


@pytest.fixture
def token(services: Services, client: FlaskClient) -> str:
    _lims, admin = prepare(services, host="lims-internal")
    signer(services, "jdoe", admin, name="Jane Doe")
    signer(services, "newbie", admin, verified=False, certified=False)
    client_id, secret = register(services, "lims", ("signatures",))
    return token_for(client, client_id, secret)


def post(client: FlaskClient, token: str, payload: object, path: str = SIGN) -> Any:
    return client.post(path, json=payload, headers=bearer(token), environ_base=HOST)


def signatures(services: Services) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Signature)) or 0)


@pytest.mark.req("MAN-1")
@pytest.mark.req("MAN-2")
def test_a_signature_answers_as_the_contract_says(
    services: Services, client: FlaskClient, token: str
) -> None:
    response = post(client, token, body("jdoe", signed_at="2001-01-01T00:00:00Z"))

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    answer = response.get_json()
    assert set(answer) == {"id", "token", "manifestation", "signing_session"}
    shown = answer["manifestation"]
    assert shown == {
        "printed_name": "Jane Doe",
        "username": "jdoe",
        "signed_at": "2026-03-02T09:30:00.000000Z",
        "meaning": "approval",
        "statement": "I approve this record.",
        "text": "Electronically signed by Jane Doe (jdoe) on 2026-03-02 09:30:00 UTC; "
        "meaning: approval: I approve this record.",
    }
    assert answer["signing_session"]["seq"] == 1
    assert answer["signing_session"]["expires_at"] == "2026-03-02T09:45:00.000000Z"
    payload = verified(services, answer["token"])
    assert payload["jti"] == answer["id"]
    assert payload["authn"]["signing_session"]["id"] == answer["signing_session"]["id"]

    again = post(
        client,
        token,
        body("jdoe", signing_session=answer["signing_session"]["id"], record=record("SOP-2")),
    )
    assert again.status_code == 201
    assert again.get_json()["signing_session"]["seq"] == 2


def test_a_batch_answers_with_its_id_and_merkle_root(
    services: Services, client: FlaskClient, token: str
) -> None:
    records = [record("B-1"), record("B-2")]
    response = post(client, token, body("jdoe", records=records))

    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.get_json()
    assert set(answer) == {"batch_id", "merkle_root", "signatures", "signing_session"}
    assert [set(each) for each in answer["signatures"]] == [{"id", "token", "manifestation"}] * 2
    payload = verified(services, answer["signatures"][1]["token"])
    assert payload["batch"]["id"] == answer["batch_id"]
    assert payload["batch"]["index"] == 1


@pytest.mark.req("DEV-1")
@pytest.mark.req("ACC-2")
def test_only_a_host_with_the_signatures_scope_may_sign(
    services: Services, client: FlaskClient, token: str
) -> None:
    anonymous = client.post(SIGN, json=body("jdoe"), environ_base=HOST)
    problem(anonymous, 401, "unauthenticated")
    client_id, secret = register(services, "reviews", ("entitlements",))
    other = token_for(client, client_id, secret)
    problem(post(client, other, body("jdoe")), 403, "forbidden")
    problem(post(client, "not-a-token", body("jdoe")), 401, "unauthenticated")
    assert signatures(services) == 0


def test_refusals_have_stable_problem_types(
    services: Services, client: FlaskClient, token: str
) -> None:
    wrong = problem(
        post(client, token, body("jdoe", password="nope-nope")), 401, "invalid-credentials"
    )
    unknown = problem(post(client, token, body("ghost")), 401, "invalid-credentials")
    assert wrong == unknown
    refused = problem(post(client, token, body("newbie")), 403, "not-eligible")
    assert refused["reasons"] == ["unverified", "uncertified"]
    mismatch = body("jdoe", signing_session="00000000-0000-4000-8000-000000000000")
    problem(post(client, token, mismatch), 409, "out-of-sequence")
    assert signatures(services) == 0


@pytest.mark.req("LOCK-1")
def test_repeated_wrong_signing_passwords_answer_locked(
    services: Services, client: FlaskClient, token: str
) -> None:
    for _ in range(4):
        problem(post(client, token, body("jdoe", password="nope-nope")), 401, "invalid-credentials")
    problem(post(client, token, body("jdoe", password="nope-nope")), 423, "locked")
    problem(post(client, token, body("jdoe")), 423, "locked")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"record": {**record(), "digest": "sha256:" + "A" * 64}}, "record.digest"),
        ({"record": {**record(), "digest": "sha1:" + "a" * 40}}, "record.digest"),
        ({"record": {**record(), "digest": "a" * 64}}, "record.digest"),
        ({"record": {**record(), "digest": "sha256:" + "a" * 63}}, "record.digest"),
        ({"record": {**record(), "id": "x" * 201}}, "record.id"),
        ({"record": {**record(), "type": ""}}, "record.type"),
        ({"record": {**record(), "version": "4\x00"}}, "record.version"),
        ({"record": {**record(), "title": "t" * 501}}, "record.title"),
        ({"record": {k: v for k, v in record().items() if k != "version"}}, "record.version"),
        ({"record": {**record(), "colour": "red"}}, "record.colour"),
        ({"nonce": 1}, "nonce"),
        ({"reason": "r" * 2001}, "reason"),
        ({"reason": "nul \x00 inside"}, "reason"),
        ({"reason": "lone \ud800 surrogate"}, "reason"),
        ({"record": {**record(), "title": "\ud800"}}, "record.title"),
        ({"otp": "12ab56"}, "otp"),
        ({"signing_session": "not-a-uuid"}, "signing_session"),
        ({"username": "u" * 257}, "username"),
        ({"password": 12345}, "password"),
        ({"records": [record()]}, "(body)"),
        ({"records": [record(f"R-{n}") for n in range(501)], "record": None}, "records"),
        ({"records": [], "record": None}, "records"),
        ({"meaning": "sign-off"}, "meaning"),
        ({"records": [record("R-1"), record("R-1")], "record": None}, "records.1"),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    services: Services, client: FlaskClient, token: str, change: dict[str, Any], field: str
) -> None:
    payload = {**body("jdoe"), **change}
    payload = {k: v for k, v in payload.items() if v is not None}
    answer = problem(post(client, token, payload), 422, "invalid-request")
    named = [e["field"] for e in answer.get("errors", [])] + [answer.get("field")]
    assert any(name is not None and name.startswith(field) for name in named), answer
    assert signatures(services) == 0


def test_a_body_that_is_not_json_is_refused(client: FlaskClient, token: str) -> None:
    response = client.post(SIGN, data="username=jdoe", headers=bearer(token), environ_base=HOST)
    problem(response, 422, "invalid-request")
    problem(post(client, token, ["not", "an", "object"]), 422, "invalid-request")


def test_no_signature_key_answers_provider_unavailable(
    services: Services, client: FlaskClient
) -> None:
    _lims, admin = prepare(services, host="lims-internal", keys=False)
    signer(services, "jdoe", admin)
    client_id, secret = register(services, "lims", ("signatures",))
    answer = problem(
        post(client, token_for(client, client_id, secret), body("jdoe")),
        503,
        "provider-unavailable",
    )
    assert answer["reason"] == "key-unavailable"


def test_a_database_failure_answers_provider_unavailable(
    services: Services, client: FlaskClient, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = services.trail.record

    def down(session: Session, action: str, *args: Any, **kwargs: Any) -> Any:
        if action == "signature:record:signed":
            raise OperationalError("INSERT", {}, Exception("connection lost"))
        return original(session, action, *args, **kwargs)

    monkeypatch.setattr(services.trail, "record", down)
    answer = problem(post(client, token, body("jdoe")), 503, "provider-unavailable")
    assert answer["reason"] == "database-unavailable"
    assert signatures(services) == 0


@pytest.mark.req("SEQ-1")
def test_a_host_declares_and_reads_its_signing_order(
    services: Services, client: FlaskClient, token: str
) -> None:
    path = "/api/v1/sequences/sop"
    problem(client.get(path, headers=bearer(token), environ_base=HOST), 404, "not-found")
    declared = {"meanings": ["authorship", "review", "approval"], "allow_same_signer": False}
    response = client.put(path, json=declared, headers=bearer(token), environ_base=HOST)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {
        "record_type": "sop",
        **declared,
        "declared_at": "2026-03-02T09:30:00.000000Z",
    }
    assert client.get(path, headers=bearer(token), environ_base=HOST).get_json() == (
        response.get_json()
    )
    bad = {"meanings": ["authorship", "sign-off"]}
    problem(
        client.put(path, json=bad, headers=bearer(token), environ_base=HOST), 422, "invalid-request"
    )
    assert len(events(services, "signature:sequence:declared")) == 1

    answer = problem(post(client, token, body("jdoe")), 409, "out-of-sequence")
    assert answer["reason"] == "out-of-order"
    assert answer["expected"] == "authorship"


def test_the_openapi_document_describes_signing(app: Flask, client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/signatures"]["post"]
    assert set(operation["responses"]) >= {"201", "401", "403", "409", "422", "423", "503"}
    assert "SignRequest" in document["components"]["schemas"]
    assert "/api/v1/sequences/{record_type}" in document["paths"]
