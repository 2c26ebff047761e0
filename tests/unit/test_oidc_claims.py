"""Our own ID-token claim checks (OIDC Core 1.0 3.1.3.7 and section 2), the ones relying-party
libraries skip: audience, bound subject, and how fresh `auth_time` is (STEP-1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from idgov.providers.oidc.claims import Expectation, TokenRefused, check_claims
from idgov.providers.oidc.settings import OidcSettings

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
T = int(NOW.timestamp())
ISSUER = "https://id.example.com"


def signing(**changes: Any) -> Expectation:
    values: dict[str, Any] = {
        "issuer": ISSUER,
        "client_id": "idgov",
        "nonce": "n-123",
        "now": NOW,
        "skew_seconds": 60,
        "subject": "sub-1",
        "fresh_seconds": 120,
        "not_before": NOW - timedelta(seconds=30),
    }
    values.update(changes)
    return Expectation(**values)


def claims(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "iss": ISSUER,
        "aud": "idgov",
        "sub": "sub-1",
        "nonce": "n-123",
        "iat": T - 5,
        "exp": T + 300,
        "auth_time": T - 10,
        "acr": "mfa",
        "amr": ["pwd", "otp"],
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


def refusal(found: dict[str, Any], expect: Expectation | None = None) -> str:
    with pytest.raises(TokenRefused) as refused:
        check_claims(found, expect or signing())
    return refused.value.reason


@pytest.mark.req("STEP-1")
def test_a_fresh_login_of_the_bound_subject_passes_with_its_evidence() -> None:
    login = check_claims(claims(), signing(accepted_acr=("mfa",), required_amr=("otp",)))
    assert login.subject == "sub-1"
    assert login.auth_time == NOW - timedelta(seconds=10)
    assert (login.acr, login.amr) == ("mfa", ("pwd", "otp"))


@pytest.mark.req("STEP-1")
@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"auth_time": None}, "missing-auth-time"),
        ({"auth_time": T - 181}, "stale-authentication"),  # window 120 s + skew 60 s
        ({"auth_time": T - 3601}, "stale-authentication"),  # what authlib accepted
        ({"auth_time": str(T)}, "bad-claim"),
        ({"auth_time": T * 1000}, "bad-claim"),  # milliseconds
        ({"auth_time": float(T)}, "bad-claim"),
        ({"auth_time": True}, "bad-claim"),
        ({"auth_time": T + 61}, "auth-time-in-future"),
        ({"sub": "sub-2"}, "subject-mismatch"),
        ({"sub": None}, "bad-subject"),
        ({"nonce": "other"}, "wrong-nonce"),
        ({"nonce": None}, "wrong-nonce"),
        ({"aud": "other", "azp": "idgov"}, "wrong-audience"),
        ({"aud": ["idgov", "other"], "azp": "other"}, "wrong-audience"),
        ({"aud": None}, "wrong-audience"),
        ({"iss": "https://evil.example.com"}, "wrong-issuer"),
        ({"exp": T - 61}, "expired"),
        ({"exp": None}, "missing-exp"),
        ({"iat": T + 120}, "issued-in-future"),
        ({"amr": "pwd"}, "bad-claim"),
        ({"acr": 3}, "bad-claim"),
    ],
)
def test_an_id_token_that_does_not_prove_a_fresh_login_is_refused(
    changes: dict[str, Any], reason: str
) -> None:
    assert refusal(claims(**changes)) == reason


@pytest.mark.req("STEP-1")
def test_a_login_before_the_signing_began_is_refused_within_the_window() -> None:
    """A provider that reuses its session hands back an auth_time from before the redirect."""
    began = NOW - timedelta(seconds=5)
    assert refusal(claims(auth_time=T - 70), signing(not_before=began)) == "stale-authentication"
    assert check_claims(claims(auth_time=T - 64), signing(not_before=began)).subject == "sub-1"


@pytest.mark.req("STEP-1")
def test_acr_and_amr_policy_when_configured() -> None:
    assert refusal(claims(acr="pwd"), signing(accepted_acr=("mfa",))) == "acr-not-accepted"
    assert refusal(claims(acr=None), signing(accepted_acr=("mfa",))) == "acr-not-accepted"
    assert refusal(claims(amr=["pwd"]), signing(required_amr=("otp",))) == "amr-not-accepted"


def test_a_sign_in_needs_no_auth_time_but_everything_else() -> None:
    sign_in = signing(subject=None, fresh_seconds=None, not_before=None)
    assert check_claims(claims(auth_time=None), sign_in).auth_time is None
    assert check_claims(claims(auth_time=T - 86400), sign_in).subject == "sub-1"
    assert refusal(claims(nonce="x"), sign_in) == "wrong-nonce"


@pytest.mark.parametrize(
    ("issuer", "ok"),
    [
        ("https://id.example.com/", True),
        ("http://127.0.0.1:9000", True),
        ("http://id.example.com", False),
        ("https://id.example.com?x=1", False),
    ],
)
def test_provider_settings_want_an_https_issuer(issuer: str, ok: bool) -> None:
    values = {"issuer": issuer, "client_id": "idgov", "client_secret": "env://X"}
    if ok:
        assert not OidcSettings(**values).issuer.endswith("/")
    else:
        with pytest.raises(ValueError, match="https"):
            OidcSettings(**values)
