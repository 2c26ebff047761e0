"""Policies (/api/v1/policies, CHG-1) and alerts (/api/v1/alerts, ALERT-1) over JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from idgov.clock import FrozenClock, iso_utc
from idgov.db import transaction
from idgov.identity.models import Identity, Role
from idgov.wiring import Services
from tests.functional.people import PASSWORD, events, fast_hashing, person, problem

LOCKOUT = "/api/v1/policies/lockout"


@dataclass
class Api:
    """A signed-in person's JSON client: writes carry the session's X-CSRF-Token."""

    client: FlaskClient
    csrf: str

    def get(self, path: str, **extra: Any) -> TestResponse:
        return self.client.get(path, **extra)

    def post(self, path: str, body: Any) -> TestResponse:
        return self.client.post(path, json=body, headers={"X-CSRF-Token": self.csrf})

    def patch(self, path: str, body: Any) -> TestResponse:
        return self.client.patch(path, json=body, headers={"X-CSRF-Token": self.csrf})


def sign_in(app: Flask, username: str, password: str = PASSWORD) -> Api:
    client = app.test_client()
    response = client.post("/api/v1/session", json={"username": username, "password": password})
    assert response.status_code == 201, response.get_data(as_text=True)
    return Api(client, response.get_json()["csrf_token"])


@pytest.fixture(autouse=True)
def staff(services: Services) -> dict[str, str]:
    """An admin, an active security officer, an auditor and a person without roles."""
    fast_hashing(services)
    people = {
        "ada": person(services, "ada", roles=(Role.ADMIN,), name="Ada Admin"),
        "sam": person(services, "sam", roles=(Role.SECURITY_OFFICER,), name="Sam Secure"),
        "eve": person(services, "eve", roles=(Role.AUDITOR,), name="Eve Analyst"),
        "jdoe": person(services, "jdoe", name="John Doe"),
    }
    with transaction(services.sessions) as session:  # an officer acts only when active
        officer, admin = (
            session.get_one(Identity, people["sam"]),
            session.get_one(Identity, people["ada"]),
        )
        services.identities.record_verification(session, officer, admin, "employee-badge")
    return people


# --- policies ---------------------------------------------------------------------------------


@pytest.mark.req("ACC-2")
def test_policies_are_read_by_admins_and_auditors_only(app: Flask) -> None:
    for reader in ("ada", "sam", "eve"):
        shown = sign_in(app, reader).get("/api/v1/policies/password")
        assert shown.status_code == 200, shown.get_data(as_text=True)
        body = shown.get_json()
        assert (body["kind"], body["policy"]["min_length"]) == ("password", 12)
    refused = problem(sign_in(app, "jdoe").get("/api/v1/policies/password"), 403, "forbidden")
    assert refused["required_roles"] == ["admin", "auditor", "security_officer"]


@pytest.mark.req("CHG-1")
def test_change_is_versioned_audited_and_the_past_stays_visible(
    app: Flask, services: Services, clock: FrozenClock, staff: dict[str, str]
) -> None:
    before_change = clock.now()
    assert sign_in(app, "ada").get(LOCKOUT).get_json()["version"] == 0
    clock.advance(timedelta(hours=1))

    admin = sign_in(app, "ada")
    changed = admin.patch(LOCKOUT, {"changes": {"max_failures": 3}, "reason": "audit finding 7"})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["version"] == 1
    assert changed.get_json()["policy"]["max_failures"] == 3
    [event] = events(services, "policy:lockout:changed")
    assert (event.actor_type, event.actor_id, event.reason) == (
        "identity",
        staff["ada"],
        "audit finding 7",
    )
    assert json.loads(event.old_values)["max_failures"] == 5
    assert json.loads(event.new_values)["max_failures"] == 3

    now = admin.get(LOCKOUT).get_json()
    assert (now["version"], now["policy"]["max_failures"]) == (1, 3)
    then = admin.get(LOCKOUT, query_string={"at": iso_utc(before_change)}).get_json()
    assert (then["version"], then["policy"]["max_failures"]) == (0, 5)
    naive = before_change.replace(tzinfo=None).isoformat()  # a time without zone is UTC
    assert admin.get(LOCKOUT, query_string={"at": naive}).get_json()["policy"]["max_failures"] == 5


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"max_failures": 0}, "max_failures"),
        ({"max_failures": 21}, "max_failures"),
        ({"timed_unlock_minutes": "soon"}, "timed_unlock_minutes"),
        ({"no_such_setting": 1}, "no_such_setting"),
    ],
)
def test_out_of_range_change_names_the_field(
    app: Flask, services: Services, changes: dict[str, Any], field: str
) -> None:
    admin = sign_in(app, "ada")
    answer = problem(
        admin.patch(LOCKOUT, {"changes": changes, "reason": "r"}), 422, "invalid-request"
    )
    assert [error["field"] for error in answer["errors"]] == [field]
    assert admin.get(LOCKOUT).get_json()["version"] == 0
    assert events(services, "policy:lockout:changed") == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"changes": {"max_failures": 3}}, "reason"),
        ({"changes": {}, "reason": "nothing"}, "changes"),
        ({"changes": {"max_failures": 3}, "reason": ""}, "reason"),
    ],
)
def test_change_needs_values_and_a_reason(app: Flask, body: dict[str, Any], field: str) -> None:
    answer = problem(sign_in(app, "ada").patch(LOCKOUT, body), 422, "invalid-request")
    assert [error["field"] for error in answer["errors"]] == [field]


def test_policy_refusals(app: Flask) -> None:
    admin = sign_in(app, "ada")
    problem(admin.get("/api/v1/policies/coffee"), 404, "not-found")
    body = {"changes": {"x": 1}, "reason": "r"}
    problem(admin.patch("/api/v1/policies/coffee", body), 404, "not-found")
    bad = problem(admin.get(LOCKOUT, query_string={"at": "last tuesday"}), 400, "invalid-request")
    assert bad["field"] == "at"
    change = {"changes": {"max_failures": 3}, "reason": "r"}
    problem(sign_in(app, "sam").patch(LOCKOUT, change), 403, "forbidden")  # admins change


# --- alerts -----------------------------------------------------------------------------------


def lock_out(app: Flask, username: str) -> None:
    client = app.test_client()
    for _ in range(5):  # the default lockout policy locks at the fifth failure
        client.post("/api/v1/session", json={"username": username, "password": "wrong"})


@pytest.mark.req("ALERT-1")
def test_officer_sees_the_lockout_alert_and_acknowledges_it(
    app: Flask, services: Services, staff: dict[str, str]
) -> None:
    lock_out(app, "jdoe")
    officer = sign_in(app, "sam")
    listed = officer.get("/api/v1/alerts").get_json()["alerts"]
    [alert] = [a for a in listed if a["kind"] == "lockout"]
    assert (alert["username"], alert["identity_id"]) == ("jdoe", staff["jdoe"])
    assert alert["acknowledged_at"] is None
    assert alert["details"]["failed_attempts"] == 5

    path = f"/api/v1/alerts/{alert['id']}/acknowledgement"
    done = officer.post(path, {"note": "called John: he mistyped after a holiday"})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["acknowledged_by"] == "sam"
    assert done.get_json()["acknowledged_at"] is not None
    [event] = events(services, "alert:lockout:acknowledged")
    assert (event.actor_id, event.reason) == (
        staff["sam"],
        "called John: he mistyped after a holiday",
    )

    problem(officer.post(path, {"note": "again"}), 409, "conflict")
    open_kinds = [a["kind"] for a in officer.get("/api/v1/alerts").get_json()["alerts"]]
    assert "lockout" not in open_kinds
    handled = officer.get("/api/v1/alerts", query_string={"status": "acknowledged"})
    assert [a["id"] for a in handled.get_json()["alerts"]] == [alert["id"]]


@pytest.mark.req("ACC-2")
def test_auditor_reads_alerts_but_cannot_acknowledge(app: Flask, services: Services) -> None:
    problem(sign_in(app, "jdoe").get("/api/v1/alerts"), 403, "forbidden")
    lock_out(app, "jdoe")
    auditor = sign_in(app, "eve")
    [alert] = auditor.get("/api/v1/alerts").get_json()["alerts"]
    path = f"/api/v1/alerts/{alert['id']}/acknowledgement"
    problem(auditor.post(path, {"note": "seen"}), 403, "forbidden")
    assert len(events(services, "access:api_alerts-acknowledge:refused")) == 1


def test_alert_refusals(app: Flask) -> None:
    officer = sign_in(app, "sam")
    bad = problem(officer.get("/api/v1/alerts?status=closed"), 422, "invalid-request")
    assert bad["errors"][0]["field"] == "status"
    missing = "/api/v1/alerts/00000000-0000-0000-0000-000000000000/acknowledgement"
    problem(officer.post(missing, {"note": "x"}), 404, "not-found")
    lock_out(app, "jdoe")
    [alert] = officer.get("/api/v1/alerts").get_json()["alerts"]
    path = f"/api/v1/alerts/{alert['id']}/acknowledgement"
    answer = problem(officer.post(path, {"note": ""}), 422, "invalid-request")
    assert [error["field"] for error in answer["errors"]] == ["note"]
