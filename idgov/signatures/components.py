"""SigningComponents: which components a signing used, and checking the ones beyond the
password (11.200(a)(1), CMP-1; LOSS-2)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from idgov.errors import InvalidCredentials
from idgov.identity.models import Identity
from idgov.signatures.interfaces import OtpVerifier, TemporaryCredentials
from idgov.signatures.requests import SignRequest

# 11.200(a)(1): the components a federated signer used are the provider's (in `amr`); ours is
# the re-authentication there, bound to their subject (STEP-1).
FEDERATED_COMPONENTS: tuple[str, ...] = ("oidc-subject", "oidc-reauthentication")


class SigningComponents:
    def __init__(self, otp: OtpVerifier, temporary: TemporaryCredentials | None) -> None:
        self._otp = otp
        self._temporary = temporary

    def used(
        self,
        session: Session,
        request: SignRequest,
        identity: Identity,
        holds_token: bool,
        first: bool,
    ) -> tuple[str, ...]:
        """The components of a password signing: a temporary credential while a loss case has
        one, else the token's code when the identity holds a token."""
        if self._temporary is not None and self._temporary.temporary_issued(session, identity.id):
            return self._temporary_components(session, request, identity, first)
        return self._password_and(session, request, identity, holds_token, first)

    def _password_and(
        self,
        session: Session,
        request: SignRequest,
        identity: Identity,
        holds_token: bool,
        first: bool,
    ) -> tuple[str, ...]:
        """CMP-1: the first signing of a session takes every component the identity has; later
        ones within the session at least the password (a code sent anyway is checked)."""
        if not holds_token or (request.otp is None and not first):
            return ("username", "password")
        if request.otp is None:
            raise InvalidCredentials(
                "this signing needs the one-time code of your token as well",
                reason="otp-required",
            )
        if not self._otp.verify(session, identity.id, request.otp):
            raise InvalidCredentials("the one-time code is not right", reason="otp-invalid")
        return ("username", "password", "otp")

    def _temporary_components(
        self, session: Session, request: SignRequest, identity: Identity, first: bool
    ) -> tuple[str, ...]:
        """LOSS-2: while a lost token's case has a temporary credential, that credential is
        the second component (`temporary_credential`); each signing session's first signing
        uses it up once, and it stops at its expiry or last use."""
        assert self._temporary is not None
        if not first:
            return ("username", "password")
        if request.temporary_credential is None:
            raise InvalidCredentials(
                "this signing needs the temporary credential security issued to you",
                reason="temporary-credential-required",
            )
        if not self._temporary.use_temporary(session, identity, request.temporary_credential):
            # The refusal (and its audit event) is kept; nothing else was written yet.
            raise InvalidCredentials(
                "the temporary credential is not right, has expired or is used up",
                reason="temporary-credential-invalid",
                recorded=True,
            )
        return ("username", "password", "temporary-credential")
