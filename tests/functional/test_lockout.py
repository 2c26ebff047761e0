"""Lockout: exact counts under concurrency, alerts, unlock, unknown usernames (LOCK-1..3)."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from idgov.alerts.models import Alert, AlertDelivery, AuthFailure
from idgov.audit.models import AuditEvent
from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.errors import (
    Conflict,
    Forbidden,
    InvalidCredentials,
    InvalidRequest,
    Locked,
)
from idgov.identity.creation import NewIdentity
from idgov.identity.models import Identity, IdentityStatus
from idgov.wiring import Services
from tests.functional.hash_gate import hash_gate
from tests.harness.database import TEST_DB_ENV

FAST = {"argon2_time_cost": 1, "argon2_memory_kib": 8192, "argon2_parallelism": 1}
PASSWORD = "granite-kettle-orbit"


@dataclass(frozen=True)
class Org:
    officer: str
    manager: str
    person: str


@pytest.fixture
def org(services: Services) -> Org:
    with transaction(services.sessions) as session:
        services.policies.change(session, "password", FAST, "fast tests", "tests")
        services.policies.change(
            session, "alerting", {"security_emails": ["soc@example.test"]}, "tests", "tests"
        )
        new = services.identities.create
        officer = new(
            session,
            NewIdentity("sam", "Sam Secure", "sam@example.test", roles=("security_officer",)),
        )
        manager = new(session, NewIdentity("mia", "Mia Manager", "mia@example.test"))
        person = new(
            session, NewIdentity("jdoe", "Jane Doe", "jane@example.test", manager_id=manager.id)
        )
        services.identities.record_verification(session, person, officer, "badge")
        services.passwords.set_initial(session, person, PASSWORD)
    return Org(officer.id, manager.id, person.id)


def attempt(
    services: Services,
    password: str,
    *,
    username: str = "jdoe",
    channel: str = "login",
    source: str = "192.0.2.10",
) -> str:
    try:
        services.auth.authenticate(username, password, channel=channel, source=source)  # type: ignore[arg-type]
    except Locked:
        return "locked"
    except InvalidCredentials:
        return "refused"
    return "ok"


def person(services: Services, org: Org) -> Identity:
    with services.sessions() as session:
        found = session.get(Identity, org.person)
        assert found is not None
        return found


def count(services: Services, model: type, *conditions: object) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)


@pytest.mark.req("LOCK-1")
def test_locks_at_exactly_n_consecutive_failures(services: Services, org: Org) -> None:
    assert [attempt(services, "wrong") for _ in range(4)] == ["refused"] * 4
    assert person(services, org).status == IdentityStatus.ACTIVE
    assert attempt(services, "wrong") == "locked"
    locked = person(services, org)
    assert (locked.status, locked.failed_attempts) == (IdentityStatus.LOCKED, 5)
    assert attempt(services, PASSWORD) == "locked"  # the right password does not help


@pytest.mark.req("LOCK-1")
def test_success_restarts_the_count_and_signing_failures_count_with_login(
    services: Services, org: Org
) -> None:
    for _ in range(4):
        attempt(services, "wrong")
    assert attempt(services, PASSWORD) == "ok"
    assert person(services, org).failed_attempts == 0
    results = [attempt(services, "wrong", channel=c) for c in ("login", "signing") * 2]
    assert results == ["refused"] * 4
    assert attempt(services, "wrong", channel="signing") == "locked"


@pytest.mark.req("LOCK-1")
@pytest.mark.req("ALERT-1")
def test_lock_is_audited_and_alerted_once_to_security_and_manager(
    services: Services, org: Org
) -> None:
    for _ in range(7):
        attempt(services, "wrong")
    assert count(services, Alert, Alert.kind == "lockout") == 1
    with services.sessions() as session:
        recipients = set(session.scalars(select(AlertDelivery.recipient)))
        lock_events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "identity:status:locked")
        ).all()
    assert recipients == {"soc@example.test", "mia@example.test"}
    assert len(lock_events) == 1
    assert '"failed_attempts":5' in lock_events[0].new_values
    locked = person(services, org)
    assert locked.attempts_while_locked == 2  # attempts while locked are counted and reported
    assert count(services, AuditEvent, AuditEvent.action == "auth:attempt:while-locked") == 2


@pytest.mark.req("LOCK-1")
def test_fifty_concurrent_wrong_attempts_lock_exactly_once(services: Services, org: Org) -> None:
    attempts = 50
    barrier = threading.Barrier(attempts)
    outcomes: list[str] = []

    def wrong() -> None:
        barrier.wait()
        outcomes.append(attempt(services, "wrong"))

    threads = [threading.Thread(target=wrong) for _ in range(attempts)]
    # 50 hashes at once in one process: more than the per-process hash cap lets through in
    # its short wait on a busy machine (tests/functional/test_throttling.py proves the cap);
    # this test is about the count, so every attempt gets its slot.
    with hash_gate(attempts, 60.0):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    locked = person(services, org)
    assert len(outcomes) == attempts
    assert locked.status == IdentityStatus.LOCKED
    # Every attempt counted exactly once: before the lock, or while locked.
    assert locked.failed_attempts + locked.attempts_while_locked == attempts
    assert outcomes.count("refused") == 4  # the first four; all others answer "locked"
    assert count(services, Alert, Alert.kind == "lockout") == 1
    assert count(services, AuditEvent, AuditEvent.action == "identity:status:locked") == 1
    assert attempt(services, PASSWORD) == "locked"
    assert services.verifier.verify().ok


@pytest.mark.req("LOCK-2")
def test_unlock_needs_a_security_officer_and_a_reason(services: Services, org: Org) -> None:
    for _ in range(5):
        attempt(services, "wrong")
    with transaction(services.sessions) as session:
        locked, officer, manager = (
            session.get(Identity, i) for i in (org.person, org.officer, org.manager)
        )
        assert locked and officer and manager  # noqa: PT018 - narrows the types
        with pytest.raises(Forbidden):
            services.lockout.unlock(session, locked, manager, "not an officer")
        with pytest.raises(InvalidRequest):
            services.lockout.unlock(session, locked, officer, " ")
        services.lockout.unlock(session, locked, officer, "confirmed by phone it was her")
        with pytest.raises(Conflict):
            services.lockout.unlock(session, locked, officer, "twice")
    assert attempt(services, PASSWORD) == "ok"
    with services.sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "identity:lockout:cleared")
        ).one()
    assert event.reason == "confirmed by phone it was her"


@pytest.mark.req("LOCK-2")
def test_timed_unlock_lifts_the_lock_and_is_alerted(
    services: Services, org: Org, clock: FrozenClock
) -> None:
    with transaction(services.sessions) as session:
        services.policies.change(session, "lockout", {"timed_unlock_minutes": 30}, "pilot", "t")
    for _ in range(5):
        attempt(services, "wrong")
    clock.advance(timedelta(minutes=29))
    assert attempt(services, PASSWORD) == "locked"
    clock.advance(timedelta(minutes=2))
    assert attempt(services, PASSWORD) == "ok"
    assert count(services, Alert, Alert.kind == "timed-unlock") == 1


@pytest.mark.req("LOCK-3")
def test_unknown_username_is_answered_like_a_known_one(services: Services, org: Org) -> None:
    known = [attempt(services, "wrong") for _ in range(5)]
    unknown = [attempt(services, "wrong", username="nobody") for _ in range(5)]
    assert known == unknown == ["refused"] * 4 + ["locked"]
    with pytest.raises(InvalidCredentials) as a:
        services.auth.authenticate("ghost", "x", channel="login", source=None)
    with transaction(services.sessions) as session:
        services.identities.transition(
            session, session.get(Identity, org.officer), "suspended", "t"
        )
    with pytest.raises(InvalidCredentials) as b:
        services.auth.authenticate("sam", "x", channel="login", source=None)
    assert (a.value.detail, a.value.status) == (b.value.detail, b.value.status)
    assert count(services, AuthFailure, AuthFailure.identity_id.is_(None)) == 6


@pytest.mark.req("LOCK-3")
@pytest.mark.req("ALERT-1")
def test_attack_patterns_raise_one_alert_each(services: Services, org: Org) -> None:
    with transaction(services.sessions) as session:
        services.policies.change(
            session,
            "lockout",
            {"unknown_username_threshold": 3, "source_distinct_usernames_threshold": 4},
            "tests",
            "tests",
        )
    for name in ("a1", "a2", "a3", "a4", "a5"):
        attempt(services, "guess", username=name, source="198.51.100.9")
    assert count(services, Alert, Alert.kind == "attack-unknown-usernames") == 1
    assert count(services, Alert, Alert.kind == "attack-source") == 1
    with services.sessions() as session:
        alert = session.scalars(select(Alert).where(Alert.kind == "attack-source")).one()
    assert alert.source_address == "198.51.100.9"
    assert '"distinct_usernames":4' in alert.details


@pytest.mark.req("LOCK-3")
@pytest.mark.parametrize("username", [None, 42, "x" * 5000, "bad name", "\x00", "é" * 70])
def test_malformed_usernames_are_refused_like_wrong_passwords(
    services: Services, org: Org, username: object
) -> None:
    assert attempt(services, "x", username=username) == "refused"  # type: ignore[arg-type]


@pytest.mark.req("LOCK-1")
@pytest.mark.skipif(not os.environ.get(TEST_DB_ENV), reason="row locks are PostgreSQL's")
def test_an_attempt_locks_the_identity_before_the_audit_head(services: Services, org: Org) -> None:
    """Lock order, row then chain head: an attempt that raises an attack alert (an audit
    append) before it counts the failure must not hold the head while it waits for the
    identity's row, or two concurrent attempts deadlock (seen in the login storm)."""
    source = "203.0.113.7"
    with transaction(services.sessions) as session:
        lowered = {"source_distinct_usernames_threshold": 2}
        services.policies.change(session, "lockout", lowered, "tests", "tests")
    attempt(services, "guess", username="nobody", source=source)  # one name from the source
    outcomes: list[str] = []
    with services.sessions() as holder:
        holder.execute(
            select(Identity.id).where(Identity.id == org.person).with_for_update(key_share=True)
        )
        second = threading.Thread(
            target=lambda: outcomes.append(attempt(services, "wrong", source=source))
        )
        second.start()
        try:
            _wait_for_a_lock_wait(services)
            with services.sessions() as prober:
                head = text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE NOWAIT")
                prober.execute(head)  # LockNotAvailable if the waiting attempt held the head
                prober.rollback()
        finally:
            holder.rollback()
            second.join(30)
    assert outcomes == ["refused"]
    assert count(services, Alert, Alert.kind == "attack-source") == 1
    assert services.verifier.verify().ok


def _wait_for_a_lock_wait(services: Services) -> None:
    """Until a backend of this database waits for a lock (the second attempt, on the row)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with services.sessions() as session:
            if session.scalar(waiting):
                return
        time.sleep(0.05)
    raise AssertionError("the second attempt never waited for the identity's row")
