"""Policies are versioned with a reason, audited, and shown as in force at any past time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from idgov.audit.models import AuditEvent
from idgov.clock import FrozenClock
from idgov.config import PolicySettings
from idgov.db import transaction
from idgov.errors import UnprocessableRequest
from idgov.policies.documents import LockoutPolicy, PasswordPolicy
from idgov.wiring import Services, build_services


def change(services: Services, kind: str, reason: str = "tighten", **values: object) -> None:
    with transaction(services.sessions) as session:
        services.policies.change(session, kind, values, reason, "Ada Admin")


@pytest.mark.req("CHG-1")
def test_change_is_versioned_audited_and_shown_at_a_past_time(
    services: Services, clock: FrozenClock
) -> None:
    before = clock.now()
    clock.advance(timedelta(hours=1))
    change(services, "lockout", "after the March incident", max_failures=3)
    clock.advance(timedelta(hours=1))
    change(services, "lockout", "relaxed again", max_failures=4)
    with services.sessions() as session:
        assert services.policies.current(session, LockoutPolicy).max_failures == 4
        assert services.policies.at(session, LockoutPolicy, before).max_failures == 5
        then = before + timedelta(minutes=90)
        assert services.policies.at(session, LockoutPolicy, then).max_failures == 3
        assert services.policies.version(session, "lockout") == 2
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "policy:lockout:changed")
        ).first()
    assert event is not None
    assert event.reason == "after the March incident"
    assert '"max_failures":5' in event.old_values
    assert '"max_failures":3' in event.new_values


@pytest.mark.req("CHG-1")
@pytest.mark.parametrize(
    ("kind", "values", "field"),
    [
        ("password", {"min_length": 3}, "min_length"),
        ("password", {"history_count": 99}, "history_count"),
        ("lockout", {"max_failures": 0}, "max_failures"),
        ("session", {"idle_minutes": "soon"}, "idle_minutes"),
        ("password", {"bogus": 1}, "bogus"),
    ],
)
def test_out_of_range_values_name_the_field_and_change_nothing(
    services: Services, kind: str, values: dict[str, object], field: str
) -> None:
    with pytest.raises(UnprocessableRequest) as error:
        change(services, kind, **values)
    assert [e["field"] for e in error.value.extensions["errors"]] == [field]
    with services.sessions() as session:
        assert services.policies.version(session, kind) == 0


@pytest.mark.req("CHG-1")
def test_a_change_needs_a_reason(services: Services) -> None:
    with pytest.raises(UnprocessableRequest, match="reason"):
        change(services, "lockout", reason="  ", max_failures=3)


@pytest.mark.req("CHG-1")
def test_policy_history_cannot_be_rewritten(services: Services) -> None:
    change(services, "lockout", max_failures=3)
    with pytest.raises(DatabaseError, match="append-only"), services.engine.begin() as conn:
        conn.execute(text("UPDATE policy_versions SET reason = 'quietly'"))


@pytest.mark.req("PWD-3")
def test_profile_selects_the_password_baseline(services: Services) -> None:
    nist = build_services(
        services.settings.model_copy(update={"policy": PolicySettings(profile="nist-800-63b")})
    )
    try:
        with nist.sessions() as session:
            policy = nist.policies.current(session, PasswordPolicy)
    finally:
        nist.engine.dispose()
    assert (policy.profile, policy.max_age_days, policy.min_length) == ("nist-800-63b", None, 15)
    with services.sessions() as session:
        classic = services.policies.current(session, PasswordPolicy)
    assert (classic.max_age_days, classic.min_length, classic.history_count) == (90, 12, 12)
