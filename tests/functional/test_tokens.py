"""TOTP tokens (RFC 6238): enrollment with an initial test, codes, periodic tests (TOK-1)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from idgov.alerts.models import Alert, AlertDelivery
from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.errors import Conflict, KeyUnavailable
from idgov.tokens.models import OtpToken, TokenTest
from idgov.tokens.secrets import SecretBox
from idgov.tokens.services import CodeRefused
from idgov.wiring import Services
from tests.functional.people import events, person
from tests.functional.totp import STEP, begin, code, enrolled, run_test, token, wrong_code


@pytest.fixture
def jdoe(services: Services) -> str:
    return person(services, "jdoe", name="Jane Doe")


def activate(services: Services, identity_id: str, token_id: str, value: str) -> OtpToken:
    with transaction(services.sessions) as session:
        identity = services.identities.get(session, identity_id)
        return services.tokens.complete_enrollment(session, identity, token_id, value)


def recorded_tests(services: Services, token_id: str) -> list[tuple[str, str, int | None]]:
    with services.sessions() as session:
        rows = session.scalars(select(TokenTest).where(TokenTest.token_id == token_id))
        return [(t.kind, t.result, t.drift_steps) for t in rows]


def alerts(services: Services, kind: str) -> list[Alert]:
    with services.sessions() as session:
        return list(session.scalars(select(Alert).where(Alert.kind == kind)))


@pytest.mark.req("TOK-1")
@pytest.mark.req("AUD-1")
def test_enrollment_completes_only_with_a_valid_code(
    services: Services, clock: FrozenClock, jdoe: str
) -> None:
    with transaction(services.sessions) as session:
        identity = services.identities.get(session, jdoe)
        started, uri, svg = services.tokens.begin_enrollment(session, identity, " phone ")
    assert uri.startswith("otpauth://totp/idgov:jdoe?")
    assert "issuer=idgov" in uri
    assert svg.startswith("<svg")
    assert started.serial.startswith("TOTP-")
    assert len(started.serial) == 13
    assert (started.status, started.label) == ("enrolling", "phone")
    secret = uri.split("secret=")[1].split("&")[0]

    with pytest.raises(CodeRefused) as wrong:
        activate(services, jdoe, started.id, code(secret, clock, 3))
    assert wrong.value.status == 422
    assert wrong.value.extensions["reason"] == "code-wrong"
    assert token(services, started.id).status == "enrolling"

    done = activate(services, jdoe, started.id, code(secret, clock, -1))
    assert done.status == "active"
    assert done.activated_at == clock.now()
    assert done.test_due_at == clock.now() + timedelta(days=90)
    assert recorded_tests(services, started.id) == [
        ("initial", "fail", None),
        ("initial", "pass", -1),
    ]
    with pytest.raises(Conflict):
        activate(services, jdoe, started.id, code(secret, clock, 1))
    audited = [e.action for e in events(services, "token:totp:activated")]
    assert audited == ["token:totp:activated"]
    new = json.loads(events(services, "token:totp:activated")[0].new_values)
    assert new["drift_steps"] == -1
    assert secret not in json.dumps(new)


@pytest.mark.req("TOK-1")
def test_the_secret_is_stored_encrypted_and_needs_the_passphrase(
    services: Services, jdoe: str
) -> None:
    token_id, secret = begin(services, jdoe)
    stored = token(services, token_id).secret
    assert secret.encode() not in stored
    assert len(stored) == 12 + len(secret) + 16  # nonce, ciphertext, GCM tag
    assert services.tokens._box.open(stored, token_id) == secret
    with pytest.raises(KeyUnavailable):
        SecretBox(lambda: b"another passphrase").open(stored, token_id)
    with pytest.raises(KeyUnavailable):  # sealed for another row: does not open
        services.tokens._box.open(stored, "another-token")


@pytest.mark.req("TOK-1")
def test_abandoned_enrollment_leaves_no_active_token(
    services: Services, clock: FrozenClock, jdoe: str
) -> None:
    token_id, secret = begin(services, jdoe)
    clock.advance(timedelta(hours=1, seconds=1))
    with pytest.raises(Conflict) as late:
        activate(services, jdoe, token_id, code(secret, clock))
    assert late.value.extensions["reason"] == "enrollment-expired"
    assert token(services, token_id).status == "enrolling"
    with services.sessions() as session:
        assert services.signatures._otp.holds_token(session, jdoe) is False


@pytest.mark.req("TOK-1")
def test_reused_and_out_of_window_codes_are_refused(
    services: Services, clock: FrozenClock, jdoe: str
) -> None:
    with transaction(services.sessions) as session:
        services.policies.change(
            session, "tokens", {"failed_tests_to_suspend": 5}, reason="t", changed_by="t"
        )
    token_id, secret = begin(services, jdoe)
    first = code(secret, clock)
    activate(services, jdoe, token_id, first)
    # The same code again, within its own window: refused (RFC 6238 5.2, no replay).
    assert run_test(services, jdoe, token_id, first) == "fail"
    clock.advance(STEP)
    assert run_test(services, jdoe, token_id, first) == "fail"  # older than the one used
    assert run_test(services, jdoe, token_id, code(secret, clock, 2)) == "fail"  # drift 1
    assert run_test(services, jdoe, token_id, code(secret, clock, 1)) == "pass"
    assert recorded_tests(services, token_id)[-1] == ("periodic", "pass", 1)
    assert token(services, token_id).failed_tests == 0
    with transaction(services.sessions) as session:
        services.policies.change(
            session,
            "tokens",
            {"drift_steps": 2, "failed_tests_to_suspend": 5},
            reason="slow clocks",
            changed_by="t",
        )
    clock.advance(STEP * 4)  # the last accepted code was one step ahead
    assert run_test(services, jdoe, token_id, code(secret, clock, -2)) == "pass"


@pytest.mark.req("TOK-1")
def test_periodic_test_pass_moves_the_due_date(
    services: Services, clock: FrozenClock, jdoe: str
) -> None:
    token_id, secret = enrolled(services, clock, jdoe)
    clock.advance(timedelta(days=80))
    assert run_test(services, jdoe, token_id, wrong_code(secret, clock)) == "fail"
    assert token(services, token_id).failed_tests == 1
    assert run_test(services, jdoe, token_id, code(secret, clock)) == "pass"
    found = token(services, token_id)
    assert found.test_due_at == clock.now() + timedelta(days=90)
    assert (found.last_tested_at, found.failed_tests) == (clock.now(), 0)
    tested = json.loads(events(services, "token:totp:tested")[-1].new_values)
    assert tested["result"] == "pass"


@pytest.mark.req("TOK-1")
@pytest.mark.req("ALERT-1")
def test_repeated_failures_suspend_the_token_and_alert_security(
    services: Services, clock: FrozenClock, jdoe: str
) -> None:
    token_id, secret = enrolled(services, clock, jdoe)
    wrong = wrong_code(secret, clock)
    assert [run_test(services, jdoe, token_id, wrong) for _ in range(3)] == ["fail"] * 3
    found = token(services, token_id)
    assert (found.status, found.failed_tests) == ("suspended", 3)
    (alert,) = alerts(services, "token-suspended")
    assert (alert.identity_id, alert.severity) == (jdoe, "high")
    assert found.serial in alert.summary
    assert [e.action for e in events(services, "token:totp:suspended")]
    with pytest.raises(Conflict):
        run_test(services, jdoe, token_id, code(secret, clock))


@pytest.mark.req("TOK-1")
def test_owners_are_reminded_once_before_the_test_is_due(
    services: Services, clock: FrozenClock, jdoe: str
) -> None:
    token_id, secret = enrolled(services, clock, jdoe)

    def remind() -> int:
        with transaction(services.sessions) as session:
            return services.token_reminders.run(session)

    clock.advance(timedelta(days=75))  # due in 15 days: not yet (remind_days_before 14)
    assert remind() == 0
    clock.advance(timedelta(days=1))
    assert remind() == 1
    assert remind() == 0
    (alert,) = alerts(services, "token-test-due")
    assert alert.severity == "info"
    with services.sessions() as session:
        deliveries = session.scalars(
            select(AlertDelivery).where(AlertDelivery.alert_id == alert.id)
        ).all()
        assert [(d.channel, d.recipient) for d in deliveries] == [("email", "jdoe@example.com")]
    assert run_test(services, jdoe, token_id, code(secret, clock)) == "pass"
    assert remind() == 0
    clock.advance(timedelta(days=77))
    assert remind() == 1  # the next due date gets its own reminder
    assert len(alerts(services, "token-test-due")) == 2
