"""Local passwords on the real database: argon2id, history, aging, resets (PWD-1..4, CMP-2)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import pairwise

import pytest
from argon2 import extract_parameters
from sqlalchemy import func, select

from idgov.alerts.models import Alert, AlertDelivery
from idgov.audit.models import AuditEvent
from idgov.clock import FrozenClock
from idgov.config import PolicySettings
from idgov.db import transaction
from idgov.errors import (
    Conflict,
    Forbidden,
    InvalidCredentials,
    InvalidRequest,
    UnprocessableRequest,
)
from idgov.identity.creation import NewIdentity
from idgov.providers.local import CredentialStatus
from idgov.providers.models import LocalCredential, PasswordHistoryEntry
from idgov.wiring import Services, build_services
from idgov.worker import Worker, scheduled_jobs
from tests.functional.people import temporary_password

# Cheap argon2 for tests (the policy floor); production defaults are t=3, m=64 MiB, p=4.
FAST = {"argon2_time_cost": 1, "argon2_memory_kib": 8192, "argon2_parallelism": 1}
FIRST = "granite-kettle-orbit"
SECOND = "velvet-harbor-quartz"


@dataclass(frozen=True)
class People:
    admin: str
    person: str


def tune(services: Services, **values: object) -> None:
    with transaction(services.sessions) as session:
        services.policies.change(session, "password", values, "test settings", "tests")


def enrol(services: Services) -> People:
    tune(services, **FAST)
    with transaction(services.sessions) as session:
        admin = services.identities.create(
            session, NewIdentity("ada.admin", "Ada Admin", "ada@example.test", roles=("admin",))
        )
        person = services.identities.create(
            session, NewIdentity("jdoe", "Jane Doe", "jane@example.test")
        )
        services.identities.record_verification(session, person, admin, "badge")
        services.passwords.set_initial(session, person, FIRST)
    return People(admin.id, person.id)


@pytest.fixture
def people(services: Services) -> People:
    return enrol(services)


def verify(services: Services, identity_id: str, password: object) -> bool:
    with transaction(services.sessions) as session:
        return services.passwords.verify(
            session, services.identities.get(session, identity_id), password
        )


def change(services: Services, identity_id: str, current: object, new: object) -> None:
    with transaction(services.sessions) as session:
        identity = services.identities.get(session, identity_id)
        services.passwords.change(session, identity, current, new)


def status(services: Services, identity_id: str) -> CredentialStatus:
    with services.sessions() as session:
        return services.passwords.status(session, services.identities.get(session, identity_id))


def stored_hash(services: Services, identity_id: str) -> str:
    with services.sessions() as session:
        credential = session.get(LocalCredential, identity_id)
        assert credential is not None
        return credential.password_hash


def events(services: Services, action: str) -> list[AuditEvent]:
    with services.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def all_audit_text(services: Services) -> str:
    with services.sessions() as session:
        rows = session.execute(select(AuditEvent.old_values, AuditEvent.new_values)).all()
    return " ".join(f"{old} {new}" for old, new in rows)


@pytest.mark.req("PWD-1")
def test_an_argon2id_phc_string_is_stored_never_the_password(
    services: Services, people: People
) -> None:
    hashed = stored_hash(services, people.person)
    assert hashed.startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    assert FIRST not in hashed
    with services.sessions() as session:
        kept = session.scalars(select(PasswordHistoryEntry.password_hash)).all()
    assert kept == [hashed]
    assert verify(services, people.person, FIRST)
    assert not verify(services, people.person, SECOND)
    assert FIRST not in all_audit_text(services)
    assert len(events(services, "credential:password:set")) == 1


@pytest.mark.req("PWD-1")
def test_raised_parameters_rehash_on_the_next_successful_verify(
    services: Services, people: People
) -> None:
    tune(services, argon2_time_cost=4)
    assert not verify(services, people.person, SECOND)
    assert extract_parameters(stored_hash(services, people.person)).time_cost == 1
    assert verify(services, people.person, FIRST)
    upgraded = stored_hash(services, people.person)
    assert extract_parameters(upgraded).time_cost == 4
    assert verify(services, people.person, FIRST)
    assert stored_hash(services, people.person) == upgraded  # once only
    [event] = events(services, "credential:password:rehashed")
    assert '"time_cost":1' in event.old_values
    assert '"time_cost":4' in event.new_values
    assert "$argon2" not in event.new_values
    with services.sessions() as session:
        assert session.scalars(select(PasswordHistoryEntry.password_hash)).all() == [upgraded]
    tune(services, argon2_time_cost=2)  # lowered: a stronger hash is never weakened
    assert verify(services, people.person, FIRST)
    assert stored_hash(services, people.person) == upgraded


@pytest.mark.req("PWD-2")
def test_the_last_n_passwords_are_refused_and_older_ones_allowed(
    services: Services, clock: FrozenClock, people: People
) -> None:
    tune(services, history_count=3)
    chain = [FIRST, "amber-lantern-fjord", "cobalt-meadow-piano", "willow-engine-sparrow"]
    for current, new in pairwise(chain):
        clock.advance(timedelta(days=1))
        change(services, people.person, current, new)
    clock.advance(timedelta(days=1))
    for recent in chain[1:]:  # the current one and the two before it: the last 3
        with pytest.raises(UnprocessableRequest, match="last 3 passwords") as error:
            change(services, people.person, chain[-1], recent)
        assert error.value.extensions["field"] == "new_password"
    change(services, people.person, chain[-1], FIRST)  # the fourth back is allowed again
    assert verify(services, people.person, FIRST)
    assert len(events(services, "credential:password:changed")) == 4


@pytest.mark.req("PWD-4")
def test_minimum_age_refuses_a_second_change_within_a_day(
    services: Services, clock: FrozenClock, people: People
) -> None:
    clock.advance(timedelta(days=1))
    change(services, people.person, FIRST, SECOND)
    clock.advance(timedelta(hours=23))
    with pytest.raises(Conflict, match="less than 1 day") as error:
        change(services, people.person, SECOND, "amber-lantern-fjord")
    assert error.value.extensions["field"] == "new_password"
    assert verify(services, people.person, SECOND)
    clock.advance(timedelta(hours=1))
    change(services, people.person, SECOND, "amber-lantern-fjord")
    assert verify(services, people.person, "amber-lantern-fjord")


@pytest.mark.req("PWD-4")
def test_a_change_needs_the_current_password_and_a_good_new_one(
    services: Services, clock: FrozenClock, people: People
) -> None:
    clock.advance(timedelta(days=2))
    with pytest.raises(InvalidCredentials):
        change(services, people.person, SECOND, "amber-lantern-fjord")
    for bad, words in [
        ("short1!", "too short"),
        ("Password12345!", "blocklist"),
        ("jane-kettle-orbit", "username or a part of the name"),
    ]:
        with pytest.raises(UnprocessableRequest, match=words) as error:
            change(services, people.person, FIRST, bad)
        assert error.value.extensions["field"] == "new_password"
        assert bad not in error.value.detail
    assert verify(services, people.person, FIRST)


def alerts_to(services: Services) -> list[tuple[str, str, str]]:
    with services.sessions() as session:
        rows = session.execute(
            select(Alert.summary, AlertDelivery.channel, AlertDelivery.recipient)
            .join(AlertDelivery, AlertDelivery.alert_id == Alert.id)
            .where(Alert.kind == "password-expiry-warning")
            .order_by(Alert.raised_at)
        ).all()
    return [(summary, channel, recipient) for summary, channel, recipient in rows]


@pytest.mark.req("PWD-3")
def test_expiry_warnings_at_14_7_and_1_days_once_each_then_expiry(
    services: Services, clock: FrozenClock, people: People
) -> None:
    with transaction(services.sessions) as session:
        services.policies.change(
            session, "alerting", {"security_emails": ["soc@example.test"]}, "tests", "tests"
        )
    [job] = [job for job in scheduled_jobs(services) if job.name == "password-aging"]
    worker = Worker(services, jobs=[job])
    start = clock.now()
    for day in (75, 76, 77, 83, 83, 89, 89):
        clock.advance(start + timedelta(days=day, hours=1) - clock.now())
        worker.run_once()
    assert alerts_to(services) == [
        ("Your idgov password expires in 14 days", "email", "jane@example.test"),
        ("Your idgov password expires in 7 days", "email", "jane@example.test"),
        ("Your idgov password expires in 1 day", "email", "jane@example.test"),
    ]
    with services.sessions() as session:
        [severity] = session.scalars(select(func.distinct(Alert.severity))).all()
    assert severity == "info"
    clock.advance(start + timedelta(days=90) - clock.now())
    worker.run_once()
    assert len(alerts_to(services)) == 3
    expired = status(services, people.person)
    assert (expired.expired, expired.must_change, expired.can_sign) == (True, True, False)
    assert verify(services, people.person, FIRST)  # still good for signing in to change it
    change(services, people.person, FIRST, SECOND)  # no minimum age for an expired password
    fresh = status(services, people.person)
    assert (fresh.expired, fresh.must_change, fresh.days_left) == (False, False, 90)


@pytest.fixture
def nist(services: Services, clock: FrozenClock) -> Iterator[Services]:
    profile = PolicySettings(profile="nist-800-63b")
    built = build_services(services.settings.model_copy(update={"policy": profile}), clock)
    yield built
    built.engine.dispose()


@pytest.mark.req("PWD-3")
@pytest.mark.req("PWD-4")
def test_nist_profile_needs_15_characters_and_never_expires(
    nist: Services, clock: FrozenClock
) -> None:
    people = enrol(nist)
    clock.advance(timedelta(days=1))
    with pytest.raises(UnprocessableRequest, match="at least 15 characters"):
        change(nist, people.person, FIRST, "x7#kQ2!mZ9ab")
    change(nist, people.person, FIRST, "x7#kQ2!mZ9ab-zz")
    change(nist, people.person, "x7#kQ2!mZ9ab-zz", SECOND)  # no minimum age either
    clock.advance(timedelta(days=3650))
    with transaction(nist.sessions) as session:
        assert nist.password_aging.run(session) == 0
    current = status(nist, people.person)
    assert (current.expired, current.expires_at, current.can_sign) == (False, None, True)


@pytest.mark.req("CMP-2")
def test_reset_stops_the_password_and_the_owner_sets_one_that_can_sign(
    services: Services, clock: FrozenClock, people: People
) -> None:
    with transaction(services.sessions) as session:
        admin = services.identities.get(session, people.admin)
        target = services.identities.get(session, people.person)
        issued = services.password_setups.reset(session, target, admin, "forgot it, ticket 42")
    assert (issued.delivery, issued.expires_at) == ("email", clock.now() + timedelta(minutes=60))
    assert not verify(services, people.person, FIRST)  # the old password stops at once
    assert status(services, people.person).can_sign is False
    [event] = events(services, "credential:password:reset")
    assert event.reason == "forgot it, ticket 42"
    assert people.admin in event.new_values
    token = services.setup_links.token(json.loads(event.new_values)["setup_id"])
    assert token not in all_audit_text(services)
    with transaction(services.sessions) as session:
        services.password_setups.complete(session, token, SECOND)
    current = status(services, people.person)
    assert (current.temporary, current.must_change, current.can_sign) == (False, False, True)
    assert verify(services, people.person, SECOND)


@pytest.mark.req("CMP-2")
def test_a_temporary_password_expires(
    services: Services, clock: FrozenClock, people: People
) -> None:
    temporary = temporary_password(services, people.person)
    clock.advance(timedelta(hours=72))
    assert not verify(services, people.person, temporary)
    assert status(services, people.person).expired
    with pytest.raises(InvalidCredentials):
        change(services, people.person, temporary, SECOND)


@pytest.mark.req("CMP-2")
def test_reset_refuses_self_service_no_reason_and_no_authority(
    services: Services, people: People
) -> None:
    with transaction(services.sessions) as session:
        admin = services.identities.get(session, people.admin)
        target = services.identities.get(session, people.person)
        with pytest.raises(Forbidden, match="own password"):
            services.password_setups.reset(session, admin, admin, "I forgot mine")
        with pytest.raises(InvalidRequest, match="reason") as error:
            services.password_setups.reset(session, target, admin, "  ")
        assert error.value.extensions["field"] == "reason"
        with pytest.raises(Forbidden, match="admin or a security officer"):
            services.password_setups.reset(session, admin, target, "helping out")
    assert events(services, "credential:password:reset") == []
    assert verify(services, people.person, FIRST)


@pytest.mark.req("PWD-4")
@pytest.mark.parametrize(
    "bad",
    [
        "x" * 129,
        "kettle-" * 2_000_000,
        None,
        12345678901234,
        b"granite-kettle-orbit",
        "granite-kettle\udc80-orbit",
    ],
    ids=["over-long", "megabytes", "none", "int", "bytes", "lone-surrogate"],
)
def test_bad_passwords_are_refused_cleanly(
    services: Services, clock: FrozenClock, people: People, bad: object
) -> None:
    before = stored_hash(services, people.person)
    assert not verify(services, people.person, bad)
    with services.sessions() as session:
        assert not services.passwords.verify_dummy(bad, session)
    clock.advance(timedelta(days=2))
    with pytest.raises(UnprocessableRequest) as error:
        change(services, people.person, FIRST, bad)
    assert error.value.extensions["field"] == "new_password"
    with pytest.raises(InvalidCredentials):
        change(services, people.person, bad, SECOND)
    assert stored_hash(services, people.person) == before


def test_unknown_identities_check_against_the_dummy(services: Services, people: People) -> None:
    with services.sessions() as session:
        prepared = services.passwords.prepare(session, None)
        assert not services.passwords.verify_dummy(FIRST, session)
    assert not services.passwords.check(prepared, FIRST)
    assert not services.passwords.check(object(), FIRST)


@pytest.mark.req("PWD-1")
@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"min_length": 3}, "min_length"),
        ({"history_count": 99}, "history_count"),
        ({"argon2_memory_kib": 1024}, "argon2_memory_kib"),
        ({"argon2_time_cost": 0}, "argon2_time_cost"),
        ({"max_length": 5000}, "max_length"),
        ({"temporary_valid_hours": 0}, "temporary_valid_hours"),
        ({"max_age_days": 0}, "max_age_days"),
    ],
)
def test_password_policy_values_out_of_range_name_the_field(
    services: Services, values: dict[str, object], field: str
) -> None:
    with pytest.raises(UnprocessableRequest, match=field) as error:
        tune(services, **values)
    assert [e["field"] for e in error.value.extensions["errors"]] == [field]
    with services.sessions() as session:
        assert services.policies.version(session, "password") == 0
