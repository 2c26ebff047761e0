"""Test helpers for TOTP tokens: enroll, activate, and compute codes from the otpauth URI."""

from __future__ import annotations

from datetime import timedelta

import pyotp

from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.tokens.codes import secret_of
from idgov.tokens.models import OtpToken
from idgov.wiring import Services

STEP = timedelta(seconds=30)


def code(secret: str, clock: FrozenClock, offset: int = 0) -> str:
    """The code of the step `offset` steps from the frozen clock's (RFC 6238)."""
    return pyotp.TOTP(secret).at(clock.now(), counter_offset=offset)


def wrong_code(secret: str, clock: FrozenClock) -> str:
    """A code that no step within five either side of the clock's has."""
    near = {code(secret, clock, offset) for offset in range(-5, 6)}
    return next(c for c in (f"{n:06d}" for n in range(1000)) if c not in near)


def begin(services: Services, identity_id: str, label: str = "phone") -> tuple[str, str]:
    """A new enrolling token; returns its id and the secret read back from the otpauth URI."""
    with transaction(services.sessions) as session:
        identity = services.identities.get(session, identity_id)
        token, uri, _svg = services.tokens.begin_enrollment(session, identity, label)
        return token.id, secret_of(uri)


def enrolled(
    services: Services, clock: FrozenClock, identity_id: str, label: str = "phone"
) -> tuple[str, str]:
    """An active token (initial test passed at the clock's time); the clock then moves one
    step on, so the next code is fresh."""
    token_id, secret = begin(services, identity_id, label)
    with transaction(services.sessions) as session:
        identity = services.identities.get(session, identity_id)
        services.tokens.complete_enrollment(session, identity, token_id, code(secret, clock))
    clock.advance(STEP)
    return token_id, secret


def token(services: Services, token_id: str) -> OtpToken:
    with services.sessions() as session:
        found = session.get(OtpToken, token_id)
        assert found is not None
        return found


def run_test(services: Services, identity_id: str, token_id: str, value: str) -> str:
    """A periodic test; returns pass or fail."""
    with transaction(services.sessions) as session:
        identity = services.identities.get(session, identity_id)
        return services.tokens.test(session, identity, token_id, value).result
