"""Our own checks of an ID token's claims (OIDC Core 1.0 3.1.3.7), beyond what client libraries
check: the audience, the bound subject, and how fresh `auth_time` is (STEP-1, 11.200)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


class TokenRefused(Exception):
    """The ID token does not prove what we need; `reason` is stable (audited), `message` is for
    the person and the audit trail (it never holds the token)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Expectation:
    """What this ID token must show. `subject`, `fresh_seconds` and `not_before` are set for a
    signing: the bound subject, the freshness window, and when the signing began."""

    issuer: str
    client_id: str
    nonce: str
    now: datetime
    skew_seconds: int
    subject: str | None = None
    fresh_seconds: int | None = None
    not_before: datetime | None = None
    accepted_acr: tuple[str, ...] = ()
    required_amr: tuple[str, ...] = ()


@dataclass(frozen=True)
class VerifiedLogin:
    """The claims that passed, as evidence: who, at which provider, when and how."""

    issuer: str
    subject: str
    auth_time: datetime | None
    acr: str | None
    amr: tuple[str, ...]
    claims: dict[str, Any]


def check_claims(claims: dict[str, Any], expect: Expectation) -> VerifiedLogin:
    """The claims of an ID token whose signature was verified; TokenRefused otherwise."""
    skew = timedelta(seconds=expect.skew_seconds)
    # 3.1.3.7 step 2: the issuer is exactly the one we discovered.
    if claims.get("iss") != expect.issuer:
        raise TokenRefused("wrong-issuer", "the ID token comes from another issuer")
    _audience(claims, expect.client_id)
    # Step 9: not expired; step 10: not issued in the future (within the clock skew).
    expires = _moment(claims, "exp", required=True)
    if expires is None or expect.now > expires + skew:
        raise TokenRefused("expired", "the ID token has expired")
    issued = _moment(claims, "iat", required=True)
    if issued is not None and issued > expect.now + skew:
        raise TokenRefused("issued-in-future", "the ID token was issued in the future")
    # Step 11 (3.1.2.1): the nonce we sent with this authentication request, no other.
    if not isinstance(claims.get("nonce"), str) or claims["nonce"] != expect.nonce:
        raise TokenRefused("wrong-nonce", "the ID token answers another sign-in")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise TokenRefused("bad-subject", "the ID token names nobody")
    if expect.subject is not None and subject != expect.subject:
        raise TokenRefused(
            "subject-mismatch", "someone else signed in at the provider: sign in as yourself"
        )
    auth_time = _moment(claims, "auth_time", required=expect.fresh_seconds is not None)
    if expect.fresh_seconds is not None:
        _fresh(auth_time, expect)
    acr = claims.get("acr")
    if acr is not None and not isinstance(acr, str):
        raise TokenRefused("bad-claim", "acr must be a string")
    # Step 12: the authentication context we ask for is the one we get.
    if expect.accepted_acr and acr not in expect.accepted_acr:
        raise TokenRefused("acr-not-accepted", "the provider's sign-in was not strong enough")
    amr = claims.get("amr", [])
    if not isinstance(amr, list) or not all(isinstance(value, str) for value in amr):
        raise TokenRefused("bad-claim", "amr must be a list of strings")
    if any(value not in amr for value in expect.required_amr):
        raise TokenRefused("amr-not-accepted", "the provider's sign-in did not use every method")
    return VerifiedLogin(expect.issuer, subject, auth_time, acr, tuple(amr), claims)


def _audience(claims: dict[str, Any], client_id: str) -> None:
    """Steps 3-5: `aud` contains our client id; an `azp` naming us does not make up for an
    audience that does not (authlib accepts that), and an `azp` naming another refuses."""
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or client_id not in audiences:
        raise TokenRefused("wrong-audience", "the ID token was issued to another application")
    azp = claims.get("azp")
    if azp is not None and azp != client_id:
        raise TokenRefused("wrong-audience", "the ID token was issued to another application")


def _fresh(auth_time: datetime | None, expect: Expectation) -> None:
    """STEP-1: the person authenticated at the provider within the freshness window (plus
    skew) and not before the signing began; a provider that reuses its session (ignoring
    `max_age=0`, OIDC Core 1.0 3.1.2.1) hands back an old auth_time, and is refused here."""
    assert expect.fresh_seconds is not None
    assert auth_time is not None
    skew = timedelta(seconds=expect.skew_seconds)
    if auth_time > expect.now + skew:
        raise TokenRefused("auth-time-in-future", "the provider's sign-in time is in the future")
    if expect.now - auth_time > timedelta(seconds=expect.fresh_seconds) + skew:
        raise TokenRefused("stale-authentication", "the provider's sign-in is too old to sign")
    if expect.not_before is not None and auth_time < expect.not_before - skew:
        raise TokenRefused("stale-authentication", "the provider's sign-in is too old to sign")


def _moment(claims: dict[str, Any], name: str, *, required: bool) -> datetime | None:
    """A NumericDate claim (OIDC Core 1.0 section 2): an integer count of seconds. A string,
    a boolean, a fraction or a value in milliseconds (past year 9999) is refused."""
    value = claims.get(name)
    if value is None:
        if required:
            raise TokenRefused(f"missing-{name.replace('_', '-')}", f"the ID token has no {name}")
        return None
    if type(value) is not int or not 0 <= value < 253402300800:
        raise TokenRefused("bad-claim", f"{name} must be an integer number of seconds")
    return datetime.fromtimestamp(value, UTC)
