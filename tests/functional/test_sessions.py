"""SessionService: idle timeout, absolute lifetime, caps and revocation (ACC-3)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.errors import InvalidCredentials
from idgov.identity.models import Identity, IdentityStatus, Role
from idgov.policies.documents import LockoutPolicy
from idgov.sessions.models import WebSession
from idgov.sessions.services import StartedSession
from idgov.wiring import Services
from tests.functional.people import NEW_PASSWORD, PASSWORD, events, fast_hashing, person


@pytest.fixture(autouse=True)
def _cheap_hashes(services: Services) -> None:
    fast_hashing(services)


def start(services: Services, identity_id: str, **extra: bool) -> StartedSession:
    with transaction(services.sessions) as session:
        return services.web_sessions.start(session, identity_id, "192.0.2.7", **extra)


def resolve(services: Services, token: object) -> WebSession | None:
    with transaction(services.sessions) as session:
        return services.web_sessions.resolve(session, token)


def row(services: Services, token: str) -> WebSession:
    with services.sessions() as session:
        found = session.get(WebSession, hashlib.sha256(token.encode()).hexdigest())
        assert found is not None
        return found


def set_session_policy(services: Services, **changes: object) -> None:
    with transaction(services.sessions) as session:
        services.policies.change(session, "session", changes, reason="test", changed_by="test")


def test_only_the_token_hash_is_stored(services: Services) -> None:
    jdoe = person(services, "jdoe")
    started = start(services, jdoe)
    stored = row(services, started.token)
    assert stored.token_hash == hashlib.sha256(started.token.encode()).hexdigest()
    assert started.token not in {stored.token_hash, stored.csrf_token}
    assert stored.csrf_token == started.csrf_token
    assert stored.source_address == "192.0.2.7"
    assert stored.must_change_password is False
    (event,) = events(services, "session:web:started")
    for text in (event.new_values, event.old_values):
        assert started.token not in text
        assert started.csrf_token not in text
    assert json.loads(event.new_values)["session"] == stored.token_hash[:16]
    with services.sessions() as session:
        for value in session.execute(select(WebSession.__table__)).one():
            assert value != started.token


def test_resolve_refuses_unknown_and_malformed_tokens(services: Services) -> None:
    jdoe = person(services, "jdoe")
    started = start(services, jdoe)
    live = resolve(services, started.token)
    assert live is not None
    assert live.identity_id == jdoe
    for token in ("", "x" * 43, started.token + "x", "t" * 10_000, None, 42, ["a"]):
        assert resolve(services, token) is None


@pytest.mark.req("ACC-3")
def test_idle_session_expires_and_is_marked_revoked(services: Services, clock: FrozenClock) -> None:
    jdoe = person(services, "jdoe")
    started = start(services, jdoe)
    clock.advance(timedelta(minutes=14))
    assert resolve(services, started.token) is not None  # activity keeps it alive
    clock.advance(timedelta(minutes=14))
    assert resolve(services, started.token) is not None
    clock.advance(timedelta(minutes=15))
    assert resolve(services, started.token) is None
    stored = row(services, started.token)
    assert stored.revoke_reason == "idle"
    assert stored.revoked_at == clock.now()
    (event,) = events(services, "session:web:expired")
    assert event.reason == "idle timeout"
    clock.advance(timedelta(seconds=1))
    assert resolve(services, started.token) is None  # revoked stays revoked


@pytest.mark.req("ACC-3")
def test_idle_timeout_follows_the_policy_in_force(services: Services, clock: FrozenClock) -> None:
    jdoe = person(services, "jdoe")
    started = start(services, jdoe)
    set_session_policy(services, idle_minutes=5)
    clock.advance(timedelta(minutes=5))
    assert resolve(services, started.token) is None


@pytest.mark.req("ACC-3")
def test_absolute_lifetime_ends_an_active_session(services: Services, clock: FrozenClock) -> None:
    jdoe = person(services, "jdoe")
    started = start(services, jdoe)
    for _ in range(47):  # active every 10 minutes for 7 h 50 min
        clock.advance(timedelta(minutes=10))
        assert resolve(services, started.token) is not None
    clock.advance(timedelta(minutes=10))  # 8 hours after the start
    assert resolve(services, started.token) is None
    assert row(services, started.token).revoke_reason == "expired"
    (event,) = events(services, "session:web:expired")
    assert event.reason == "absolute lifetime reached"


@pytest.mark.req("ACC-3")
def test_shortened_absolute_lifetime_applies_to_running_sessions(
    services: Services, clock: FrozenClock
) -> None:
    jdoe = person(services, "jdoe")
    started = start(services, jdoe)
    set_session_policy(services, absolute_hours=1, idle_minutes=120)
    clock.advance(timedelta(minutes=59))
    assert resolve(services, started.token) is not None
    clock.advance(timedelta(minutes=1))
    assert resolve(services, started.token) is None


def test_last_seen_is_written_at_most_once_a_minute(services: Services, clock: FrozenClock) -> None:
    jdoe = person(services, "jdoe")
    started = start(services, jdoe)
    began = clock.now()
    clock.advance(timedelta(seconds=59))
    with services.sessions() as session:
        assert services.web_sessions.check(session, started.token).verdict == "live"
    assert resolve(services, started.token) is not None
    assert row(services, started.token).last_seen_at == began
    clock.advance(timedelta(seconds=1))
    with services.sessions() as session:
        assert services.web_sessions.check(session, started.token).verdict == "touch"
    assert resolve(services, started.token) is not None
    assert row(services, started.token).last_seen_at == clock.now()


@pytest.mark.req("ACC-3")
def test_cap_on_concurrent_sessions_revokes_the_oldest(
    services: Services, clock: FrozenClock
) -> None:
    set_session_policy(services, max_concurrent=2)
    jdoe, other = person(services, "jdoe"), person(services, "asmith")
    first = start(services, jdoe)
    clock.advance(timedelta(minutes=1))
    second = start(services, jdoe)
    theirs = start(services, other)
    clock.advance(timedelta(minutes=1))
    third = start(services, jdoe)
    assert resolve(services, first.token) is None
    assert row(services, first.token).revoke_reason == "cap"
    assert resolve(services, second.token) is not None
    assert resolve(services, third.token) is not None
    assert resolve(services, theirs.token) is not None  # other people are not affected
    with services.sessions() as session:
        assert services.web_sessions.live_count(session, jdoe) == 2
    (event,) = events(services, "session:web:revoked")
    assert event.reason == "cap"
    assert json.loads(event.new_values)["count"] == 1


@pytest.mark.req("ACC-3")
def test_no_cap_by_default(services: Services) -> None:
    jdoe = person(services, "jdoe")
    tokens = [start(services, jdoe).token for _ in range(5)]
    assert all(resolve(services, token) is not None for token in tokens)


def test_logout_ends_the_session(services: Services) -> None:
    jdoe = person(services, "jdoe")
    started, other = start(services, jdoe), start(services, jdoe)
    with transaction(services.sessions) as session:
        assert services.web_sessions.end(session, started.token) is True
    with transaction(services.sessions) as session:
        assert services.web_sessions.end(session, started.token) is False
    assert resolve(services, started.token) is None
    assert row(services, started.token).revoke_reason == "logout"
    assert resolve(services, other.token) is not None
    assert len(events(services, "session:web:ended")) == 1


@pytest.mark.req("ACC-3")
@pytest.mark.parametrize("status", [IdentityStatus.SUSPENDED, IdentityStatus.DEACTIVATED])
def test_suspension_and_deactivation_revoke_every_session(services: Services, status: str) -> None:
    jdoe = person(services, "jdoe")
    tokens = [start(services, jdoe).token for _ in range(2)]
    with transaction(services.sessions) as session:
        identity = session.get(Identity, jdoe)
        services.identities.transition(session, identity, status, "left the company")
    assert all(resolve(services, token) is None for token in tokens)
    assert {row(services, token).revoke_reason for token in tokens} == {status}
    (event,) = events(services, "session:web:revoked")
    assert json.loads(event.new_values)["count"] == 2


@pytest.mark.req("ACC-3")
def test_lock_revokes_every_session(services: Services) -> None:
    jdoe = person(services, "jdoe")
    started = start(services, jdoe)
    lockout = services.lockout
    policy = LockoutPolicy(max_failures=2)
    with transaction(services.sessions) as session:
        identity = session.get(Identity, jdoe)
        assert identity is not None
        lockout.count_failure(session, identity, policy, "198.51.100.9")
        assert lockout.count_failure(session, identity, policy, "198.51.100.9").locked_now
    assert resolve(services, started.token) is None
    assert row(services, started.token).revoke_reason == IdentityStatus.LOCKED


@pytest.mark.req("ACC-3")
def test_password_change_revokes_every_session(services: Services, clock: FrozenClock) -> None:
    jdoe = person(services, "jdoe")
    clock.advance(timedelta(days=2))  # past the minimum password age
    tokens = [start(services, jdoe).token for _ in range(2)]
    with transaction(services.sessions) as session:
        identity = session.get(Identity, jdoe)
        services.passwords.change(session, identity, PASSWORD, NEW_PASSWORD)
    assert all(resolve(services, token) is None for token in tokens)
    assert {row(services, token).revoke_reason for token in tokens} == {"password-change"}


@pytest.mark.req("ACC-3")
def test_administrator_reset_revokes_every_session(services: Services) -> None:
    jdoe = person(services, "jdoe")
    admin = person(services, "admin", roles=(Role.ADMIN,))
    started = start(services, jdoe)
    with transaction(services.sessions) as session:
        identity, officer = session.get(Identity, jdoe), session.get(Identity, admin)
        services.password_setups.reset(session, identity, officer, "forgot it")
    assert resolve(services, started.token) is None
    assert row(services, started.token).revoke_reason == "password-reset"


def test_failed_change_revokes_nothing(services: Services) -> None:
    jdoe = person(services, "jdoe")
    started = start(services, jdoe)
    with (
        pytest.raises(InvalidCredentials, match="current password"),
        transaction(services.sessions) as session,
    ):
        services.passwords.change(session, session.get(Identity, jdoe), "wrong", NEW_PASSWORD)
    assert resolve(services, started.token) is not None
