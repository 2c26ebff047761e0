"""Signing with a TOTP token: the code as a component (CMP-1), overdue tests block (TOK-1)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from idgov.clients.models import HostClient
from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.errors import InvalidCredentials, Locked, NotEligible
from idgov.identity.models import IdentityStatus
from idgov.wiring import Services
from tests.functional.people import events, load
from tests.functional.signing import SOURCE, prepare, record, request, signer, verified
from tests.functional.totp import STEP, code, enrolled, run_test, token, wrong_code


@pytest.fixture
def host(services: Services) -> HostClient:
    return prepare(services)[0]


@pytest.fixture
def jdoe(services: Services, host: HostClient) -> str:
    with services.sessions() as session:
        admin = services.identities.by_username(session, "admin1")
    assert admin is not None
    return signer(services, "jdoe", admin.id, name="Jane Doe")


def policy(services: Services, kind: str, change: dict[str, object]) -> None:
    with transaction(services.sessions) as session:
        services.policies.change(session, kind, change, reason="test", changed_by="t")


@pytest.mark.req("CMP-1")
@pytest.mark.req("TOK-1")
def test_a_token_holder_signs_with_the_code_then_with_the_password_in_the_session(
    services: Services, clock: FrozenClock, host: HostClient, jdoe: str
) -> None:
    _token_id, secret = enrolled(services, clock, jdoe)

    with pytest.raises(InvalidCredentials) as missing:
        services.signatures.sign(request("jdoe"), host, SOURCE)
    assert missing.value.extensions["reason"] == "otp-required"

    first = services.signatures.sign(request("jdoe", otp=code(secret, clock)), host, SOURCE)
    authn = verified(services, first.signatures[0].token)["authn"]
    assert authn["components"] == ["username", "password", "otp"]
    assert authn["amr"] == ["pwd", "otp"]
    later = services.signatures.sign(
        request("jdoe", signing_session=first.session.id, record=record("SOP-2")), host, SOURCE
    )
    authn = verified(services, later.signatures[0].token)["authn"]
    assert authn["components"] == ["username", "password"]
    assert authn["signing_session"]["seq"] == 2


@pytest.mark.req("TOK-1")
@pytest.mark.req("LOCK-1")
def test_wrong_and_reused_codes_are_refused_and_count_toward_the_lock(
    services: Services, clock: FrozenClock, host: HostClient, jdoe: str
) -> None:
    _token_id, secret = enrolled(services, clock, jdoe)
    used = code(secret, clock)
    services.signatures.sign(request("jdoe", otp=used), host, SOURCE)
    with pytest.raises(InvalidCredentials) as replayed:
        services.signatures.sign(request("jdoe", otp=used, record=record("2")), host, SOURCE)
    assert replayed.value.extensions["reason"] == "otp-invalid"
    assert load(services, jdoe).failed_attempts == 1
    assert len(events(services, "auth:signing:otp-refused")) == 1

    wrong = wrong_code(secret, clock)
    for attempt in range(2, 5):
        with pytest.raises(InvalidCredentials):
            services.signatures.sign(request("jdoe", otp=wrong), host, SOURCE)
        # the right password restarted the count; the run of refused codes carries on
        assert load(services, jdoe).failed_attempts == attempt
    with pytest.raises(Locked):
        services.signatures.sign(request("jdoe", otp=wrong), host, SOURCE)
    assert load(services, jdoe).status == IdentityStatus.LOCKED


@pytest.mark.req("TOK-1")
@pytest.mark.req("CMP-1")
def test_an_overdue_token_cannot_sign_until_its_test_passes(
    services: Services, clock: FrozenClock, host: HostClient, jdoe: str
) -> None:
    policy(services, "password", {"max_age_days": 365})  # only the token is overdue
    token_id, secret = enrolled(services, clock, jdoe)
    clock.advance(timedelta(days=90))

    with pytest.raises(NotEligible) as overdue:
        services.signatures.sign(request("jdoe", otp=code(secret, clock)), host, SOURCE)
    assert overdue.value.extensions["reasons"] == ["token-test-overdue"]
    refusal = json.loads(events(services, "signature:signing:refused")[-1].new_values)
    assert refusal["reasons"] == ["token-test-overdue"]
    assert load(services, jdoe).failed_attempts == 0  # not a wrong code

    assert run_test(services, jdoe, token_id, code(secret, clock)) == "pass"
    clock.advance(STEP)
    outcome = services.signatures.sign(request("jdoe", otp=code(secret, clock)), host, SOURCE)
    authn = verified(services, outcome.signatures[0].token)["authn"]
    assert "otp" in authn["components"]
    assert token(services, token_id).test_due_at == clock.now() - STEP + timedelta(days=90)


@pytest.mark.req("TOK-1")
def test_a_suspended_token_still_binds_its_owner(
    services: Services, clock: FrozenClock, host: HostClient, jdoe: str
) -> None:
    token_id, secret = enrolled(services, clock, jdoe)
    for _ in range(3):
        run_test(services, jdoe, token_id, wrong_code(secret, clock))
    assert token(services, token_id).status == "suspended"
    with pytest.raises(NotEligible) as refused:
        services.signatures.sign(request("jdoe", otp=code(secret, clock)), host, SOURCE)
    assert refused.value.extensions["reasons"] == ["token-suspended"]


@pytest.mark.req("TOK-1")
def test_policy_requires_tokens_for_chosen_roles(
    services: Services, clock: FrozenClock, host: HostClient, jdoe: str
) -> None:
    policy(services, "signing", {"require_otp": "roles", "otp_roles": ["admin"]})
    services.signatures.sign(request("jdoe"), host, SOURCE)  # not in the roles, no token

    with transaction(services.sessions) as session:
        who = services.identities.get(session, jdoe)
        services.identities.set_roles(session, who, ["admin"], reason="needs tokens")
    with pytest.raises(NotEligible) as refused:
        services.signatures.sign(request("jdoe", record=record("2")), host, SOURCE)
    assert refused.value.extensions["reasons"] == ["no-token"]

    _token_id, secret = enrolled(services, clock, jdoe)
    outcome = services.signatures.sign(
        request("jdoe", otp=code(secret, clock), record=record("3")), host, SOURCE
    )
    assert "otp" in verified(services, outcome.signatures[0].token)["authn"]["components"]
