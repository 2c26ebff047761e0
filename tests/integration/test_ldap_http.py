"""Directories over HTTP: the admin API, entitlements of a person, signing with a directory down."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idgov.config import Settings
from idgov.db import transaction
from idgov.wiring import Services
from tests.functional.api_client import sign_in
from tests.functional.hosts import bearer, register, token_for
from tests.functional.people import fast_hashing, login, person, problem
from tests.functional.signing import body
from tests.harness.slapd import SlapdServer
from tests.integration.directory_support import (
    NAME,
    audited,
    identity_named,
    verify_all,
    with_directory,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings: Settings, own_slapd: SlapdServer) -> Settings:
    return with_directory(settings, own_slapd)


@pytest.fixture
def admin_id(services: Services) -> str:
    fast_hashing(services)
    return person(services, "ada", roles=("admin",), name="Ada Admin")


@pytest.mark.req("ACC-1")
def test_admin_syncs_over_the_api_and_reads_a_persons_entitlements(
    services: Services, app: Flask, admin_id: str
) -> None:
    admin = sign_in(app, "ada")
    listed = admin.get("/api/v1/directories").get_json()["directories"]
    assert [(d["name"], d["last_sync"]) for d in listed] == [(NAME, None)]
    run = admin.post(f"/api/v1/directories/{NAME}/sync", {"full": True})
    assert run.status_code == 200, run.get_data(as_text=True)
    assert (run.get_json()["kind"], run.get_json()["counts"]["created"]) == ("full", 6)
    assert len(admin.get(f"/api/v1/directories/{NAME}/runs").get_json()["runs"]) == 1
    bob = identity_named(services, "bob")
    held = admin.get(f"/api/v1/identities/{bob.id}/entitlements").get_json()["entitlements"]
    assert {(h["name"], h["via"], h["source"]) for h in held} == {
        ("qa-approvers", None, NAME),
        ("lims-users", "qa-approvers", NAME),
    }
    problem(admin.post("/api/v1/directories/hr/sync", {}), 404, "not-found")


def test_only_admins_sync(services: Services, app: Flask, admin_id: str) -> None:
    person(services, "audrey", roles=("auditor",))
    auditor = sign_in(app, "audrey")
    assert auditor.get("/api/v1/directories").status_code == 200
    problem(auditor.post(f"/api/v1/directories/{NAME}/sync", {}), 403, "forbidden")


@pytest.mark.req("ACC-1")
def test_signing_while_the_directory_is_down_is_a_503_problem(
    services: Services, client: FlaskClient, admin_id: str, own_slapd: SlapdServer
) -> None:
    with transaction(services.sessions) as session:
        services.keys.create(session, "signature", reason="test setup")
    services.directory_sync.run(NAME, full=True)
    verify_all(services, admin_id, "bob")
    client_id, secret = register(services)
    token = token_for(client, client_id, secret)
    own_slapd.stop()
    try:
        answer = client.post(
            "/api/v1/signatures",
            json=body("bob", password=own_slapd.people["bob"].password),
            headers=bearer(token),
            environ_base={"REMOTE_ADDR": "192.0.2.10"},
        )
    finally:
        own_slapd.start()
    found = problem(answer, 503, "provider-unavailable")
    assert "cannot be reached right now" in found["detail"]
    assert "127.0.0.1" not in answer.get_data(as_text=True)  # addresses stay with operators
    [failed] = audited(services, "auth:signing:failed")
    assert "no directory server answered" in failed["new"]["error"]


def test_the_login_page_tells_the_person_why_the_directory_refused(
    services: Services, client: FlaskClient, own_slapd: SlapdServer
) -> None:
    services.directory_sync.run(NAME, full=True)
    own_slapd.stop()
    try:
        page = login(client, "bob", own_slapd.people["bob"].password)
    finally:
        own_slapd.start()
    text = page.get_data(as_text=True)
    assert page.status_code == 503
    assert page.mimetype == "text/html"
    assert "cannot be reached right now" in text
    assert str(own_slapd.port) not in text


def test_an_identity_id_with_a_nul_is_not_found(app: Flask, admin_id: str) -> None:
    admin = sign_in(app, "ada")
    for path in ("/api/v1/identities/a%00b", "/api/v1/identities/a%00b/entitlements"):
        problem(admin.get(path), 404, "not-found")  # PostgreSQL refuses NUL in text: no 500
