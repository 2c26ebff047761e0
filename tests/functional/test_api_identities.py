"""Identity administration over JSON: /api/v1/identities (UNQ-1, IDV-1, LOCK-2, ACC-2, CMP-2)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from idgov.alerts.models import Alert
from idgov.clock import FrozenClock, iso_utc
from idgov.db import transaction
from idgov.identity.models import Identity, IdentityStatus, Role
from idgov.wiring import Services
from tests.functional.api_client import json_login, sign_in
from tests.functional.people import events, fast_hashing, load, person, problem

BASE = "/api/v1/identities"


def verify(services: Services, who: str, by: str) -> None:
    with transaction(services.sessions) as session:
        services.identities.record_verification(
            session, load(services, who), load(services, by), "employee-badge"
        )


def identity_count(services: Services) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Identity)) or 0)


@dataclass
class Team:
    admin: str
    officer: str
    auditor: str
    jdoe: str


@pytest.fixture
def team(services: Services) -> Team:
    fast_hashing(services)
    return Team(
        admin=person(services, "ada", roles=(Role.ADMIN,), name="Ada Admin"),
        officer=person(services, "sam", roles=(Role.SECURITY_OFFICER,), name="Sam Secure"),
        auditor=person(services, "eve", roles=(Role.AUDITOR,), name="Eve Analyst"),
        jdoe=person(services, "jdoe", name="John Doe"),
    )


NEW_PERSON = {
    "username": "JRoe",
    "printed_name": "Jane Roe",
    "email": "jroe@example.com",
    "roles": ["reviewer"],
    "reason": "joined QA",
}


@pytest.mark.req("AUD-1")
def test_admin_creates_lists_and_gets_an_identity(
    app: Flask, services: Services, clock: FrozenClock, team: Team
) -> None:
    admin = sign_in(app, "ada")
    created = admin.post(BASE, {**NEW_PERSON, "manager_id": team.admin})
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["username"] == "jroe"
    assert (body["status"], body["roles"], body["manager_id"]) == (
        "pending_verification",
        ["reviewer"],
        team.admin,
    )
    assert body["created_at"] == iso_utc(clock.now())

    listed = admin.get(BASE).get_json()["identities"]
    assert [p["username"] for p in listed] == ["ada", "eve", "jdoe", "jroe", "sam"]
    assert admin.get(f"{BASE}/{body['id']}").get_json() == body
    assert sign_in(app, "eve").get(f"{BASE}/{body['id']}").status_code == 200  # auditors read

    [event] = events(services, "identity:identity:created")[-1:]
    assert (event.actor_type, event.actor_id, event.reason) == ("identity", team.admin, "joined QA")


@pytest.mark.req("UNQ-1")
@pytest.mark.parametrize("deactivated", [False, True], ids=["active-holder", "deactivated"])
def test_used_username_is_refused_and_alerted(
    app: Flask, services: Services, team: Team, deactivated: bool
) -> None:
    admin = sign_in(app, "ada")
    if deactivated:
        body = {"status": "deactivated", "reason": "left the company"}
        assert admin.post(f"{BASE}/{team.jdoe}/status", body).status_code == 200
    before = identity_count(services)

    reused = {**NEW_PERSON, "username": "JDoe", "printed_name": "Jim Doe"}
    refused = problem(admin.post(BASE, reused), 409, "identifier-reused")
    assert refused["field"] == "username"
    assert "never reassigned" in refused["detail"]
    assert identity_count(services) == before
    with services.sessions() as session:
        alert = session.scalars(select(Alert).where(Alert.kind == "identifier-reuse")).one()
    assert alert.identity_id == team.jdoe
    assert len(events(services, "identity:identifier:reuse-refused")) == 1


@pytest.mark.req("IDV-1")
def test_security_officer_verifies_someone_else(app: Flask, services: Services, team: Team) -> None:
    officer = sign_in(app, "sam")
    evidence = {"evidence_type": "passport", "evidence_reference": "P-1234", "note": "in person"}
    verified = officer.post(f"{BASE}/{team.jdoe}/verification", evidence)
    assert verified.status_code == 200, verified.get_data(as_text=True)
    assert verified.get_json()["status"] == "active"
    [event] = events(services, "identity:verification:recorded")
    assert (event.actor_id, event.target_id) == (team.officer, team.jdoe)
    assert json.loads(event.new_values)["verified_by"] == team.officer

    own = problem(officer.post(f"{BASE}/{team.officer}/verification", evidence), 403, "forbidden")
    assert "own identity" in own["detail"]
    assert load(services, team.officer).status == IdentityStatus.PENDING_VERIFICATION
    auditor = sign_in(app, "eve")
    problem(auditor.post(f"{BASE}/{team.admin}/verification", evidence), 403, "forbidden")
    assert len(events(services, "identity:verification:recorded")) == 1


def test_suspension_signs_the_person_out(app: Flask, services: Services, team: Team) -> None:
    jdoe = sign_in(app, "jdoe")
    assert jdoe.get("/api/v1/me").status_code == 200
    admin = sign_in(app, "ada")
    body = {"status": "suspended", "reason": "investigation"}
    changed = admin.post(f"{BASE}/{team.jdoe}/status", body)
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["status"] == "suspended"
    problem(jdoe.get("/api/v1/me"), 401, "unauthenticated")
    problem(json_login(app.test_client(), "jdoe"), 401, "invalid-credentials")
    [event] = events(services, "identity:status:suspended")
    assert (event.actor_id, event.reason) == (team.admin, "investigation")

    # jdoe was never verified: no status change may make them active (IDV-1).
    back = admin.post(f"{BASE}/{team.jdoe}/status", {"status": "active", "reason": "cleared"})
    problem(back, 409, "conflict")
    assert "verification" in back.get_json()["detail"]


def lock_out(app: Flask, username: str) -> None:
    client = app.test_client()
    for _ in range(5):  # the default lockout policy locks at the fifth failure
        json_login(client, username, "not-the-password")
    problem(json_login(client, username), 423, "locked")


@pytest.mark.req("LOCK-2")
@pytest.mark.req("ACC-2")
def test_unlock_needs_a_security_officer_and_a_reason(
    app: Flask, services: Services, team: Team
) -> None:
    lock_out(app, "jdoe")
    assert load(services, team.jdoe).status == IdentityStatus.LOCKED

    admin = sign_in(app, "ada")
    refused = problem(admin.post(f"{BASE}/{team.jdoe}/unlock", {"reason": "x"}), 403, "forbidden")
    assert refused["required_roles"] == ["security_officer"]
    [audited] = events(services, "access:api_identities-unlock:refused")
    assert (audited.actor_id, json.loads(audited.new_values)["held_roles"]) == (
        team.admin,
        ["admin"],
    )

    officer = sign_in(app, "sam")
    missing = problem(officer.post(f"{BASE}/{team.jdoe}/unlock", {}), 422, "invalid-request")
    assert [e["field"] for e in missing["errors"]] == ["reason"]
    assert load(services, team.jdoe).status == IdentityStatus.LOCKED

    reason = {"reason": "called the person: typos after holiday"}
    unlocked = officer.post(f"{BASE}/{team.jdoe}/unlock", reason)
    assert unlocked.status_code == 200, unlocked.get_data(as_text=True)
    assert (unlocked.get_json()["failed_attempts"], unlocked.get_json()["locked_at"]) == (0, None)
    [cleared] = events(services, "identity:lockout:cleared")
    assert (cleared.actor_id, cleared.reason) == (team.officer, reason["reason"])
    assert json_login(app.test_client(), "jdoe").status_code == 201
    problem(officer.post(f"{BASE}/{team.jdoe}/unlock", reason), 409, "conflict")  # not locked


@pytest.mark.req("CMP-2")
def test_password_reset_answers_no_password_and_stops_the_old_one(
    app: Flask, services: Services, clock: FrozenClock, team: Team
) -> None:
    officer = sign_in(app, "sam")
    reset = officer.post(f"{BASE}/{team.jdoe}/password-reset", {"reason": "forgot it"})
    assert reset.status_code == 200, reset.get_data(as_text=True)
    assert set(reset.get_json()) == {"delivery", "expires_at", "sent_to"}
    expires_at = datetime.fromisoformat(reset.get_json()["expires_at"])
    assert expires_at == clock.now() + timedelta(minutes=60)  # reset_link_minutes
    assert len(events(services, "credential:password:reset")) == 1
    problem(json_login(app.test_client(), "jdoe"), 401, "invalid-credentials")  # old one gone

    own = officer.post(f"{BASE}/{team.officer}/password-reset", {"reason": "mine"})
    problem(own, 403, "forbidden")
    auditor = sign_in(app, "eve")
    problem(auditor.post(f"{BASE}/{team.jdoe}/password-reset", {"reason": "x"}), 403, "forbidden")


@pytest.mark.req("UNQ-1")
def test_rehire_gives_the_person_their_own_identity_back(
    app: Flask, services: Services, team: Team
) -> None:
    admin = sign_in(app, "ada")
    early = problem(admin.post(f"{BASE}/{team.jdoe}/rehire", {"reason": "back"}), 409, "conflict")
    assert early["field"] == "status"
    admin.post(f"{BASE}/{team.jdoe}/status", {"status": "deactivated", "reason": "left"})
    stuck = admin.post(f"{BASE}/{team.jdoe}/status", {"status": "active", "reason": "oops"})
    problem(stuck, 409, "conflict")  # deactivated returns only through rehire

    rehired = admin.post(f"{BASE}/{team.jdoe}/rehire", {"reason": "returned to QA"})
    assert rehired.status_code == 200, rehired.get_data(as_text=True)
    assert (rehired.get_json()["id"], rehired.get_json()["status"]) == (
        team.jdoe,
        "pending_verification",
    )
    [event] = events(services, "identity:status:pending-verification")
    assert event.reason == "returned to QA"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("status", {"status": "suspended"}, "reason"),
        ("status", {"status": "suspended", "reason": ""}, "reason"),
        ("status", {"status": "retired", "reason": "x"}, "status"),
        ("status", {"status": "suspended", "reason": "r" * 2001}, "reason"),
        ("unlock", {"reason": "x", "extra": 1}, "extra"),
        ("verification", {"evidence_type": "e" * 65}, "evidence_type"),
        ("password-reset", {"reason": 42}, "reason"),
        ("rehire", [], "(body)"),
    ],
)
def test_bad_bodies_name_the_field_and_change_nothing(
    app: Flask, services: Services, team: Team, path: str, body: Any, field: str
) -> None:
    admin = sign_in(app, "sam")  # security officer: allowed on verification, reset, unlock
    if path in ("status", "rehire"):
        admin = sign_in(app, "ada")
    before = len(events(services, "identity:status:suspended"))
    answer = problem(admin.post(f"{BASE}/{team.jdoe}/{path}", body), 422, "invalid-request")
    assert field in [error["field"] for error in answer["errors"]]
    assert load(services, team.jdoe).status == IdentityStatus.PENDING_VERIFICATION
    assert len(events(services, "identity:status:suspended")) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NEW_PERSON, "username": "u" * 65}, "username"),
        ({**NEW_PERSON, "printed_name": "n" * 201}, "printed_name"),
        ({**NEW_PERSON, "email": "e" * 250 + "@x.io"}, "email"),
        ({**NEW_PERSON, "roles": ["admin"] * 5}, "roles"),
        ({k: v for k, v in NEW_PERSON.items() if k != "printed_name"}, "printed_name"),
    ],
)
def test_bad_new_identity_names_the_field(
    app: Flask, services: Services, team: Team, body: dict[str, Any], field: str
) -> None:
    before = identity_count(services)
    answer = problem(sign_in(app, "ada").post(BASE, body), 422, "invalid-request")
    assert [error["field"] for error in answer["errors"]] == [field]
    assert identity_count(services) == before


def test_non_json_body_is_refused(app: Flask, services: Services, team: Team) -> None:
    admin = sign_in(app, "ada")
    before = identity_count(services)
    for response in (
        admin.client.post(BASE, data="username=x", headers={"X-CSRF-Token": admin.csrf}),
        admin.post(BASE, None, data=b"{not json", content_type="application/json"),
    ):
        answer = problem(response, 422, "invalid-request")
        assert answer["detail"] == "the request body must be a JSON object"
    assert identity_count(services) == before


def test_unknown_identity_is_a_404_problem(app: Flask, team: Team) -> None:
    admin = sign_in(app, "ada")
    missing = "00000000-0000-0000-0000-000000000000"
    problem(admin.get(f"{BASE}/{missing}"), 404, "not-found")
    body = {"status": "suspended", "reason": "x"}
    answer = problem(admin.post(f"{BASE}/{missing}/status", body), 404, "not-found")
    assert missing in answer["detail"]
