"""Status changes that would break governance are refused (issue 17, findings 2 and 12): a
lock is released only by the security officer's unlock (LOCK-2); nobody suspends or
deactivates themself, the last active administrator or the last active security officer."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import select

from idgov.alerts.models import Alert
from idgov.db import transaction
from idgov.errors import Conflict
from idgov.identity.models import IdentityStatus, Role
from idgov.wiring import Services
from tests.functional.api_client import json_login, sign_in
from tests.functional.people import events, fast_hashing, load, person, problem

BASE = "/api/v1/identities"
STATUSES = ("active", "suspended", "deactivated")


@dataclass
class Team:
    ada: str  # admin, active
    bob: str  # admin, pending verification (signs in, holds the role, does not count)
    sam: str  # security officer, active
    jdoe: str  # active


def verify(services: Services, who: str, by: str) -> None:
    with transaction(services.sessions) as session:
        person, verifier = (
            services.identities.get(session, who),
            services.identities.get(session, by),
        )
        services.identities.record_verification(session, person, verifier, "employee-badge")


@pytest.fixture
def team(services: Services) -> Team:
    fast_hashing(services)
    team = Team(
        ada=person(services, "ada", roles=(Role.ADMIN,), name="Ada Admin"),
        bob=person(services, "bob", roles=(Role.ADMIN,), name="Bob Backup"),
        sam=person(services, "sam", roles=(Role.SECURITY_OFFICER,), name="Sam Secure"),
        jdoe=person(services, "jdoe", name="John Doe"),
    )
    verify(services, team.ada, team.sam)
    verify(services, team.sam, team.ada)
    verify(services, team.jdoe, team.sam)
    return team


@pytest.mark.req("LOCK-2")
def test_a_locked_person_is_released_only_by_the_unlock(
    app: Flask, services: Services, team: Team
) -> None:
    client = app.test_client()
    for _ in range(5):
        json_login(client, "jdoe", "not-the-password")
    assert load(services, team.jdoe).status == IdentityStatus.LOCKED
    admin = sign_in(app, "ada")
    before = len(events(services, "identity:status:active"))
    for status in STATUSES:
        body = {"status": status, "reason": "lift it"}
        refused = problem(admin.post(f"{BASE}/{team.jdoe}/status", body), 409, "conflict")
        assert "unlock" in refused["detail"]
    locked = load(services, team.jdoe)
    assert (locked.status, locked.failed_attempts) == (IdentityStatus.LOCKED, 5)
    assert len(events(services, "identity:status:active")) == before

    unlocked = sign_in(app, "sam").post(f"{BASE}/{team.jdoe}/unlock", {"reason": "called them"})
    assert unlocked.status_code == 200
    assert (unlocked.get_json()["status"], unlocked.get_json()["failed_attempts"]) == ("active", 0)
    assert len(events(services, "identity:lockout:cleared")) == 1
    with services.sessions() as session:
        alert = session.scalars(select(Alert).where(Alert.kind == "lockout")).one()
        assert alert.acknowledged_at is not None  # the unlock resolved it


@pytest.mark.req("ACC-2")
def test_nobody_suspends_or_deactivates_themself(
    app: Flask, services: Services, team: Team
) -> None:
    verify(services, team.bob, team.sam)  # two active admins: only the self rule refuses
    admin = sign_in(app, "ada")
    for status in ("suspended", "deactivated"):
        body = {"status": status, "reason": "testing"}
        refused = problem(admin.post(f"{BASE}/{team.ada}/status", body), 409, "conflict")
        assert "yourself" in refused["detail"]
    assert load(services, team.ada).status == IdentityStatus.ACTIVE


@pytest.mark.req("ACC-2")
def test_the_last_active_administrator_and_security_officer_stay(
    app: Flask, services: Services, team: Team
) -> None:
    bob = sign_in(app, "bob")  # an admin still pending verification
    for status in ("suspended", "deactivated"):
        body = {"status": status, "reason": "fuzzing"}
        last_admin = problem(bob.post(f"{BASE}/{team.ada}/status", body), 409, "conflict")
        assert (last_admin["role"], last_admin["field"]) == ("admin", "status")
        last_officer = problem(
            sign_in(app, "ada").post(f"{BASE}/{team.sam}/status", body), 409, "conflict"
        )
        assert last_officer["role"] == "security_officer"
    assert load(services, team.ada).status == IdentityStatus.ACTIVE
    assert load(services, team.sam).status == IdentityStatus.ACTIVE

    # With a second active administrator, the first may be suspended.
    verify(services, team.bob, team.sam)
    body = {"status": "suspended", "reason": "leave"}
    assert sign_in(app, "bob").post(f"{BASE}/{team.ada}/status", body).status_code == 200


@pytest.mark.req("ACC-2")
def test_role_changes_keep_an_active_administrator_and_officer(
    services: Services, team: Team
) -> None:
    for who, keep in ((team.ada, ("reviewer",)), (team.sam, ("admin",))):
        with transaction(services.sessions) as session, pytest.raises(Conflict) as refused:
            services.identities.set_roles(session, services.identities.get(session, who), keep, "x")
        assert refused.value.extensions["field"] == "roles"
    with services.sessions() as session:
        assert services.identities.roles(session, team.ada) == {"admin"}
        assert services.identities.roles(session, team.sam) == {"security_officer"}
    assert events(services, "identity:roles:changed") == []


@pytest.mark.req("ACC-2")
def test_two_admins_suspending_each_other_at_once_leave_one_active(
    services: Services, team: Team
) -> None:
    """Race-safe: the first change holds the administrators' rows until it commits; the
    second then counts it and is refused (PostgreSQL FOR UPDATE; SQLite's single writer)."""
    verify(services, team.bob, team.sam)
    first_locked, release = threading.Event(), threading.Event()
    outcomes: dict[str, str] = {}

    def suspend(target: str, actor: str, hold: bool) -> None:
        try:
            with transaction(services.sessions) as session:
                person = services.identities.get(session, target)
                by = services.identities.get(session, actor)
                services.identities.change_status(session, person, "suspended", "race", by)
                if hold:
                    first_locked.set()
                    release.wait(10)
            outcomes[target] = "suspended"
        except Conflict as refused:
            outcomes[target] = json.dumps(refused.extensions)

    first = threading.Thread(target=suspend, args=(team.bob, team.ada, True))
    first.start()
    assert first_locked.wait(10)
    second = threading.Thread(target=suspend, args=(team.ada, team.bob, False))
    second.start()
    second.join(0.5)  # blocked behind the first transaction's row locks
    release.set()
    first.join(10)
    second.join(10)
    assert outcomes[team.bob] == "suspended"
    assert '"role": "admin"' in outcomes[team.ada]
    assert load(services, team.ada).status == IdentityStatus.ACTIVE
