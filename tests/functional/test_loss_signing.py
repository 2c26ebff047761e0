"""The whole loss case as a signer lives it: lost token, temporary credential, replacement."""

from __future__ import annotations

import pytest

from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.errors import InvalidCredentials, NotEligible
from idgov.identity.models import Role
from idgov.wiring import Services
from tests.functional.loss_support import member, report, temporary, verify
from tests.functional.signing import SOURCE, prepare, request, signer, verified
from tests.functional.totp import code, enrolled


@pytest.mark.req("LOSS-1")
@pytest.mark.req("LOSS-2")
@pytest.mark.req("TOK-1")
def test_lost_token_temporary_credential_then_permanent_replacement(
    services: Services, clock: FrozenClock
) -> None:
    host, admin = prepare(services)
    owner = signer(services, "jdoe", admin)
    officer = member(services, "sam", roles=(Role.SECURITY_OFFICER,))
    second = member(services, "tess", roles=(Role.SECURITY_OFFICER,))
    lost_token, lost_secret = enrolled(services, clock, owner)
    signed = services.signatures.sign(request("jdoe", otp=code(lost_secret, clock)), host, SOURCE)
    assert "otp" in verified(services, signed.signatures[0].token)["authn"]["components"]

    case_id = report(services, owner, officer, credential="token", kind="lost")
    with pytest.raises(NotEligible) as suspended:  # deauthorized at once (LOSS-1)
        services.signatures.sign(request("jdoe", otp=code(lost_secret, clock)), host, SOURCE)
    assert suspended.value.extensions["reasons"] == ["credential-loss"]

    verify(services, case_id, second)  # a second person, not the reporter (LOSS-2)
    temporary_code = temporary(services, case_id, second)
    with pytest.raises(InvalidCredentials):  # the temporary credential is now required
        services.signatures.sign(request("jdoe"), host, SOURCE)
    with pytest.raises(InvalidCredentials):  # the lost token's codes no longer count
        services.signatures.sign(request("jdoe", otp=code(lost_secret, clock)), host, SOURCE)
    with pytest.raises(InvalidCredentials):
        services.signatures.sign(request("jdoe", temporary_credential="wrong"), host, SOURCE)
    stood_in = services.signatures.sign(
        request("jdoe", temporary_credential=temporary_code), host, SOURCE
    )
    components = verified(services, stood_in.signatures[0].token)["authn"]["components"]
    assert components == ["username", "password", "temporary-credential"]

    new_token, new_secret = enrolled(services, clock, owner, label="new phone")
    with transaction(services.sessions) as session:
        services.loss.complete_replacement(session, case_id, new_token)
    with pytest.raises(InvalidCredentials):  # the case is closed: the new token's code counts
        services.signatures.sign(request("jdoe", temporary_credential=temporary_code), host, SOURCE)
    final = services.signatures.sign(request("jdoe", otp=code(new_secret, clock)), host, SOURCE)
    assert "otp" in verified(services, final.signatures[0].token)["authn"]["components"]
    assert lost_token != new_token
